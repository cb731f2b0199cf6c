// The networks of `k2k classify` behind one holder (the Keras simple CNN or PreActResNet-18, as the
// config's classify.model says), image batches from a LabelledImages set, and the trained model's loader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "config/config.h"
#include "data/labelled_images.h"
#include "models/preact_resnet.h"
#include "models/reader.h"

namespace k2k {

struct ClassifierNet {
    SimpleCnn cnn{nullptr};          // classify.model simple_cnn
    PreActResNet resnet{nullptr};    // classify.model preact_resnet18

    torch::nn::Module& module();
    // x is (B,1,H,W) in [0,1]; returns logits (B,C).
    torch::Tensor forward(const torch::Tensor& x);
    // Mixup inside the network at `layer` (0 = the input; 1, 2 = after PreActResNet stage 1, 2; the
    // simple CNN mixes its input only): h -> lam * h + (1 - lam) * h[perm].
    torch::Tensor forward_mixed(const torch::Tensor& x, int layer, double lam, const torch::Tensor& perm);
};

// A fresh network for `num_classes` classes of image_size x image_size images. Throws k2k::Error
// for model knn (no network) or manifold mixup on the simple CNN.
ClassifierNet make_classifier(const ClassifyConfig& config, int64_t num_classes, int64_t image_size);

// The images at `indices` as (B,1,H,W) floats in [0,1] on `device`.
torch::Tensor image_batch(const LabelledImages& images, const std::vector<int64_t>& indices, torch::Device device);

// The argmax class of every image, in batches of `batch` (eval mode, no gradients).
std::vector<int32_t> classify_images(ClassifierNet& net, const LabelledImages& images, torch::Device device, int64_t batch = 500);

// The classify stage's best.pt (run_dir/classify); throws k2k::Error with the command that trains it.
ClassifierNet load_trained_classifier(const Config& config, int64_t num_classes, int64_t image_size, torch::Device device);

}  // namespace k2k
