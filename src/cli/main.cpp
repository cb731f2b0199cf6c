// Entry point of the k2k CLI: start-up (threads, malloc), subcommand wiring, and the one
// place that turns a library error into a one-line message and a non-zero exit.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "runtime/runtime.h"

int main(int argc, char** argv) {
    CLI::App app{"k2k: read a Kuzushiji character image, write the modern kanji (pixels and strokes)"};
    app.require_subcommand(1);
    k2k::init_runtime();
    // Runs while parsing, so before any subcommand's callback.
    app.add_option_function<int>("--threads", [](const int& n) { k2k::init_runtime(n); },
                                 "CPU threads for torch (default: all cores, or $K2K_THREADS)");
    k2k::cli::setup_data(app);
    k2k::cli::setup_train(app);
    k2k::cli::setup_config(app);
    k2k::cli::setup_export(app);
    k2k::cli::setup_eval(app);
    k2k::cli::setup_generate(app);
    k2k::cli::setup_classify(app);
    k2k::cli::setup_serve(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "k2k: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
