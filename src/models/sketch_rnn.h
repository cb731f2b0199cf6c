// Conditional Sketch-RNN decoder (Ha & Eck 2017; kanji2kanji): z -> stroke-5 sequence model with a
// mixture output head, teacher-forced training forward and a batched, seeded sampler.
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <ATen/core/Generator.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/canvas.h"
#include "data/geometry.h"
#include "data/raster.h"
#include "models/rnn_cells.h"
#include "models/sketch_loss.h"

namespace k2k {

// Data (see data/strokes.h): batches are stroke-5 tensors (B, T+1, 5), row 0 the start token,
// Δ normalised (divided by the data set's scale). The decoder reads rows 0..T−1, each concatenated
// with z, and predicts rows 1..T (teacher forcing). Every layer's initial (h, c) — and the hyper
// cell's — is tanh(W z + b).
struct SketchRnnOptions {
    /// Size of the latent z that conditions the decoder (kanji2kanji 64; magenta 128).
    TORCH_ARG(int64_t, z_size) = 64;
    /// Width of one stroke row (stroke-5).
    TORCH_ARG(int64_t, input_size) = 5;
    /// Units per RNN layer (magenta 512; kanji2kanji 1024).
    TORCH_ARG(int64_t, hidden_size) = 512;
    /// Stacked RNN layers (magenta 1; kanji2kanji 3).
    TORCH_ARG(int64_t, num_layers) = 1;
    /// Cell: "lstm", "layer_norm" (layer-norm LSTM) or "hyper" (HyperLSTM).
    TORCH_ARG(std::string, cell) = "lstm";
    /// HyperLSTM: units of the hyper cell.
    TORCH_ARG(int64_t, hyper_size) = 256;
    /// HyperLSTM: size of each weight-scaling embedding.
    TORCH_ARG(int64_t, hyper_embed) = 32;
    /// HyperLSTM: layer norm in the main and hyper cells (magenta true).
    TORCH_ARG(bool, hyper_layer_norm) = true;
    /// Recurrent dropout keep probability, training only (1 = off; magenta 0.9, kanji2kanji 0.3).
    TORCH_ARG(double, recurrent_dropout_keep) = 1.0;
    /// Mixture components M (per axis for "per_axis"; magenta 20, kanji2kanji 50).
    TORCH_ARG(int64_t, num_mixtures) = 20;
    /// Output head: "bivariate" (magenta) or "per_axis" (kanji2kanji); layouts in sketch_loss.h.
    TORCH_ARG(std::string, output) = "bivariate";
    /// Longest sequence the model runs, in rows: forward() refuses longer batches and sample() stops
    /// here by default. run/options.cpp sets max(sketch.max_seq_len, generate.max_len) (100, 130).
    TORCH_ARG(int64_t, max_steps) = 130;
    /// Start token the sampler feeds first: "pen_down" (0,0,1,0,0; magenta) or "pen_up" (0,0,0,1,0;
    /// kanji2kanji). Must match the data pipeline's StartToken.
    TORCH_ARG(std::string, start_token) = "pen_down";
    /// Units of the canvas projection (0 = off, the paper's decoder): the decoder also reads, each
    /// step, relu(W f + b) of data/canvas.h's kCanvasFeatures f, the pen-centred view of the ink
    /// still to draw, so it traces the ink it is given instead of drawing from z alone.
    TORCH_ARG(int64_t, canvas_hidden) = 0;
};

struct SketchSampleOptions {
    double temperature = 0.25;  // τ > 0: π and pen logits divided by τ, σ scaled by √τ (magenta 0.1–1)
    int64_t max_len = 0;        // most rows per sample; 0 = SketchRnnOptions::max_steps
    bool greedy = false;        // take the most likely component and pen state and μ (no noise)
    // Canvas decoders (canvas_hidden > 0) only: the ink each sample traces, (B,1,S,S) in [0,1]
    // (predicted modern pixels, or a true raster), S = raster.size; and the KanjiVG units per
    // normalised offset unit (the training data's scale), so the tracker follows the pen on it.
    torch::Tensor ink;
    RasterOptions raster;
    float unit_scale = 1.0f;
};

class SketchRnnImpl : public torch::nn::Module {
public:
    explicit SketchRnnImpl(SketchRnnOptions options = {});

    // Rebuilds and re-initialises every layer from `options`.
    void reset();

    // Width of the raw output per step (3 + 6M).
    int64_t output_size() const;

    // Initial state of every layer from z (B, z_size).
    RnnState initial_state(const torch::Tensor& z);

    // Teacher forcing. strokes is (B, T+1, 5), z is (B, z_size); returns the raw head outputs
    // predicting rows 1..T, (B, T, 3+6M). `path` picks the RNN implementation (RnnStack). A canvas
    // decoder needs canvas (B, T', kCanvasFeatures) with T' >= T (run/batches.h sketch_batch).
    torch::Tensor forward(const torch::Tensor& strokes, const torch::Tensor& z, RnnPath path = RnnPath::Auto,
                          const torch::Tensor& canvas = {});

    // forward + reconstruction_loss against rows 1..T of `strokes`.
    ReconstructionLoss reconstruction(const torch::Tensor& strokes, const torch::Tensor& z,
                                      const torch::Tensor& canvas = {});

    // Draws one sketch per row of z (B, z_size), all rows stepped together, no autograd. Each
    // sample stops at its end token (not emitted) or after max_len rows; its last row always has
    // pen_lifted = 1. Offsets are in the normalised units of the training data. All random numbers
    // come from `gen`, which must be a CPU generator (the uniforms are drawn on the CPU up front
    // and the mixture is sampled there), so the same generator state gives the same sketches on
    // any device.
    std::vector<Stroke3> sample(const torch::Tensor& z, const SketchSampleOptions& opt, at::Generator gen);

    SketchRnnOptions options;
    torch::nn::Linear init_state{nullptr};  // z -> all layers' initial states (before tanh)
    RnnStack rnn{nullptr};
    torch::nn::Linear head{nullptr};  // H -> 3 + 6M
    torch::nn::Linear canvas_proj{nullptr};  // kCanvasFeatures -> canvas_hidden (canvas decoders only)
};
TORCH_MODULE(SketchRnn);

}  // namespace k2k
