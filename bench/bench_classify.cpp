// Benchmark of `k2k classify`'s training steps on 28x28 batches (forward + backward + optimiser):
// PreActResNet-18 (SGD, momentum 0.9, weight decay 1e-4), with manifold mixup at block 1, and the
// Keras simple CNN (Adam); bench/ref_classify.py is the Python twin. Prints "<label> median X ms".
// Usage: bench_classify [batch=128] [repeats=5] [threads=0 (all)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "models/preact_resnet.h"
#include "models/reader.h"
#include "runtime/runtime.h"

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void time_steps(const char* label, int repeats, int64_t batch, const std::function<void()>& step) {
    std::vector<double> ms;
    for (int r = 0; r < repeats + 2; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        step();
        auto t1 = std::chrono::steady_clock::now();
        if (r >= 2) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());  // 2 warm-up steps
    }
    const double m = median(ms);
    std::printf("%s   median %.2f ms  (%.0f images/s, %d steps)\n", label, m, 1000.0 * double(batch) / m, repeats);
}

}  // namespace

int main(int argc, char** argv) {
    const int64_t batch = argc > 1 ? std::atoll(argv[1]) : 128;
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
    k2k::init_runtime(argc > 3 ? std::atoi(argv[3]) : 0);
    torch::manual_seed(0);
    torch::Tensor x = torch::rand({batch, 1, 28, 28});
    torch::Tensor y = torch::randint(0, 10, {batch}, torch::kInt64);
    torch::Tensor perm = torch::randperm(batch, torch::kInt64);
    namespace F = torch::nn::functional;

    k2k::PreActResNet resnet(k2k::PreActResNetOptions().num_classes(10));
    resnet->train();
    torch::optim::SGD sgd(resnet->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));
    time_steps("preact_resnet18 step", repeats, batch, [&] {
        torch::Tensor loss = F::cross_entropy(resnet->forward(x), y);
        sgd.zero_grad();
        loss.backward();
        sgd.step();
    });
    time_steps("preact_resnet18 manifold mixup step", repeats, batch, [&] {
        torch::Tensor logits = resnet->forward_mixed(x, 1, 0.3, perm);
        torch::Tensor loss = F::cross_entropy(logits, y) * 0.3 + F::cross_entropy(logits, y.index_select(0, perm)) * 0.7;
        sgd.zero_grad();
        loss.backward();
        sgd.step();
    });

    k2k::SimpleCnn cnn(k2k::SimpleCnnOptions().num_classes(10).image_size(28).input_size(28));
    cnn->train();
    torch::optim::Adam adam(cnn->parameters(), torch::optim::AdamOptions(1e-3));
    time_steps("simple_cnn step", repeats * 4, batch, [&] {
        torch::Tensor loss = F::cross_entropy(cnn->forward(x), y);
        adam.zero_grad();
        loss.backward();
        adam.step();
    });
    return 0;
}
