// The classify stage: epochs of shuffled batches (each epoch's order drawn from the seed and the
// epoch, so a resumed run sees the same batches), optional input / manifold mixup, Adam or SGD
// with momentum and weight decay, constant / step / cosine learning rate by epoch.
#include "train/classify.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include <torch/torch.h>

#include "data/labelled_images.h"
#include "run/classifier.h"
#include "run/run_dir.h"
#include "train/data_parallel.h"
#include "train/stage_common.h"
#include "train/stage_runner.h"
#include "util/error.h"

namespace k2k {

namespace {

// Learning rate at `step` of the schedule (epochs of steps_per_epoch steps).
double scheduled_lr(const ClassifyConfig& c, int64_t step, int64_t steps_per_epoch) {
    if (c.lr_schedule == "cosine") return cosine_lr(step, c.epochs * steps_per_epoch, c.lr);
    const double epoch = double(step) / double(steps_per_epoch);
    if (c.lr_schedule == "step") {
        double lr = c.lr;
        for (int64_t m : c.milestones)
            if (epoch >= double(m)) lr *= c.gamma;
        return lr;
    }
    return c.lr;
}

// lambda ~ Beta(alpha, alpha) as X / (X + Y) with X, Y ~ Gamma(alpha).
double draw_beta(double alpha, std::mt19937& rng) {
    std::gamma_distribution<double> g(alpha, 1.0);
    const double x = g(rng), y = g(rng);
    return x + y > 0 ? x / (x + y) : 0.5;
}

}  // namespace

torch::Tensor shift_images(const torch::Tensor& x, int64_t max_shift, std::mt19937& rng) {
    TORCH_CHECK(x.dim() == 4, "shift_images expects (B,C,H,W), got ", x.sizes());
    TORCH_CHECK(max_shift >= 0, "shift_images: max_shift must be >= 0, got ", max_shift);
    if (max_shift == 0) return x;
    using torch::indexing::Slice;
    const int64_t s = max_shift, h = x.size(2), w = x.size(3);
    namespace F = torch::nn::functional;
    torch::Tensor padded = F::pad(x, F::PadFuncOptions({s, s, s, s}));  // zeros around every image
    std::uniform_int_distribution<int64_t> shift(-s, s);
    std::vector<torch::Tensor> out;
    out.reserve(size_t(x.size(0)));
    for (int64_t b = 0; b < x.size(0); ++b) {
        const int64_t dy = shift(rng), dx = shift(rng);
        // Output pixel (i, j) is input pixel (i - dy, j - dx), i.e. padded (s + i - dy, s + j - dx).
        out.push_back(padded[b].index({Slice(), Slice(s - dy, s - dy + h), Slice(s - dx, s - dx + w)}));
    }
    return torch::stack(out);
}

void train_classifier(const Config& cfg, torch::Device device, bool resume) {
    const ClassifyConfig& c = cfg.classify;
    if (c.model == "knn") {
        std::printf("[classify] model knn has nothing to train: k2k classify eval computes it directly\n");
        return;
    }
    prepare_run_dir(cfg);
    const uint64_t seed = stage_seed(cfg, "classify");
    const ClassifySplits data = load_classify_splits(cfg, true, false);
    const LabelledImages& train = data.train;
    const int64_t n = train.size(), batch = std::min(c.batch_size, n);
    const int64_t steps_per_epoch = (n + batch - 1) / batch;
    std::printf("[classify] %s on %s: %lld training / %lld validation images of %lldx%lld, %d classes; %lld epochs of %lld steps\n",
                c.model.c_str(), c.dataset.c_str(), (long long)n, (long long)data.val.size(), (long long)train.height,
                (long long)train.width, train.num_classes, (long long)c.epochs, (long long)steps_per_epoch);

    torch::manual_seed(seed);
    ClassifierNet net = make_classifier(c, train.num_classes, train.height);
    net.module().to(device);
    std::unique_ptr<torch::optim::Optimizer> opt;
    if (c.optimizer == "sgd")
        opt = std::make_unique<torch::optim::SGD>(net.module().parameters(),
                                                  torch::optim::SGDOptions(c.lr).momentum(c.momentum).weight_decay(c.weight_decay));
    else
        opt = std::make_unique<torch::optim::Adam>(net.module().parameters(), torch::optim::AdamOptions(c.lr).weight_decay(c.weight_decay));
    std::mt19937 rng{uint32_t(seed)};  // shifts; mixup: lambda, pairing, layer
    at::Generator gen = at::detail::getDefaultCPUGenerator();  // dropout masks

    // Batch order: epoch e's permutation comes from (seed, e) alone.
    int64_t order_epoch = -1;
    std::vector<int64_t> order(static_cast<size_t>(n));
    auto batch_at = [&](int64_t step) {
        const int64_t epoch = step / steps_per_epoch, k = step % steps_per_epoch;
        if (epoch != order_epoch) {
            std::iota(order.begin(), order.end(), 0);
            std::mt19937_64 shuffle_rng(seed * 1000003u + uint64_t(epoch));
            std::shuffle(order.begin(), order.end(), shuffle_rng);
            order_epoch = epoch;
        }
        const int64_t begin = k * batch, end = std::min(n, begin + batch);
        return std::vector<int64_t>(order.begin() + long(begin), order.begin() + long(end));
    };
    auto labels_of = [&](const LabelledImages& images, const std::vector<int64_t>& idx) {
        std::vector<int64_t> y;
        for (int64_t i : idx) y.push_back(images.labels[size_t(i)]);
        return torch::tensor(y, torch::kInt64).to(device);
    };

    StageLoopOptions lo = stage_loop_options(cfg, "classify", c.epochs * steps_per_epoch, c.eval_every, resume,
                                             DataParallel::single());
    lo.terms = {"error", "loss"};
    lo.extras = {"train_acc", "lr", "grad_norm"};
    namespace F = torch::nn::functional;

    StageHooks hooks;
    hooks.train_step = [&](int64_t step) {
        net.module().train();
        const double lr = scheduled_lr(c, step, steps_per_epoch);
        for (auto& group : opt->param_groups()) {
            if (c.optimizer == "sgd")
                static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
            else
                static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
        }
        const std::vector<int64_t> idx = batch_at(step);
        torch::Tensor x = shift_images(image_batch(train, idx, device), c.augment_shift, rng);  // (B,1,H,W)
        torch::Tensor y = labels_of(train, idx);            // (B,)
        torch::Tensor logits, loss;
        if (c.mixup == "none") {
            logits = net.forward(x);
            loss = F::cross_entropy(logits, y);
        } else {
            const double lam = draw_beta(c.mixup_alpha, rng);
            std::vector<int64_t> pairing(idx.size());
            std::iota(pairing.begin(), pairing.end(), 0);
            std::shuffle(pairing.begin(), pairing.end(), rng);
            const int layer = c.mixup == "manifold" ? int(std::uniform_int_distribution<int>(0, 2)(rng)) : 0;
            torch::Tensor perm = torch::tensor(pairing, torch::kInt64).to(device);
            logits = net.forward_mixed(x, layer, lam, perm);
            // The mixed target's cross-entropy: lam * CE(y) + (1 - lam) * CE(y[perm]).
            loss = F::cross_entropy(logits, y) * lam + F::cross_entropy(logits, y.index_select(0, perm)) * (1.0 - lam);
        }
        opt->zero_grad();
        loss.backward();
        const double norm = clip_and_step(DataParallel::single(), net.module().parameters(), *opt, 0.0);
        const double acc = logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
        return std::vector<double>{1.0 - acc, loss.item<double>(), acc, lr, norm};
    };
    hooks.evaluate = [&]() {
        net.module().eval();
        torch::NoGradGuard no_grad;
        double loss = 0, correct = 0;
        const LabelledImages& val = data.val;
        for (int64_t start = 0; start < val.size(); start += 500) {
            std::vector<int64_t> idx;
            for (int64_t i = start; i < std::min(val.size(), start + 500); ++i) idx.push_back(i);
            torch::Tensor logits = net.forward(image_batch(val, idx, device));
            torch::Tensor y = labels_of(val, idx);
            loss += F::cross_entropy(logits, y).item<double>() * double(idx.size());
            correct += logits.argmax(1).eq(y).sum().item<double>();
        }
        return std::vector<double>{1.0 - correct / double(val.size()), loss / double(val.size())};
    };
    set_checkpoint_hooks(hooks, net.module(), *opt, rng, gen);
    run_stage_loop(lo, hooks);
}

}  // namespace k2k
