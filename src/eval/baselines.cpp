// The direct baselines of `k2k eval`: the trained CNN and raw-pixel k-NN, scored on the same
// transfer items as the reader (top-1 / top-5 of the item's own Kuzushiji class).
#include "eval/baselines.h"

#include <algorithm>
#include <map>

#include <torch/torch.h>

#include "eval/scoring.h"
#include "run/batches.h"
#include "run/loaders.h"

namespace k2k {

using nlohmann::json;

namespace {

std::vector<size_t> old_indices(const std::vector<TransferItem>& items) {
    std::vector<size_t> indices;
    for (const TransferItem& item : items) indices.push_back(item.old_index);
    return indices;
}

}  // namespace

const std::vector<size_t>& knn_reference(const EvalContext& context) { return context.data.old[int(Split::Train)]; }

json cnn_baseline(const EvalContext& context, const std::vector<TransferItem>& items, std::vector<ItemRow>& rows) {
    if (!context.complete("baseline")) {
        context.say("baseline is not trained (k2k train --stage baseline): the CNN baseline is skipped");
        return nullptr;
    }
    if (items.empty()) return nullptr;
    torch::NoGradGuard no_grad;
    TrainedBaseline cnn = load_trained_baseline(context.config, context.device);
    std::map<uint32_t, int64_t> class_index;  // code point -> logit index
    for (size_t i = 0; i < cnn.classes.size(); ++i) class_index[cnn.classes[i]] = int64_t(i);
    const std::vector<size_t> queries = old_indices(items);
    double top1 = 0, top5 = 0;
    for (size_t start = 0; start < items.size(); start += 256) {
        const size_t end = std::min(items.size(), start + 256);
        std::vector<size_t> batch(queries.begin() + long(start), queries.begin() + long(end));
        std::vector<int64_t> targets;
        for (size_t k = start; k < end; ++k) {
            auto found = class_index.find(items[k].old_codepoint);
            targets.push_back(found == class_index.end() ? -1 : found->second);
        }
        torch::Tensor logits =
            cnn.model->forward(old_images(context.data.ds, batch, nullptr, 64, 64, context.device)).to(torch::kCPU);  // (B,C)
        torch::Tensor target = torch::tensor(targets, torch::kInt64);  // (B,)
        top1 += topk_hits(logits, target, 1).sum().item<double>();
        top5 += topk_hits(logits, target, 5).sum().item<double>();
        torch::Tensor predicted = logits.argmax(1);  // (B,)
        for (size_t k = start; k < end; ++k)
            rows[k].cnn = cnn.classes[size_t(predicted[int64_t(k - start)].item<int64_t>())];
    }
    const double count = double(items.size());
    return {{"top1", top1 / count}, {"top5", top5 / count}, {"classes", cnn.classes.size()}, {"items", items.size()}};
}

json knn_baseline(const EvalContext& context, const std::vector<TransferItem>& items, std::vector<ItemRow>& rows) {
    const std::vector<size_t>& reference = knn_reference(context);
    if (reference.empty() || items.empty()) return nullptr;
    torch::NoGradGuard no_grad;
    const Dataset& dataset = context.data.ds;
    const int64_t k = context.config.baseline.knn_k;
    // Raw 8-bit pixels as the reference (converted chunk by chunk), the queries on the same scale.
    torch::Tensor reference_pixels =
        old_images(dataset, reference, nullptr, 64, 64, torch::kCPU).mul_(255.0).to(torch::kUInt8).flatten(1);  // (R,4096)
    torch::Tensor query_pixels = old_images(dataset, old_indices(items), nullptr, 64, 64, torch::kCPU).mul_(255.0).flatten(1);  // (Q,4096)
    torch::Tensor neighbours =
        nearest_neighbours(reference_pixels.to(context.device), query_pixels.to(context.device), k).to(torch::kCPU);  // (Q,k)
    double top1 = 0, top5 = 0;
    for (size_t q = 0; q < items.size(); ++q) {
        std::vector<int64_t> labels;  // nearest first
        for (int64_t j = 0; j < neighbours.size(1); ++j)
            labels.push_back(int64_t(dataset.old_codepoint(reference[size_t(neighbours[int64_t(q)][j].item<int64_t>())])));
        const std::vector<int64_t> ranking = knn_ranking(labels);
        const int64_t target = int64_t(items[q].old_codepoint);
        const auto first5 = ranking.begin() + long(std::min<size_t>(5, ranking.size()));
        top1 += ranking[0] == target;
        top5 += std::find(ranking.begin(), first5, target) != first5;
        rows[q].knn = uint32_t(ranking[0]);
    }
    const double count = double(items.size());
    return {{"k", k}, {"top1", top1 / count}, {"top5", top5 / count}, {"reference", reference.size()}, {"items", items.size()}};
}

}  // namespace k2k
