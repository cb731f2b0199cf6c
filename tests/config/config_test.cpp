// Tests of the YAML config: defaults, round trip of the resolved config, and the exact text of
// every kind of validation error.
#include "config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include "util/error.h"
#include "util/fs.h"

namespace k2k {
namespace {

std::string error_of(const std::string& yaml) {
    try {
        parse_config(yaml, "x.yaml");
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Config, EmptyFileGivesDefaults) {
    Config c = parse_config("", "empty.yaml");
    EXPECT_EQ(c.vae_new.z_size, 64);
    EXPECT_EQ(c.mdn.mode, "per_dim");
    EXPECT_EQ(c.sketch.cell, "lstm");
    EXPECT_EQ(c.device, "auto");
}

TEST(Config, ReadsValuesOfEveryType) {
    Config c = parse_config(
        "run_dir: runs/x\nseed: 7\nvae_old:\n  kl_tolerance: 0.25\n  augment: false\n"
        "mdn:\n  hidden: [64, 32, 16]\n  mode: diag\nsketch:\n  cell: hyper\n",
        "x.yaml");
    EXPECT_EQ(c.run_dir, "runs/x");
    EXPECT_EQ(c.seed, 7);
    EXPECT_DOUBLE_EQ(c.vae_old.kl_tolerance, 0.25);
    EXPECT_FALSE(c.vae_old.augment);
    EXPECT_TRUE(c.vae_new.augment);
    EXPECT_EQ(c.mdn.hidden, (std::vector<int64_t>{64, 32, 16}));
    EXPECT_EQ(c.mdn.mode, "diag");
    EXPECT_EQ(c.sketch.cell, "hyper");
}

TEST(Config, DumpReadsBackToTheSameConfig) {
    Config c = parse_config("name: \"a: b\"\nsketch:\n  lr: 0.0003\n  steps: 12\nmdn:\n  hidden: [8]\n", "x.yaml");
    std::string dumped = dump_config(c);
    Config back = parse_config(dumped, "dumped.yaml");
    EXPECT_EQ(dump_config(back), dumped);
    EXPECT_EQ(back.name, "a: b");
    EXPECT_DOUBLE_EQ(back.sketch.lr, 0.0003);
    EXPECT_EQ(back.mdn.hidden, std::vector<int64_t>{8});
}

// fuzz_config: the dump printed 10 digits and "inf", so these configs' dumps did not read back.
TEST(Config, DumpKeepsEveryDoubleExactly) {
    Config c = parse_config("data: {val_ratio: 0.49999999999, test_ratio: 0.5}\nsketch: {grad_clip: .inf, lr: 0.1}\n",
                            "x.yaml");
    std::string dumped = dump_config(c);
    EXPECT_NE(dumped.find("  val_ratio: 0.49999999999  #"), std::string::npos) << dumped;
    EXPECT_NE(dumped.find("  grad_clip: .inf  #"), std::string::npos) << dumped;
    EXPECT_NE(dumped.find("  lr: 0.1  #"), std::string::npos) << dumped;  // short values print as before
    Config back = parse_config(dumped, "dumped.yaml");
    EXPECT_EQ(back.data.val_ratio, 0.49999999999);
    EXPECT_EQ(back.sketch.grad_clip, std::numeric_limits<double>::infinity());
    EXPECT_EQ(dump_config(back), dumped);
}

TEST(Config, UnitBboxNormalisationRefusesTheCanvas) {
    EXPECT_EQ(error_of("sketch:\n  normalization: unit_bbox\n  canvas_hidden: 16\n"),
              "x.yaml: sketch.normalization unit_bbox needs sketch.canvas_hidden 0 (the canvas follows the pen in KanjiVG "
              "coordinates, which a unit bounding box loses)");
    EXPECT_EQ(error_of("sketch:\n  normalization: box\n").rfind("x.yaml:2: sketch.normalization:", 0), 0u);
    EXPECT_EQ(error_of("sketch:\n  first_point_shift: 0.3\n"),
              "x.yaml: sketch.first_point_shift is kanji2kanji's shift of unit-bbox sketches; it needs sketch.normalization unit_bbox");
}

TEST(Config, UnknownKeysAreErrors) {
    EXPECT_EQ(error_of("sketch:\n  hiden_size: 3\n"),
              "x.yaml:2: unknown key 'sketch.hiden_size' (known keys of sketch: hidden_size, num_layers, cell, "
              "num_mixtures, output, recurrent_dropout_keep, canvas_hidden, rdp_epsilon, max_seq_len, trim_padding, start_token, batch_size, "
              "steps, lr, lr_decay, min_lr, grad_clip, grad_clip_mode, finetune_encoder, kl_tolerance, kl_weight, kl_weight_start, "
              "kl_decay, mdn_fraction, mdn_temperature, augment_scale, augment_drop, normalization, first_point_shift, eval_every, eval_batches)");
    EXPECT_EQ(error_of("seed: 1\nskech: {}\n"),
              "x.yaml:2: unknown key 'skech' (known top-level keys: name, run_dir, seed, device, log_every, baseline, classify, "
              "data, generate, mdn, reader, sketch, vae_new, vae_old)");
}

TEST(Config, WrongTypesAreErrors) {
    EXPECT_EQ(error_of("vae_new:\n  steps: many\n"), "x.yaml:2: vae_new.steps: expected an integer, got 'many'");
    EXPECT_EQ(error_of("vae_new:\n  lr: fast\n"), "x.yaml:2: vae_new.lr: expected a number, got 'fast'");
    EXPECT_EQ(error_of("vae_new:\n  augment: maybe\n"), "x.yaml:2: vae_new.augment: expected true or false, got 'maybe'");
    EXPECT_EQ(error_of("mdn:\n  hidden: 5\n"), "x.yaml:2: mdn.hidden: expected a non-empty list of integers, e.g. [512, 512]");
    EXPECT_EQ(error_of("mdn: 3\n"), "x.yaml:1: mdn: expected a mapping of keys");
}

TEST(Config, OutOfRangeValuesAreErrors) {
    EXPECT_EQ(error_of("vae_new:\n  z_size: 0\n"), "x.yaml:2: vae_new.z_size: expected an integer in [1, 4096], got 0");
    EXPECT_EQ(error_of("sketch:\n  recurrent_dropout_keep: 1.5\n"),
              "x.yaml:2: sketch.recurrent_dropout_keep: expected a number in [0.01, 1.0], got 1.5");
    EXPECT_EQ(error_of("device: tpu\n"), "x.yaml:1: device: expected one of cpu, cuda, auto, got 'tpu'");
    EXPECT_EQ(error_of("vae_old:\n  augment_min_size: 60\n  augment_max_size: 50\n"),
              "x.yaml: vae_old.augment_min_size (60) must not exceed vae_old.augment_max_size (50)");
}

// `steps: 0` would mark a stage done without writing a checkpoint.
TEST(Config, StepsMustBeAtLeastOne) {
    for (const char* section : {"vae_new", "vae_old", "mdn", "sketch", "reader", "baseline"})
        EXPECT_EQ(error_of(std::string("seed: 1\n") + section + ":\n  steps: 0\n"),
                  std::string("x.yaml:3: ") + section + ".steps: expected an integer in [1, inf], got 0");
    EXPECT_EQ(parse_config("mdn:\n  steps: 1\n", "x.yaml").mdn.steps, 1);
}

// yaml-cpp keeps both entries of a duplicated key and node[key] returns the first: without this
// check the second value would be silently ignored.
TEST(Config, DuplicateKeysAreErrors) {
    EXPECT_EQ(error_of("sketch:\n  hidden_size: 16\n  lr: 0.1\n  hidden_size: 32\n"),
              "x.yaml:4: duplicate key 'sketch.hidden_size' (first at line 2)");
    EXPECT_EQ(error_of("seed: 1\nmdn: {steps: 3}\nseed: 2\n"), "x.yaml:3: duplicate key 'seed' (first at line 1)");
    EXPECT_EQ(error_of("mdn:\n  steps: 3\nmdn:\n  steps: 4\n"), "x.yaml:3: duplicate key 'mdn' (first at line 1)");
    EXPECT_EQ(error_of("data: {cache: a, kkanji: b, cache: c}\n"), "x.yaml:1: duplicate key 'data.cache' (first at line 1)");
    // The same key name in two different mappings is fine.
    EXPECT_EQ(parse_config("vae_new: {steps: 5}\nvae_old: {steps: 6}\n", "x.yaml").vae_old.steps, 6);
}

// fuzz_config: a list or mapping as a key used to escape as yaml-cpp's "bad conversion".
TEST(Config, KeysMustBePlainNames) {
    EXPECT_EQ(error_of("[a]: 1\n"), "x.yaml:1: a key must be a plain name, not a list");
    EXPECT_EQ(error_of("seed: 1\n? {x: 1}\n: 2\n"), "x.yaml:2: a key must be a plain name, not a mapping");
    EXPECT_EQ(error_of("data:\n  [a]: 1\n"), "x.yaml:2: in 'data': a key must be a plain name, not a list");
    EXPECT_EQ(error_of("mdn: {hidden: [{[1]: 2}]}\n"), "x.yaml:1: in 'mdn.hidden[0]': a key must be a plain name, not a list");
}

TEST(Config, MalformedYamlNamesFileAndLine) {
    std::string e = error_of("sketch:\n  lr: [1, 2\n");
    EXPECT_EQ(e.rfind("x.yaml:", 0), 0u) << e;
    EXPECT_NE(e.find("malformed YAML"), std::string::npos) << e;
}

TEST(Config, MissingFileIsAnError) {
    try {
        load_config("/nonexistent/k2k.yaml");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("/nonexistent/k2k.yaml: cannot open", 0), 0u) << e.what();
    }
}

TEST(Config, ShippedConfigsParse) {
    for (const char* name : {"smoke", "quick", "full", "paper"}) {
        std::string path = std::string(K2K_SOURCE_DIR) + "/configs/" + name + ".yaml";
        if (!std::filesystem::exists(path)) continue;
        EXPECT_NO_THROW(load_config(path)) << path;
    }
}

TEST(Config, ReferenceListsEveryKey) {
    std::string ref = config_reference();
    EXPECT_NE(ref.find("| `hidden_size` | integer | 512 |"), std::string::npos);
    EXPECT_NE(ref.find("### `mdn`"), std::string::npos);
}

// configs/README.md is `k2k config docs` under a short header: regenerate it when keys change.
TEST(Config, ReadmeIsTheGeneratedReference) {
    const std::string readme = read_file_text(std::string(K2K_SOURCE_DIR) + "/configs/README.md");
    EXPECT_NE(readme.find(config_reference()), std::string::npos)
        << "configs/README.md is stale: regenerate it with `k2k config docs` (keep its header)";
}

}  // namespace
}  // namespace k2k
