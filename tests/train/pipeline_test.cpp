// End-to-end tests of the staged pipeline on the smoke config and real data: resume after an
// interruption gives the same losses at the same steps, the NaN guard keeps the last good
// checkpoint, and the CLI runs prepare -> pipeline -> generate -> export with parseable outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/config.h"
#include "data/cache.h"
#include "data/kanjivg.h"
#include "data/png_io.h"
#include "data/prepare.h"
#include "test_support.h"
#include "torch_test_support.h"
#include "run/checkpoint.h"
#include "train/stage_runner.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "train/pipeline.h"
#include "data/selection.h"
#include "data/stroke_norm.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/lock.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;

// One cache of the whole shared data per test binary (a few seconds).
std::string shared_cache() {
    static std::string path;
    if (!path.empty()) return path;
    std::string dir = test::make_temp_dir("pipeline_cache");
    PrepareOptions o;
    o.kanjivg_dir = test::shared_data_dir() + "/kanjivg/kanji";
    o.kkanji_dir = test::shared_data_dir() + "/kkanji2";
    o.split.val = 0.05;
    o.split.test = 0.10;
    path = dir + "/k2k.cache";
    save_dataset(path, prepare_dataset(o));
    return path;
}

Config smoke_config(const std::string& run_dir) {
    Config c = load_config(std::string(K2K_SOURCE_DIR) + "/configs/smoke.yaml");
    c.run_dir = run_dir;
    c.data.cache = shared_cache();
    return c;
}

// metrics.csv without the wall-time column, which differs between runs.
std::string metrics_without_time(const std::string& path) {
    std::ifstream in(path);
    std::string line, out;
    while (std::getline(in, line)) {
        size_t a = line.find(','), b = line.find(',', a + 1);
        out += line.substr(0, a) + line.substr(b) + "\n";
    }
    return out;
}

struct EnvGuard {
    explicit EnvGuard(const char* value) { setenv("K2K_DEBUG_NAN_STEP", value, 1); }
    ~EnvGuard() { unsetenv("K2K_DEBUG_NAN_STEP"); }
};

TEST(Pipeline, ResumeAfterInterruptionMatchesAnUninterruptedRun) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    torch::set_num_threads(1);  // the same reduction order in both runs
    std::string root = test::make_temp_dir("resume");
    Config a = smoke_config(root + "/a");
    Config b = smoke_config(root + "/b");
    TrainingData data = select_training_data(load_dataset(a.data.cache), a.data);
    run_pipeline(a, torch::kCPU, false);

    // Run B: every stage is stopped by the NaN guard a few steps after a checkpoint, then resumed.
    const std::map<std::string, std::pair<int64_t, int64_t>> stop = {
        {"vae_new", {13, 10}}, {"vae_old", {12, 10}}, {"mdn", {17, 15}}, {"sketch", {8, 6}}};
    prepare_run_dir(b);
    for (const std::string& stage : stage_names()) {
        int64_t at = stop.at(stage).first, checkpoint = stop.at(stage).second;
        {
            EnvGuard nan(std::to_string(at).c_str());
            try {
                train_stage(b, stage, data, torch::kCPU, false);
                FAIL() << stage << ": expected the NaN guard to stop the stage";
            } catch (const Error& e) {
                std::string expected = stage + ": step " + std::to_string(at) + ": loss term '" +
                                       (stage == "mdn" ? "nll" : "loss") + "' is nan; stopped. Last good checkpoint kept: " +
                                       stage_dir(b, stage) + "/last.pt (step " + std::to_string(checkpoint) +
                                       ") (try a lower lr or grad_clip)";
                EXPECT_EQ(e.what(), expected);
            }
        }
        EXPECT_FALSE(stage_complete(stage_dir(b, stage)));
        int64_t saved = -1;
        load_archive(stage_dir(b, stage) + "/last.pt",
                     [&](torch::serialize::InputArchive& ar) { saved = archive_read_int(ar, "k2k_step"); });
        EXPECT_EQ(saved, checkpoint);
        train_stage(b, stage, data, torch::kCPU, true);
        EXPECT_TRUE(stage_complete(stage_dir(b, stage)));
        EXPECT_EQ(metrics_without_time(stage_dir(b, stage) + "/metrics.csv"),
                  metrics_without_time(stage_dir(a, stage) + "/metrics.csv"))
            << stage << ": resumed losses differ from the uninterrupted run";
    }
}

// The quick config's recipe beyond the paper: the MDN's encoder fine-tuned on augmented images
// with the contrastive term, the Sketch-RNN tracing its canvas. Interrupted and resumed, its
// losses equal an uninterrupted run's; the loaders read both stages back and the models run.
TEST(Pipeline, FinetunedMdnAndCanvasSketchResumeAndLoad) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    torch::set_num_threads(1);
    std::string root = test::make_temp_dir("recipe");
    auto recipe = [&](const std::string& dir) {
        Config c = smoke_config(dir);
        c.mdn.encoder = "finetune";
        c.mdn.augment = true;
        c.mdn.contrastive = 1.0;
        c.mdn.negatives = 16;
        c.sketch.canvas_hidden = 8;
        return c;
    };
    Config a = recipe(root + "/a"), b = recipe(root + "/b");
    TrainingData data = select_training_data(load_dataset(a.data.cache), a.data);
    run_pipeline(a, torch::kCPU, false);
    prepare_run_dir(b);
    for (const std::string& stage : {"vae_new", "vae_old"}) train_stage(b, stage, data, torch::kCPU, false);
    for (const auto& [stage, at] : std::vector<std::pair<std::string, int>>{{"mdn", 17}, {"sketch", 8}}) {
        {
            EnvGuard nan(std::to_string(at).c_str());
            EXPECT_THROW(train_stage(b, stage, data, torch::kCPU, false), Error) << stage;
        }
        train_stage(b, stage, data, torch::kCPU, true);
        EXPECT_EQ(metrics_without_time(stage_dir(b, stage) + "/metrics.csv"),
                  metrics_without_time(stage_dir(a, stage) + "/metrics.csv"))
            << stage << ": resumed losses differ from the uninterrupted run";
    }
    TrainedMdn mdn = load_trained_mdn(a, torch::kCPU);
    TrainedSketch sketch = load_trained_sketch(a, torch::kCPU);
    EXPECT_EQ(sketch.raster.size, data.ds.meta.raster.size);
    torch::NoGradGuard no_grad;
    torch::Tensor x = old_images(data.ds, {data.old[0][0]}, nullptr, 64, 64, torch::kCPU);
    EXPECT_EQ(mdn.z_old(x).sizes(), torch::IntArrayRef({1, a.vae_old.z_size}));
    // The fine-tuned encoder is not vae_old's any more.
    ConvVae vae_old = load_trained_vae(a, "vae_old", torch::kCPU);
    EXPECT_FALSE(torch::allclose(mdn.z_old(x), vae_old->encode(x).first));
    torch::Tensor z = torch::zeros({2, a.vae_new.z_size});
    const SketchSampleOptions so = sketch.sample_options(0.3, 20, torch::ones({2, 1, 64, 64}) * 0.5);
    EXPECT_EQ(sketch.model->sample(z, so, at::detail::createCPUGenerator(1)).size(), 2u);
}

// A tiny run (a few steps of tiny models per stage) on a few files of the shared data in root.
Config tiny_config(const std::string& root) {
    test::copy_data_subset(root, {"04e00.svg", "04eba.svg", "05927.svg", "05c71.svg"},
                           {"U+4E00", "U+4EBA", "U+5927", "U+5C71"}, 6);
    Config c = test::tiny_run_config(root, root + "/kanjivg", root + "/kkanji2");
    c.data.val_ratio = 0.0;
    c.data.test_ratio = 0.0;
    return c;
}

// Without --resume, an interrupted stage used to restart from step 0 and overwrite its last.pt.
TEST(Pipeline, InterruptedStageWithoutResumeIsAnError) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    std::string root = test::make_temp_dir("interrupted");
    Config c = tiny_config(root);
    prepare_run_dir(c);
    TrainingData data = select_training_data(load_or_prepare_dataset(c.data, false), c.data);
    train_stage(c, "vae_new", data, torch::kCPU, false);
    {
        EnvGuard nan("3");  // stops vae_old at step 3; its last.pt holds step 2
        EXPECT_NE(test::error_of([&] { train_stage(c, "vae_old", data, torch::kCPU, false); }).find("is nan; stopped"),
                  std::string::npos);
    }
    const std::string dir = stage_dir(c, "vae_old");
    EXPECT_EQ(test::error_of([&] { run_pipeline(c, torch::kCPU, false); }),
              dir + "/last.pt: stage vae_old was interrupted at step 2; pass --resume to continue it, or delete " + dir +
                  " to start it over");
    EXPECT_EQ(test::error_of([&] { train_stage(c, "vae_old", data, torch::kCPU, false); }),
              dir + "/last.pt: stage vae_old was interrupted at step 2; pass --resume to continue it, or delete " + dir +
                  " to start it over");
    run_pipeline(c, torch::kCPU, true);
    for (const std::string& stage : stage_names()) EXPECT_TRUE(stage_complete(stage_dir(c, stage))) << stage;
    test::remove_tree(root);
}

// sketch.normalization unit_bbox (kanji2kanji's), with the random first-point shift: the stage
// trains, stores the unit-bbox scale, and the loaded model samples strokes of about the box's size.
TEST(Pipeline, UnitBboxSketchTrainsAndSamples) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    std::string root = test::make_temp_dir("unit_bbox");
    Config c = tiny_config(root);
    c.sketch.normalization = "unit_bbox";
    c.sketch.first_point_shift = 0.3;
    run_pipeline(c, torch::kCPU, false);
    TrainedSketch sketch = load_trained_sketch(c, torch::kCPU);
    EXPECT_FLOAT_EQ(sketch.scale, kUnitBboxStd * kUnitBboxSide);
    torch::NoGradGuard no_grad;
    const SketchSampleOptions so = sketch.sample_options(0.3, 20, torch::Tensor());
    EXPECT_EQ(sketch.model->sample(torch::zeros({2, c.vae_new.z_size}), so, at::detail::createCPUGenerator(1)).size(), 2u);
    // The canvas decoder follows KanjiVG coordinates: the two cannot be combined.
    Config bad = c;
    bad.sketch.canvas_hidden = 8;
    EXPECT_NE(test::error_of([&] { parse_config(dump_config(bad), "bad.yaml"); }).find("needs sketch.canvas_hidden 0"),
              std::string::npos);
    test::remove_tree(root);
}

// sketch.trim_padding with the canvas decoder: the stage trains on batches cut to their longest
// sketch (canvas features cut alike), and its validation loss is finite.
TEST(Pipeline, TrimmedSketchBatchesTrainWithTheCanvas) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    std::string root = test::make_temp_dir("trim");
    Config c = tiny_config(root);
    c.sketch.trim_padding = true;
    c.sketch.canvas_hidden = 8;
    run_pipeline(c, torch::kCPU, false);
    EXPECT_TRUE(stage_complete(stage_dir(c, "sketch")));
    const nlohmann::json done = nlohmann::json::parse(read_file_text(stage_dir(c, "sketch") + "/done.json"));
    EXPECT_TRUE(std::isfinite(done["best_val"].get<double>()));
    test::remove_tree(root);
}

// A stage after a retrained one is stale: the pipeline clears its folder (saying so) instead of
// resuming it or refusing to start because its last.pt looks interrupted.
TEST(Pipeline, StagesAfterARetrainedOneAreCleared) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
    std::string root = test::make_temp_dir("stale");
    Config c = tiny_config(root);
    run_pipeline(c, torch::kCPU, false);
    // vae_old and mdn look interrupted (last.pt, no done.json); sketch is complete.
    fs::remove(stage_dir(c, "vae_old") + "/done.json");
    fs::remove(stage_dir(c, "mdn") + "/done.json");
    testing::internal::CaptureStdout();
    std::string error = test::error_of([&] { run_pipeline(c, torch::kCPU, true); });
    const std::string out = testing::internal::GetCapturedStdout();
    EXPECT_EQ(error, "(no error)");
    EXPECT_NE(out.find("[vae_new] already complete"), std::string::npos) << out;
    EXPECT_NE(out.find("resumed from " + stage_dir(c, "vae_old") + "/last.pt at step 4"), std::string::npos) << out;
    for (const char* stage : {"mdn", "sketch"})
        EXPECT_NE(out.find(std::string("[") + stage + "] stale: an earlier stage was retrained; cleared " +
                           stage_dir(c, stage)),
                  std::string::npos)
            << out;
    for (const std::string& stage : stage_names()) EXPECT_TRUE(stage_complete(stage_dir(c, stage))) << stage;
    test::remove_tree(root);
}

TEST(Pipeline, StagesNeedTheirPredecessors) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    Config c = smoke_config(test::make_temp_dir("order") + "/run");
    TrainingData data = select_training_data(load_dataset(c.data.cache), c.data);
    try {
        train_stage(c, "mdn", data, torch::kCPU, false);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "stage mdn needs stage vae_new to be complete in " + c.run_dir +
                                             " (k2k train --stage vae_new, or k2k pipeline)");
    }
}

TEST(Pipeline, RunFolderRefusesAnotherConfig) {
    Config c;
    c.run_dir = test::make_temp_dir("runfolder") + "/run";
    prepare_run_dir(c);
    EXPECT_NO_THROW(prepare_run_dir(c));
    // Generation and evaluation settings may change: no pipeline stage reads them.
    c.generate.samples = 9;
    c.reader.steps = 11;
    EXPECT_NO_THROW(prepare_run_dir(c));
    EXPECT_EQ(load_config(c.run_dir + "/config.yaml").reader.steps, 11);
    // ... unless the evaluation stage was already trained with the old ones.
    fs::create_directories(c.run_dir + "/reader");
    c.reader.steps = 12;
    try {
        prepare_run_dir(c);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), c.run_dir + "/config.yaml: the reader settings differ from those " + c.run_dir +
                                             "/reader was trained with; delete that folder to retrain it, or keep the old settings");
    }
    c.reader.steps = 11;
    c.sketch.hidden_size = 7;
    try {
        prepare_run_dir(c);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), c.run_dir + "/config.yaml: this run folder was made with a different config; "
                                                     "use another run_dir or delete " + c.run_dir + " to start over");
    }
}

// Runs cmd with stdout and stderr into a fixed log file beside the test's outputs; *output gets
// the log text.
int run(const std::string& cmd, std::string* output) {
    static const std::string log_path = test::make_temp_dir("cli_log") + "/cmd.log";
    std::string full = cmd + " > " + log_path + " 2>&1";
    int rc = std::system(full.c_str());
    *output = read_file_text(log_path);
    return WEXITSTATUS(rc);
}

TEST(Pipeline, SmokeCliEndToEnd) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    std::string dir = test::make_temp_dir("smoke_cli");
    std::string k2k = K2K_BINARY;
    std::string log = dir + "/log";
    std::string cache = dir + "/k2k.cache";
    ASSERT_EQ(run(k2k + " data prepare --kanjivg " + test::shared_data_dir() + "/kanjivg/kanji --kkanji " +
                      test::shared_data_dir() + "/kkanji2 --out " + cache, &log), 0) << log;

    Config c = load_config(std::string(K2K_SOURCE_DIR) + "/configs/smoke.yaml");
    c.run_dir = dir + "/run";
    c.data.cache = cache;
    write_file_atomic(dir + "/smoke.yaml", dump_config(c));
    ASSERT_EQ(run(k2k + " pipeline --config " + dir + "/smoke.yaml", &log), 0) << log;
    for (const std::string& stage : stage_names()) {
        EXPECT_TRUE(fs::exists(c.run_dir + "/" + stage + "/best.pt")) << stage;
        EXPECT_TRUE(stage_complete(c.run_dir + "/" + stage)) << stage;
    }
    // Running it again skips every stage.
    ASSERT_EQ(run(k2k + " pipeline --config " + dir + "/smoke.yaml", &log), 0) << log;
    EXPECT_NE(log.find("[sketch] already complete"), std::string::npos) << log;

    // Generate from two Kuzushiji test images of a trained class.
    Dataset ds = load_dataset(cache);
    TrainingData td = select_training_data(ds, c.data);
    ASSERT_GE(td.old[2].size() + td.old[0].size(), 2u);
    const std::vector<size_t>& pool = td.old[2].size() >= 2 ? td.old[2] : td.old[0];
    fs::create_directories(dir + "/inputs");
    for (size_t k = 0; k < 2; ++k) write_png_gray(dir + "/inputs/in" + std::to_string(k) + ".png", ds.old_image_copy(pool[k]));
    ASSERT_EQ(run(k2k + " generate --run " + c.run_dir + " --input " + dir + "/inputs --out " + dir + "/out", &log), 0) << log;
    for (size_t k = 0; k < 2; ++k) {
        std::string stem = dir + "/out/in" + std::to_string(k);
        Image modern = read_png_gray(stem + "/modern.png");
        EXPECT_EQ(modern.width, 64);
        EXPECT_TRUE(fs::exists(stem + "/sheet.png"));
        for (int i = 0; i < int(c.generate.samples); ++i)
            EXPECT_NO_THROW(read_kanjivg_file(stem + "/strokes_" + std::to_string(i) + ".svg")) << stem;
    }
    EXPECT_TRUE(fs::exists(dir + "/out/index.csv"));

    // Export a dataset character; it reads back through the KanjiVG reader with the same strokes.
    ASSERT_EQ(run(k2k + " export --cache " + cache + " --kanji U+5B57 --out " + dir + "/ji.svg", &log), 0) << log;
    EXPECT_EQ(read_kanjivg_file(dir + "/ji.svg").strokes.size(), 6u);

    // A run folder another job holds is refused, by pipeline and by train alike, before any work.
    {
        FolderLock other(c.run_dir, "k2k pipeline");
        for (const std::string& cmd : {std::string(" pipeline --config "), std::string(" train --stage mdn --config ")}) {
            EXPECT_EQ(run(k2k + cmd + dir + "/smoke.yaml", &log), 1) << log;
            EXPECT_NE(log.find(c.run_dir + ": in use by another k2k process (pid "), std::string::npos) << log;
        }
    }

    // A wrong-size input is refused with a one-line error and a non-zero exit.
    write_png_gray(dir + "/small.png", Image(28, 28));
    EXPECT_NE(run(k2k + " generate --run " + c.run_dir + " --input " + dir + "/small.png --out " + dir + "/out2", &log), 0);
    EXPECT_NE(log.find("small.png: image is 28x28, expected 64x64"), std::string::npos) << log;
}

}  // namespace
}  // namespace k2k
