// `k2k serve`'s answers: decodes and prepares the request's image, runs the run folder's models
// (one request at a time) and builds the k2k-read JSON with data: URLs and inline SVGs.
#include "serve/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>

#include <torch/torch.h>

#include "data/cache.h"
#include "data/image_decode.h"
#include "data/kanjivg.h"
#include "data/png_io.h"
#include "data/strokes.h"
#include "export/sheet.h"
#include "export/svg_writer.h"
#include "generate/predict.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "util/base64.h"

namespace k2k {

namespace {

constexpr int64_t kClassifierTop = 5;  // the direct classifier's candidates listed

// Parses a whole decimal integer in [lo, hi] or throws BadRequest naming the parameter.
int64_t parse_integer(const std::string& name, const std::string& text, int64_t lo, int64_t hi) {
    size_t used = 0;
    long long v = 0;
    try {
        v = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || v < lo || v > hi)
        throw BadRequest(400, name + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                  "], got '" + text.substr(0, 40) + "'");
    return v;
}

std::string png_url(const Image& image) { return data_url("image/png", encode_png_gray(image)); }

// The uncertainty map as a heat map whose alpha is the spread itself: drawn over the predicted
// pixels it is transparent where the samples agree.
std::string uncertainty_url(const Image& spread) {
    const std::vector<uint8_t> rgb = heat_map_rgb(spread, 255);
    std::vector<uint8_t> rgba(spread.pixels.size() * 4);
    for (size_t i = 0; i < spread.pixels.size(); ++i) {
        for (int c = 0; c < 3; ++c) rgba[i * 4 + size_t(c)] = rgb[i * 3 + size_t(c)];
        rgba[i * 4 + 3] = spread.pixels[i];
    }
    return data_url("image/png", encode_png_rgba(spread.width, spread.height, rgba));
}

nlohmann::json box_json(const Box& b) { return nlohmann::json::array({b.x, b.y, b.width, b.height}); }

std::string animated_svg(const Strokes& strokes, const std::string& prefix, int size) {
    AnimatedSvgOptions o;
    o.id_prefix = prefix;
    o.size_px = size;
    o.loop = true;
    return strokes_to_animated_svg(strokes, o);
}

}  // namespace

ReadParams parse_read_params(const std::multimap<std::string, std::string>& params) {
    ReadParams p;
    std::map<std::string, int> seen;
    for (const auto& [name, value] : params) {
        if (++seen[name] > 1) throw BadRequest(400, name + ": given more than once");
        try {
            if (name == "invert") {
                p.prepare.invert = parse_invert_mode(value, "invert");
            } else if (name == "box") {
                p.prepare.box = parse_box(value, "box");
                p.prepare.has_box = true;
            } else if (name == "samples") {
                p.samples = parse_integer("samples", value, 1, kMaxSamples);
            } else if (name == "seed") {
                p.seed = uint64_t(parse_integer("seed", value, 0, int64_t(1) << 53));
            } else {
                throw BadRequest(400, name.substr(0, 40) + ": unknown parameter (known: invert, box, samples, seed)");
            }
        } catch (const BadRequest&) {
            throw;
        } catch (const Error& e) {
            throw BadRequest(400, e.what());
        }
    }
    return p;
}

struct ReadEngine::State {
    EngineOptions options;
    Config cfg;
    Dataset ds;
    torch::Device device{torch::kCPU};
    ImageModels models;
    PredictSettings settings;
    at::Generator gen;
    std::mutex mutex;  // the models and the generator: one request at a time
    TrainedBaseline classifier;  // the run's direct Kuzushiji CNN, when it has one
    std::map<uint32_t, size_t> modern_entry;                  // code point -> base KanjiVG entry
    std::map<uint32_t, std::vector<size_t>> evidence;         // code point -> a few training images
};

ReadEngine::ReadEngine(const EngineOptions& options) : state_(std::make_unique<State>()) {
    State& s = *state_;
    if (options.samples < 1 || options.samples > kMaxSamples)
        throw Error("serve: samples must be in [1, " + std::to_string(kMaxSamples) + "], got " +
                    std::to_string(options.samples));
    s.options = options;
    s.cfg = load_run_config(options.run_dir);
    s.ds = load_dataset(s.cfg.data.cache);
    s.device = resolve_device(options.device);
    s.models = load_image_models(s.cfg, s.ds, s.device);
    s.settings = predict_settings(s.cfg.generate);
    s.settings.samples = options.samples;
    s.settings.candidates = options.candidates;
    if (options.stroke_pool > 0) s.settings.stroke_pool = options.stroke_pool;
    s.gen = at::detail::createCPUGenerator(1);
    if (stage_complete(stage_dir(s.cfg, "baseline"))) s.classifier = load_trained_baseline(s.cfg, s.device);
    s.modern_entry = s.ds.base_entries();
    for (size_t i = 0; i < s.ds.num_old(); ++i) {
        if (s.ds.old_split(i) != Split::Train) continue;
        std::vector<size_t>& shown = s.evidence[s.ds.old_codepoint(i)];
        if (int64_t(shown.size()) < options.evidence) shown.push_back(i);
    }
}

ReadEngine::~ReadEngine() = default;

nlohmann::json ReadEngine::health() const {
    const State& s = *state_;
    return {{"status", "ok"},
            {"version", 1},
            {"run", s.cfg.name},
            {"characters", s.models.candidates.codepoints.size()},
            {"kuzushiji_classes", s.evidence.size()},
            {"samples", s.options.samples},
            {"classifier", static_cast<bool>(s.classifier.model)}};
}

nlohmann::json ReadEngine::read(const std::string& body, const ReadParams& params) {
    State& s = *state_;
    const auto t0 = std::chrono::steady_clock::now();
    if (body.empty()) throw BadRequest(400, "empty request body: send the image bytes (PNG or JPEG) as the body");
    const auto* bytes = reinterpret_cast<const uint8_t*>(body.data());
    PngReadOptions limits;
    if (s.options.max_pixels > 0) limits.max_pixels = s.options.max_pixels;
    Image source;
    PreparedInput prepared;
    try {
        source = decode_image_gray(bytes, body.size(), "image", limits);
        prepared = prepare_input(source, params.prepare, "image");
    } catch (const Error& e) {
        throw BadRequest(400, e.what());
    }

    PredictSettings settings = s.settings;
    if (params.samples > 0) settings.samples = params.samples;
    Prediction p;
    std::vector<std::pair<uint32_t, double>> classified;
    {
        const std::lock_guard<std::mutex> lock(s.mutex);
        p = predict_image(s.models, settings, prepared.image, params.seed, s.device, s.gen);
        if (s.classifier.model) {
            torch::NoGradGuard no_grad;
            const torch::Tensor probs = torch::softmax(
                s.classifier.model->forward(image_to_tensor(prepared.image, s.device)).to(torch::kCPU), 1)[0];  // (C)
            const auto top = probs.topk(std::min<int64_t>(kClassifierTop, probs.size(0)));
            for (int64_t k = 0; k < std::get<1>(top).size(0); ++k)
                classified.push_back({s.classifier.classes[size_t(std::get<1>(top)[k].item<int64_t>())],
                                      std::get<0>(top)[k].item<double>()});
        }
    }

    nlohmann::json candidates = nlohmann::json::array();
    for (size_t c = 0; c < p.candidates.size(); ++c) {
        const Candidate& cand = p.candidates[c];
        nlohmann::json evidence = nlohmann::json::array();
        const auto ev = s.evidence.find(cand.codepoint);
        if (ev != s.evidence.end())
            for (size_t i : ev->second) evidence.push_back(png_url(s.ds.old_image_copy(i)));
        const auto entry = s.modern_entry.find(cand.codepoint);
        const std::string svg = entry == s.modern_entry.end()
                                    ? std::string()
                                    : animated_svg(s.ds.modern_strokes(entry->second), "k2kc" + std::to_string(c), 96);
        candidates.push_back({{"codepoint", codepoint_label(cand.codepoint)},
                              {"character", codepoint_to_utf8(cand.codepoint)},
                              {"probability", cand.probability},
                              {"log_likelihood", cand.log_likelihood},
                              {"strokes_svg", svg},
                              {"evidence", evidence}});
    }
    nlohmann::json classifier = nullptr;
    if (s.classifier.model) {
        classifier = nlohmann::json::array();
        for (const auto& [cp, prob] : classified)
            classifier.push_back({{"codepoint", codepoint_label(cp)}, {"character", codepoint_to_utf8(cp)}, {"probability", prob}});
    }
    nlohmann::json samples = nlohmann::json::array();
    for (size_t k = 0; k < p.sketches.size(); ++k) {
        const Strokes strokes = stroke3_to_strokes(p.sketches[k]);
        samples.push_back({{"svg", animated_svg(strokes, "k2ks" + std::to_string(k), 128)},
                           {"strokes", strokes.size()},
                           {"rank", k}});
    }
    const char* format = image_format(bytes, body.size());
    return {{"schema", "k2k-read"},
            {"version", 1},
            {"source", {{"width", source.width}, {"height", source.height}, {"format", format}}},
            {"prepared",
             {{"image", png_url(prepared.image)},
              {"inverted", prepared.inverted},
              {"background", prepared.background},
              {"ink_box", box_json(prepared.ink_box)},
              {"box", params.prepare.has_box ? box_json(params.prepare.box) : nlohmann::json(nullptr)}}},
            {"candidates", candidates},
            {"classifier", classifier},
            {"reconstruction", png_url(p.reconstruction)},
            {"modern", png_url(p.modern)},
            {"uncertainty", uncertainty_url(p.uncertainty)},
            {"samples", samples},
            {"settings",
             {{"samples", settings.samples},
              {"temperature", settings.temperature},
              {"mdn_temperature", settings.mdn_temperature},
              {"seed", params.seed}}},
            {"mean_std", p.mean_std},
            {"max_std", p.max_std},
            {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
}

}  // namespace k2k
