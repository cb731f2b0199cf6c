// The pipeline's stages (paper Algorithm 1): VAEs on both domains, the MDN P(z_new | z_old), the
// conditional Sketch-RNN; the run folder they share; and loaders of trained models for generation.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "models/conv_vae.h"
#include "models/mdn.h"
#include "models/sketch_rnn.h"

namespace k2k {

struct TrainingData;

// Stage names in pipeline order.
const std::vector<std::string>& stage_names();  // vae_new, vae_old, mdn, sketch

// "cpu" | "cuda" | "auto" (cuda when available). Throws k2k::Error for cuda without a GPU build/device.
torch::Device resolve_device(const std::string& name);

// Run folder: writes run_dir/config.yaml (the resolved config); throws k2k::Error when the folder
// already holds a config that differs (stages trained with other settings would be mixed).
void prepare_run_dir(const Config& config);

// Trains one stage into run_dir/<stage>. Earlier stages must be complete (their best.pt is read).
void train_stage(const Config& config, const std::string& stage, TrainingData& data, torch::Device device, bool resume);

// All stages in order, skipping complete ones (and resuming an interrupted one when `resume`).
void run_pipeline(const Config& config, torch::Device device, bool resume);

// Config section -> model options.
ConvVaeOptions vae_options(const VaeConfig& c);
MdnOptions mdn_options(const Config& c);
SketchRnnOptions sketch_options(const Config& c);

// Trained models read back from run_dir/<stage>/best.pt, in eval mode on `device`.
ConvVae load_trained_vae(const Config& c, const std::string& stage, torch::Device device);
Mdn load_trained_mdn(const Config& c, torch::Device device);
struct TrainedSketch {
    SketchRnn model{nullptr};
    ConvVae encoder{nullptr};  // the modern VAE with its encoder fine-tuned through the stroke loss
    float scale = 1.0f;        // stroke offsets were divided by this (train set's delta std)
};
TrainedSketch load_trained_sketch(const Config& c, torch::Device device);

// Path of a stage's folder / best checkpoint.
std::string stage_dir(const Config& c, const std::string& stage);

}  // namespace k2k
