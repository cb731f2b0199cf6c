// Paper path (2) in memory: one Kuzushiji image -> reconstruction, modern pixels and their
// uncertainty, ranked stroke samples and the MDN's candidates (generate/predict.h).
#include "generate/predict.h"

#include <torch/torch.h>

#include "data/raster.h"
#include "data/strokes.h"
#include "generate/ranking.h"
#include "run/batches.h"

namespace k2k {

namespace {

// The `keep` samples whose rendered strokes agree best with `mean`, the mean ink they trace (the
// predicted pixels or the candidate's raster), best first.
std::vector<Stroke3> ranked_by_agreement(std::vector<Stroke3> sketches, const RasterOptions& raster,
                                         const torch::Tensor& mean, int64_t keep, torch::Device device) {
    std::vector<Image> renders;
    for (const Stroke3& sketch : sketches) renders.push_back(render_strokes(stroke3_to_strokes(sketch), raster));
    const std::vector<int64_t> rows =
        best_rows(images_to_tensor(renders, device), mean.unsqueeze(0), int64_t(sketches.size()), keep);
    std::vector<Stroke3> ranked;
    for (int64_t k : rows) ranked.push_back(std::move(sketches[size_t(k)]));
    return ranked;
}

}  // namespace

std::vector<Stroke3> unscale_sketches(std::vector<Stroke3> sketches, float scale) {
    for (Stroke3& s3 : sketches)
        for (auto& row : s3) {
            row[0] *= scale;
            row[1] *= scale;
        }
    return sketches;
}

PredictSettings predict_settings(const GenerateConfig& g) {
    PredictSettings s;
    s.samples = g.samples;
    s.temperature = g.temperature;
    s.mdn_temperature = g.mdn_temperature;
    s.mdn_mode = g.mdn_mode;
    s.max_len = g.max_len;
    s.candidates = g.candidates;
    s.candidate_temperature = g.candidate_temperature;
    s.condition = g.condition;
    s.condition_top = g.condition_top;
    s.stroke_pool = g.stroke_pool;
    return s;
}

ImageModels load_image_models(const Config& cfg, const Dataset& ds, torch::Device device) {
    ImageModels m;
    m.vae_old = load_trained_vae(cfg, "vae_old", device);
    m.mdn = load_trained_mdn(cfg, device);
    m.vae_new = load_trained_vae(cfg, "vae_new", device);
    m.sketch = load_trained_sketch(cfg, device);
    m.candidates = make_candidate_set(m.vae_new, ds, device);
    return m;
}

Prediction predict_image(ImageModels& m, const PredictSettings& s, const Image& image, uint64_t seed,
                         torch::Device device, at::Generator& gen) {
    torch::NoGradGuard no_grad;
    gen.set_current_seed(seed);
    const int64_t n = s.samples;
    torch::Tensor x = image_to_tensor(image, device);  // (1,1,64,64)
    torch::Tensor recon = m.vae_old->reconstruct(x);  // (1,1,64,64)
    torch::Tensor z_old = m.mdn.z_old(x);              // (1,z_old)
    MdnOutput mix = m.mdn.mdn->forward(z_old.expand({n, z_old.size(1)}).contiguous());
    MdnOutput one{mix.logit_pi.slice(0, 0, 1), mix.mu.slice(0, 0, 1), mix.log_sigma.slice(0, 0, 1)};
    // The candidates need no random draw, so they leave the samples' draws unchanged.
    const torch::Tensor log_likelihood = candidate_log_likelihood(one, m.candidates.latents);  // (1,C)
    torch::Tensor z_new, z_sketch, images, ink;  // (N,z) decoded, (N,z) sketched, (N,1,64,64) pixels and traced ink
    if (s.condition == "candidates") {
        CandidateConditioning c = candidate_conditioning(
            m.candidates, candidate_picks(log_likelihood, n, s.condition_top), &m.sketch.encoder, device);
        z_new = c.z_pixels;
        z_sketch = c.z_sketch;
        images = m.vae_new->decode(z_new);
        ink = c.ink;
    } else {
        z_new = z_sketch = mdn_sample(mix, s.mdn_temperature, gen, s.mdn_mode);
        images = ink = m.vae_new->decode(z_new);  // each sample traces its own pixels
    }
    torch::Tensor mean = images.mean(0);                           // (1,64,64)
    torch::Tensor spread = (images - mean).pow(2).mean(0).sqrt();  // (1,64,64), population std
    // stroke_pool P: every z drawn P times, the N that agree best with the mean ink kept.
    const int64_t pool = std::max<int64_t>(1, s.stroke_pool);
    const SketchSampleOptions so =
        m.sketch.sample_options(s.temperature, s.max_len, pool > 1 ? ink.repeat_interleave(pool, 0) : ink);
    std::vector<Stroke3> sketches = unscale_sketches(
        m.sketch.model->sample(pool > 1 ? z_sketch.repeat_interleave(pool, 0) : z_sketch, so, gen), m.sketch.scale);

    Prediction p;
    p.sketches = ranked_by_agreement(std::move(sketches), m.sketch.raster, ink.mean(0), n, device);
    p.candidates = top_candidates(log_likelihood, m.candidates, s.candidates, s.candidate_temperature)[0];
    p.reconstruction = tensor_to_image(recon[0][0], 255.0);
    p.modern = tensor_to_image(mean[0], 255.0);
    p.uncertainty = tensor_to_image(spread[0], 510.0);  // std of values in [0,1] is <= 0.5
    p.mean_std = spread.mean().item<double>();
    p.max_std = spread.max().item<double>();
    return p;
}

}  // namespace k2k
