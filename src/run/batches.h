// Dataset items and images as the models see them: (B,1,S,S) float batches in [0,1] (ink = 1),
// stroke-5 batches, reader renders, and the way back to 8-bit images. The one place where pixels
// cross between the torch-free data layer and tensors.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "data/cache.h"
#include "data/canvas.h"
#include "data/reader_augment.h"
#include "data/strokes.h"

namespace k2k {

// Images (all the same size) -> (B,1,H,W) float in [0,1] on `device`.
torch::Tensor images_to_tensor(const std::vector<Image>& images, torch::Device device);
// One image -> (1,1,H,W) float in [0,1] on `device`.
torch::Tensor image_to_tensor(const Image& image, torch::Device device);
// x (B,1,H,W) on any device -> B images, pixels = round(x * factor) clamped to 0..255.
std::vector<Image> tensor_to_images(const torch::Tensor& x, double factor = 255.0);
// t (H,W) on any device -> one image, pixels = round(t * factor) clamped to 0..255.
Image tensor_to_image(const torch::Tensor& t, double factor = 255.0);

// Dataset images -> (B,1,S,S) float in [0,1] on `device` (ink = 1, as stored). With `rng`, each
// image is augmented by random_resize_place(min_size, max_size).
torch::Tensor modern_images(const Dataset& ds, const std::vector<size_t>& idx, std::mt19937* rng, int min_size,
                            int max_size, torch::Device device);
torch::Tensor old_images(const Dataset& ds, const std::vector<size_t>& idx, std::mt19937* rng, int min_size,
                         int max_size, torch::Device device);

// Sketches -> stroke-5 batch (B, max_len+1, 5) on `device`, each divided by `scale` (the train
// set's delta std), augmented when `rng` is given. Sketches longer than max_len throw.
torch::Tensor stroke5_batch(const std::vector<const Stroke3*>& sketches, float scale, int max_len, StartToken start,
                            const StrokeAugmentOptions* augment, std::mt19937* rng, torch::Device device);

// stroke5_batch and, with `canvas`, the decoder's canvas features of the same (augmented) sketches:
// canvas (B, max_len, kCanvasFeatures), row t what data/canvas.h's tracker shows before stroke-5
// row t + 1, its ink the sketch rendered with `canvas` (back in KanjiVG units).
struct SketchBatch {
    torch::Tensor strokes;  // (B, max_len+1, 5)
    torch::Tensor canvas;   // (B, max_len, kCanvasFeatures), undefined without `canvas`
};
SketchBatch sketch_batch(const std::vector<const Stroke3*>& sketches, float scale, int max_len, StartToken start,
                         const StrokeAugmentOptions* augment, std::mt19937* rng, const RasterOptions* canvas,
                         torch::Device device);

// sketch.trim_padding: the batch cut after the row where its longest sketch ends, i.e. T' = min(T,
// longest L + 1) steps of (B, T'+1, 5) strokes and (B, T', F) canvas (views, no copy), so that every
// sketch's first end row is still a target. Rows after it are end padding in every sketch.
SketchBatch trim_sketch_batch(const SketchBatch& batch);

// Renders of `entries` (dataset modern indices) as a (B,1,S,S) float batch in [0,1] on `device`,
// S = ds.meta.raster.size: augment_for_reader with std::mt19937(seeds[k]) for entry k, or the clean
// held-out render when `seeds` is empty. Rendered in parallel; the result does not depend on the
// thread count.
torch::Tensor reader_batch(const Dataset& ds, const std::vector<size_t>& entries, const std::vector<uint32_t>& seeds,
                           const ReaderAugmentOptions& augment, torch::Device device);

}  // namespace k2k
