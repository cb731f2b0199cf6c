// Checkpoint files: atomic torch archives plus scalar/RNG helpers.
#include "run/checkpoint.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <torch/torch.h>

#include "util/error.h"

namespace k2k {

namespace {

// Thrown by archive_read_module for weights that are not finite; load_archive puts the file's
// path in front. (Outside load_archive it is an ordinary k2k::Error without the path.)
class NonFiniteWeights : public Error {
public:
    explicit NonFiniteWeights(const std::string& what) : Error(what) {}
};

bool all_finite(const torch::Tensor& t) {
    return !t.defined() || !t.is_floating_point() || torch::isfinite(t).all().item<bool>();
}

// A checkpoint with NaN/Inf weights loads without complaint and then predicts nothing (an
// all-black image): refuse it when it is read instead.
void check_finite_state(const torch::nn::Module& m, const std::string& key) {
    const char* tail = " holds NaN/Inf; the checkpoint is corrupt or the training diverged (retrain the stage)";
    for (const auto& p : m.named_parameters(/*recurse=*/true))
        if (!all_finite(p.value())) throw NonFiniteWeights("parameter " + key + "." + p.key() + tail);
    for (const auto& b : m.named_buffers(/*recurse=*/true))
        if (!all_finite(b.value())) throw NonFiniteWeights("buffer " + key + "." + b.key() + tail);
}

}  // namespace

void save_archive(const std::string& path, const std::function<void(torch::serialize::OutputArchive&)>& fill) {
    namespace fs = std::filesystem;
    fs::path target(path);
    if (target.has_parent_path()) fs::create_directories(target.parent_path());
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    try {
        torch::serialize::OutputArchive archive;
        fill(archive);
        archive.save_to(tmp);
        fs::rename(tmp, target);
    } catch (const c10::Error& e) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw Error(path + ": cannot write checkpoint (" + e.what_without_backtrace() + ")");
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

void load_archive(const std::string& path, const std::function<void(torch::serialize::InputArchive&)>& read,
                  c10::optional<torch::Device> device) {
    if (!std::filesystem::exists(path)) throw Error(path + ": checkpoint not found");
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path, device);
    } catch (const c10::Error& e) {
        std::string why = e.what_without_backtrace();
        why = why.substr(0, why.find('\n'));
        throw Error(path + ": corrupt or unreadable checkpoint (" + why + "); delete it and re-train the stage");
    }
    try {
        read(archive);
    } catch (const NonFiniteWeights& e) {
        throw Error(path + ": " + e.what());
    } catch (const c10::Error& e) {
        std::string why = e.what_without_backtrace();
        why = why.substr(0, why.find('\n'));
        throw Error(path + ": checkpoint does not match this model or config (" + why + ")");
    }
}

void archive_write_module(torch::serialize::OutputArchive& a, const std::string& key, const torch::nn::Module& m) {
    torch::serialize::OutputArchive sub;
    m.save(sub);
    a.write(key, sub);
}

void archive_read_module(torch::serialize::InputArchive& a, const std::string& key, torch::nn::Module& m) {
    torch::serialize::InputArchive sub;
    a.read(key, sub);
    m.load(sub);
    check_finite_state(m, key);
}

void archive_write_optimizer(torch::serialize::OutputArchive& a, const std::string& key, const torch::optim::Optimizer& o) {
    torch::serialize::OutputArchive sub;
    o.save(sub);
    a.write(key, sub);
}

void archive_read_optimizer(torch::serialize::InputArchive& a, const std::string& key, torch::optim::Optimizer& o) {
    torch::serialize::InputArchive sub;
    a.read(key, sub);
    o.load(sub);
}

void archive_write_generator(torch::serialize::OutputArchive& a, const std::string& key, at::Generator& g) {
    std::lock_guard<std::mutex> lock(g.mutex());
    a.write(key, g.get_state(), /*is_buffer=*/true);
}

void archive_read_generator(torch::serialize::InputArchive& a, const std::string& key, at::Generator& g) {
    torch::Tensor state;
    a.read(key, state, /*is_buffer=*/true);
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_state(state.cpu());
}

void archive_write_int(torch::serialize::OutputArchive& a, const std::string& key, int64_t v) {
    a.write(key, c10::IValue(v));
}

int64_t archive_read_int(torch::serialize::InputArchive& a, const std::string& key) {
    c10::IValue v;
    a.read(key, v);
    return v.toInt();
}

void archive_write_double(torch::serialize::OutputArchive& a, const std::string& key, double v) {
    a.write(key, c10::IValue(v));
}

double archive_read_double(torch::serialize::InputArchive& a, const std::string& key) {
    c10::IValue v;
    a.read(key, v);
    return v.toDouble();
}

void archive_write_string(torch::serialize::OutputArchive& a, const std::string& key, const std::string& v) {
    a.write(key, c10::IValue(v));
}

std::string archive_read_string(torch::serialize::InputArchive& a, const std::string& key) {
    c10::IValue v;
    a.read(key, v);
    return v.toStringRef();
}

void archive_write_rng(torch::serialize::OutputArchive& a, const std::string& key, const std::mt19937& rng) {
    std::ostringstream s;
    s << rng;
    archive_write_string(a, key, s.str());
}

void archive_read_rng(torch::serialize::InputArchive& a, const std::string& key, std::mt19937& rng) {
    std::istringstream s(archive_read_string(a, key));
    s >> rng;
    if (!s) throw Error("checkpoint: RNG state '" + key + "' is malformed");
}

}  // namespace k2k
