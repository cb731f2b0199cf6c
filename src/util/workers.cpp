// Local worker processes for data-parallel training (see workers.h).
#include "util/workers.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "util/error.h"

namespace k2k {

namespace {

// The workers' pids, for the signal handler (async-signal-safe: a fixed array of atomics).
constexpr int kMaxWorkers = 256;
std::atomic<pid_t> g_workers[kMaxWorkers];
std::atomic<int> g_stop_signal{0};

void forward_signal(int sig) {
    g_stop_signal.store(sig);
    for (int i = 0; i < kMaxWorkers; ++i) {
        pid_t p = g_workers[i].load();
        if (p > 0) kill(-p, sig);
    }
}

std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* name = sig == SIGKILL ? " (SIGKILL)" : sig == SIGTERM ? " (SIGTERM)" : sig == SIGSEGV ? " (SIGSEGV)"
                         : sig == SIGABRT ? " (SIGABRT)" : sig == SIGINT ? " (SIGINT)" : "";
        return "was killed by signal " + std::to_string(sig) + name;
    }
    return "stopped (status " + std::to_string(status) + ")";
}

}  // namespace

std::string new_store_path() {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return (std::filesystem::temp_directory_path() / ("k2k_store_" + std::to_string(getpid()) + "_" + std::to_string(now)))
        .string();
}

std::vector<std::string> strip_nproc(const std::vector<std::string>& argv) {
    std::vector<std::string> out;
    for (size_t i = 0; i < argv.size(); ++i) {
        if (argv[i] == "--nproc") {
            ++i;  // and its value
            continue;
        }
        if (argv[i].rfind("--nproc=", 0) == 0) continue;
        out.push_back(argv[i]);
    }
    return out;
}

std::vector<std::string> own_argv() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    if (!in) throw Error("/proc/self/cmdline: cannot read this process's arguments (needed to start workers)");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> argv;
    size_t at = 0;
    while (at < all.size()) {
        size_t end = all.find('\0', at);
        if (end == std::string::npos) end = all.size();
        argv.push_back(all.substr(at, end - at));
        at = end + 1;
    }
    return argv;
}

void run_workers(const std::string& program, const std::vector<std::string>& args, const WorkerOptions& o) {
    if (o.nproc < 1 || o.nproc > kMaxWorkers)
        throw Error("--nproc " + std::to_string(o.nproc) + ": expected 1 to " + std::to_string(kMaxWorkers) + " workers");
    if (args.empty()) throw Error("run_workers: no arguments (argv[0] is needed)");
    std::vector<std::vector<char>> storage;
    for (const std::string& a : args) storage.emplace_back(a.c_str(), a.c_str() + a.size() + 1);
    std::vector<char*> cargv;
    for (std::vector<char>& s : storage) cargv.push_back(s.data());
    cargv.push_back(nullptr);

    std::fflush(stdout);
    std::fflush(stderr);
    std::vector<pid_t> pids;
    struct sigaction act {}, old_int {}, old_term {};
    act.sa_handler = forward_signal;
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, &old_int);
    sigaction(SIGTERM, &act, &old_term);
    g_stop_signal.store(0);
    for (int rank = 0; rank < o.nproc; ++rank) {
        pid_t pid = fork();
        if (pid < 0) {
            const std::string why = std::strerror(errno);
            forward_signal(SIGTERM);
            throw Error("cannot start worker " + std::to_string(rank) + ": fork failed (" + why + ")");
        }
        if (pid == 0) {
            setpgid(0, 0);  // its own process group: stopping a worker stops whatever it started
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            setenv("RANK", std::to_string(rank).c_str(), 1);
            setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
            setenv("WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
            setenv("LOCAL_WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
            setenv("K2K_DIST_STORE", o.file_store.c_str(), 1);
            if (o.threads > 0) setenv("K2K_THREADS", std::to_string(o.threads).c_str(), 1);
            execv(program.c_str(), cargv.data());
            std::fprintf(stderr, "k2k: error: worker %d: cannot run %s (%s)\n", rank, program.c_str(), std::strerror(errno));
            _exit(127);
        }
        setpgid(pid, pid);  // also here, so the group exists before any kill below
        pids.push_back(pid);
        g_workers[rank].store(pid);
    }

    // Wait for all; the first failure stops the others.
    std::string failure;
    int left = o.nproc;
    auto stop_deadline = std::chrono::steady_clock::time_point::max();
    bool killed = false;          // SIGKILL sent after the grace time
    bool killed_by_us = false;    // SIGTERM sent to the others after a failure
    bool failure_signalled = false;
    while (left > 0) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno != EINTR) break;
        if (pid <= 0) {
            if (!failure.empty() && !killed && std::chrono::steady_clock::now() > stop_deadline) {
                for (int r = 0; r < o.nproc; ++r)
                    if (g_workers[r].load() > 0) kill(-g_workers[r].load(), SIGKILL);
                killed = true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        int rank = -1;
        for (int r = 0; r < o.nproc; ++r)
            if (pids[size_t(r)] == pid) rank = r;
        if (rank < 0) continue;
        g_workers[rank].store(0);
        --left;
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (ok) continue;
        // The worker to name: the first one killed by a signal (the others' errors are usually
        // their reaction to losing it), else the first that exited with an error.
        const bool ours = killed_by_us && (WTERMSIG(status) == SIGTERM || (killed && WTERMSIG(status) == SIGKILL));
        const bool signalled = WIFSIGNALED(status) && !ours;
        if (failure.empty() || (signalled && !failure_signalled)) {
            failure = "worker " + std::to_string(rank) + " (pid " + std::to_string(pid) + ") " + describe(status);
            failure_signalled = signalled;
        }
        if (!killed_by_us) {
            killed_by_us = true;
            for (int r = 0; r < o.nproc; ++r)
                if (g_workers[r].load() > 0) kill(-g_workers[r].load(), SIGTERM);
            stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.stop_grace_s);
        }
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    std::error_code ec;
    if (!o.file_store.empty()) std::filesystem::remove(o.file_store, ec);
    if (!failure.empty()) {
        const int sig = g_stop_signal.load();
        throw Error(failure + (sig ? "; stopped by signal " + std::to_string(sig) : std::string("; the other workers were stopped")) +
                    (killed ? " (some only by SIGKILL)" : ""));
    }
}

}  // namespace k2k
