// The run folder, stage dispatch and ordering, model option mapping, and loaders of trained models.
#include <cstdio>
#include <filesystem>
#include <utility>

#include <torch/torch.h>

#include "data/split.h"
#include "train/checkpoint.h"
#include "train/stage_internal.h"
#include "train/stage_reader.h"
#include "train/stage_runner.h"
#include "train/stages.h"
#include "train/training_data.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace fs = std::filesystem;

const std::vector<std::string>& stage_names() {
    static const std::vector<std::string> names = {"vae_new", "vae_old", "mdn", "sketch"};
    return names;
}

torch::Device resolve_device(const std::string& name) {
    if (name == "cpu") return torch::kCPU;
    if (name == "cuda" || name == "auto") {
        if (torch::cuda::is_available()) return torch::Device(torch::kCUDA, 0);
        if (name == "cuda")
            throw Error("device cuda: no CUDA device available (this k2k is built against a CPU LibTorch, or no GPU is visible); use --device cpu");
        return torch::kCPU;
    }
    throw Error("unknown device '" + name + "' (expected cpu, cuda or auto)");
}

std::string stage_dir(const Config& c, const std::string& stage) { return (fs::path(c.run_dir) / stage).string(); }

namespace {

// The config without the sections that no training stage of the pipeline reads: generation
// settings and the evaluation stages (reader, baseline), which train on their own.
std::string pipeline_part(Config c) {
    c.generate = GenerateConfig();
    c.reader = ReaderConfig();
    c.baseline = BaselineConfig();
    return dump_config(c);
}

}  // namespace

void prepare_run_dir(const Config& config) {
    fs::create_directories(config.run_dir);
    const std::string path = (fs::path(config.run_dir) / "config.yaml").string();
    const std::string text = dump_config(config);
    if (fs::exists(path)) {
        Config old = load_config(path);
        if (dump_config(old) == text) return;
        if (pipeline_part(old) != pipeline_part(config))
            throw Error(path + ": this run folder was made with a different config; use another run_dir or delete " +
                        config.run_dir + " to start over");
        // Only generate / reader / baseline changed: the trained pipeline stages stay valid. An
        // evaluation stage already trained with other settings would be stale, so it must go first.
        Config old_reader = config, old_baseline = config;
        old_reader.reader = old.reader;
        old_baseline.baseline = old.baseline;
        const std::pair<std::string, bool> eval_stages[] = {{"reader", dump_config(old_reader) != text},
                                                            {"baseline", dump_config(old_baseline) != text}};
        for (const auto& [stage, changed] : eval_stages)
            if (changed && fs::exists(stage_dir(config, stage)))
                throw Error(path + ": the " + stage + " settings differ from those " + stage_dir(config, stage) +
                            " was trained with; delete that folder to retrain it, or keep the old settings");
        std::printf("[run] %s: generate/reader/baseline settings updated (the pipeline stages are unaffected)\n",
                    path.c_str());
    }
    write_file_atomic(path, text);
}

uint64_t stage_seed(const Config& cfg, const std::string& stage) {
    return uint64_t(cfg.seed) * 1000003ULL + split_hash(stage) % 1000003ULL;
}

const std::vector<size_t>& pick_val(const std::vector<size_t>& val, const std::vector<size_t>& train, const std::string& stage) {
    if (!val.empty()) return val;
    std::printf("[%s] warning: the validation split is empty; validating on the training items\n", stage.c_str());
    return train;
}

void require_items(const std::vector<size_t>& items, const std::string& stage, const char* what) {
    if (items.empty()) throw Error(stage + ": no " + std::string(what) + " in the training split of the selected data");
}

std::vector<std::vector<size_t>> eval_batches(const std::vector<size_t>& items, size_t batch, size_t count) {
    std::vector<std::vector<size_t>> out;
    for (size_t s = 0; s < items.size() && out.size() < count; s += batch)
        out.emplace_back(items.begin() + long(s), items.begin() + long(std::min(items.size(), s + batch)));
    return out;
}

StageLoopOptions stage_loop_options(const Config& cfg, const std::string& stage, int64_t steps, int64_t eval_every,
                                    bool resume) {
    StageLoopOptions lo;
    lo.name = stage;
    lo.dir = stage_dir(cfg, stage);
    lo.steps = steps;
    lo.eval_every = eval_every;
    lo.log_every = cfg.log_every;
    lo.resume = resume;
    return lo;
}

void set_checkpoint_hooks(StageHooks& hooks, torch::nn::Module& model, torch::optim::Optimizer& opt, std::mt19937& rng,
                          at::Generator& gen) {
    hooks.save = [&model, &opt, &rng, &gen](torch::serialize::OutputArchive& a) {
        archive_write_module(a, "model", model);
        archive_write_optimizer(a, "optimizer", opt);
        archive_write_rng(a, "rng", rng);
        archive_write_generator(a, "gen", gen);
    };
    hooks.load = [&model, &opt, &rng, &gen](torch::serialize::InputArchive& a) {
        archive_read_module(a, "model", model);
        archive_read_optimizer(a, "optimizer", opt);
        archive_read_rng(a, "rng", rng);
        archive_read_generator(a, "gen", gen);
    };
}

double clip_and_step(const std::vector<torch::Tensor>& params, torch::optim::Optimizer& opt, double clip) {
    // No clipping = a max norm of FLT_MAX: clip_grad_norm_ turns max_norm into a float scalar, and 1e300
    // threw "value cannot be converted to type float without overflow".
    double norm = torch::nn::utils::clip_grad_norm_(params, clip > 0 ? clip : double(std::numeric_limits<float>::max()));
    if (std::isfinite(norm)) opt.step();
    return norm;
}

ConvVaeOptions vae_options(const VaeConfig& c) {
    return ConvVaeOptions().z_size(c.z_size).kl_tolerance(c.kl_tolerance).loss(c.loss);
}

MdnOptions mdn_options(const Config& c) {
    return MdnOptions()
        .in_size(c.vae_old.z_size)
        .out_size(c.vae_new.z_size)
        .hidden(c.mdn.hidden)
        .num_mixtures(c.mdn.num_mixtures)
        .mode(c.mdn.mode);
}

SketchRnnOptions sketch_options(const Config& c) {
    const SketchConfig& s = c.sketch;
    return SketchRnnOptions()
        .z_size(c.vae_new.z_size)
        .hidden_size(s.hidden_size)
        .num_layers(s.num_layers)
        .cell(s.cell)
        .recurrent_dropout_keep(s.recurrent_dropout_keep)
        .num_mixtures(s.num_mixtures)
        .output(s.output)
        .max_seq_len(std::max<int64_t>(s.max_seq_len, c.generate.max_len))
        .start_token(s.start_token);
}

namespace {

std::string best_checkpoint(const Config& c, const std::string& stage) {
    std::string path = (fs::path(stage_dir(c, stage)) / "best.pt").string();
    if (!fs::exists(path))
        throw Error(path + ": checkpoint not found; train the stage first (k2k train --config <config> --stage " + stage + ")");
    return path;
}

}  // namespace

ConvVae load_trained_vae(const Config& c, const std::string& stage, torch::Device device) {
    ConvVae vae(vae_options(stage == "vae_new" ? c.vae_new : c.vae_old));
    load_archive(best_checkpoint(c, stage), [&](torch::serialize::InputArchive& a) { archive_read_module(a, "model", *vae); });
    vae->to(device);
    vae->eval();
    return vae;
}

Mdn load_trained_mdn(const Config& c, torch::Device device) {
    Mdn mdn(mdn_options(c));
    load_archive(best_checkpoint(c, "mdn"), [&](torch::serialize::InputArchive& a) { archive_read_module(a, "model", *mdn); });
    mdn->to(device);
    mdn->eval();
    return mdn;
}

TrainedSketch load_trained_sketch(const Config& c, torch::Device device) {
    TrainedSketch t;
    t.model = SketchRnn(sketch_options(c));
    t.encoder = ConvVae(vae_options(c.vae_new));
    load_archive(best_checkpoint(c, "sketch"), [&](torch::serialize::InputArchive& a) {
        archive_read_module(a, "model", *t.model);
        archive_read_module(a, "encoder", *t.encoder);
        t.scale = float(archive_read_double(a, "scale"));
    });
    t.model->to(device);
    t.model->eval();
    t.encoder->to(device);
    t.encoder->eval();
    return t;
}

void train_stage(const Config& config, const std::string& stage, TrainingData& data, torch::Device device, bool resume) {
    if (stage == "reader") return train_reader(config, data, device, resume);      // evaluation stages
    if (stage == "baseline") return train_baseline(config, data, device, resume);  // need no other stage
    const std::vector<std::string>& names = stage_names();
    auto at = std::find(names.begin(), names.end(), stage);
    if (at == names.end()) throw Error("unknown stage '" + stage + "' (expected vae_new, vae_old, mdn, sketch, reader or baseline)");
    std::vector<std::string> needs;
    if (stage == "mdn") needs = {"vae_new", "vae_old"};
    if (stage == "sketch") needs = {"vae_new", "vae_old", "mdn"};
    for (const std::string& n : needs)
        if (!stage_complete(stage_dir(config, n)))
            throw Error("stage " + stage + " needs stage " + n + " to be complete in " + config.run_dir +
                        " (k2k train --stage " + n + ", or k2k pipeline)");
    if (stage == "vae_new" || stage == "vae_old") train_vae(config, stage, data, device, resume);
    if (stage == "mdn") train_mdn(config, data, device, resume);
    if (stage == "sketch") train_sketch(config, data, device, resume);
}

void run_pipeline(const Config& config, torch::Device device, bool resume) {
    prepare_run_dir(config);
    TrainingData data = select_training_data(load_or_prepare_dataset(config.data, true), config.data);
    std::printf("[data] modern train/val/test %zu/%zu/%zu, Kuzushiji train/val/test %zu/%zu/%zu, paired classes %zu\n",
                data.modern[0].size(), data.modern[1].size(), data.modern[2].size(), data.old[0].size(),
                data.old[1].size(), data.old[2].size(), data.old_to_modern.size());
    bool retrained = false;  // once a stage is (re)trained, the stages after it are stale
    for (const std::string& stage : stage_names()) {
        if (!retrained && stage_complete(stage_dir(config, stage))) {
            std::printf("[%s] already complete in %s, skipped\n", stage.c_str(), stage_dir(config, stage).c_str());
            continue;
        }
        train_stage(config, stage, data, device, resume && !retrained);
        retrained = true;
    }
    for (const std::string& stage : eval_stage_names()) {  // optional; depend on no other stage
        if (!(stage == "reader" ? config.reader.enabled : config.baseline.enabled)) continue;
        if (stage_complete(stage_dir(config, stage))) {
            std::printf("[%s] already complete in %s, skipped\n", stage.c_str(), stage_dir(config, stage).c_str());
            continue;
        }
        train_stage(config, stage, data, device, resume);
    }
}

}  // namespace k2k
