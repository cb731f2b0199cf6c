// Per-stage test metrics of `k2k eval`: the two VAEs (BCE, KL, ink IoU of the reconstruction), the
// MDN (NLL of z_new), the Sketch-RNN (Ls, Lp, Lr); and the trained models, kept for the transfer.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "eval/context.h"
#include "run/loaders.h"

namespace k2k {

// The pipeline's trained models; a null model (or sketch.model) = that stage is not trained.
struct StageModels {
    ConvVae vae_new{nullptr};
    ConvVae vae_old{nullptr};
    TrainedMdn mdn;
    TrainedSketch sketch;
};

// {bce, kl, iou, items} of decode(mu(x)) over `items` (dataset modern entries when `modern`, old
// images otherwise), each a mean per image: BCE summed over the 64x64 pixels, KL unfloored, IoU of
// ink at 0.5. items must not be empty.
nlohmann::json vae_metrics(ConvVae& vae, const Dataset& dataset, const std::vector<size_t>& items, bool modern,
                           torch::Device device);
// {nll, items}: the MDN's mean NLL (nats) of z_new = mu_new(modern) given z_old = mu_old(old) over
// the (old image, modern entry) pairs; pairs must not be empty.
nlohmann::json mdn_metrics(ConvVae& vae_new, TrainedMdn& mdn, const Dataset& dataset,
                           const std::vector<std::pair<size_t, size_t>>& pairs, torch::Device device);
// {ls, lp, lr, items, skipped}: the Sketch-RNN's reconstruction losses with z = the encoder's mu,
// over the modern entries whose sketch fits sketch.max_seq_len (the others are `skipped`); null
// when none fits.
nlohmann::json sketch_metrics(const Config& config, TrainedSketch& sketch, const Dataset& dataset,
                              const std::vector<size_t>& items, torch::Device device);

// Loads every trained pipeline stage into `models` and returns eval.json's "stages":
// {vae_new, vae_old, mdn, sketch}, each null (with a note on stdout) when not trained.
nlohmann::json stage_metrics(const EvalContext& context, StageModels& models);

}  // namespace k2k
