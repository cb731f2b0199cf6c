// Dataset items and images as tensors (see batches.h).
#include "run/batches.h"

#include <algorithm>
#include <cstring>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "data/raster.h"

namespace k2k {

torch::Tensor images_to_tensor(const std::vector<Image>& images, torch::Device device) {
    TORCH_CHECK(!images.empty(), "images_to_tensor: no image");
    const int64_t n = int64_t(images.size()), h = images[0].height, w = images[0].width;
    torch::Tensor t = torch::empty({n, 1, h, w}, torch::kUInt8);
    for (int64_t b = 0; b < n; ++b) {
        TORCH_CHECK(images[size_t(b)].height == h && images[size_t(b)].width == w, "images_to_tensor: images differ in size");
        std::copy(images[size_t(b)].pixels.begin(), images[size_t(b)].pixels.end(), t.data_ptr<uint8_t>() + b * h * w);
    }
    return t.to(device).to(torch::kFloat32).div_(255.0);
}

torch::Tensor image_to_tensor(const Image& image, torch::Device device) {
    torch::Tensor t = torch::from_blob(const_cast<uint8_t*>(image.pixels.data()), {1, 1, image.height, image.width},
                                       torch::kUInt8);
    return t.to(torch::kFloat).div(255.0).to(device);
}

std::vector<Image> tensor_to_images(const torch::Tensor& x, double factor) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) == 1, "tensor_to_images expects (B,1,H,W), got ", x.sizes());
    torch::Tensor u = x.detach().to(torch::kCPU, torch::kFloat).mul(factor).round().clamp(0, 255).to(torch::kUInt8).contiguous();
    std::vector<Image> out;
    const int64_t h = u.size(2), w = u.size(3);
    for (int64_t b = 0; b < u.size(0); ++b) {
        Image im{int(w), int(h)};
        const uint8_t* src = u.data_ptr<uint8_t>() + b * h * w;
        std::copy(src, src + h * w, im.pixels.begin());
        out.push_back(std::move(im));
    }
    return out;
}

Image tensor_to_image(const torch::Tensor& t, double factor) {
    TORCH_CHECK(t.dim() == 2, "tensor_to_image expects (H,W), got ", t.sizes());
    torch::Tensor u = t.detach().to(torch::kCPU, torch::kFloat).mul(factor).round().clamp(0, 255).to(torch::kUInt8).contiguous();
    Image im(int(u.size(1)), int(u.size(0)));
    std::memcpy(im.pixels.data(), u.data_ptr<uint8_t>(), im.pixels.size());
    return im;
}

namespace {

torch::Tensor images_tensor(const Dataset& ds, bool modern, const std::vector<size_t>& idx, std::mt19937* rng,
                            int min_size, int max_size, torch::Device device) {
    const int s = ds.meta.raster.size;
    const size_t bytes = ds.image_bytes();
    torch::Tensor out = torch::empty({int64_t(idx.size()), 1, s, s}, torch::kUInt8);
    uint8_t* dst = out.data_ptr<uint8_t>();
    for (size_t k = 0; k < idx.size(); ++k) {
        const uint8_t* src = modern ? ds.modern_raster(idx[k]) : ds.old_image(idx[k]);
        if (rng) {
            Image im(s, s);
            std::copy(src, src + bytes, im.pixels.begin());
            Image aug = random_resize_place(im, min_size, max_size, *rng);
            std::copy(aug.pixels.begin(), aug.pixels.end(), dst + k * bytes);
        } else {
            std::copy(src, src + bytes, dst + k * bytes);
        }
    }
    return out.to(device).to(torch::kFloat32).div_(255.0);
}

}  // namespace

torch::Tensor modern_images(const Dataset& ds, const std::vector<size_t>& idx, std::mt19937* rng, int min_size,
                            int max_size, torch::Device device) {
    return images_tensor(ds, true, idx, rng, min_size, max_size, device);
}

torch::Tensor old_images(const Dataset& ds, const std::vector<size_t>& idx, std::mt19937* rng, int min_size,
                         int max_size, torch::Device device) {
    return images_tensor(ds, false, idx, rng, min_size, max_size, device);
}

torch::Tensor stroke5_batch(const std::vector<const Stroke3*>& sketches, float scale, int max_len, StartToken start,
                            const StrokeAugmentOptions* augment, std::mt19937* rng, torch::Device device) {
    return sketch_batch(sketches, scale, max_len, start, augment, rng, nullptr, device).strokes;
}

SketchBatch sketch_batch(const std::vector<const Stroke3*>& sketches, float scale, int max_len, StartToken start,
                         const StrokeAugmentOptions* augment, std::mt19937* rng, const RasterOptions* canvas,
                         torch::Device device) {
    const int64_t b_size = int64_t(sketches.size());
    torch::Tensor out = torch::empty({b_size, max_len + 1, 5}, torch::kFloat32);
    float* dst = out.data_ptr<float>();
    std::vector<Stroke3> kept;  // the scaled, augmented sketches (for the canvas)
    for (size_t b = 0; b < sketches.size(); ++b) {
        Stroke3 s3 = *sketches[b];
        scale_stroke3(s3, scale);
        if (augment && rng) s3 = augment_stroke3(s3, *augment, *rng);
        Stroke5 s5 = stroke3_to_stroke5(s3, max_len, start);
        for (size_t r = 0; r < s5.size(); ++r)
            for (int c = 0; c < 5; ++c) dst[(b * s5.size() + r) * 5 + size_t(c)] = s5[r][size_t(c)];
        if (canvas) kept.push_back(std::move(s3));
    }
    SketchBatch batch;
    batch.strokes = out.to(device);
    if (canvas) {
        torch::Tensor features = torch::empty({b_size, max_len, kCanvasFeatures}, torch::kFloat32);
        float* f = features.data_ptr<float>();
        at::parallel_for(0, b_size, 4, [&](int64_t begin, int64_t end) {
            for (int64_t b = begin; b < end; ++b) {
                Stroke3 units = kept[size_t(b)];
                scale_stroke3(units, 1.0f / scale);  // back to KanjiVG units
                const Image image = render_strokes(stroke3_to_strokes(units), *canvas);
                std::vector<float> ink(image.pixels.size());
                for (size_t i = 0; i < ink.size(); ++i) ink[i] = float(image.pixels[i]) / 255.0f;
                canvas_sequence(units, ink.data(), *canvas, max_len, f + size_t(b) * size_t(max_len) * kCanvasFeatures);
            }
        });
        batch.canvas = features.to(device);
    }
    return batch;
}

SketchBatch trim_sketch_batch(const SketchBatch& batch) {
    const torch::Tensor& s = batch.strokes;  // (B, T+1, 5)
    TORCH_CHECK(s.dim() == 3 && s.size(1) >= 2 && s.size(2) == 5, "trim_sketch_batch: strokes must be (B, T+1, 5), got ",
                s.sizes());
    const int64_t steps = s.size(1) - 1;
    // rows 1..T before the end (p_end = 0) of each sketch: its length L
    const int64_t longest = (s.narrow(1, 1, steps).select(2, 4) < 0.5).sum(1).max().item<int64_t>();
    const int64_t kept = std::min(steps, longest + 1);
    SketchBatch out;
    out.strokes = s.narrow(1, 0, kept + 1);
    if (batch.canvas.defined()) out.canvas = batch.canvas.narrow(1, 0, kept);
    return out;
}

torch::Tensor reader_batch(const Dataset& ds, const std::vector<size_t>& entries, const std::vector<uint32_t>& seeds,
                           const ReaderAugmentOptions& augment, torch::Device device) {
    TORCH_CHECK(seeds.empty() || seeds.size() == entries.size(), "reader_batch needs one seed per entry (or none).");
    const int s = ds.meta.raster.size;
    const size_t bytes = ds.image_bytes();
    torch::Tensor out = torch::empty({int64_t(entries.size()), 1, s, s}, torch::kUInt8);
    uint8_t* dst = out.data_ptr<uint8_t>();
    at::parallel_for(0, int64_t(entries.size()), 4, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
            Strokes strokes = ds.modern_strokes(entries[size_t(k)]);
            Image img;
            if (seeds.empty()) {
                img = render_reader_clean(strokes, augment, ds.meta.raster);
            } else {
                std::mt19937 rng{seeds[size_t(k)]};
                img = augment_for_reader(strokes, augment, ds.meta.raster, rng);
            }
            std::copy(img.pixels.begin(), img.pixels.end(), dst + size_t(k) * bytes);
        }
    });
    return out.to(device).to(torch::kFloat32).div_(255.0);
}

}  // namespace k2k
