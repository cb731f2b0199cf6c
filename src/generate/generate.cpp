// `k2k generate`: runs a trained run folder's models on Kuzushiji images (VAE -> MDN -> modern VAE
// decoder and Sketch-RNN) or on a modern character, and writes PNGs, SVGs, sheets and an index.
#include "generate/generate.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "config/config.h"
#include "data/cache.h"
#include "data/kanjivg.h"
#include "data/image_decode.h"
#include "data/png_io.h"
#include "data/prepare_input.h"
#include "data/raster.h"
#include "data/strokes.h"
#include "export/sheet.h"
#include "export/svg_writer.h"
#include "generate/predict.h"
#include "util/progress.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/lock.h"

namespace k2k {

namespace fs = std::filesystem;

namespace {

constexpr int kImageSize = 64;     // every model works on 64x64 images
constexpr int kTile = 128;         // sheet tiles of the 64x64 images (scale 2)
constexpr int kStrokeTile = 96;    // sheet tiles of the stroke samples
constexpr int kStrokesPerRow = 6;  // stroke samples per sheet row
constexpr int kPad = 10;           // gap between tiles and around the sheet
constexpr int kTitle = 22;         // height of the title line
constexpr int kCaption = 18;       // height of the caption line above the tiles

using Settings = PredictSettings;

Settings resolve_settings(const Config& cfg, const GenerateOptions& o) {
    if (o.out_dir.empty()) throw Error("generate: no output folder given");
    if (o.samples < 0 || o.samples > 1000) throw Error("generate: samples must be in [1, 1000], got " + std::to_string(o.samples));
    if (o.max_len < 0) throw Error("generate: max_len must be >= 2, got " + std::to_string(o.max_len));
    if (!o.mdn_mode.empty() && o.mdn_mode != "mean" && o.mdn_mode != "sample")
        throw Error("generate: mdn mode must be mean or sample, got '" + o.mdn_mode + "'");
    if (!o.condition.empty() && o.condition != "mdn" && o.condition != "candidates")
        throw Error("generate: condition must be mdn or candidates, got '" + o.condition + "'");
    Settings s = predict_settings(cfg.generate);
    if (o.samples > 0) s.samples = o.samples;
    if (o.temperature > 0) s.temperature = o.temperature;
    if (o.mdn_temperature > 0) s.mdn_temperature = o.mdn_temperature;
    if (!o.mdn_mode.empty()) s.mdn_mode = o.mdn_mode == "mean";
    if (o.max_len > 0) s.max_len = o.max_len;
    if (s.max_len < 2) throw Error("generate: max_len must be >= 2, got " + std::to_string(s.max_len));
    if (!o.condition.empty()) s.condition = o.condition;
    return s;
}

// The settings part of a summary (counts and times are filled in by the caller).
GenerateSummary summary_of(const Settings& s) {
    GenerateSummary summary;
    summary.samples = s.samples;
    summary.temperature = s.temperature;
    summary.mdn_temperature = s.mdn_temperature;
    summary.mdn_mode = s.mdn_mode;
    summary.max_len = s.max_len;
    return summary;
}

Image upscale(const Image& src, int k) {
    Image out(src.width * k, src.height * k);
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x) out.at(x, y) = src.at(x / k, y / k);
    return out;
}

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), format, v);
    return buf;
}

// RFC 4180: quote a field holding a comma, quote or line break; double its quotes.
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

template <typename T>
std::string join(const std::vector<T>& v) {
    std::ostringstream s;
    for (size_t i = 0; i < v.size(); ++i) s << (i ? ";" : "") << v[i];
    return s.str();
}

// Writes strokes_<i>.svg for every sample and records their sizes in `item`.
void write_sample_svgs(const std::vector<Stroke3>& sketches, const std::string& out_dir, uint32_t codepoint,
                       GeneratedItem& item) {
    for (size_t i = 0; i < sketches.size(); ++i) {
        SvgExportOptions o;  // fit: generated strokes come in arbitrary units
        o.codepoint = codepoint;
        o.title = "k2k generate: " + item.stem + ", sample " + std::to_string(i);
        const std::string rel = item.stem + "/strokes_" + std::to_string(i) + ".svg";
        write_svg((fs::path(out_dir) / rel).string(), stroke3_to_svg(sketches[i], o));
        item.svgs.push_back(rel);
        Strokes strokes = stroke3_to_strokes(sketches[i]);
        item.strokes.push_back(int(strokes.size()));
        item.rows.push_back(int(sketches[i].size()));
    }
    // An earlier run into the same folder with more samples left strokes_<i>.svg for higher i:
    // they would pass for samples of this run.
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(fs::path(out_dir) / item.stem, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("strokes_", 0) != 0 || e.path().extension() != ".svg") continue;
        const std::string number = name.substr(8, name.size() - 12);
        if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) continue;
        if (std::stoull(number) >= sketches.size()) fs::remove(e.path(), ec);
    }
}

// Sheet geometry: `image_tiles` 128-px tiles, then the stroke samples in rows of kStrokesPerRow.
struct SheetLayout {
    int width = 0;
    int height = 0;
    int strokes_x = 0;  // left of the stroke samples
    int tiles_y = 0;    // top of every tile
    int per_row = 0;
};

// footer: a text line under the tiles (the candidate list of image sheets).
SheetLayout sheet_layout(int image_tiles, int64_t samples, bool footer = false) {
    SheetLayout l;
    l.per_row = int(std::min<int64_t>(samples, kStrokesPerRow));
    const int rows = int((samples + l.per_row - 1) / l.per_row);
    l.strokes_x = kPad + image_tiles * (kTile + kPad);
    l.tiles_y = kPad + kTitle + kCaption;
    l.width = std::max(l.strokes_x + l.per_row * (kStrokeTile + kPad), 420);
    l.height = l.tiles_y + std::max(kTile, rows * (kStrokeTile + kPad)) + kPad + (footer ? kCaption : 0);
    return l;
}

void paste_strokes(Sheet& sheet, const SheetLayout& l, const std::vector<Stroke3>& sketches) {
    NumberedRenderOptions ro;
    ro.fit_bbox = true;
    ro.line_width = 2.0f;
    for (size_t i = 0; i < sketches.size(); ++i) {
        const int x = l.strokes_x + int(i % size_t(l.per_row)) * (kStrokeTile + kPad);
        const int y = l.tiles_y + int(i / size_t(l.per_row)) * (kStrokeTile + kPad);
        Strokes strokes = stroke3_to_strokes(sketches[i]);
        if (strokes.empty())
            sheet.text("(empty)", x + 24, y + kStrokeTile / 2, 12, 128, 128, 128);
        else
            sheet.paste_rgb(render_strokes_rgb_numbered(strokes, kStrokeTile, ro), kStrokeTile, kStrokeTile, x, y);
        sheet.frame(x, y, kStrokeTile, kStrokeTile);
    }
}

void paste_image_tile(Sheet& sheet, const Image& image, int column, int y, const std::string& caption) {
    const int x = kPad + column * (kTile + kPad);
    sheet.text(caption, x, y - 5, 12);
    sheet.paste_gray(image, x, y, kTile / image.width, true);  // black ink on white paper
    sheet.frame(x, y, kTile, kTile);
}

// One input image -> every output under out_dir/<stem>/.
GeneratedItem process_image(ImageModels& m, const Settings& s, const Image& image, const std::string& input,
                            const std::string& stem, const GenerateOptions& o, torch::Device device, at::Generator& gen) {
    const int64_t n = s.samples;
    Prediction p = predict_image(m, s, image, o.seed, device, gen);
    const std::vector<Stroke3>& sketches = p.sketches;
    GeneratedItem item;
    item.input = input;
    item.stem = stem;
    item.candidates = p.candidates;
    const fs::path dir = fs::path(o.out_dir) / stem;
    const Image& recon_img = p.reconstruction;
    const Image& modern_img = p.modern;
    const Image& std_img = p.uncertainty;
    item.mean_std = p.mean_std;
    item.max_std = p.max_std;
    item.reconstruction = stem + "/reconstruction.png";
    item.modern = stem + "/modern.png";
    item.uncertainty = stem + "/uncertainty.png";
    item.sheet = stem + "/sheet.png";
    write_png_gray((dir / "reconstruction.png").string(), recon_img);
    write_png_gray((dir / "modern.png").string(), modern_img);
    write_png_gray((dir / "uncertainty.png").string(), std_img);
    write_sample_svgs(sketches, o.out_dir, 0, item);

    // Figure 10 of the paper: input | reconstruction | modern prediction | uncertainty | strokes.
    SheetLayout l = sheet_layout(4, n, true);
    Sheet sheet(l.width, l.height);
    sheet.text(stem + "  (" + std::to_string(n) + " samples, sketch T=" + fmt("%g", s.temperature) +
                   ", MDN T=" + fmt("%g", s.mdn_temperature) + (s.mdn_mode ? " mean" : " sampled") +
                   (s.condition == "candidates" ? ", from candidates" : "") + ", seed " + std::to_string(o.seed) + ")",
               kPad, kPad + 14, 14);
    paste_image_tile(sheet, image, 0, l.tiles_y, "input");
    paste_image_tile(sheet, recon_img, 1, l.tiles_y, "reconstruction");
    paste_image_tile(sheet, modern_img, 2, l.tiles_y, "modern (mean)");
    const int ux = kPad + 3 * (kTile + kPad);
    sheet.text("std (max " + fmt("%.2f", item.max_std) + ")", ux, l.tiles_y - 5, 12);
    sheet.paste_rgb(heat_map_rgb(upscale(std_img, kTile / kImageSize), 255), kTile, kTile, ux, l.tiles_y);
    sheet.frame(ux, l.tiles_y, kTile, kTile);
    sheet.text("strokes", l.strokes_x, l.tiles_y - 5, 12);
    paste_strokes(sheet, l, sketches);
    std::string best = "candidates:";
    for (size_t c = 0; c < item.candidates.size() && c < 5; ++c)
        best += " " + codepoint_label(item.candidates[c].codepoint) + " " + fmt("%.0f%%", 100.0 * item.candidates[c].probability);
    sheet.text(best, kPad, l.height - 6, 12);
    sheet.save_png((dir / "sheet.png").string());
    return item;
}

// index.json: {"schema": "k2k-generate", "version": 1, "items": [{input, stem, files..., candidates:
// [{codepoint: "U+4E0A", character: "上", probability, log_likelihood}, ...]}]}.
nlohmann::json index_json(const GenerateSummary& summary) {
    nlohmann::json items = nlohmann::json::array();
    for (const GeneratedItem& it : summary.items) {
        nlohmann::json candidates = nlohmann::json::array();
        for (const Candidate& c : it.candidates)
            candidates.push_back({{"codepoint", codepoint_label(c.codepoint)}, {"character", codepoint_to_utf8(c.codepoint)},
                                  {"probability", c.probability}, {"log_likelihood", c.log_likelihood}});
        items.push_back({{"input", it.input}, {"stem", it.stem}, {"reconstruction", it.reconstruction},
                         {"modern", it.modern}, {"uncertainty", it.uncertainty}, {"sheet", it.sheet}, {"svgs", it.svgs},
                         {"mean_std", it.mean_std}, {"max_std", it.max_std}, {"candidates", candidates}});
    }
    return {{"schema", "k2k-generate"}, {"version", 1}, {"samples", summary.samples}, {"items", items}};
}

// Says what was done: through the progress bar for many inputs, plain lines otherwise.
struct Reporter {
    bool verbose = true;
    std::unique_ptr<Progress> progress;

    void say(const std::string& text) {
        if (!verbose) return;
        if (progress) {
            progress->message(text);
        } else {
            std::printf("[generate] %s\n", text.c_str());
            std::fflush(stdout);
        }
    }
};

std::string settings_text(const Settings& s, uint64_t seed) {
    return std::to_string(s.samples) + " samples, sketch temperature " + fmt("%g", s.temperature) + ", MDN temperature " +
           fmt("%g", s.mdn_temperature) + (s.mdn_mode ? " (component mean)" : " (sampled)") +
           (s.condition == "candidates" ? ", drawn from the best " + std::to_string(s.condition_top) + " candidate(s)" : "") +
           ", seed " +
           std::to_string(seed);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One input as the models expect it: prepared (photographed crops), or checked to be a
// Kuzushiji-Kanji-like image already, resized when allowed.
Image read_input(const std::string& path, const GenerateOptions& o) {
    Image im = read_image_gray(path);
    if (o.prepare) {
        PrepareOptions po;
        po.invert = parse_invert_mode(o.invert, "--invert");
        return prepare_input(im, po, path).image;
    }
    double mean_pixel = 0;
    for (uint8_t p : im.pixels) mean_pixel += p;
    mean_pixel /= double(std::max<size_t>(1, im.pixels.size()));
    // Mostly-light images are dark ink on paper: the models would read the paper as ink.
    if (mean_pixel > 127.5)
        throw Error(path + ": mostly light (mean grey " + fmt("%.0f", mean_pixel) +
                    "): Kuzushiji-Kanji images are white ink on black; pass --prepare to invert, crop and resize "
                    "photographed or scanned crops");
    if (im.width != kImageSize || im.height != kImageSize) {
        if (!o.resize)
            throw Error(path + ": image is " + std::to_string(im.width) + "x" + std::to_string(im.height) +
                        ", expected 64x64 (pass --resize to resize it)");
        im = resize_image(im, kImageSize, kImageSize);
    }
    return im;
}

}  // namespace

std::vector<std::string> list_input_images(const std::string& path) {
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return {path};
    if (!fs::is_directory(path, ec)) throw Error(path + ": no such file or folder");
    std::vector<std::string> files;
    for (const fs::directory_entry& e : fs::directory_iterator(path)) {
        std::string ext = e.path().extension().string();
        for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
        if ((ext == ".png" || ext == ".jpg" || ext == ".jpeg") && e.is_regular_file()) files.push_back(e.path().string());
    }
    if (files.empty()) throw Error(path + ": no .png or .jpg file in this folder");
    std::sort(files.begin(), files.end());
    return files;
}

GenerateSummary generate_from_images(const std::string& run_dir, const std::vector<std::string>& inputs,
                                     const GenerateOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    const Config cfg = load_run_config(run_dir);
    const Settings s = resolve_settings(cfg, options);
    if (inputs.empty()) throw Error("generate: no input image");

    // Read and check every input before any model runs, so a bad file writes nothing.
    std::vector<Image> images;
    std::vector<std::string> stems;
    std::set<std::string> seen;
    for (const std::string& path : inputs) {
        Image im = read_input(path, options);
        std::string stem = fs::path(path).stem().string();
        if (stem.empty()) throw Error(path + ": cannot name an output folder after this file");
        if (!seen.insert(stem).second)
            throw Error(path + ": another input has the same name '" + stem + "'; outputs would overwrite each other");
        images.push_back(std::move(im));
        stems.push_back(stem);
    }

    const torch::Device device = resolve_device(options.device);
    ImageModels m = load_image_models(cfg, load_dataset(cfg.data.cache), device);
    const FolderLock lock(options.out_dir, "k2k generate");  // two generates into one folder would mix files
    at::Generator gen = at::detail::createCPUGenerator(options.seed);

    Reporter r;
    r.verbose = options.verbose;
    if (options.verbose && inputs.size() > 1)
        r.progress = std::make_unique<Progress>("generate", int64_t(inputs.size()), 0, 50);
    GenerateSummary summary = summary_of(s);
    for (size_t i = 0; i < images.size(); ++i) {
        GeneratedItem item = process_image(m, s, images[i], inputs[i], stems[i], options, device, gen);
        r.say(inputs[i] + " -> " + (fs::path(options.out_dir) / stems[i]).string() +
              "/ (reconstruction, modern, uncertainty, " + std::to_string(item.svgs.size()) +
              " SVGs, sheet); mean std " + fmt("%.4f", item.mean_std) + ", strokes per sample " + join(item.strokes) +
              (item.candidates.empty() ? std::string()
                                       : ", best candidate " + codepoint_label(item.candidates[0].codepoint) + " " +
                                             codepoint_to_utf8(item.candidates[0].codepoint) + " " +
                                             fmt("%.2f", item.candidates[0].probability)));
        summary.items.push_back(std::move(item));
        if (r.progress) r.progress->update(int64_t(i + 1), {{"mean_std", summary.items.back().mean_std}});
    }
    if (r.progress) r.progress->finish();

    summary.index_csv = (fs::path(options.out_dir) / "index.csv").string();
    write_file_atomic(summary.index_csv, [&](std::ostream& os) {
        os << "input,stem,reconstruction,modern,uncertainty,sheet,svgs,mean_std,max_std,strokes,rows,candidates\n";
        for (const GeneratedItem& it : summary.items)
            os << csv_field(it.input) << ',' << csv_field(it.stem) << ',' << csv_field(it.reconstruction) << ','
               << csv_field(it.modern) << ',' << csv_field(it.uncertainty) << ',' << csv_field(it.sheet) << ','
               << csv_field(join(it.svgs)) << ',' << fmt("%.6f", it.mean_std) << ',' << fmt("%.6f", it.max_std) << ','
               << join(it.strokes) << ',' << join(it.rows) << ',' << candidates_text(it.candidates) << '\n';
    });
    summary.index_json = (fs::path(options.out_dir) / "index.json").string();
    write_file_atomic(summary.index_json, index_json(summary).dump(2) + "\n");
    summary.seconds = seconds_since(t0);
    r.say(std::to_string(summary.items.size()) + (summary.items.size() == 1 ? " input" : " inputs") + " -> " +
          options.out_dir + " (index.csv), " + settings_text(s, options.seed) + ", " + fmt("%.1f s", summary.seconds));
    return summary;
}

GenerateSummary generate_from_kanji(const std::string& run_dir, uint32_t codepoint, const GenerateOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    const Config cfg = load_run_config(run_dir);
    const Settings s = resolve_settings(cfg, options);
    const std::string label = codepoint_label(codepoint);

    const Dataset ds = load_dataset(cfg.data.cache);
    const size_t found = ds.require_modern(codepoint, "", cfg.data.cache);
    if (ds.meta.raster.size != kImageSize)
        throw Error(cfg.data.cache + ": rasters are " + std::to_string(ds.meta.raster.size) + " px, expected 64");
    const Image raster = ds.modern_raster_image(found);

    const torch::Device device = resolve_device(options.device);
    TrainedSketch sketch = load_trained_sketch(cfg, device);
    const FolderLock lock(options.out_dir, "k2k generate");
    at::Generator gen = at::detail::createCPUGenerator(options.seed);

    torch::NoGradGuard no_grad;
    const int64_t n = s.samples;
    auto [mu, logvar] = sketch.encoder->encode(image_to_tensor(raster, device));  // (1,z) each
    torch::Tensor z = n == 1 ? mu
                             : sketch.encoder->sample_z(mu.expand({n, mu.size(1)}).contiguous(),
                                                        logvar.expand({n, logvar.size(1)}).contiguous(), gen);  // (N,z)
    const torch::Tensor ink = image_to_tensor(raster, device).expand({n, 1, raster.height, raster.width});
    const SketchSampleOptions so = sketch.sample_options(s.temperature, s.max_len, ink);  // each traces the raster
    std::vector<Stroke3> sketches = unscale_sketches(sketch.model->sample(z, so, gen), sketch.scale);

    GeneratedItem item;
    item.input = label;
    item.stem = label;
    item.sheet = label + "/sheet.png";
    write_sample_svgs(sketches, options.out_dir, codepoint, item);
    SheetLayout l = sheet_layout(1, n);
    Sheet sheet(l.width, l.height);
    sheet.text(label + "  (" + std::to_string(n) + " samples, sketch T=" + fmt("%g", s.temperature) + ", seed " +
                   std::to_string(options.seed) + ")",
               kPad, kPad + 14, 14);
    paste_image_tile(sheet, raster, 0, l.tiles_y, "modern raster");
    sheet.text("strokes", l.strokes_x, l.tiles_y - 5, 12);
    paste_strokes(sheet, l, sketches);
    sheet.save_png((fs::path(options.out_dir) / item.sheet).string());

    GenerateSummary summary = summary_of(s);
    summary.seconds = seconds_since(t0);
    if (options.verbose) {
        std::printf("[generate] %s %s -> %s/ (%zu SVGs, sheet); strokes per sample %s, sketch temperature %s, seed %llu, %.1f s\n",
                    label.c_str(), codepoint_to_utf8(codepoint).c_str(),
                    (fs::path(options.out_dir) / label).string().c_str(), item.svgs.size(), join(item.strokes).c_str(),
                    fmt("%g", s.temperature).c_str(), (unsigned long long)options.seed, summary.seconds);
        std::fflush(stdout);
    }
    summary.items.push_back(std::move(item));
    return summary;
}

}  // namespace k2k
