// Trained models read back from a run folder: the one way to load a model. Each reads
// run_dir/<stage>/best.pt with the options of the run's resolved config, in eval mode on `device`.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "data/cache.h"
#include "data/reader_augment.h"
#include "models/conv_vae.h"
#include "models/mdn.h"
#include "models/reader.h"
#include "models/sketch_rnn.h"

namespace k2k {

ConvVae load_trained_vae(const Config& c, const std::string& stage, torch::Device device);  // vae_new | vae_old

// The MDN with the Kuzushiji encoder whose mean is its input z_old: vae_old itself (mdn.encoder
// frozen, the paper) or vae_old's encoder trained with the MDN's likelihood (finetune; stored in
// the mdn checkpoint as "model.encoder").
struct TrainedMdn {
    Mdn mdn{nullptr};
    ConvVae encoder{nullptr};
    explicit operator bool() const { return static_cast<bool>(mdn); }
    torch::Tensor z_old(const torch::Tensor& x);  // (B,1,64,64) -> (B,z_old)
    MdnOutput forward(const torch::Tensor& x);    // the mixture over z_new given the images x
};
TrainedMdn load_trained_mdn(const Config& c, torch::Device device);

// The two modules of a finetune MDN checkpoint under one name ("mdn.*", "encoder.*"), as the mdn
// stage saves them; shares the modules' parameters.
struct MdnWithEncoder : torch::nn::Module {
    MdnWithEncoder(Mdn mdn, ConvVae encoder);
};

struct TrainedSketch {
    SketchRnn model{nullptr};
    ConvVae encoder{nullptr};  // the modern VAE with its encoder fine-tuned through the stroke loss
    float scale = 1.0f;        // stroke offsets were divided by this (train set's delta std)
    RasterOptions raster;      // the rasters its canvas was trained on (canvas decoders; else the default)

    // Sample options for `ink` (B,1,S,S) (the pixels each sample traces; ignored by a decoder
    // without canvas): temperature and max_len as given, the raster and scale of this model.
    SketchSampleOptions sample_options(double temperature, int64_t max_len, const torch::Tensor& ink) const;
};
TrainedSketch load_trained_sketch(const Config& c, torch::Device device);

// The classifiers store their class list (code point of each logit) in the checkpoint.
struct TrainedReader {
    Reader model{nullptr};
    std::vector<uint32_t> classes;  // code point of each logit
};
struct TrainedBaseline {
    SimpleCnn model{nullptr};
    std::vector<uint32_t> classes;  // code point of each logit
};
TrainedReader load_trained_reader(const Config& c, torch::Device device);
TrainedBaseline load_trained_baseline(const Config& c, torch::Device device);

// A class list as stored in the classifiers' checkpoints: hex code points joined by ','.
std::string join_codepoints(const std::vector<uint32_t>& cps);
// Reads it back; `path` names the checkpoint in the k2k::Error thrown for a malformed or empty list.
std::vector<uint32_t> split_codepoints(const std::string& text, const std::string& path);

// The reader's own accuracy on the clean held-out renders of `entries` (the reader's class list:
// entry k is class k), top-1 and top-5 as fractions.
struct ReaderAccuracy {
    double top1 = 0;     // fraction read right
    double top5 = 0;     // fraction with the class among the 5 best
    int64_t items = 0;   // renders read
};
ReaderAccuracy reader_clean_accuracy(Reader& model, const Dataset& ds, const std::vector<size_t>& entries,
                                     const ReaderAugmentOptions& augment, torch::Device device);
// The same for any modern entries (variants too) with their class index `targets`, rendered clean
// (no seeds) or with augment_for_reader seeded by `seeds` (one per entry).
ReaderAccuracy reader_accuracy(Reader& model, const Dataset& ds, const std::vector<size_t>& entries,
                               const std::vector<int64_t>& targets, const std::vector<uint32_t>& seeds,
                               const ReaderAugmentOptions& augment, torch::Device device);

}  // namespace k2k
