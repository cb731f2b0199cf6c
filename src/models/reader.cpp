// The reader CNN and the Keras-simple-CNN baseline (see reader.h for the layer lists).
#include "models/reader.h"

#include <torch/torch.h>

namespace k2k {

namespace {

constexpr int64_t kImageSize = 64;

// x is (B,1,image,image); returns (B,1,size,size) by average pooling (identity when equal).
torch::Tensor pool_to(const torch::Tensor& x, int64_t size, int64_t image = kImageSize) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == image && x.size(3) == image,
                "the classifiers take (B,1,", image, ",", image, ") images, got ", x.sizes());
    if (size == image) return x;
    const int64_t f = image / size;
    return torch::avg_pool2d(x, {f, f});
}

void check_input_size(int64_t size, int64_t image = kImageSize) {
    TORCH_CHECK(size >= 16 && size <= image && image % size == 0,
                "input_size must divide the image size ", image, " and be at least 16, got ", size);
}

}  // namespace

ReaderImpl::ReaderImpl(const ReaderOptions& options_) : options(options_) { reset(); }

void ReaderImpl::reset() {
    check_input_size(options.input_size());
    TORCH_CHECK(options.num_classes() >= 1 && options.width() >= 1 && options.hidden() >= 1,
                "ReaderOptions needs num_classes, width and hidden of at least 1.");
    TORCH_CHECK(options.scale() > 0, "ReaderOptions needs a positive scale.");
    int64_t in = 1, ch = options.width();
    for (int i = 0; i < 4; ++i) {
        // The first block is a 4x4 stride-2 conv instead of conv + max-pool: on one input channel
        // at full size the pair cost more than the rest of the network together.
        auto o = i == 0 ? torch::nn::Conv2dOptions(in, ch, 4).stride(2).padding(1).bias(false)
                        : torch::nn::Conv2dOptions(in, ch, 3).padding(1).bias(false);
        conv[i] = register_module("conv" + std::to_string(i), torch::nn::Conv2d(o));
        norm[i] = register_module("norm" + std::to_string(i), torch::nn::BatchNorm2d(ch));
        in = ch;
        ch *= 2;
    }
    const int64_t side = options.input_size() / 16;  // after the stride-2 conv and 3 max-pools
    fc = register_module("fc", torch::nn::Linear(torch::nn::LinearOptions(in * side * side, options.hidden()).bias(false)));
    fc_norm = register_module("fc_norm", torch::nn::BatchNorm1d(options.hidden()));
    // Any non-degenerate start works for a cosine classifier: only the directions count.
    class_weight = register_parameter("class_weight", torch::randn({options.num_classes(), options.hidden()}));
}

torch::Tensor ReaderImpl::forward(const torch::Tensor& x) {
    torch::Tensor h = pool_to(x, options.input_size());
    h = torch::relu(norm[0]->forward(conv[0]->forward(h)));
    for (int i = 1; i < 4; ++i) h = torch::max_pool2d(torch::relu(norm[i]->forward(conv[i]->forward(h))), {2, 2});
    h = torch::relu(fc_norm->forward(fc->forward(h.flatten(1))));  // (B,hidden)
    namespace F = torch::nn::functional;
    const auto unit = F::NormalizeFuncOptions().dim(1).eps(1e-6);
    return options.scale() * F::normalize(h, unit).matmul(F::normalize(class_weight, unit).t());
}

SimpleCnnImpl::SimpleCnnImpl(const SimpleCnnOptions& options_) : options(options_) { reset(); }

void SimpleCnnImpl::reset() {
    check_input_size(options.input_size(), options.image_size());
    TORCH_CHECK(options.num_classes() >= 1 && options.hidden() >= 1,
                "SimpleCnnOptions needs num_classes and hidden of at least 1.");
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3)));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3)));
    const int64_t side = (options.input_size() - 4) / 2;  // two valid 3x3 convs, one max-pool
    fc = register_module("fc", torch::nn::Linear(64 * side * side, options.hidden()));
    out = register_module("out", torch::nn::Linear(options.hidden(), options.num_classes()));
}

torch::Tensor SimpleCnnImpl::forward(const torch::Tensor& x) { return forward_mixed(x, 1.0, torch::Tensor()); }

torch::Tensor SimpleCnnImpl::forward_mixed(const torch::Tensor& x, double lam, const torch::Tensor& perm) {
    torch::Tensor h = pool_to(x, options.input_size(), options.image_size());
    if (perm.defined()) h = h * lam + h.index_select(0, perm) * (1.0 - lam);
    h = torch::relu(conv2->forward(torch::relu(conv1->forward(h))));
    h = torch::dropout(torch::max_pool2d(h, {2, 2}), 0.25, is_training());
    h = torch::dropout(torch::relu(fc->forward(h.flatten(1))), 0.5, is_training());
    return out->forward(h);
}

}  // namespace k2k
