// PreActResNet (see preact_resnet.h). Layer for layer the network of the manifold-mixup reference
// (Verma et al. 2019, preactresnet.py), with a 1-channel stem and global pooling for 28x28 inputs.
#include "models/preact_resnet.h"

#include <torch/torch.h>

namespace k2k {

namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
}

torch::Tensor mix(const torch::Tensor& h, double lam, const torch::Tensor& perm) {
    return h * lam + h.index_select(0, perm) * (1.0 - lam);
}

}  // namespace

bool conv3x3_as_matmul(const torch::Tensor& x) { return x.device().is_cpu() && x.dim() == 4 && x.size(2) * x.size(3) <= 16; }

torch::Tensor conv3x3_matmul(const torch::Tensor& x, const torch::Tensor& weight) {
    namespace F = torch::nn::functional;
    const int64_t b = x.size(0), h = x.size(2), w = x.size(3), k = weight.size(0);
    torch::Tensor cols = F::unfold(x, F::UnfoldFuncOptions({3, 3}).padding(1));  // (B, C*9, H*W)
    return torch::matmul(weight.reshape({k, -1}), cols).reshape({b, k, h, w});
}

PreActBlockImpl::PreActBlockImpl(int64_t in, int64_t out, int64_t stride) : stride_(stride) {
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(in));
    conv1 = register_module("conv1", conv(in, out, 3, stride));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(out));
    conv2 = register_module("conv2", conv(out, out, 3, 1));
    if (stride != 1 || in != out) shortcut = register_module("shortcut", conv(in, out, 1, stride));
}

torch::Tensor PreActBlockImpl::forward(const torch::Tensor& x) {
    torch::Tensor pre = torch::relu(bn1->forward(x));
    torch::Tensor skip = shortcut ? shortcut->forward(pre) : x;
    // conv1 and conv2 are 3x3 with padding 1 (conv() above); conv2 has stride 1, conv1 stride_.
    torch::Tensor h = stride_ == 1 && conv3x3_as_matmul(pre) ? conv3x3_matmul(pre, conv1->weight) : conv1->forward(pre);
    h = torch::relu(bn2->forward(h));
    h = conv3x3_as_matmul(h) ? conv3x3_matmul(h, conv2->weight) : conv2->forward(h);
    return h + skip;
}

PreActResNetImpl::PreActResNetImpl(const PreActResNetOptions& options_) : options(options_) { reset(); }

void PreActResNetImpl::reset() {
    TORCH_CHECK(options.num_classes() >= 1 && options.in_channels() >= 1 && options.width() >= 1,
                "PreActResNetOptions needs num_classes, in_channels and width of at least 1.");
    TORCH_CHECK(options.blocks().size() == 4, "PreActResNetOptions.blocks needs 4 stages, got ", options.blocks().size());
    stages.clear();
    stem = register_module("stem", conv(options.in_channels(), options.width(), 3, 1));
    int64_t in = options.width();
    for (int s = 0; s < 4; ++s) {
        const int64_t out = options.width() << s;
        TORCH_CHECK(options.blocks()[size_t(s)] >= 1, "PreActResNetOptions.blocks: each stage needs at least 1 block.");
        torch::nn::Sequential stage;
        for (int64_t b = 0; b < options.blocks()[size_t(s)]; ++b) {
            stage->push_back(PreActBlock(in, out, b == 0 && s > 0 ? 2 : 1));
            in = out;
        }
        stages.push_back(register_module("stage" + std::to_string(s + 1), stage));
    }
    bn = register_module("bn", torch::nn::BatchNorm2d(in));
    fc = register_module("fc", torch::nn::Linear(in, options.num_classes()));
}

torch::Tensor PreActResNetImpl::forward(const torch::Tensor& x) { return forward_mixed(x, -1, 1.0, torch::Tensor()); }

torch::Tensor PreActResNetImpl::forward_mixed(const torch::Tensor& x, int mix_layer, double lam, const torch::Tensor& perm) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) == options.in_channels() && x.size(2) >= 8 && x.size(3) >= 8,
                "PreActResNet takes (B,", options.in_channels(), ",H,W) images with H, W >= 8, got ", x.sizes());
    TORCH_CHECK(mix_layer <= 4, "PreActResNet: mix_layer must be at most 4, got ", mix_layer);
    torch::Tensor h = mix_layer == 0 ? mix(x, lam, perm) : x;
    h = stem->forward(h);
    for (int s = 0; s < 4; ++s) {
        h = stages[size_t(s)]->forward(h);
        if (mix_layer == s + 1) h = mix(h, lam, perm);
    }
    h = torch::relu(bn->forward(h));
    h = torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);  // (B,8w)
    return fc->forward(h);
}

}  // namespace k2k
