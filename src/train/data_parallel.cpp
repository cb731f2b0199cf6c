// Data-parallel training: the environment, shards, and the c10d collectives (see data_parallel.h).
#include "train/data_parallel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <thread>

#include <torch/torch.h>

#if defined(K2K_HAVE_GLOO)
#include "train/c10d_compat.h"
#endif
#include "util/error.h"
#include "util/workers.h"

namespace k2k {

namespace {

// $name as an integer in [lo, hi], or `fallback` when unset.
int env_int(const char* name, int fallback, int lo, int hi) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi)
        throw Error(std::string("$") + name + "='" + v + "': expected an integer from " + std::to_string(lo) + " to " +
                    std::to_string(hi));
    return int(n);
}

std::string env_string(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

bool is_loopback(const std::string& host) { return host == "127.0.0.1" || host == "localhost" || host == "::1"; }

}  // namespace

DistEnv dist_env_from_environment() {
    DistEnv e;
    e.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 16);
    e.rank = env_int("RANK", 0, 0, e.world_size - 1);
    e.local_rank = env_int("LOCAL_RANK", e.rank, 0, 1 << 16);
    e.master_addr = env_string("MASTER_ADDR", e.master_addr);
    e.master_port = env_int("MASTER_PORT", e.master_port, 1, 65535);
    e.file_store = env_string("K2K_DIST_STORE", "");
    e.timeout_s = env_int("K2K_DIST_TIMEOUT_S", e.timeout_s, 1, 7 * 24 * 3600);
    return e;
}

std::pair<size_t, size_t> shard_range(size_t n, int rank, int world, const std::string& what) {
    if (world <= 1) return {0, n};
    if (n % size_t(world) != 0)
        throw Error(what + ": batch_size " + std::to_string(n) + " does not split into " + std::to_string(world) +
                    " equal shards; use a batch size divisible by the number of workers");
    const size_t each = n / size_t(world);
    return {each * size_t(rank), each * size_t(rank + 1)};
}

#if defined(K2K_HAVE_GLOO)
namespace {

// torchrun's variables on one host (MASTER_ADDR on loopback): rank 0 listens on
// 127.0.0.1:MASTER_PORT, and tells each of the other workers, as they connect, the path of a
// FileStore made for this run (so a file left by a crashed run is never read). Returns that path.
std::string loopback_rendezvous(const DistEnv& env, std::chrono::milliseconds timeout) {
    const std::string where = "127.0.0.1:" + std::to_string(env.master_port);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto fail = [&](const std::string& what) -> std::string {
        throw Error("worker " + std::to_string(env.rank) + ": rendezvous at " + where + ": " + what);
    };
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(env.master_port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (env.rank == 0) {
        const std::string path = new_store_path();
        const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (server < 0) return fail(std::string("socket: ") + std::strerror(errno));
        int one = 1;
        setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(server, 64) != 0) {
            const std::string why = std::strerror(errno);
            close(server);
            return fail("cannot listen (" + why + "; is MASTER_PORT in use?)");
        }
        for (int joined = 1; joined < env.world_size;) {
            const int left_ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
            pollfd p{server, POLLIN, 0};
            if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0) {
                close(server);
                return fail(std::to_string(joined) + " of " + std::to_string(env.world_size) +
                            " workers joined before the timeout ($K2K_DIST_TIMEOUT_S)");
            }
            const int peer = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
            if (peer < 0) continue;
            const std::string line = path + "\n";
            if (send(peer, line.data(), line.size(), MSG_NOSIGNAL) == ssize_t(line.size())) ++joined;
            close(peer);
        }
        close(server);
        return path;
    }
    // The others: connect (rank 0 may not listen yet), read one line.
    while (true) {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
            std::string line;
            char c = 0;
            while (line.size() < 4096 && recv(fd, &c, 1, 0) == 1 && c != '\n') line += c;
            close(fd);
            if (c == '\n' && !line.empty()) return line;
        } else {
            close(fd);
        }
        if (std::chrono::steady_clock::now() > deadline)
            return fail("rank 0 did not answer before the timeout ($K2K_DIST_TIMEOUT_S)");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

struct DataParallel::Group {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d_compat::Backend> gloo;  // CPU tensors (and CUDA ones without NCCL, via the CPU)
    c10::intrusive_ptr<c10d_compat::Backend> nccl;  // CUDA tensors, in CUDA builds with NCCL
    int rank = 0;
    std::string store_file;       // the FileStore of a loopback rendezvous
    bool own_store_file = false;  // rank 0 removes it at the end

    ~Group() {
        if (!own_store_file) return;
        std::error_code ec;
        std::filesystem::remove(store_file, ec);
    }

    // Runs a collective and waits; a worker that died (connection reset) or hangs past the
    // timeout becomes one k2k::Error naming the operation.
    void wait(const c10::intrusive_ptr<c10d_compat::Work>& work, const char* what) const {
        try {
            work->wait();
        } catch (const std::exception& e) {
            std::string cause = e.what();
            cause = cause.substr(0, cause.find('\n'));
            throw Error("worker " + std::to_string(rank) + ": " + what +
                        " failed, another worker has stopped or is unreachable (" + cause + ")");
        }
    }
};
#else
struct DataParallel::Group {};
#endif

DataParallel& DataParallel::single() {
    static DataParallel one;
    return one;
}

DataParallel::~DataParallel() = default;

std::unique_ptr<DataParallel> DataParallel::connect(const DistEnv& env) {
    std::unique_ptr<DataParallel> dp(new DataParallel());
    dp->rank_ = env.rank;
    dp->world_ = env.world_size;
    if (env.world_size <= 1) return dp;
#if defined(K2K_HAVE_GLOO)
    const std::chrono::milliseconds timeout(int64_t(env.timeout_s) * 1000);
    auto group = std::make_unique<Group>();
    group->rank = env.rank;
    std::string host = "127.0.0.1";
    try {
        if (!env.file_store.empty()) {
            group->store = c10::make_intrusive<c10d::FileStore>(env.file_store, env.world_size);
        } else if (is_loopback(env.master_addr)) {
            // One host: LibTorch 1.13's TCPStore would listen on every interface (it has no bind
            // address), so rank 0 hands out a fresh FileStore over a socket bound to loopback.
            group->own_store_file = env.rank == 0;
            group->store_file = loopback_rendezvous(env, timeout);
            group->store = c10::make_intrusive<c10d::FileStore>(group->store_file, env.world_size);
        } else {
            c10d::TCPStoreOptions o;
            o.port = uint16_t(env.master_port);
            o.isServer = env.rank == 0;
            o.numWorkers = size_t(env.world_size);
            o.timeout = timeout;
            group->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
            // Several hosts: Gloo binds to this host's address ($K2K_GLOO_HOST, or what its hostname
            // resolves to); on one host it stays on loopback.
            host = env_string("K2K_GLOO_HOST", "");
        }
        group->store->setTimeout(timeout);
        group->gloo = c10d_compat::make_gloo(group->store, env.rank, env.world_size, host, timeout);
#if defined(USE_C10D_NCCL)
        if (torch::cuda::is_available())
            group->nccl = c10d_compat::make_nccl(c10::make_intrusive<c10d::PrefixStore>("nccl", group->store), env.rank,
                                                 env.world_size, timeout);
#endif
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        std::string cause = e.what();
        throw Error("worker " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
                    ": cannot join the process group (" +
                    (env.file_store.empty() ? "TCPStore " + env.master_addr + ":" + std::to_string(env.master_port)
                                            : "FileStore " + env.file_store) +
                    "): " + cause.substr(0, cause.find('\n')));
    }
    dp->group_ = std::move(group);
    dp->noise_ = at::detail::createCPUGenerator(0);
    return dp;
#else
    throw Error("WORLD_SIZE is " + std::to_string(env.world_size) +
                " but this k2k was built without c10d Gloo (install libgloo-dev and re-run cmake)");
#endif
}

StepStreams DataParallel::step_streams(uint64_t stage_seed, int64_t step, std::mt19937& own, at::Generator* noise) {
    if (world_ <= 1) return {&own, noise ? *noise : at::Generator()};
    // splitmix64 of (seed, step, rank): independent streams that need no state in the checkpoint.
    uint64_t base = stage_seed ^ (uint64_t(step) * 0x9E3779B97F4A7C15ULL) ^ (uint64_t(rank_ + 1) * 0xD1B54A32D192ED03ULL);
    base = (base ^ (base >> 30)) * 0xBF58476D1CE4E5B9ULL;
    base = (base ^ (base >> 27)) * 0x94D049BB133111EBULL;
    base ^= base >> 31;
    augment_.seed(uint32_t(base >> 32) ^ uint32_t(base));
    {
        std::lock_guard<std::mutex> lock(noise_.mutex());
        noise_.set_current_seed(base);
    }
    // Recurrent dropout masks come from the default generator: different on every worker too.
    at::Generator global = at::detail::getDefaultCPUGenerator();
    {
        std::lock_guard<std::mutex> lock(global.mutex());
        global.set_current_seed(base ^ 0x94D049BB133111EBULL);
    }
    return {&augment_, noise_};
}

void DataParallel::average_gradients(const std::vector<at::Tensor>& params) {
    if (world_ <= 1) return;
#if defined(K2K_HAVE_GLOO)
    torch::NoGradGuard no_grad;
    std::vector<at::Tensor> grads;
    for (const at::Tensor& p : params)
        if (p.grad().defined()) grads.push_back(p.grad());
    if (grads.empty()) return;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<at::Tensor> flat_parts;
    for (const at::Tensor& g : grads) flat_parts.push_back(g.reshape({-1}));
    at::Tensor flat = torch::cat(flat_parts);  // (P,) on the parameters' device
    const bool cuda = flat.is_cuda();
    std::vector<at::Tensor> buffer{cuda && !group_->nccl ? flat.cpu() : flat};
    const auto& backend = cuda && group_->nccl ? group_->nccl : group_->gloo;
    group_->wait(backend->allreduce(buffer), "the gradient all-reduce");
    at::Tensor summed = buffer[0].to(flat.device()).div_(double(world_));
    int64_t at = 0;
    for (at::Tensor& g : grads) {
        const int64_t n = g.numel();
        g.copy_(summed.narrow(0, at, n).view_as(g));
        at += n;
    }
    reduce_time_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    reduce_time_.calls += 1;
    reduce_time_.values = at;
#else
    (void)params;
#endif
}

std::vector<double> DataParallel::average(const std::vector<double>& values) {
    if (world_ <= 1 || values.empty()) return values;
#if defined(K2K_HAVE_GLOO)
    std::vector<at::Tensor> buffer{torch::tensor(values, torch::kFloat64)};
    group_->wait(group_->gloo->allreduce(buffer), "the all-reduce of the logged losses");
    at::Tensor mean = buffer[0].div_(double(world_)).contiguous();
    const double* p = mean.data_ptr<double>();
    return std::vector<double>(p, p + values.size());
#else
    return values;
#endif
}

void DataParallel::broadcast(const std::vector<at::Tensor>& tensors) {
    if (world_ <= 1) return;
#if defined(K2K_HAVE_GLOO)
    torch::NoGradGuard no_grad;
    for (const at::Tensor& t : tensors) {
        if (!t.defined() || t.numel() == 0) continue;
        const bool cuda = t.is_cuda();
        std::vector<at::Tensor> buffer{cuda && !group_->nccl ? t.cpu().contiguous() : t.contiguous()};
        const auto& backend = cuda && group_->nccl ? group_->nccl : group_->gloo;
        group_->wait(backend->broadcast(buffer), "the broadcast of rank 0's weights");
        if (!buffer[0].is_same(t)) t.copy_(buffer[0]);
    }
#else
    (void)tensors;
#endif
}

void DataParallel::broadcast_values(std::vector<double>& values, size_t n) {
    if (world_ <= 1) return;
#if defined(K2K_HAVE_GLOO)
    if (!is_main()) values.assign(n, 0.0);
    std::vector<at::Tensor> buffer{torch::tensor(values, torch::kFloat64)};
    group_->wait(group_->gloo->broadcast(buffer), "the broadcast of rank 0's validation");
    const double* p = buffer[0].contiguous().data_ptr<double>();
    values.assign(p, p + n);
#else
    (void)values;
    (void)n;
#endif
}

DataParallel::ReduceTime DataParallel::take_reduce_time() {
    ReduceTime t = reduce_time_;
    reduce_time_ = ReduceTime();
    return t;
}

void DataParallel::barrier() {
    if (world_ <= 1) return;
#if defined(K2K_HAVE_GLOO)
    // An all-reduce of one value: it waits for every worker like c10d's barrier, and fails through
    // the same path (a dead worker, the timeout) as the other collectives.
    std::vector<at::Tensor> buffer{torch::zeros({1}, torch::kFloat64)};
    group_->wait(group_->gloo->allreduce(buffer), "the barrier");
#endif
}

}  // namespace k2k
