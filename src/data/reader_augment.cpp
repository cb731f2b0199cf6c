// Reader renders: the random sketchy distortions of training and the clean held-out render.
#include "data/reader_augment.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "data/strokes.h"
#include "util/error.h"

namespace k2k {

namespace {

constexpr float kCanvasCentre = 54.5f;  // centre of KanjiVG's 109-unit canvas

// Uniform in [0, 1) from the top 24 bits of one output (portable, unlike std distributions).
float unit(std::mt19937& rng) { return float(rng() >> 8) * (1.0f / 16777216.0f); }
float symmetric(std::mt19937& rng) { return 2.0f * unit(rng) - 1.0f; }
// Standard normal by Box-Muller from two outputs.
float normal(std::mt19937& rng) {
    float u1 = 1.0f - unit(rng);  // (0, 1]
    float u2 = unit(rng);
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
}

float polyline_length(const Polyline& line) {
    float len = 0;
    for (size_t i = 1; i < line.size(); ++i) len += std::hypot(line[i].x - line[i - 1].x, line[i].y - line[i - 1].y);
    return len;
}

}  // namespace

float reader_line_width(float u, const ReaderAugmentOptions& o) {
    const float lo = o.line_width_min, hi = o.line_width_max;
    if (!(lo <= hi)) throw Error("reader_line_width: line_width_min exceeds line_width_max");
    // The part of the band inside [lo, hi] is cut out and the two pieces laid end to end.
    const float band_lo = std::max(lo, o.heldout_line_width - kReaderHeldoutBand);
    const float band_hi = std::min(hi, o.heldout_line_width + kReaderHeldoutBand);
    const float cut = band_hi > band_lo ? band_hi - band_lo : 0.0f;
    const float span = hi - lo - cut;
    if (cut > 0 && span <= 0)
        throw Error("reader_line_width: the held-out band around heldout_line_width covers the whole line width range");
    float w = lo + u * span;
    if (cut > 0 && w >= band_lo) w += cut;
    return std::min(w, hi);
}

Image gaussian_blur(const Image& image, float sigma) {
    if (sigma <= 0) return image;
    const int r = int(std::ceil(3.0f * sigma));
    std::vector<float> k(size_t(2 * r + 1));
    float sum = 0;
    for (int i = -r; i <= r; ++i) sum += k[size_t(i + r)] = std::exp(-0.5f * float(i * i) / (sigma * sigma));
    for (float& v : k) v /= sum;
    const int w = image.width, h = image.height;
    std::vector<float> tmp(size_t(w) * size_t(h), 0.0f);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            float acc = 0;
            for (int i = -r; i <= r; ++i) {
                int xx = x + i;
                if (xx >= 0 && xx < w) acc += k[size_t(i + r)] * image.at(xx, y);
            }
            tmp[size_t(y) * size_t(w) + size_t(x)] = acc;
        }
    Image out(w, h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            float acc = 0;
            for (int i = -r; i <= r; ++i) {
                int yy = y + i;
                if (yy >= 0 && yy < h) acc += k[size_t(i + r)] * tmp[size_t(yy) * size_t(w) + size_t(x)];
            }
            out.at(x, y) = uint8_t(std::min(255.0f, std::round(acc)));
        }
    return out;
}

Image augment_for_reader(const Strokes& strokes, const ReaderAugmentOptions& o, const RasterOptions& raster,
                         std::mt19937& rng) {
    Strokes s = strokes;
    // Drop one short stroke, as sampled sketches forget ticks and dots.
    if (s.size() > 1 && unit(rng) < o.drop_stroke) {
        std::vector<size_t> short_ones;
        for (size_t i = 0; i < s.size(); ++i)
            if (polyline_length(s[i]) < kReaderShortStroke) short_ones.push_back(i);
        if (!short_ones.empty()) s.erase(s.begin() + long(short_ones[rng() % short_ones.size()]));
    }
    // Fewer, straighter segments like the RDP-simplified strokes the Sketch-RNN learns, then
    // per-vertex wobble (a hand that does not hit the same point twice).
    s = rdp_simplify(s, o.rdp_max * unit(rng));
    const float wobble = o.wobble * unit(rng);
    for (Polyline& line : s)
        for (Point& p : line) {
            p.x += wobble * normal(rng);
            p.y += wobble * normal(rng);
        }
    // Affine map about the canvas centre: rotation * shear * per-axis scale, then a shift.
    const float sx = 1.0f + o.affine * symmetric(rng), sy = 1.0f + o.affine * symmetric(rng);
    const float rot = o.affine * symmetric(rng), shear = o.affine * symmetric(rng);
    const float tx = o.translate * symmetric(rng), ty = o.translate * symmetric(rng);
    const float c = std::cos(rot), sn = std::sin(rot);
    for (Polyline& line : s)
        for (Point& p : line) {
            float x = (p.x - kCanvasCentre) * sx, y = (p.y - kCanvasCentre) * sy;
            x += shear * y;
            p.x = kCanvasCentre + c * x - sn * y + tx;
            p.y = kCanvasCentre + sn * x + c * y + ty;
        }
    RasterOptions ro = raster;
    ro.line_width = reader_line_width(unit(rng), o);
    Image img = render_strokes(s, ro);
    if (unit(rng) < 0.5f) img = gaussian_blur(img, o.blur_max * unit(rng));
    const float ink = o.ink_min + (1.0f - o.ink_min) * unit(rng);
    for (uint8_t& v : img.pixels) v = uint8_t(std::round(float(v) * ink));
    return img;
}

Image render_reader_clean(const Strokes& strokes, const ReaderAugmentOptions& o, const RasterOptions& raster) {
    RasterOptions ro = raster;
    ro.line_width = o.heldout_line_width;
    return render_strokes(strokes, ro);
}

}  // namespace k2k
