// k2k serve: the local web page where a transcriber drops a character image and reads its modern
// form, with its JSON API (README "k2k serve"). Stops cleanly on Ctrl+C / SIGTERM.
#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "serve/engine.h"
#include "serve/server.h"

namespace k2k::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int) { g_stop = 1; }

struct ServeArgs {
    EngineOptions engine;
    ServeOptions server;
};

void run_serve(const ServeArgs& a) {
    ReadEngine engine(a.engine);
    Server server(engine, a.server);
    const int port = server.bind();
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    // A signal handler may only set a flag; this thread turns it into a clean stop.
    std::thread watcher([&server] {
        while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        server.stop();
    });
    const nlohmann::json health = engine.health();
    std::printf("[serve] %s: %d characters, %d Kuzushiji classes, %d stroke samples per answer\n",
                a.engine.run_dir.c_str(), health["characters"].get<int>(), health["kuzushiji_classes"].get<int>(),
                int(a.engine.samples));
    std::printf("[serve] listening on http://%s:%d/ (POST /api/read, GET /api/health; Ctrl+C stops)\n",
                a.server.host.find(':') != std::string::npos ? ("[" + a.server.host + "]").c_str() : a.server.host.c_str(),
                port);
    std::fflush(stdout);
    try {
        server.run();
    } catch (...) {
        g_stop = 1;
        watcher.join();
        throw;
    }
    g_stop = 1;
    watcher.join();
    std::printf("[serve] stopped\n");
}

}  // namespace

void setup_serve(CLI::App& app) {
    auto a = std::make_shared<ServeArgs>();
    CLI::App* cmd = app.add_subcommand(
        "serve",
        "Serve a local web page that reads a dropped Kuzushiji character image (and its JSON API)\n"
        "  k2k serve --run runs/quick                 then open http://127.0.0.1:8080/\n"
        "  curl --data-binary @char.png http://127.0.0.1:8080/api/read");
    cmd->add_option("--run", a->engine.run_dir, "run folder written by k2k pipeline")->required();
    cmd->add_option("--host", a->server.host, "address to listen on (other machines can reach anything but loopback)")
        ->capture_default_str();
    cmd->add_option("--port", a->server.port, "TCP port (0: any free port, printed at start)")
        ->capture_default_str()
        ->check(CLI::Range(0, 65535));
    cmd->add_option("--samples", a->engine.samples, "stroke samples per answer (a request may ask for 1..16)")
        ->capture_default_str()
        ->check(CLI::Range(int64_t(1), kMaxSamples));
    cmd->add_option("--stroke-pool", a->engine.stroke_pool,
                    "stroke samples drawn per sample answered, the best kept (default 1, the fastest; 0: the run "
                    "config's generate.stroke_pool, e.g. 8 in full.yaml: better strokes, about 4x slower)")
        ->capture_default_str()
        ->check(CLI::Range(int64_t(0), int64_t(64)));
    cmd->add_option("--device", a->engine.device, "cpu, cuda or auto")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    cmd->add_option("--http-threads", a->server.threads, "HTTP worker threads (the models answer one request at a time)")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    cmd->callback([a]() { run_serve(*a); });
}

}  // namespace k2k::cli
