// Tests of `k2k generate` (export/generate.h) on a tiny run trained here from a handful of real
// KanjiVG files and Kuzushiji-Kanji images: outputs, determinism, input checks and error texts.
#include "generate/generate.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "data/kanjivg.h"
#include "data/image_decode.h"
#include "data/png_io.h"
#include "test_support.h"
#include "torch_test_support.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/lock.h"

namespace k2k {
namespace {

namespace fs = std::filesystem;

// Kuzushiji classes trained on (all also in KanjiVG, so the MDN has pairs), and modern-only ones.
const char* const kOldClasses[] = {"U+4E00", "U+4EBA", "U+5927", "U+5C71"};
const char* const kModernFiles[] = {"04e00.svg", "04eba.svg", "05927.svg", "05c71.svg", "05b57.svg"};
constexpr int kImagesPerClass = 6;

std::vector<std::string> split_line(const std::string& line, char sep) {
    std::vector<std::string> out;
    std::string cur;
    std::istringstream s(line);
    while (std::getline(s, cur, sep)) out.push_back(cur);
    if (!line.empty() && line.back() == sep) out.push_back("");
    return out;
}

std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> lines;
    std::istringstream s(read_file_text(path));
    std::string line;
    while (std::getline(s, line)) lines.push_back(line);
    return lines;
}

class GenerateTest : public ::testing::Test {
protected:
    // One tiny run for the whole file: training it is most of the file's time.
    static void SetUpTestSuite() {
        const std::string shared = test::shared_data_dir();
        if (shared.empty() || !fs::exists(shared + "/kanjivg/kanji") || !fs::exists(shared + "/kkanji2")) return;
        root_ = test::make_temp_dir("generate");
        const fs::path kanjivg = fs::path(root_) / "kanjivg";
        const fs::path kkanji = fs::path(root_) / "kkanji2";
        const std::vector<std::vector<std::string>> files = test::copy_data_subset(
            root_, {std::begin(kModernFiles), std::end(kModernFiles)}, {std::begin(kOldClasses), std::end(kOldClasses)},
            kImagesPerClass);
        inputs_dir_ = (fs::path(root_) / "inputs").string();
        fs::create_directories(inputs_dir_);
        // Inputs: one held-back image per class, named after its class.
        for (size_t k = 0; k < files.size(); ++k)
            fs::copy_file(files[k].at(size_t(kImagesPerClass)), fs::path(inputs_dir_) / (std::string(kOldClasses[k]) + ".png"));

        Config cfg = test::tiny_run_config(root_, kanjivg.string(), kkanji.string());
        cfg.name = "generate_test";
        cfg.data.val_ratio = 0.0;
        cfg.data.test_ratio = 0.0;
        cfg.sketch.max_seq_len = 100;
        cfg.generate.samples = 4;
        cfg.generate.max_len = 40;
        setup_error_ = test::train_run(cfg);
        if (!setup_error_.empty()) return;
        run_dir_ = cfg.run_dir;
        cache_ = cfg.data.cache;
    }

    void SetUp() override {
        K2K_REQUIRE_SHARED_DATA("kanjivg/kanji");
        K2K_REQUIRE_SHARED_DATA("kkanji2");
        ASSERT_TRUE(setup_error_.empty()) << "training the tiny run failed: " << setup_error_;
        ASSERT_FALSE(run_dir_.empty());
    }

    static GenerateOptions quiet(const std::string& out) {
        GenerateOptions o;
        o.out_dir = out;
        o.verbose = false;
        return o;
    }

    static std::vector<std::string> inputs() { return list_input_images(inputs_dir_); }

    // A copy of the run folder to damage.
    static std::string copy_run(const std::string& tag) {
        std::string dir = test::make_temp_dir(tag) + "/run";
        fs::copy(run_dir_, dir, fs::copy_options::recursive);
        return dir;
    }

    static std::string root_;
    static std::string run_dir_;
    static std::string cache_;
    static std::string inputs_dir_;
    static std::string setup_error_;
};

std::string GenerateTest::root_;
std::string GenerateTest::run_dir_;
std::string GenerateTest::cache_;
std::string GenerateTest::inputs_dir_;
std::string GenerateTest::setup_error_;

TEST_F(GenerateTest, ListInputImagesSortsPngsAndRejectsEmptyOrMissingPaths) {
    std::vector<std::string> files = inputs();
    ASSERT_EQ(files.size(), 4u);
    for (size_t i = 0; i < files.size(); ++i)
        EXPECT_EQ(files[i], (fs::path(inputs_dir_) / (std::string(kOldClasses[i]) + ".png")).string());
    EXPECT_EQ(list_input_images(files[2]), std::vector<std::string>{files[2]});

    std::string empty = test::make_temp_dir("generate_empty");
    write_file_atomic(empty + "/notes.txt", "not an image\n");
    EXPECT_EQ(test::error_of([&] { list_input_images(empty); }), empty + ": no .png or .jpg file in this folder");
    // JPEGs count too, whatever the case of the extension.
    write_file_atomic(empty + "/b.JPG", "x");
    write_file_atomic(empty + "/a.jpeg", "x");
    EXPECT_EQ(list_input_images(empty), (std::vector<std::string>{empty + "/a.jpeg", empty + "/b.JPG"}));
    EXPECT_EQ(test::error_of([&] { list_input_images(empty + "/nope"); }), empty + "/nope: no such file or folder");
}

TEST_F(GenerateTest, FolderWritesEveryOutputAndTheIndex) {
    const std::string out = test::make_temp_dir("generate_out") + "/out";
    GenerateSummary s = generate_from_images(run_dir_, inputs(), quiet(out));
    EXPECT_EQ(s.samples, 4);  // the run config's generate section
    EXPECT_DOUBLE_EQ(s.temperature, 0.5);
    EXPECT_DOUBLE_EQ(s.mdn_temperature, 0.25);
    EXPECT_TRUE(s.mdn_mode);
    EXPECT_EQ(s.max_len, 40);
    ASSERT_EQ(s.items.size(), 4u);

    std::vector<std::string> lines = read_lines(out + "/index.csv");
    ASSERT_EQ(lines.size(), 5u);
    int drawn = 0;  // non-empty samples (this barely trained model ends most sketches at once)
    EXPECT_EQ(lines[0], "input,stem,reconstruction,modern,uncertainty,sheet,svgs,mean_std,max_std,strokes,rows,candidates");
    const nlohmann::json index = nlohmann::json::parse(read_file_text(out + "/index.json"));
    EXPECT_EQ(index["schema"], "k2k-generate");
    ASSERT_EQ(index["items"].size(), 4u);
    for (size_t i = 0; i < s.items.size(); ++i) {
        const GeneratedItem& it = s.items[i];
        const std::string stem = kOldClasses[i];
        EXPECT_EQ(it.stem, stem);
        for (const char* name : {"reconstruction", "modern", "uncertainty"}) {
            Image im = read_png_gray(out + "/" + stem + "/" + std::string(name) + ".png");
            EXPECT_EQ(im.width, 64);
            EXPECT_EQ(im.height, 64);
        }
        EXPECT_EQ(it.modern, stem + "/modern.png");
        Image sheet = read_png_gray(out + "/" + it.sheet);
        EXPECT_GT(sheet.width, 4 * 128);
        EXPECT_GE(sheet.height, 128);
        // The uncertainty PNG is the std x 510: its largest pixel is the rounded max std.
        Image unc = read_png_gray(out + "/" + stem + "/uncertainty.png");
        int max_pixel = 0;
        for (uint8_t p : unc.pixels) max_pixel = std::max<int>(max_pixel, p);
        EXPECT_NEAR(max_pixel, it.max_std * 510.0, 0.51);
        EXPECT_GE(it.max_std, it.mean_std);
        EXPECT_LE(it.max_std, 0.5);

        ASSERT_EQ(it.svgs.size(), 4u);
        for (size_t k = 0; k < it.svgs.size(); ++k) {
            EXPECT_EQ(it.svgs[k], stem + "/strokes_" + std::to_string(k) + ".svg");
            const std::string text = read_file_text(out + "/" + it.svgs[k]);
            if (it.strokes[k] > 0) {
                ++drawn;
                KanjiVgChar c = parse_kanjivg_svg(text, "strokes.svg");
                EXPECT_EQ(int(c.strokes.size()), it.strokes[k]);
                for (const Polyline& line : c.strokes)
                    for (const Point& p : line) {  // fitted into the canvas
                        EXPECT_GE(p.x, 0.0f);
                        EXPECT_LE(p.x, 109.0f);
                        EXPECT_GE(p.y, 0.0f);
                        EXPECT_LE(p.y, 109.0f);
                    }
            } else {
                EXPECT_NE(text.find("</svg>"), std::string::npos);  // an empty sample is a valid, empty SVG
            }
            EXPECT_LE(it.rows[k], 40);
        }

        std::vector<std::string> f = split_line(lines[i + 1], ',');
        ASSERT_EQ(f.size(), 12u) << lines[i + 1];
        // The model's own candidates: generate.candidates (10) characters, best first, with
        // probabilities over every KanjiVG character of the cache (only 5 in this one).
        ASSERT_EQ(it.candidates.size(), std::size(kModernFiles));
        EXPECT_EQ(f[11], candidates_text(it.candidates));
        double total = 0;
        for (size_t c = 0; c < it.candidates.size(); ++c) {
            total += it.candidates[c].probability;
            if (c > 0) {
                EXPECT_LE(it.candidates[c].log_likelihood, it.candidates[c - 1].log_likelihood);
            }
        }
        EXPECT_NEAR(total, 1.0, 1e-9);  // every character of the cache is listed
        const nlohmann::json& row = index["items"][i];
        EXPECT_EQ(row["stem"], stem);
        ASSERT_EQ(row["candidates"].size(), std::size(kModernFiles));
        EXPECT_EQ(row["candidates"][0]["codepoint"], codepoint_label(it.candidates[0].codepoint));
        EXPECT_EQ(row["candidates"][0]["character"], codepoint_to_utf8(it.candidates[0].codepoint));
        EXPECT_EQ(f[0], inputs()[i]);
        EXPECT_EQ(f[1], stem);
        EXPECT_EQ(f[2], stem + "/reconstruction.png");
        EXPECT_EQ(f[3], stem + "/modern.png");
        EXPECT_EQ(f[4], stem + "/uncertainty.png");
        EXPECT_EQ(f[5], stem + "/sheet.png");
        EXPECT_EQ(f[6], stem + "/strokes_0.svg;" + stem + "/strokes_1.svg;" + stem + "/strokes_2.svg;" + stem +
                            "/strokes_3.svg");
        EXPECT_NEAR(std::stod(f[7]), it.mean_std, 1e-6);
        EXPECT_NEAR(std::stod(f[8]), it.max_std, 1e-6);
        std::vector<std::string> strokes = split_line(f[9], ';'), rows = split_line(f[10], ';');
        ASSERT_EQ(strokes.size(), 4u);
        ASSERT_EQ(rows.size(), 4u);
        for (size_t k = 0; k < 4; ++k) {
            EXPECT_EQ(std::stoi(strokes[k]), it.strokes[k]);
            EXPECT_EQ(std::stoi(rows[k]), it.rows[k]);
            EXPECT_LE(it.strokes[k], it.rows[k]);
        }
    }
    EXPECT_GT(drawn, 0) << "every sample is empty: the SVG contents were not checked";
}

TEST_F(GenerateTest, FewerSamplesRemoveTheStaleSvgsOfAnEarlierRun) {
    const std::string out = test::make_temp_dir("generate_stale") + "/out";
    GenerateOptions o = quiet(out);
    o.samples = 4;
    generate_from_images(run_dir_, {inputs()[0]}, o);
    const std::string stem = kOldClasses[0];
    ASSERT_TRUE(fs::exists(out + "/" + stem + "/strokes_3.svg"));
    o.samples = 2;
    GenerateSummary s = generate_from_images(run_dir_, {inputs()[0]}, o);
    ASSERT_EQ(s.items[0].svgs.size(), 2u);
    EXPECT_TRUE(fs::exists(out + "/" + stem + "/strokes_1.svg"));
    EXPECT_FALSE(fs::exists(out + "/" + stem + "/strokes_2.svg"));
    EXPECT_FALSE(fs::exists(out + "/" + stem + "/strokes_3.svg"));
}

TEST_F(GenerateTest, AFolderInUseByAnotherJobIsRefused) {
    const std::string out = test::make_temp_dir("generate_locked") + "/out";
    FolderLock other(out, "k2k generate");
    const std::string error = test::error_of([&] { generate_from_images(run_dir_, {inputs()[0]}, quiet(out)); });
    EXPECT_EQ(error.rfind(out + ": in use by another k2k process (pid ", 0), 0u) << error;
    EXPECT_FALSE(fs::exists(out + "/" + std::string(kOldClasses[0])));
}

TEST_F(GenerateTest, SameSeedGivesIdenticalOutputsWhateverTheOtherInputs) {
    const std::string tmp = test::make_temp_dir("generate_seed");
    GenerateOptions o = quiet(tmp + "/a");
    o.seed = 7;
    o.samples = 2;  // overrides the config's 4
    o.mdn_mode = "sample";  // MDN noise too, so every random draw is exercised
    GenerateSummary a = generate_from_images(run_dir_, inputs(), o);
    o.out_dir = tmp + "/b";
    generate_from_images(run_dir_, inputs(), o);
    o.out_dir = tmp + "/single";
    generate_from_images(run_dir_, {inputs()[2]}, o);
    o.out_dir = tmp + "/other";
    o.seed = 8;
    generate_from_images(run_dir_, inputs(), o);

    bool seed_matters = false;
    for (const GeneratedItem& it : a.items) {
        ASSERT_EQ(it.svgs.size(), 2u);
        std::vector<std::string> files = {it.reconstruction, it.modern, it.uncertainty, it.sheet};
        files.insert(files.end(), it.svgs.begin(), it.svgs.end());
        for (const std::string& f : files) {
            const std::string bytes = read_file_text(tmp + "/a/" + f);
            EXPECT_EQ(bytes, read_file_text(tmp + "/b/" + f)) << f;
            if (it.stem == kOldClasses[2]) {
                EXPECT_EQ(bytes, read_file_text(tmp + "/single/" + f)) << f;
            }
            if (bytes != read_file_text(tmp + "/other/" + f)) seed_matters = true;
        }
    }
    EXPECT_TRUE(seed_matters);
    EXPECT_EQ(read_file_text(tmp + "/a/index.csv"), read_file_text(tmp + "/b/index.csv"));
}

TEST_F(GenerateTest, WrongSizeIsRefusedBeforeAnythingIsWrittenUnlessResized) {
    const std::string tmp = test::make_temp_dir("generate_size");
    Image small(48, 40, 0);
    for (int y = 10; y < 30; ++y) small.at(24, y) = 255;
    const std::string path = tmp + "/small.png";
    write_png_gray(path, small);

    GenerateOptions o = quiet(tmp + "/out");
    EXPECT_EQ(test::error_of([&] { generate_from_images(run_dir_, {inputs()[0], path}, o); }),
              path + ": image is 48x40, expected 64x64 (pass --resize to resize it)");
    EXPECT_FALSE(fs::exists(tmp + "/out"));

    o.resize = true;
    GenerateSummary s = generate_from_images(run_dir_, {path}, o);
    ASSERT_EQ(s.items.size(), 1u);
    EXPECT_EQ(s.items[0].stem, "small");
    EXPECT_EQ(read_png_gray(tmp + "/out/small/modern.png").width, 64);
    EXPECT_EQ(read_lines(tmp + "/out/index.csv").size(), 2u);
}

TEST_F(GenerateTest, LightCropsAreRefusedUnlessPreparedAndPreparedOnesMatchTheKuzushijiImage) {
    const std::string tmp = test::make_temp_dir("generate_prepare");
    // The first input as a transcriber's crop: dark ink on light paper, off-centre, 150x120.
    const Image kuzushiji = read_png_gray(inputs()[0]);
    Image paper(150, 120, 225);
    for (int y = 0; y < kuzushiji.height; ++y)
        for (int x = 0; x < kuzushiji.width; ++x) paper.at(x + 60, y + 30) = uint8_t(225 - kuzushiji.at(x, y) * 200 / 255);
    const std::string path = tmp + "/crop.png";
    write_png_gray(path, paper);

    GenerateOptions o = quiet(tmp + "/out");
    o.resize = true;
    const std::string e = test::error_of([&] { generate_from_images(run_dir_, {path}, o); });
    EXPECT_EQ(e.rfind(path + ": mostly light (mean grey ", 0), 0u) << e;
    EXPECT_NE(e.find("pass --prepare"), std::string::npos) << e;
    EXPECT_FALSE(fs::exists(tmp + "/out"));

    o.prepare = true;
    ASSERT_EQ(generate_from_images(run_dir_, {path}, o).items.size(), 1u);
    GenerateOptions plain = quiet(tmp + "/plain");
    generate_from_images(run_dir_, {inputs()[0]}, plain);
    // The prepared crop reads like the original image: the same candidates, in the same order.
    nlohmann::json a = nlohmann::json::parse(read_file_text(tmp + "/out/index.json"));
    nlohmann::json b = nlohmann::json::parse(read_file_text(tmp + "/plain/index.json"));
    EXPECT_EQ(a["items"][0]["candidates"][0]["codepoint"], b["items"][0]["candidates"][0]["codepoint"]);

    o.invert = "maybe";
    EXPECT_NE(test::error_of([&] { generate_from_images(run_dir_, {path}, o); }), "(no error)");
}

TEST_F(GenerateTest, NonPngInputGivesTheReadersError) {
    const std::string tmp = test::make_temp_dir("generate_bad_png");
    const std::string path = tmp + "/bad.png";
    write_file_atomic(path, "this is not a PNG");
    std::string expected;
    try {
        read_image_gray(path);
    } catch (const Error& e) {
        expected = e.what();
    }
    ASSERT_EQ(expected.rfind(path + ": ", 0), 0u) << expected;
    EXPECT_EQ(test::error_of([&] { generate_from_images(run_dir_, {path}, quiet(tmp + "/out")); }), expected);
}

TEST_F(GenerateTest, MissingRunConfigOrCheckpointIsNamed) {
    const std::string tmp = test::make_temp_dir("generate_missing");
    EXPECT_EQ(test::error_of([&] { generate_from_images(tmp + "/nope", inputs(), quiet(tmp + "/out")); }),
              tmp + "/nope: run folder not found (train one with k2k pipeline --config <config>)");
    EXPECT_EQ(test::error_of([&] { generate_from_images(tmp, inputs(), quiet(tmp + "/out")); }),
              tmp + "/config.yaml: not found; " + tmp + " is not a run folder written by k2k train or k2k pipeline");

    const std::string run = copy_run("generate_no_ckpt");
    fs::remove(run + "/mdn/best.pt");
    EXPECT_EQ(test::error_of([&] { generate_from_images(run, inputs(), quiet(tmp + "/out")); }),
              run + "/mdn/best.pt: checkpoint not found; train the stage first (k2k train --config <config> --stage mdn)");
    EXPECT_FALSE(fs::exists(tmp + "/out"));
}

TEST_F(GenerateTest, CorruptCheckpointIsNamed) {
    const std::string run = copy_run("generate_corrupt");
    write_file_atomic(run + "/sketch/best.pt", "garbage, not a torch archive");
    const std::string msg = test::error_of([&] { generate_from_images(run, inputs(), quiet(run + "/../out")); });
    EXPECT_EQ(msg.rfind(run + "/sketch/best.pt: corrupt or unreadable checkpoint (", 0), 0u) << msg;
    EXPECT_NE(msg.find("delete it and re-train the stage"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST_F(GenerateTest, KanjiPathWritesStrokeSamplesAndRejectsUnknownCharacters) {
    const std::string tmp = test::make_temp_dir("generate_kanji");
    GenerateOptions o = quiet(tmp + "/a");
    o.samples = 2;
    GenerateSummary s = generate_from_kanji(run_dir_, 0x5B57, o);
    ASSERT_EQ(s.items.size(), 1u);
    const GeneratedItem& it = s.items[0];
    EXPECT_EQ(it.stem, "U+5B57");
    EXPECT_EQ(it.sheet, "U+5B57/sheet.png");
    EXPECT_GE(read_png_gray(tmp + "/a/U+5B57/sheet.png").width, 128);
    ASSERT_EQ(it.svgs.size(), 2u);
    for (size_t k = 0; k < 2; ++k) {
        const std::string text = read_file_text(tmp + "/a/U+5B57/strokes_" + std::to_string(k) + ".svg");
        EXPECT_NE(text.find("kvg:StrokePaths_05b57"), std::string::npos);
        if (it.strokes[k] > 0) {
            EXPECT_EQ(int(parse_kanjivg_svg(text, "strokes.svg").strokes.size()), it.strokes[k]);
        }
    }
    o.out_dir = tmp + "/b";
    generate_from_kanji(run_dir_, 0x5B57, o);
    EXPECT_EQ(read_file_text(tmp + "/a/U+5B57/strokes_1.svg"), read_file_text(tmp + "/b/U+5B57/strokes_1.svg"));

    EXPECT_EQ(test::error_of([&] { generate_from_kanji(run_dir_, 0x9999, o); }), cache_ + ": no KanjiVG entry for U+9999");
}

// condition "candidates": every draw is the best candidate's latent, so the N decoded images are one
// image (no spread), modern.png is that latent decoded, and a stroke pool still leaves N samples.
TEST_F(GenerateTest, CandidateConditionDecodesTheBestCandidatesLatent) {
    const std::string run = copy_run("generate_cond");
    Config cfg = load_run_config(run);
    cfg.generate.stroke_pool = 3;
    write_file_atomic(run + "/config.yaml", dump_config(cfg));
    const std::string out = test::make_temp_dir("generate_cond_out") + "/out";
    GenerateOptions o = quiet(out);
    o.samples = 4;
    o.condition = "candidates";
    GenerateSummary s = generate_from_images(run, inputs(), o);
    ASSERT_EQ(s.items.size(), inputs().size());
    const Dataset ds = load_dataset(cfg.data.cache);
    ConvVae vae_new = load_trained_vae(cfg, "vae_new", torch::kCPU);
    const CandidateSet set = make_candidate_set(vae_new, ds, torch::kCPU);
    for (const GeneratedItem& item : s.items) {
        EXPECT_EQ(item.svgs.size(), 4u) << item.stem;
        // One latent decoded N times in one batch: equal up to the rounding of batched kernels (seen
        // 3.3e-8 on an AMD EPYC with AVX-512, exactly 0 on an earlier machine).
        EXPECT_LT(item.max_std, 1e-6) << item.stem;
        ASSERT_FALSE(item.candidates.empty());
        const auto it = std::find(set.codepoints.begin(), set.codepoints.end(), item.candidates[0].codepoint);
        ASSERT_NE(it, set.codepoints.end());
        torch::NoGradGuard no_grad;
        torch::Tensor decoded = vae_new->decode(set.latents[it - set.codepoints.begin()].unsqueeze(0));
        const Image expected = tensor_to_image(decoded[0][0], 255.0);
        const Image modern = read_png_gray(out + "/" + item.modern);
        ASSERT_EQ(modern.pixels.size(), expected.pixels.size());
        int worst = 0;
        for (size_t k = 0; k < modern.pixels.size(); ++k)
            worst = std::max(worst, std::abs(int(modern.pixels[k]) - int(expected.pixels[k])));
        EXPECT_LE(worst, 1) << item.stem;  // rounding only
    }
    o.condition = "nearest";
    EXPECT_EQ(test::error_of([&] { generate_from_images(run, inputs(), o); }),
              "generate: condition must be mdn or candidates, got 'nearest'");
}

TEST_F(GenerateTest, BadOptionsAreRefused) {
    const std::string tmp = test::make_temp_dir("generate_opts");
    GenerateOptions o = quiet(tmp + "/out");
    o.mdn_mode = "median";
    EXPECT_EQ(test::error_of([&] { generate_from_images(run_dir_, inputs(), o); }),
              "generate: mdn mode must be mean or sample, got 'median'");
    o = quiet("");
    EXPECT_EQ(test::error_of([&] { generate_from_images(run_dir_, inputs(), o); }), "generate: no output folder given");
}

}  // namespace
}  // namespace k2k
