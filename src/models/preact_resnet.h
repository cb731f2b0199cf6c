// PreActResNet-18 (He et al. 2016, identity mappings) for small grey images, as the seed paper's
// KMNIST / Kuzushiji-49 baselines use it, with the mixing hook that input and manifold mixup need.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace k2k {

struct PreActResNetOptions {
    /// Number of classes (KMNIST 10, Kuzushiji-49 49; default 10).
    TORCH_ARG(int64_t, num_classes) = 10;
    /// Input channels (grey images: 1).
    TORCH_ARG(int64_t, in_channels) = 1;
    /// Channels of the first stage; each later stage doubles them (64 = PreActResNet-18).
    TORCH_ARG(int64_t, width) = 64;
    /// Pre-activation basic blocks per stage ([2, 2, 2, 2] = PreActResNet-18).
    TORCH_ARG(std::vector<int64_t>, blocks) = std::vector<int64_t>({2, 2, 2, 2});
};

// One pre-activation basic block: BN-ReLU-conv3x3(stride)-BN-ReLU-conv3x3, plus the input (through a
// 1x1 conv of the pre-activated input when the shape changes).
class PreActBlockImpl : public torch::nn::Module {
public:
    PreActBlockImpl(int64_t in, int64_t out, int64_t stride);
    // x is (B,in,H,W); returns (B,out,H/stride,W/stride).
    torch::Tensor forward(const torch::Tensor& x);

private:
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, shortcut{nullptr};
    int64_t stride_ = 1;  // of conv1 (and of the shortcut)
};

TORCH_MODULE(PreActBlock);

// On the CPU, oneDNN runs the 3x3 convolutions of the last stage's 4x4 maps (512 channels for
// PreActResNet-18) at a fraction of the speed of one matrix product over their im2col columns
// (docs/BENCHMARKS.md, "CPU PreActResNet-18 step"). The blocks compute their 3x3, stride-1
// convolutions of x as conv3x3_matmul where this is true: x is a CPU (B,C,H,W) batch with H*W <= 16.
bool conv3x3_as_matmul(const torch::Tensor& x);
// x is (B,C,H,W), weight (K,C,3,3); returns (B,K,H,W): the 3x3 convolution with zero padding 1 and
// stride 1, as unfold (B,C*9,H*W) and one (K,C*9) x (C*9,H*W) product per image.
torch::Tensor conv3x3_matmul(const torch::Tensor& x, const torch::Tensor& weight);

// conv3x3 stem (stride 1, no max-pool: 28x28 inputs stay 28x28), four stages of blocks with
// strides 1, 2, 2, 2, then BN-ReLU, global average pooling and a linear classifier.
class PreActResNetImpl : public torch::nn::Module {
public:
    explicit PreActResNetImpl(const PreActResNetOptions& options = PreActResNetOptions());

    void reset();

    // x is (B,C,H,W) with H, W >= 8; returns logits (B,num_classes).
    torch::Tensor forward(const torch::Tensor& x);
    // Mixup inside the network: at `mix_layer` (0 = the input, k = after stage k, 1 <= k <= 4)
    // the batch h is replaced by lam * h + (1 - lam) * h[perm]. perm is (B,) int64.
    torch::Tensor forward_mixed(const torch::Tensor& x, int mix_layer, double lam, const torch::Tensor& perm);

    PreActResNetOptions options;

private:
    torch::nn::Conv2d stem{nullptr};
    std::vector<torch::nn::Sequential> stages;
    torch::nn::BatchNorm2d bn{nullptr};
    torch::nn::Linear fc{nullptr};
};

TORCH_MODULE(PreActResNet);

}  // namespace k2k
