// Each link of the transfer on its own, read by the reader, so a change is judged where it acts:
// the modern VAE's reconstructions of KanjiVG rasters, and the Sketch-RNN fed the true modern
// latent (the MDN's links are eval.json's transfer pixels and candidates; end to end its strokes).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "eval/context.h"
#include "eval/stage_metrics.h"
#include "eval/transfer.h"

namespace k2k {

// eval.json's "links": {split_chars: L, train_chars: L} or null without the reader and vae_new,
// where L = {items, vae_new: T or null, sketch_true_z: T or null} (T as in transfer). split_chars
// are the split's KanjiVG base characters (the modern split: no stage trained on them when it is
// val or test), train_chars as many training characters, spread evenly over them. vae_new: the
// reader reads sigmoid(decode(mu(x))) of the character's raster x (one sample); sketch_true_z:
// context.samples Sketch-RNN samples conditioned on the sketch stage's encoder mean of x, rendered
// like the rasters. Random draws come from one CPU generator seeded with `seed`.
nlohmann::json link_accuracy(const EvalContext& context, StageModels& models, ReaderJudge& reader, uint64_t seed);

}  // namespace k2k
