// k2k generate: Kuzushiji images (a file or a folder) -> modern kanji pixels, uncertainty and
// stroke samples through a trained run folder; or a modern character (--kanji) -> stroke samples.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "data/kuzushiji.h"
#include "generate/generate.h"
#include "util/error.h"

namespace k2k::cli {

namespace {

struct GenerateArgs {
    std::string run;
    std::string input;
    std::string kanji;
    GenerateOptions options;
};


void run_generate(GenerateArgs& a) {
    if (a.input.empty() == a.kanji.empty())
        throw Error("generate: give exactly one of --input IMG|DIR (Kuzushiji images) or --kanji U+XXXX (a modern character)");
    if (!a.input.empty())
        generate_from_images(a.run, list_input_images(a.input), a.options);
    else
        generate_from_kanji(a.run, parse_character_arg(a.kanji, "--kanji"), a.options);
}

}  // namespace

void setup_generate(CLI::App& app) {
    auto a = std::make_shared<GenerateArgs>();
    a->options.device = "auto";
    CLI::App* cmd = app.add_subcommand(
        "generate",
        "Read Kuzushiji images and write the predicted modern kanji (pixels, uncertainty, stroke SVGs, sheets)\n"
        "  k2k generate --run runs/quick --input page_chars/ --out out/ [--samples 8] [--seed 3]\n"
        "  k2k generate --run runs/quick --kanji U+5B57 --out out/      (modern raster -> strokes)");
    cmd->add_option("--run", a->run, "run folder written by k2k pipeline (config.yaml + <stage>/best.pt)")->required();
    cmd->add_option("--input", a->input,
                    "a 64x64 grey PNG or JPEG (white ink on black, as Kuzushiji-Kanji; any crop with --prepare) or a folder of them");
    cmd->add_option("--kanji", a->kanji, "instead of --input: a modern character (U+XXXX or itself) from the run's cache");
    cmd->add_option("--out", a->options.out_dir, "output folder (OUT/<stem>/..., OUT/index.csv)")->required();
    cmd->add_option("--samples", a->options.samples, "MDN draws and stroke samples per input (default: the run config's)")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--temperature", a->options.temperature, "Sketch-RNN sampling temperature (default: the run config's)")
        ->check(CLI::Range(0.01, 10.0));
    cmd->add_option("--mdn-temperature", a->options.mdn_temperature, "MDN temperature on pi (default: the run config's)")
        ->check(CLI::Range(0.01, 10.0));
    cmd->add_option("--mdn-mode", a->options.mdn_mode,
                    "mean: the drawn MDN component's mean, as the reference; sample: add its noise (default: the run config's)")
        ->check(CLI::IsMember({"mean", "sample"}));
    cmd->add_option("--condition", a->options.condition,
                    "mdn: draw from the MDN's samples (the paper); candidates: from the latent and raster of the MDN's "
                    "best candidates (default: the run config's generate.condition)")
        ->check(CLI::IsMember({"mdn", "candidates"}));
    cmd->add_option("--max-len", a->options.max_len, "longest stroke sample in points (default: the run config's)")
        ->check(CLI::Range(2, 10000));
    cmd->add_option("--seed", a->options.seed, "seed of every random draw (the same seed gives the same outputs)")
        ->capture_default_str();
    cmd->add_option("--device", a->options.device, "cpu, cuda or auto (cuda when available)")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    cmd->add_flag("--resize", a->options.resize, "resize images that are not 64x64 instead of refusing them");
    cmd->add_flag("--prepare", a->options.prepare,
                  "photographed or scanned crops (PNG or JPEG, any size, dark ink on paper): invert light backgrounds, "
                  "crop to the ink, pad to a square, resize to 64x64, stretch the contrast");
    cmd->add_option("--invert", a->options.invert, "with --prepare: auto (invert when the background is light), yes or no")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "yes", "no"}));
    cmd->callback([a]() { run_generate(*a); });
}

}  // namespace k2k::cli
