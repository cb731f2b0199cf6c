// Data-parallel training on c10d process groups (Gloo on CPU; NCCL for CUDA tensors in CUDA
// builds): N workers each train on a shard of every batch and average their gradients.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace k2k {

// Where this worker sits, as torchrun sets it (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT), or as `--nproc N` sets it for its local workers (K2K_DIST_STORE: a FileStore).
struct DistEnv {
    int rank = 0;                          // this worker, 0..world_size-1; rank 0 validates and writes
    int world_size = 1;                    // workers in all
    int local_rank = 0;                    // this worker on its host
    std::string master_addr = "127.0.0.1"; // host of rank 0's TCPStore (on loopback: of its rendezvous socket)
    int master_port = 29500;               // its port
    std::string file_store;                // a FileStore path instead of the TCPStore (one host)
    int timeout_s = 300;                   // a collective waiting longer than this fails ($K2K_DIST_TIMEOUT_S)
};

// Reads the variables above; world size 1 when WORLD_SIZE is unset. Throws k2k::Error naming the
// variable when one is malformed (not a number, rank outside 0..WORLD_SIZE-1, port outside 1..65535).
DistEnv dist_env_from_environment();

// [begin, end) of the items of a batch of `n` that worker `rank` of `world` trains on: contiguous,
// equal shards. Throws k2k::Error when n does not split into `world` equal shards.
std::pair<size_t, size_t> shard_range(size_t n, int rank, int world, const std::string& what);

// The random streams of one training step. One worker: the stage's own (as without data
// parallelism). Several: the batch order stays the shared, checkpointed stream, drawn alike on every
// worker (so the shards of one batch never overlap, and draw for draw as with one worker), while
// augmentation and noise come from streams seeded by (stage seed, step, rank): workers draw
// different noise, and a resume continues exactly.
struct StepStreams {
    std::mt19937* augment = nullptr;  // image / stroke augmentation
    at::Generator noise;              // reparameterisation and MDN samples
};

class DataParallel {
public:
    // One worker, no process group: every call is the identity.
    static DataParallel& single();
    // Joins the process group of `env` (world size 1: like single()). Throws k2k::Error when the
    // rendezvous fails or the build has no c10d Gloo (see CMakeLists.txt).
    static std::unique_ptr<DataParallel> connect(const DistEnv& env);
    ~DataParallel();
    DataParallel(const DataParallel&) = delete;
    DataParallel& operator=(const DataParallel&) = delete;

    int rank() const { return rank_; }
    int world_size() const { return world_; }
    bool is_main() const { return rank_ == 0; }  // validates, writes checkpoints, metrics and logs

    // This worker's items of a batch drawn identically on every worker. Throws k2k::Error
    // ("<stage>: batch_size B does not split into N workers ...") when B % N != 0.
    template <typename T>
    std::vector<T> shard(const std::vector<T>& batch, const std::string& stage) const {
        const std::pair<size_t, size_t> r = shard_range(batch.size(), rank_, world_, stage);
        return std::vector<T>(batch.begin() + long(r.first), batch.begin() + long(r.second));
    }
    // One worker: {&own, *noise} (noise may be null for stages without one). Several: this
    // worker's streams for `step`, which never touch `own`.
    StepStreams step_streams(uint64_t stage_seed, int64_t step, std::mt19937& own, at::Generator* noise = nullptr);

    // Sums the gradients of `params` over the workers in one flattened all-reduce and divides by
    // N, so each worker holds the gradient of the whole batch's mean loss.
    void average_gradients(const std::vector<at::Tensor>& params);
    // The mean over workers of each value (the logged losses of the whole batch).
    std::vector<double> average(const std::vector<double>& values);
    // Rank 0's tensors (parameters, buffers) copied into every worker's, in place.
    void broadcast(const std::vector<at::Tensor>& tensors);
    // Rank 0's values (validation terms) on every worker; `values` is resized to n on the others.
    void broadcast_values(std::vector<double>& values, size_t n);
    // Waits until every worker is here.
    void barrier();
    // Time spent in average_gradients (all-reduce and copies) since the last call, and how many
    // calls and gradient values that covered; resets the count.
    struct ReduceTime {
        double seconds = 0;
        int64_t calls = 0;
        int64_t values = 0;  // gradient values per call
    };
    ReduceTime take_reduce_time();

private:
    DataParallel() = default;
    struct Group;                  // the c10d process group (data_parallel.cpp)
    std::unique_ptr<Group> group_;
    int rank_ = 0;
    int world_ = 1;
    std::mt19937 augment_;         // this worker's augmentation stream of the current step
    at::Generator noise_;          // and its noise generator
    ReduceTime reduce_time_;
};

}  // namespace k2k
