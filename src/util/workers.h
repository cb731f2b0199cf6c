// Local worker processes for data-parallel training (`k2k train|pipeline --nproc N`): this
// command started N times with torchrun's variables set, watched until all have finished.
#pragma once

#include <string>
#include <vector>

namespace k2k {

struct WorkerOptions {
    int nproc = 2;                 // workers (ranks 0..nproc-1), all on this host
    int threads = 0;               // $K2K_THREADS of each worker (0: leave the environment's)
    std::string file_store;        // K2K_DIST_STORE: their rendezvous file (must not exist yet)
    int stop_grace_s = 10;         // after one fails: seconds the others get after SIGTERM, then SIGKILL
};

// A path in the temp folder no run has used (pid and clock in the name), for a c10d FileStore:
// a file left by a crashed run is never read again.
std::string new_store_path();

// argv without `--nproc N` / `--nproc=N` (what each worker runs).
std::vector<std::string> strip_nproc(const std::vector<std::string>& argv);

// This process's argv (/proc/self/cmdline). Throws k2k::Error when it cannot be read.
std::vector<std::string> own_argv();

// Runs `program` with `args` (args[0] is its argv[0]) as options.nproc processes with RANK,
// LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, K2K_DIST_STORE (and K2K_THREADS) set, and waits for
// all. When one exits non-zero or is killed, the others get SIGTERM (SIGKILL after the grace
// time), and the call throws k2k::Error "worker R (pid P) exited with status S" / "was killed by
// signal N (SIGKILL)" naming the first that failed. SIGINT / SIGTERM to this process are passed
// on to the workers. Removes the store file at the end.
void run_workers(const std::string& program, const std::vector<std::string>& args, const WorkerOptions& options);

}  // namespace k2k
