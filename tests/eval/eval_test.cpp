// Tests for `k2k eval` (src/eval/eval.h and the step headers it includes), the reader's renders
// (reader_batch in src/run/batches.h) and the evaluation stages: scoring maths on known tensors,
// augmentation determinism, split disjointness, and an end-to-end eval of a tiny trained run.
#include "eval/eval.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"
#include "torch_test_support.h"
#include "config/config.h"
#include "data/cache.h"
#include "data/prepare.h"
#include "data/reader_augment.h"
#include "models/reader.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "data/selection.h"
#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- scoring ----------------------------------------------------------------------------------

TEST(InkIou, CountsInkAboveTheThresholdAndIsOneForTwoEmptyImages) {
    torch::Tensor a = torch::tensor({1.0f, 0.9f, 0.0f, 0.5f, 0.0f, 0.0f, 0.0f, 0.0f}).view({2, 1, 2, 2});
    torch::Tensor b = torch::tensor({0.6f, 0.0f, 1.0f, 1.0f, 0.2f, 0.5f, 0.0f, 0.0f}).view({2, 1, 2, 2});
    torch::Tensor iou = ink_iou(a, b);
    // Image 0: ink a = {0,1}, b = {0,2,3} (0.5 is not ink): 1 shared of 4 -> 0.25.
    // Image 1: neither has ink above 0.5 -> 1.
    ASSERT_EQ(iou.sizes(), torch::IntArrayRef({2}));
    EXPECT_FLOAT_EQ(iou[0].item<float>(), 0.25f);
    EXPECT_FLOAT_EQ(iou[1].item<float>(), 1.0f);
    EXPECT_FLOAT_EQ(ink_iou(a, a)[0].item<float>(), 1.0f);
    EXPECT_FLOAT_EQ(ink_iou(a, b, 0.1)[0].item<float>(), 0.5f);  // 0.5 counts now: a={0,1,3}, b={0,2,3}: 2 of 4
}

TEST(TopkHits, FindsTheTargetAmongTheKBestAndClipsK) {
    torch::Tensor scores = torch::tensor({0.1f, 0.5f, 0.3f, 0.1f, 0.9f, 0.05f, 0.03f, 0.02f}).view({2, 4});
    torch::Tensor target = torch::tensor({2, 3}, torch::kInt64);
    torch::Tensor h1 = topk_hits(scores, target, 1), h2 = topk_hits(scores, target, 2), h9 = topk_hits(scores, target, 9);
    EXPECT_FALSE(h1[0].item<bool>());
    EXPECT_TRUE(h2[0].item<bool>());   // 0.3 is second best
    EXPECT_FALSE(h2[1].item<bool>());  // 0.02 is last
    EXPECT_TRUE(h9[1].item<bool>());   // k clipped to C = 4: everything hits
    EXPECT_THROW(topk_hits(scores, target, 0), c10::Error);
}

TEST(VoteRanking, OrdersByVotesThenBySummedProbability) {
    // Top-1 of the samples: 2, 2, 1 -> class 2 has 2 votes, class 1 one; 0 and 3 none.
    torch::Tensor p = torch::tensor({0.1f, 0.2f, 0.6f, 0.1f,  //
                                     0.0f, 0.3f, 0.4f, 0.3f,  //
                                     0.3f, 0.5f, 0.0f, 0.2f})
                          .view({3, 4});
    EXPECT_EQ(vote_ranking(p, 4), (std::vector<int64_t>{2, 1, 3, 0}));  // 3 (sum 0.6) before 0 (0.4)
    EXPECT_EQ(vote_ranking(p, 2), (std::vector<int64_t>{2, 1}));
    // A tie in votes goes to the larger summed probability: 0 and 3 each win once, 3 sums more.
    torch::Tensor tie = torch::tensor({0.5f, 0.0f, 0.1f, 0.4f,  //
                                       0.1f, 0.0f, 0.0f, 0.9f})
                            .view({2, 4});
    EXPECT_EQ(vote_ranking(tie, 1), (std::vector<int64_t>{3}));
}

TEST(ScoreSamples, PerSampleBestOfNAndVote) {
    torch::Tensor p = torch::tensor({0.1f, 0.2f, 0.6f, 0.1f,  //
                                     0.0f, 0.3f, 0.4f, 0.3f,  //
                                     0.3f, 0.5f, 0.0f, 0.2f})
                          .view({3, 4});
    SampleScores s1 = score_samples(p, 1);  // right once out of three; loses the vote to 2
    EXPECT_DOUBLE_EQ(s1.top1, 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(s1.top5, 1.0);
    EXPECT_TRUE(s1.best1);
    EXPECT_FALSE(s1.vote1);
    EXPECT_TRUE(s1.vote5);
    EXPECT_EQ(s1.vote, 2);
    EXPECT_NEAR(s1.target_prob, (0.2 + 0.3 + 0.5) / 3.0, 1e-6);
    SampleScores s2 = score_samples(p, 2);
    EXPECT_DOUBLE_EQ(s2.top1, 2.0 / 3.0);
    EXPECT_TRUE(s2.vote1);
    SampleScores s0 = score_samples(p, 0);  // never first
    EXPECT_FALSE(s0.best1);
    EXPECT_FALSE(s0.vote1);
    EXPECT_TRUE(s0.vote5);  // only 4 classes: all in the first 5
    SampleScores unknown = score_samples(p, -1);  // a class the reader does not know
    EXPECT_FALSE(unknown.best5);
    EXPECT_EQ(unknown.top5, 0.0);
    EXPECT_EQ(unknown.vote, 2);
}

TEST(NearestNeighbours, NearestFirstAcrossReferenceChunks) {
    torch::Tensor ref = torch::tensor({0.0f, 10.0f, 3.0f, 4.0f}).view({4, 1});
    torch::Tensor q = torch::tensor({3.4f, 9.0f}).view({2, 1});
    torch::Tensor nn = nearest_neighbours(ref, q, 3);
    ASSERT_EQ(nn.sizes(), torch::IntArrayRef({2, 3}));
    EXPECT_EQ(nn[0][0].item<int64_t>(), 2);
    EXPECT_EQ(nn[0][1].item<int64_t>(), 3);
    EXPECT_EQ(nn[0][2].item<int64_t>(), 0);
    EXPECT_EQ(nn[1][0].item<int64_t>(), 1);
    EXPECT_EQ(nearest_neighbours(ref, q, 10).size(1), 4);  // k clipped to R
    // More than one 4096-row chunk: the running best must merge across chunks (and uint8 works).
    torch::Tensor big = torch::arange(0, 9000, torch::kFloat32).view({9000, 1});
    torch::Tensor far = torch::tensor({4095.8f, 8999.0f}).view({2, 1});
    torch::Tensor got = nearest_neighbours(big, far, 3);
    EXPECT_EQ(got[0][0].item<int64_t>(), 4096);
    EXPECT_EQ(got[0][1].item<int64_t>(), 4095);
    EXPECT_EQ(got[0][2].item<int64_t>(), 4097);
    EXPECT_EQ(got[1][0].item<int64_t>(), 8999);
    torch::Tensor bytes = torch::tensor({0, 200, 90}, torch::kUInt8).view({3, 1});
    EXPECT_EQ(nearest_neighbours(bytes, torch::tensor({100.0f}).view({1, 1}), 1)[0][0].item<int64_t>(), 2);
}

TEST(KnnRanking, VotesThenNearestNeighbour) {
    EXPECT_EQ(knn_ranking({5, 3, 3, 1}), (std::vector<int64_t>{3, 5, 1}));
    EXPECT_EQ(knn_ranking({7, 3, 3, 7}), (std::vector<int64_t>{7, 3}));  // tie: 7 has the nearest neighbour
    EXPECT_EQ(knn_ranking({4, 4, 4, 4}), (std::vector<int64_t>{4}));
}

// ---- a tiny trained run -----------------------------------------------------------------------

// Kuzushiji classes trained on (all in KanjiVG) and extra KanjiVG characters the reader also knows.
const char* const kOldClasses[] = {"U+4E00", "U+4EBA", "U+5927", "U+5C71"};
const char* const kModernFiles[] = {"04e00.svg", "04eba.svg", "05927.svg", "05c71.svg", "05b57.svg",
                                    "06728.svg", "06c34.svg", "0706b.svg", "091d1.svg", "065e5.svg"};
constexpr int kImagesPerClass = 16;

class EvalRun : public ::testing::Test {
protected:
    // One tiny run for the whole file: training it is most of the file's time.
    static void SetUpTestSuite() {
        const std::string shared = test::shared_data_dir();
        if (shared.empty() || !fs::exists(shared + "/kanjivg/kanji") || !fs::exists(shared + "/kkanji2")) return;
        root_ = test::make_temp_dir("eval");
        const fs::path kanjivg = fs::path(root_) / "kanjivg";
        const fs::path kkanji = fs::path(root_) / "kkanji2";
        test::copy_data_subset(root_, {std::begin(kModernFiles), std::end(kModernFiles)},
                               {std::begin(kOldClasses), std::end(kOldClasses)}, kImagesPerClass);
        Config& cfg = cfg_;
        cfg = test::tiny_run_config(root_, kanjivg.string(), kkanji.string());
        cfg.name = "eval_test";
        cfg.seed = 5;
        cfg.data.val_ratio = 0.1;
        cfg.data.test_ratio = 0.3;
        for (VaeConfig* v : {&cfg.vae_new, &cfg.vae_old}) {
            v->steps = 3;
            v->eval_every = 3;
        }
        cfg.mdn.steps = 3;
        cfg.mdn.eval_every = 3;
        cfg.sketch.steps = 2;
        cfg.generate.samples = 3;
        cfg.generate.max_len = 30;
        cfg.reader.enabled = true;
        cfg.reader.width = 4;
        cfg.reader.hidden = 16;
        cfg.reader.batch_size = 16;
        cfg.reader.steps = 6;
        cfg.reader.eval_every = 3;
        cfg.reader.eval_classes = 6;
        cfg.baseline.enabled = true;
        cfg.baseline.hidden = 8;
        cfg.baseline.batch_size = 16;
        cfg.baseline.steps = 4;
        cfg.baseline.eval_every = 2;
        setup_error_ = test::train_run(cfg);
        if (!setup_error_.empty()) return;
        run_dir_ = cfg.run_dir;
    }

    static void TearDownTestSuite() {
        if (!root_.empty()) test::remove_tree(root_);
    }

    void SetUp() override {
        K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
        K2K_REQUIRE_SHARED_DATA("kkanji2");
        ASSERT_TRUE(setup_error_.empty()) << "training the tiny run failed: " << setup_error_;
        ASSERT_FALSE(run_dir_.empty());
    }

    static TrainingData data() { return select_training_data(load_dataset(cfg_.data.cache), cfg_.data); }

    static Config cfg_;
    static std::string root_, run_dir_, setup_error_;
};

Config EvalRun::cfg_;
std::string EvalRun::root_, EvalRun::run_dir_, EvalRun::setup_error_;

TEST_F(EvalRun, TestSplitIsDisjointFromEveryTrainingSet) {
    TrainingData td = data();
    std::vector<TransferItem> items = transfer_items(td, Split::Test);
    ASSERT_FALSE(items.empty());
    // What the stages train on: vae_old, the baseline and the k-NN reference use old[0], vae_new
    // and the sketch modern[0], the MDN and the sketch's MDN conditioning pairs[0]; validation
    // passes read old[1], modern[1], pairs[1].
    std::set<size_t> old_seen(td.old[0].begin(), td.old[0].end());
    old_seen.insert(td.old[1].begin(), td.old[1].end());
    for (int s = 0; s < 2; ++s)
        for (const auto& p : td.pairs[s]) old_seen.insert(p.first);
    for (const TransferItem& it : items) {
        EXPECT_EQ(td.ds.old_split(it.old_index), Split::Test);
        EXPECT_EQ(old_seen.count(it.old_index), 0u) << it.old_index;
        EXPECT_EQ(it.old_codepoint, td.ds.old_codepoint(it.old_index));
    }
    for (int s = 0; s < 3; ++s) {
        for (size_t i : td.old[s]) EXPECT_EQ(int(td.ds.old_split(i)), s);
        for (size_t i : td.modern[s]) EXPECT_EQ(int(td.ds.modern_split(i)), s);
        for (const auto& p : td.pairs[s]) EXPECT_EQ(int(td.ds.old_split(p.first)), s);
    }
    std::set<size_t> modern_train(td.modern[0].begin(), td.modern[0].end());
    for (size_t i : td.modern[2]) EXPECT_EQ(modern_train.count(i), 0u);
    // Every test image of a paired class is an item, nothing else is.
    EXPECT_EQ(items.size(), td.old[2].size());
    // The reader's validation renders use their own seeds and its clean renders a width training
    // never draws (ReaderLineWidth above); its classes are every KanjiVG base character.
    EXPECT_EQ(reader_class_entries(td.ds).size(), std::size(kModernFiles));
}

TEST_F(EvalRun, ReaderBatchDoesNotDependOnTheThreadCount) {
    TrainingData td = data();
    std::vector<size_t> entries = reader_class_entries(td.ds);
    std::vector<uint32_t> seeds;
    for (size_t i = 0; i < entries.size(); ++i) seeds.push_back(uint32_t(100 + i));
    const int threads = torch::get_num_threads();
    torch::set_num_threads(1);
    torch::Tensor one = reader_batch(td.ds, entries, seeds, ReaderAugmentOptions(), torch::kCPU);
    torch::set_num_threads(2);
    torch::Tensor two = reader_batch(td.ds, entries, seeds, ReaderAugmentOptions(), torch::kCPU);
    torch::set_num_threads(threads);
    EXPECT_TRUE(torch::equal(one, two));
    EXPECT_EQ(one.sizes(), torch::IntArrayRef({int64_t(entries.size()), 1, 64, 64}));
    EXPECT_GE(one.min().item<float>(), 0.0f);
    EXPECT_LE(one.max().item<float>(), 1.0f);
}

void expect_fraction(const json& j, const std::string& what) {
    ASSERT_TRUE(j.is_number()) << what << ": " << j.dump();
    EXPECT_GE(j.get<double>(), 0.0) << what;
    EXPECT_LE(j.get<double>(), 1.0) << what;
}

TEST_F(EvalRun, EvalWritesJsonMatchingItsSchemaAndPerItemOutputs) {
    EvalOptions o;
    o.run_dir = run_dir_;
    o.out_dir = (fs::path(root_) / "eval_out").string();
    o.verbose = false;
    o.sheet_rows = 4;
    json r = run_eval(o);
    const std::string path = run_dir_ + "/eval/eval.json";
    ASSERT_TRUE(fs::exists(path));
    EXPECT_EQ(json::parse(read_file_text(path)), r);

    EXPECT_EQ(r["schema"], "k2k-eval");
    EXPECT_EQ(r["version"], 1);
    EXPECT_EQ(r["config"], "eval_test");
    EXPECT_EQ(r["seed"], 5);
    EXPECT_EQ(r["split"], "test");
    EXPECT_EQ(r["samples"], 3);
    TrainingData td = data();
    const size_t n_items = td.old[2].size();
    EXPECT_EQ(r["counts"]["transfer_items"], n_items);
    EXPECT_EQ(r["counts"]["transfer_unpaired"], 0);
    EXPECT_EQ(r["counts"]["reader_classes"], std::size(kModernFiles));
    EXPECT_EQ(r["counts"]["baseline_classes"], std::size(kOldClasses));
    EXPECT_EQ(r["counts"]["knn_reference"], td.old[0].size());

    for (const char* vae : {"vae_new", "vae_old"}) {
        const json& v = r["stages"][vae];
        if (v.is_null()) continue;  // an empty split in the tiny data
        EXPECT_GT(v["bce"].get<double>(), 0.0) << vae;
        EXPECT_GE(v["kl"].get<double>(), 0.0) << vae;
        expect_fraction(v["iou"], std::string(vae) + ".iou");
    }
    ASSERT_TRUE(r["stages"]["vae_old"].is_object());
    EXPECT_EQ(r["stages"]["vae_old"]["items"], n_items);
    ASSERT_TRUE(r["stages"]["mdn"].is_object());
    EXPECT_TRUE(std::isfinite(r["stages"]["mdn"]["nll"].get<double>()));
    EXPECT_EQ(r["stages"]["mdn"]["items"], td.pairs[2].size());
    if (!td.modern[2].empty()) {
        ASSERT_TRUE(r["stages"]["sketch"].is_object());
        for (const char* k : {"ls", "lp", "lr"}) EXPECT_TRUE(std::isfinite(r["stages"]["sketch"][k].get<double>())) << k;
        EXPECT_NEAR(r["stages"]["sketch"]["lr"].get<double>(),
                    r["stages"]["sketch"]["ls"].get<double>() + r["stages"]["sketch"]["lp"].get<double>(), 1e-5);
    }

    ASSERT_TRUE(r["reader"].is_object());
    EXPECT_EQ(r["reader"]["clean"]["items"], std::size(kModernFiles));
    expect_fraction(r["reader"]["clean"]["top1"], "reader.clean.top1");
    expect_fraction(r["reader"]["clean"]["top5"], "reader.clean.top5");
    EXPECT_GE(r["reader"]["clean"]["top5"].get<double>(), r["reader"]["clean"]["top1"].get<double>());

    ASSERT_TRUE(r["transfer"].is_object());
    EXPECT_EQ(r["transfer"]["items"], n_items);
    for (const char* part : {"pixels", "strokes"})
        for (const char* mode : {"per_sample", "best_of_n", "vote"}) {
            const json& m = r["transfer"][part][mode];
            std::string what = std::string(part) + "." + mode;
            expect_fraction(m["top1"], what + ".top1");
            expect_fraction(m["top5"], what + ".top5");
            EXPECT_GE(m["top5"].get<double>(), m["top1"].get<double>()) << what;
        }
    // Best of N is never below the mean over samples.
    for (const char* part : {"pixels", "strokes"})
        EXPECT_GE(r["transfer"][part]["best_of_n"]["top1"].get<double>() + 1e-12,
                  r["transfer"][part]["per_sample"]["top1"].get<double>());
    ASSERT_TRUE(r["baselines"]["cnn"].is_object());
    EXPECT_EQ(r["baselines"]["cnn"]["classes"], std::size(kOldClasses));
    expect_fraction(r["baselines"]["cnn"]["top1"], "cnn.top1");
    EXPECT_EQ(r["baselines"]["cnn"]["top5"].get<double>(), 1.0);  // 4 classes: always in the top 5
    ASSERT_TRUE(r["baselines"]["knn"].is_object());
    EXPECT_EQ(r["baselines"]["knn"]["k"], 4);
    expect_fraction(r["baselines"]["knn"]["top1"], "knn.top1");

    // items.csv: a header and one row per item; the sheets exist.
    std::istringstream csv(read_file_text(o.out_dir + "/items.csv"));
    std::string line;
    size_t lines = 0;
    while (std::getline(csv, line)) {
        if (lines == 0) {
            EXPECT_EQ(line.rfind("old_index,name,codepoint,modern_codepoint,", 0), 0u);
        }
        ++lines;
    }
    EXPECT_EQ(lines, n_items + 1);
    EXPECT_GT(fs::file_size(o.out_dir + "/worst.png"), 0u);
    EXPECT_GT(fs::file_size(o.out_dir + "/best.png"), 0u);

    // The printed table names every part.
    std::string table = eval_table(r);
    for (const char* s : {"vae_new", "mdn", "sketch", "clean held-out", "majority vote", "direct CNN", "4-NN"})
        EXPECT_NE(table.find(s), std::string::npos) << s << "\n" << table;
}

TEST_F(EvalRun, SameSeedSameNumbersAndLimitSpreadsItems) {
    EvalOptions o;
    o.run_dir = run_dir_;
    o.verbose = false;
    o.split = "val";  // written to eval_val.json: eval.json of the other test is left alone
    json a = run_eval(o);
    json b = run_eval(o);
    EXPECT_TRUE(fs::exists(run_dir_ + "/eval/eval_val.json"));
    a.erase("seconds");
    b.erase("seconds");
    EXPECT_EQ(a, b);
    o.split = "test";
    o.limit = 2;
    o.samples = 1;
    o.out_dir.clear();
    EvalOptions quick = o;
    json c = run_eval(quick);
    EXPECT_EQ(c["counts"]["transfer_items"], 2);
    EXPECT_EQ(c["samples"], 1);
    // With one sample, per-sample, best-of-1 and the vote are the same number.
    EXPECT_EQ(c["transfer"]["pixels"]["per_sample"]["top1"], c["transfer"]["pixels"]["best_of_n"]["top1"]);
    EXPECT_EQ(c["transfer"]["pixels"]["per_sample"]["top1"], c["transfer"]["pixels"]["vote"]["top1"]);
}

TEST_F(EvalRun, CandidateConditionDrawsOneImagePerItemAndAPoolKeepsNSamples) {
    const std::string copy = (fs::path(root_) / "run_candidates").string();
    fs::copy(run_dir_, copy, fs::copy_options::recursive);
    test::remove_tree(copy + "/eval");
    Config cfg = load_run_config(copy);
    cfg.generate.condition = "candidates";
    cfg.generate.stroke_pool = 2;
    write_file_atomic(copy + "/config.yaml", dump_config(cfg));
    EvalOptions o;
    o.run_dir = copy;
    o.verbose = false;
    o.out_dir = copy + "/sheets";
    json r = run_eval(o);
    EXPECT_EQ(r["condition"], "candidates");
    EXPECT_EQ(r["condition_top"], 1);
    // Every draw of an item is its best candidate's latent: one decoded image, read alike N times.
    EXPECT_EQ(r["transfer"]["pixels"]["per_sample"]["top1"], r["transfer"]["pixels"]["best_of_n"]["top1"]);
    EXPECT_EQ(r["transfer"]["pixels"]["per_sample"]["top5"], r["transfer"]["pixels"]["best_of_n"]["top5"]);
    ASSERT_TRUE(r["transfer"]["strokes"].is_object());
    // The pool keeps N = 3 samples per item: items.csv lists three stroke reads per row.
    std::istringstream csv(read_file_text(copy + "/sheets/items.csv"));
    std::string line;
    std::getline(csv, line);  // header; stroke_reads is column 8
    int rows = 0;
    while (std::getline(csv, line)) {
        std::vector<std::string> fields;
        std::istringstream cells(line);
        for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
        ASSERT_GT(fields.size(), 8u) << line;
        EXPECT_EQ(std::count(fields[8].begin(), fields[8].end(), ';'), 2) << line;  // 3 reads
        ++rows;
    }
    EXPECT_EQ(rows, r["counts"]["transfer_items"].get<int>());
}

TEST_F(EvalRun, AnUnwritableOutFolderIsRefusedBeforeTheEvaluation) {
    // A run whose MDN checkpoint is corrupt: had the out folder been checked after the evaluation
    // started (as it once was, after all of it), the checkpoint's error would come first.
    const std::string copy = (fs::path(root_) / "run_bad_out").string();
    fs::copy(run_dir_, copy, fs::copy_options::recursive);
    write_file_atomic(copy + "/mdn/best.pt", std::string("not a checkpoint"));
    test::remove_tree(copy + "/eval");  // earlier tests' reports
    const std::string file = (fs::path(root_) / "not_a_folder").string();
    write_file_atomic(file, std::string("x"));
    EvalOptions o;
    o.run_dir = copy;
    o.verbose = false;
    o.out_dir = file + "/eval";
    const std::string error = test::error_of([&] { run_eval(o); });
    EXPECT_EQ(error.rfind(file + "/eval: cannot write output here (", 0), 0u) << error;
    EXPECT_FALSE(fs::exists(fs::path(copy) / "eval" / "eval.json"));
}

TEST_F(EvalRun, MissingStagesAreSkippedAndMissingRunsAreErrors) {
    const std::string copy = (fs::path(root_) / "run_no_reader").string();
    fs::copy(run_dir_, copy, fs::copy_options::recursive);
    test::remove_tree((fs::path(copy) / "reader").string());
    test::remove_tree((fs::path(copy) / "baseline").string());
    // The copy's config still names the original run_dir: eval must read the folder it is given.
    EvalOptions o;
    o.run_dir = copy;
    o.verbose = false;
    o.limit = 2;
    json r = run_eval(o);
    EXPECT_TRUE(r["reader"].is_null());
    EXPECT_TRUE(r["transfer"].is_null());
    EXPECT_TRUE(r["baselines"]["cnn"].is_null());
    EXPECT_TRUE(r["baselines"]["knn"].is_object());  // needs no training
    EXPECT_NE(eval_table(r).find("-"), std::string::npos);

    o.run_dir = (fs::path(root_) / "nope").string();
    EXPECT_EQ(test::error_of([&] { run_eval(o); }), o.run_dir + ": no such run folder (train one with k2k pipeline --config <config>)");
    fs::create_directories(o.run_dir);
    EXPECT_EQ(test::error_of([&] { run_eval(o); }),
              o.run_dir + "/config.yaml: not found; is " + o.run_dir + " a k2k run folder?");
    o.run_dir = run_dir_;
    o.split = "dev";
    EXPECT_EQ(test::error_of([&] { run_eval(o); }), "unknown split 'dev' (expected train, val or test)");
}

TEST_F(EvalRun, CliPrintsTheTable) {
    const std::string out = (fs::path(root_) / "cli.txt").string();
    const std::string cmd = std::string(K2K_BINARY) + " eval --run " + run_dir_ + " --limit 3 --samples 2 > " + out + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file_text(out);
    std::string text = read_file_text(out);
    EXPECT_NE(text.find("k2k eval: run " + run_dir_), std::string::npos) << text;
    EXPECT_NE(text.find("transfer pixels"), std::string::npos) << text;
    const std::string bad = std::string(K2K_BINARY) + " eval --run " + root_ + "/missing > " + out + " 2>&1";
    EXPECT_NE(std::system(bad.c_str()), 0);
    EXPECT_NE(read_file_text(out).find("k2k: error: " + root_ + "/missing: no such run folder"), std::string::npos);
}

}  // namespace
}  // namespace k2k
