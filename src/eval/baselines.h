// The direct baselines of `k2k eval` on the transfer items: the CNN trained to read Kuzushiji
// images as their own class, and raw-pixel k-NN against the train split's images.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "eval/context.h"
#include "eval/transfer.h"

namespace k2k {

// {top1, top5, classes, items} of the trained baseline CNN reading each item's image as its
// Kuzushiji class, or null (with a note on stdout when it is not trained). Sets rows[k].cnn.
nlohmann::json cnn_baseline(const EvalContext& context, const std::vector<TransferItem>& items,
                            std::vector<ItemRow>& rows);

// {k, top1, top5, reference, items} of k-NN (k = baseline.knn_k) over the 8-bit pixels of the
// train split's images (the reference), ranked by knn_ranking; null without reference or items.
// Sets rows[k].knn.
nlohmann::json knn_baseline(const EvalContext& context, const std::vector<TransferItem>& items,
                            std::vector<ItemRow>& rows);

// The k-NN reference: the train split's old images.
const std::vector<size_t>& knn_reference(const EvalContext& context);

}  // namespace k2k
