// The pen-centred view of the ink still to draw (see canvas.h).
#include "data/canvas.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace k2k {

namespace {

constexpr int kCells[3] = {8, 4, 2};   // cell side per level, pixels
constexpr int kReach[3] = {7, 4, 3};   // window half-width per level, cells

// Distance from (px, py) to the segment (x0, y0)-(x1, y1).
double segment_distance(double px, double py, double x0, double y0, double x1, double y1) {
    const double vx = x1 - x0, vy = y1 - y0, len2 = vx * vx + vy * vy;
    double t = len2 > 0 ? ((px - x0) * vx + (py - y0) * vy) / len2 : 0.0;
    t = std::clamp(t, 0.0, 1.0);
    const double dx = px - (x0 + t * vx), dy = py - (y0 + t * vy);
    return std::sqrt(dx * dx + dy * dy);
}

}  // namespace

CanvasTracker::CanvasTracker(const float* ink, const RasterOptions& raster) : size_(raster.size) {
    if (raster.fit_bbox) throw Error("CanvasTracker: the raster must map the whole canvas (fit_bbox false)");
    if (size_ < 8 || size_ % 8 != 0) throw Error("CanvasTracker: raster size must be a multiple of 8, got " + std::to_string(size_));
    scale_ = (double(size_) - 2.0 * double(raster.margin)) / double(raster.canvas);
    offset_ = double(raster.margin);
    radius_ = std::max(1.0, 0.75 * double(raster.line_width));
    const size_t n = size_t(size_) * size_t(size_);
    ink_.resize(n);
    for (size_t i = 0; i < n; ++i) ink_[i] = std::isfinite(ink[i]) ? std::clamp(ink[i], 0.0f, 1.0f) : 0.0f;
    remaining_ = ink_;
    for (int level = 0; level < 3; ++level) {
        const int c = kCells[level], g = size_ / c;
        std::vector<float> pooled(size_t(g) * size_t(g), 0.0f);
        for (int y = 0; y < size_; ++y)
            for (int x = 0; x < size_; ++x) pooled[size_t(y / c) * size_t(g) + size_t(x / c)] += ink_[size_t(y) * size_t(size_) + size_t(x)];
        for (float& v : pooled) v /= float(c * c);
        pooled_.push_back(std::move(pooled));
    }
    for (float v : ink_) initial_ += v;
    left_ = initial_;
}

void CanvasTracker::erase_segment(double x0, double y0, double x1, double y1) {
    const double reach = radius_ + 1.0;
    const int lo_x = std::max(0, int(std::floor(std::min(x0, x1) - reach)));
    const int hi_x = std::min(size_ - 1, int(std::ceil(std::max(x0, x1) + reach)));
    const int lo_y = std::max(0, int(std::floor(std::min(y0, y1) - reach)));
    const int hi_y = std::min(size_ - 1, int(std::ceil(std::max(y0, y1) + reach)));
    for (int y = lo_y; y <= hi_y; ++y)
        for (int x = lo_x; x <= hi_x; ++x) {
            const double d = segment_distance(x + 0.5, y + 0.5, x0, y0, x1, y1);
            if (d >= reach) continue;
            float& r = remaining_[size_t(y) * size_t(size_) + size_t(x)];
            const float updated = r * float(std::clamp(d - radius_, 0.0, 1.0));
            const float delta = updated - r;
            if (delta == 0.0f) continue;
            r = updated;
            left_ += delta;
            for (int level = 0; level < 3; ++level) {
                const int c = kCells[level], g = size_ / c;
                pooled_[size_t(level)][size_t(y / c) * size_t(g) + size_t(x / c)] += delta / float(c * c);
            }
        }
}

void CanvasTracker::feed(float dx, float dy, bool pen_lifted) {
    const double nx = x_ + double(dx), ny = y_ + double(dy);
    const double px0 = offset_ + scale_ * x_, py0 = offset_ + scale_ * y_;
    const double px1 = offset_ + scale_ * nx, py1 = offset_ + scale_ * ny;
    if (std::isfinite(px1) && std::isfinite(py1)) {
        if (!lifted_) erase_segment(px0, py0, px1, py1);
        else if (pen_lifted) erase_segment(px1, py1, px1, py1);  // a one-point stroke: a dot
    }
    x_ = nx;
    y_ = ny;
    lifted_ = pen_lifted;
}

double CanvasTracker::sample_pooled(int level, double x, double y) const {
    const int c = kCells[level], g = size_ / c;
    const double u = x / c - 0.5, v = y / c - 0.5;
    const int u0 = int(std::floor(u)), v0 = int(std::floor(v));
    const double fu = u - u0, fv = v - v0;
    const std::vector<float>& map = pooled_[size_t(level)];
    auto at = [&](int cu, int cv) -> double {
        if (cu < 0 || cv < 0 || cu >= g || cv >= g) return 0.0;
        return map[size_t(cv) * size_t(g) + size_t(cu)];
    };
    return (1 - fv) * ((1 - fu) * at(u0, v0) + fu * at(u0 + 1, v0)) + fv * ((1 - fu) * at(u0, v0 + 1) + fu * at(u0 + 1, v0 + 1));
}

void CanvasTracker::features(float* out) const {
    double px = offset_ + scale_ * x_, py = offset_ + scale_ * y_;
    if (!std::isfinite(px) || !std::isfinite(py)) px = py = -1e6;  // far outside: every window reads 0
    px = std::clamp(px, -1e6, 1e6);
    py = std::clamp(py, -1e6, 1e6);
    *out++ = float(std::clamp(px / size_, -2.0, 3.0));
    *out++ = float(std::clamp(py / size_, -2.0, 3.0));
    *out++ = initial_ > 0 ? float(std::max(0.0, left_ / initial_)) : 0.0f;
    for (int level = 0; level < 3; ++level) {
        const int c = kCells[level], r = kReach[level];
        for (int j = -r; j <= r; ++j)
            for (int i = -r; i <= r; ++i) *out++ = float(sample_pooled(level, px + i * c, py + j * c));
    }
}

void canvas_sequence(const Stroke3& s3, const float* ink, const RasterOptions& raster, int rows, float* out) {
    CanvasTracker tracker(ink, raster);
    for (int t = 0; t < rows; ++t) {
        tracker.features(out + size_t(t) * kCanvasFeatures);
        if (size_t(t) < s3.size()) tracker.feed(s3[size_t(t)][0], s3[size_t(t)][1], s3[size_t(t)][2] > 0.5f);
    }
}

}  // namespace k2k
