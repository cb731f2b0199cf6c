// Image classifiers for `k2k eval`: the reader (the judge of transfer accuracy: reads 64x64 images of
// modern kanji, trained on augmented KanjiVG renders) and the seed paper's "Keras simple CNN" baseline.
#pragma once

#include <cstdint>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace k2k {

// Both classifiers take (B,1,64,64) images in [0,1] with ink = 1 (white on black, as the data
// layer stores them) and average-pool them to input_size x input_size first: a 64x64 kanji is
// still legible at 32x32 and the convolutions cost 4x less.

struct ReaderOptions {
    /// Number of classes (the reader: every KanjiVG base character; default 10).
    TORCH_ARG(int64_t, num_classes) = 10;
    /// Side the 64x64 input is average-pooled to: 16, 32 (default) or 64.
    TORCH_ARG(int64_t, input_size) = 32;
    /// Channels of the first conv block; each of the 4 blocks doubles them (default 16).
    TORCH_ARG(int64_t, width) = 16;
    /// Units of the embedding before the classifier (default 256).
    TORCH_ARG(int64_t, hidden) = 256;
    /// Logit scale s of the cosine classifier (default 16).
    TORCH_ARG(double, scale) = 16.0;
};

// Four blocks with w, 2w, 4w, 8w channels, each conv (no bias) -> batch norm -> ReLU: the first a
// 4x4 stride-2 conv, the others 3x3 convs (padding 1) followed by a max-pool 2; then a dense layer
// of `hidden` units (no bias) -> batch norm -> ReLU: the embedding e. The classifier is a cosine
// one (normalised-softmax, as in face recognition with many identities):
//   logit_c = scale * <e / |e|, w_c / |w_c|>
// With ~6,700 classes, each seen once every ~50 batches, a plain linear softmax sat at the uniform
// loss ln C for thousands of steps on 2 CPU cores; the cosine form learns from the first steps.
class ReaderImpl : public torch::nn::Module {
public:
    explicit ReaderImpl(const ReaderOptions& options = ReaderOptions());

    void reset();

    // x is (B,1,64,64); returns logits (B,num_classes).
    torch::Tensor forward(const torch::Tensor& x);

    ReaderOptions options;

private:
    torch::nn::Conv2d conv[4] = {nullptr, nullptr, nullptr, nullptr};
    torch::nn::BatchNorm2d norm[4] = {nullptr, nullptr, nullptr, nullptr};
    torch::nn::Linear fc{nullptr};
    torch::nn::BatchNorm1d fc_norm{nullptr};
    torch::Tensor class_weight;  // (num_classes, hidden), compared by direction only
};

TORCH_MODULE(Reader);

struct SimpleCnnOptions {
    /// Number of classes (the baseline: the run's Kuzushiji classes; default 10).
    TORCH_ARG(int64_t, num_classes) = 10;
    /// Side the input is average-pooled to: 32 (default) or 64 for 64x64 Kuzushiji-Kanji; equal to
    /// image_size for no pooling (KMNIST: 28).
    TORCH_ARG(int64_t, input_size) = 32;
    /// Side of the square input images (Kuzushiji-Kanji 64, KMNIST and Kuzushiji-49 28).
    TORCH_ARG(int64_t, image_size) = 64;
    /// Units of the dense layer (Keras simple CNN: 128).
    TORCH_ARG(int64_t, hidden) = 128;
};

// The KMNIST benchmark's "Keras simple CNN" (Clanuwat et al. 2018, Table 2): conv3x3 32 ReLU ->
// conv3x3 64 ReLU (valid padding) -> max-pool 2 -> dropout 0.25 -> dense `hidden` ReLU ->
// dropout 0.5 -> dense num_classes (the softmax is in the loss).
class SimpleCnnImpl : public torch::nn::Module {
public:
    explicit SimpleCnnImpl(const SimpleCnnOptions& options = SimpleCnnOptions());

    void reset();

    // x is (B,1,image_size,image_size); returns logits (B,num_classes).
    torch::Tensor forward(const torch::Tensor& x);
    // Input mixup: the pooled batch h is replaced by lam * h + (1 - lam) * h[perm] first.
    torch::Tensor forward_mixed(const torch::Tensor& x, double lam, const torch::Tensor& perm);

    SimpleCnnOptions options;

private:
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    torch::nn::Linear fc{nullptr}, out{nullptr};
};

TORCH_MODULE(SimpleCnn);

}  // namespace k2k
