// k2k export: write strokes as an SVG in KanjiVG's conventions, from a stroke-3 CSV file (e.g. a
// generated sample) or from a character of the dataset cache (round-trip checks, browsing).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "data/cache.h"
#include "data/kanjivg.h"
#include "data/kuzushiji.h"
#include "data/strokes.h"
#include "export/svg_writer.h"
#include "util/error.h"

namespace k2k::cli {

namespace {

struct ExportArgs {
    std::string strokes;                // stroke-3 CSV file
    std::string kanji;                  // U+XXXX or the character, looked up in the cache
    std::string cache = "data/k2k.cache";
    std::string variant;                // KanjiVG variant of --kanji
    std::string codepoint;              // the character --strokes is meant to be (ids, kvg:element)
    std::string out;
    std::string title;
    bool numbers = false;
    bool animate = false;
    bool fit = false;
    bool no_fit = false;
    bool kanjivg_notice = false;
    double seconds_per_stroke = 0.5;
    float margin = 9.0f;
    float stroke_width = 3.0f;
};


void run_export(const ExportArgs& a) {
    if (a.strokes.empty() == a.kanji.empty())
        throw Error("export: give exactly one of --strokes FILE (stroke-3 CSV) or --kanji U+XXXX (from --cache)");
    SvgExportOptions o;
    o.stroke_numbers = a.numbers;
    o.animate = a.animate;
    o.seconds_per_stroke = a.seconds_per_stroke;
    o.margin = a.margin;
    o.stroke_width = a.stroke_width;
    o.title = a.title;
    o.kanjivg_notice = a.kanjivg_notice;
    Strokes strokes;
    std::string what;
    if (!a.strokes.empty()) {
        if (!a.variant.empty()) throw Error("export: --variant goes with --kanji, not --strokes");
        strokes = stroke3_to_strokes(read_stroke3_csv(a.strokes));
        if (!a.codepoint.empty()) o.codepoint = parse_character_arg(a.codepoint, "--codepoint");
        o.fit = !a.no_fit;  // generated strokes come in arbitrary units
        what = a.strokes;
    } else {
        if (!a.codepoint.empty()) throw Error("export: --codepoint goes with --strokes; --kanji already names the character");
        const uint32_t cp = parse_character_arg(a.kanji, "--kanji");
        Dataset ds = load_dataset(a.cache);
        const size_t found = ds.require_modern(cp, a.variant, a.cache);
        strokes = ds.modern_strokes(found);
        o.codepoint = cp;
        o.variant = a.variant;
        o.fit = a.fit;  // already in KanjiVG units
        o.kanjivg_notice = true;
        what = codepoint_label(cp) + " " + codepoint_to_utf8(cp) + (a.variant.empty() ? "" : " (" + a.variant + ")");
    }
    write_svg(a.out, strokes_to_svg(strokes, o));
    std::printf("%s: %zu stroke%s -> %s%s\n", what.c_str(), strokes.size(), strokes.size() == 1 ? "" : "s", a.out.c_str(),
                o.fit ? " (fitted to the canvas)" : "");
}

}  // namespace

void setup_export(CLI::App& app) {
    auto a = std::make_shared<ExportArgs>();
    CLI::App* cmd = app.add_subcommand(
        "export",
        "Write strokes as an SVG in KanjiVG's format (109x109, one <path> per stroke in drawing order)\n"
        "  k2k export --strokes sample.csv --out sample.svg [--numbers] [--animate] [--no-fit]\n"
        "  k2k export --cache data/k2k.cache --kanji U+5B57 --out 5b57.svg");
    cmd->add_option("--strokes", a->strokes,
                    "stroke-3 CSV: one 'dx,dy,pen_lifted' row per point (pen_lifted 0/1), optional header line, "
                    "'#' comments");
    cmd->add_option("--kanji", a->kanji, "export this dataset character instead: U+XXXX or the character itself");
    cmd->add_option("--cache", a->cache, "cache written by `k2k data prepare` (with --kanji)")->capture_default_str();
    cmd->add_option("--variant", a->variant, "KanjiVG variant of --kanji (e.g. Kaisho); default: the base file");
    cmd->add_option("--out", a->out, "SVG file to write")->required();
    cmd->add_option("--codepoint", a->codepoint,
                    "with --strokes: the character drawn (U+XXXX or itself), for KanjiVG ids and kvg:element");
    cmd->add_flag("--numbers", a->numbers, "add KanjiVG-style stroke-order numbers");
    cmd->add_flag("--animate", a->animate, "animate the strokes being drawn in order (SVG SMIL)");
    cmd->add_option("--seconds-per-stroke", a->seconds_per_stroke, "animation time per stroke")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    CLI::Option* no_fit = cmd->add_flag("--no-fit", a->no_fit,
                                        "write coordinates as they are, in KanjiVG units (the default for --kanji), "
                                        "instead of scaling and centring the drawing into the canvas");
    cmd->add_flag("--fit", a->fit, "scale and centre the drawing into the canvas (the default for --strokes)")
        ->excludes(no_fit);
    cmd->add_option("--margin", a->margin, "empty canvas units on each side when fitting")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--stroke-width", a->stroke_width, "stroke width in canvas units")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--title", a->title, "text of an SVG <title>");
    cmd->add_flag("--kanjivg-notice", a->kanjivg_notice,
                  "with --strokes: header says the strokes derive from KanjiVG (CC BY-SA 3.0); always on for --kanji");
    cmd->callback([a]() { run_export(*a); });
}

}  // namespace k2k::cli
