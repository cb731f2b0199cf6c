// The classify networks' holder and loader (see classifier.h).
#include "run/classifier.h"

#include <torch/torch.h>

#include "run/checkpoint.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "util/error.h"

namespace k2k {

torch::nn::Module& ClassifierNet::module() {
    if (cnn) return *cnn;
    return *resnet;
}

torch::Tensor ClassifierNet::forward(const torch::Tensor& x) { return cnn ? cnn->forward(x) : resnet->forward(x); }

torch::Tensor ClassifierNet::forward_mixed(const torch::Tensor& x, int layer, double lam, const torch::Tensor& perm) {
    if (cnn) return cnn->forward_mixed(x, lam, perm);
    return resnet->forward_mixed(x, layer, lam, perm);
}

ClassifierNet make_classifier(const ClassifyConfig& c, int64_t num_classes, int64_t image_size) {
    ClassifierNet net;
    if (c.model == "simple_cnn") {
        if (c.mixup == "manifold") throw Error("classify.mixup manifold needs model preact_resnet18 (the simple CNN mixes its input only)");
        net.cnn = SimpleCnn(classify_cnn_options(c, num_classes, image_size));
    } else if (c.model == "preact_resnet18") {
        net.resnet = PreActResNet(classify_resnet_options(c, num_classes));
    } else {
        throw Error("classify.model " + c.model + " has no network to train (k2k classify eval computes it directly)");
    }
    return net;
}

torch::Tensor image_batch(const LabelledImages& images, const std::vector<int64_t>& indices, torch::Device device) {
    const int64_t h = images.height, w = images.width, n = int64_t(indices.size());
    torch::Tensor out = torch::empty({n, 1, h, w}, torch::kUInt8);
    uint8_t* p = out.data_ptr<uint8_t>();
    for (int64_t i = 0; i < n; ++i) std::memcpy(p + i * h * w, images.image(indices[size_t(i)]), size_t(h * w));
    return out.to(device).to(torch::kFloat32).div_(255.0);
}

std::vector<int32_t> classify_images(ClassifierNet& net, const LabelledImages& images, torch::Device device, int64_t batch) {
    torch::NoGradGuard no_grad;
    net.module().eval();
    std::vector<int32_t> out;
    out.reserve(size_t(images.size()));
    for (int64_t start = 0; start < images.size(); start += batch) {
        std::vector<int64_t> idx;
        for (int64_t i = start; i < std::min(images.size(), start + batch); ++i) idx.push_back(i);
        torch::Tensor predicted = net.forward(image_batch(images, idx, device)).argmax(1).to(torch::kCPU);  // (B,)
        for (int64_t i = 0; i < predicted.size(0); ++i) out.push_back(int32_t(predicted[i].item<int64_t>()));
    }
    return out;
}

ClassifierNet load_trained_classifier(const Config& c, int64_t num_classes, int64_t image_size, torch::Device device) {
    ClassifierNet net = make_classifier(c.classify, num_classes, image_size);
    const std::string path = best_checkpoint(c, "classify");
    load_archive(path, [&](torch::serialize::InputArchive& a) { archive_read_module(a, "model", net.module()); });
    net.module().to(device);
    net.module().eval();
    return net;
}

}  // namespace k2k
