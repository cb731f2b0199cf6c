// One Kuzushiji image -> the model's prediction held in memory (reconstruction, modern pixels,
// uncertainty, stroke samples ranked best first, candidates): `k2k generate` writes it to files,
// `k2k serve` answers it as JSON, both from the same models loaded once.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "config/config.h"
#include "data/geometry.h"
#include "generate/candidates.h"
#include "run/loaders.h"

namespace k2k {

// The inference settings after the command line has overridden the run config's `generate`.
struct PredictSettings {
    int64_t samples = 0;               // MDN draws and stroke samples
    double temperature = 0.0;          // Sketch-RNN sampling temperature
    double mdn_temperature = 0.0;      // MDN temperature on pi
    bool mdn_mode = true;              // true: the drawn component's mean (no noise)
    int64_t max_len = 0;               // longest stroke sample in rows
    int64_t candidates = 10;           // candidates kept per input
    double candidate_temperature = 1;  // softmax temperature of the candidates' probabilities
    std::string condition = "mdn";     // "mdn": draws z~ of the MDN; "candidates": the best candidates' latents and rasters
    int64_t condition_top = 1;         // condition "candidates": draw k from the (k mod condition_top)-th best candidate
    int64_t stroke_pool = 1;           // stroke samples drawn per sample kept (the best by agreement with their ink)
};

// The run config's `generate` section as settings; the callers override what their command line or
// server options set.
PredictSettings predict_settings(const GenerateConfig& g);

// The trained models of the image path (paper path 2), loaded once.
struct ImageModels {
    ConvVae vae_old{nullptr};
    TrainedMdn mdn;  // with the encoder of its z_old
    ConvVae vae_new{nullptr};
    TrainedSketch sketch;
    CandidateSet candidates;  // every KanjiVG character with its vae_new latent
};

// Loads vae_old, mdn, vae_new and sketch of a run and encodes the candidates of `ds` (the run's
// data cache). Throws k2k::Error naming the checkpoint for a missing or corrupt one.
ImageModels load_image_models(const Config& cfg, const Dataset& ds, torch::Device device);

struct Prediction {
    Image reconstruction;               // vae_old's decode(mu(x)), 64x64 white on black
    Image modern;                       // mean over the N decoded images, 64x64 white on black
    Image uncertainty;                  // per-pixel population std over the N images x 510 (255 = 0.5)
    double mean_std = 0.0;              // mean per-pixel std, in [0, 0.5]
    double max_std = 0.0;               // largest per-pixel std
    std::vector<Stroke3> sketches;      // stroke samples in KanjiVG units, best-ranked first
    std::vector<Candidate> candidates;  // the MDN's best characters, best first
};

// Paper path (2) on one 64x64 white-on-black image: z_old = mu of the MDN's encoder; N draws
// z~ = mdn_sample(MDN(z_old)); images = vae_new.decode(z~); strokes = sketch.sample(z~) tracing
// each draw's pixels, ranked by agreement with the mean pixels (generate/ranking.h). With condition
// "candidates" draw k is instead the latent of the (k mod condition_top)-th best candidate (the
// MDN's likelihood over the known modern latents), decoded into the pixels, and the Sketch-RNN
// traces that candidate's KanjiVG raster from its sketch-encoder latent. `gen` is reseeded with
// `seed` first, so the result depends only on (seed, image, settings).
Prediction predict_image(ImageModels& models, const PredictSettings& settings, const Image& image, uint64_t seed,
                         torch::Device device, at::Generator& gen);

// Sampled sketches (the sketch stage's normalised units) -> KanjiVG units: offsets times `scale`.
std::vector<Stroke3> unscale_sketches(std::vector<Stroke3> sketches, float scale);

}  // namespace k2k
