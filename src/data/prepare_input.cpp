// prepare_input: box crop, background and inversion, ink box by hysteresis with speck removal,
// square framing, resize and level stretch. Calibrated on real Kuzushiji-Kanji images (below).
#include "data/prepare_input.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "util/error.h"

namespace k2k {

// Calibration, on 300 Kuzushiji-Kanji images (one random image of each of 300 random classes):
// - the border's median is 0 in all of them;
// - with "ink" = any grey above 0, 8, 32 or 128, the ink box's longer side is the full 64 pixels
//   in 87 %, 85 %, 81 % and 36 % of them (first 150; a faint anti-aliased edge surrounds the
//   strokes), and the box is centred across the shorter side, the odd pixel of an odd difference
//   on the right/bottom in 74 % of those cases;
// - so the margin is 0 (0.01 made the mean difference below 16.2, 0.02 made it 20.6) and faint ink
//   starts right above the background's noise allowance (starting it at 2 %, 5 % or 10 % of the
//   ink's range instead gave 5.58, 6.35 and 7.39);
// - Otsu's threshold lies at 91..125 and the 90th percentile of the pixels above it is 255 in 99 %
//   of the images, so stretching that percentile to 255 leaves them as they are.
// Result: prepare_input returns 237 of the 300 pixel for pixel; mean absolute difference 4.30 grey
// levels, median 0, 90th percentile 19.2, max 50.8. Of the other 63, 38 are images whose ink stops
// short of the edges, which prepare_input enlarges to touch them, and 25 touch the edges but sit a
// pixel off centre (mostly the odd pixel on the left/top), which it moves back.
namespace {

constexpr int kMaxOutputSize = 1024;
constexpr double kMaxMargin = 0.45;
constexpr double kNoiseSigmas = 3.0;     // the background: border median + 3 sigma (sigma = 1.4826 MAD)
constexpr double kInkPercentile = 0.90;  // of the pixels above Otsu's threshold: the ink level, -> 255
constexpr int kMinInkRange = 16;         // ink less than 16 grey levels above the background: blank
constexpr double kSpeckArea = 0.02;      // a component under 2 % of the ink's pixels may be a speck...
constexpr double kSpeckGap = 0.08;       // ...and is one when 8 % of the ink box's side away from it

// Grey levels in the "ink is bright" polarity (after inversion), from the source.
struct Levels {
    bool inverted = false;
    int background = 0;  // border median, source polarity
    double base = 0;     // the background after inversion
    double noise = 0;    // its standard deviation, estimated as 1.4826 MAD of the border
    double low = 0;      // above: faint ink when connected to strong ink (base + kNoiseSigmas noise)
    int strong = 0;      // above: surely ink (Otsu's threshold, at least `low`)
};

// One connected piece of ink (8-connected pixels above Levels::low holding a strong one).
struct Component {
    uint32_t area = 0;
    int x0 = INT_MAX, y0 = INT_MAX, x1 = -1, y1 = -1;  // inclusive bounds, region coordinates
};

// The (boxed) source: pixels at(x, y) for 0 <= x < box.width, 0 <= y < box.height.
struct Region {
    const Image* image = nullptr;
    Box box;
    uint8_t at(int x, int y) const { return image->at(box.x + x, box.y + y); }
};

std::string box_text(const Box& b) {
    return std::to_string(b.x) + "," + std::to_string(b.y) + "," + std::to_string(b.width) + "," + std::to_string(b.height);
}

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

void check_options(const Image& source, const PrepareOptions& o, const std::string& name) {
    if (o.size < 1 || o.size > kMaxOutputSize)
        throw Error(name + ": output size must be 1.." + std::to_string(kMaxOutputSize) + ", got " + std::to_string(o.size));
    if (!(o.margin >= 0.0 && o.margin <= kMaxMargin))
        throw Error(name + ": margin must be 0..0.45 of the output side, got " + number_text(o.margin));
    if (source.width <= 0 || source.height <= 0 || source.pixels.size() != size_t(source.width) * size_t(source.height))
        throw Error(name + ": empty image");
    if (uint64_t(source.width) * uint64_t(source.height) >= uint64_t(UINT32_MAX))
        throw Error(name + ": image too large to prepare");
}

Region boxed_region(const Image& source, const PrepareOptions& o, const std::string& name) {
    Region r{&source, Box{0, 0, source.width, source.height}};
    if (!o.has_box) return r;
    const Box& b = o.box;
    if (b.width <= 0 || b.height <= 0)
        throw Error(name + ": box " + box_text(b) + " is empty (width and height must be positive)");
    if (b.x < 0 || b.y < 0 || int64_t(b.x) + b.width > source.width || int64_t(b.y) + b.height > source.height)
        throw Error(name + ": box " + box_text(b) + " is not inside the " + std::to_string(source.width) + "x" +
                    std::to_string(source.height) + " image");
    r.box = b;
    return r;
}

// The value at which `count` pixels of `hist` (cumulative from 0) are reached.
int hist_rank(const std::vector<uint64_t>& hist, uint64_t count) {
    uint64_t cum = 0;
    for (int v = 0; v < 256; v++) {
        cum += hist[size_t(v)];
        if (cum >= count) return v;
    }
    return 255;
}

int hist_median(const std::vector<uint64_t>& hist) {
    uint64_t n = 0;
    for (uint64_t c : hist) n += c;
    return hist_rank(hist, (n + 1) / 2);
}

// The outer ring of pixels is nearly all background even when strokes touch the edge; its
// median and median absolute deviation stand for the background level and its noise.
void border_stats(const Region& r, int* median, int* mad) {
    std::vector<uint64_t> hist(256, 0);
    const int w = r.box.width, h = r.box.height;
    for (int x = 0; x < w; x++) {
        hist[r.at(x, 0)]++;
        if (h > 1) hist[r.at(x, h - 1)]++;
    }
    for (int y = 1; y + 1 < h; y++) {
        hist[r.at(0, y)]++;
        if (w > 1) hist[r.at(w - 1, y)]++;
    }
    *median = hist_median(hist);
    std::vector<uint64_t> dev(256, 0);
    for (int v = 0; v < 256; v++) dev[size_t(std::abs(v - *median))] += hist[size_t(v)];
    *mad = hist_median(dev);
}

// Histogram of the region in the ink-is-bright polarity.
std::vector<uint64_t> region_histogram(const Region& r, bool inverted) {
    std::vector<uint64_t> hist(256, 0);
    for (int y = 0; y < r.box.height; y++)
        for (int x = 0; x < r.box.width; x++) hist[inverted ? 255 - r.at(x, y) : r.at(x, y)]++;
    return hist;
}

// Otsu's threshold (Otsu 1979, eq. 18: the split maximising the between-class variance); the
// classes are <= t and > t.
int otsu_threshold(const std::vector<uint64_t>& hist) {
    double total = 0, sum = 0;
    for (int v = 0; v < 256; v++) {
        total += double(hist[size_t(v)]);
        sum += double(v) * double(hist[size_t(v)]);
    }
    double w0 = 0, sum0 = 0, best = -1;
    int best_t = 0;
    for (int t = 0; t < 255; t++) {
        w0 += double(hist[size_t(t)]);
        sum0 += double(t) * double(hist[size_t(t)]);
        const double w1 = total - w0;
        if (w0 == 0 || w1 == 0) continue;
        const double d = sum0 / w0 - (sum - sum0) / w1;
        const double between = w0 * w1 * d * d;
        if (between > best) {
            best = between;
            best_t = t;
        }
    }
    return best_t;
}

bool decide_inversion(InvertMode mode, int background) {
    if (mode == InvertMode::Yes) return true;
    if (mode == InvertMode::No) return false;
    return background > 127;
}

Levels measure_levels(const Region& r, InvertMode mode, const std::string& name) {
    Levels l;
    int median = 0, mad = 0;
    border_stats(r, &median, &mad);
    l.background = median;
    l.inverted = decide_inversion(mode, median);
    l.base = l.inverted ? 255 - median : median;
    l.noise = 1.4826 * mad;
    l.low = std::min(254.0, l.base + kNoiseSigmas * l.noise);
    const std::vector<uint64_t> hist = region_histogram(r, l.inverted);
    l.strong = std::max(otsu_threshold(hist), int(std::ceil(l.low)));
    uint64_t above = 0;
    for (int v = l.strong + 1; v < 256; v++) above += hist[size_t(v)];
    if (above == 0) throw Error(name + ": no ink found (the image is blank)");
    uint64_t below = 0;
    for (int v = 0; v <= l.strong; v++) below += hist[size_t(v)];
    const int ink = hist_rank(hist, below + uint64_t(std::ceil(kInkPercentile * double(above))));
    if (ink - l.low < kMinInkRange) throw Error(name + ": no ink found (the image is blank)");
    return l;
}

// 8-connected flood fill from `start` over pixels marked 1 in `state` (faint ink), marking them 2;
// `strong` tells whether one of them is strong ink. Explicit stack: a stroke can be millions of pixels.
Component flood_component(const Region& r, std::vector<uint8_t>& state, const std::vector<uint8_t>& grey, uint32_t start,
                          int strong_level, bool* strong, std::vector<uint32_t>& stack) {
    const int w = r.box.width, h = r.box.height;
    Component c;
    *strong = false;
    stack.assign(1, start);
    state[start] = 2;
    while (!stack.empty()) {
        const uint32_t p = stack.back();
        stack.pop_back();
        const int x = int(p % uint32_t(w)), y = int(p / uint32_t(w));
        c.area++;
        c.x0 = std::min(c.x0, x), c.x1 = std::max(c.x1, x), c.y0 = std::min(c.y0, y), c.y1 = std::max(c.y1, y);
        if (grey[r.at(x, y)] > strong_level) *strong = true;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                const int nx = x + dx, ny = y + dy;
                if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
                const uint32_t q = uint32_t(ny) * uint32_t(w) + uint32_t(nx);
                if (state[q] != 1) continue;
                state[q] = 2;
                stack.push_back(q);
            }
    }
    return c;
}

// The pieces of ink: connected faint pixels, kept when they hold strong ink (a faint blob alone is
// paper texture or noise).
std::vector<Component> find_components(const Region& r, const Levels& l) {
    std::vector<uint8_t> grey(256);
    for (int v = 0; v < 256; v++) grey[size_t(v)] = uint8_t(l.inverted ? 255 - v : v);
    const int w = r.box.width, h = r.box.height;
    std::vector<uint8_t> state(size_t(w) * size_t(h), 0);  // 0 background, 1 faint ink, 2 visited
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (grey[r.at(x, y)] > l.low) state[size_t(y) * size_t(w) + size_t(x)] = 1;
    std::vector<Component> out;
    std::vector<uint32_t> stack;
    for (uint32_t p = 0; p < state.size(); p++) {
        if (state[p] != 1) continue;
        bool strong = false;
        Component c = flood_component(r, state, grey, p, l.strong, &strong, stack);
        if (strong) out.push_back(c);
    }
    return out;
}

void add_to_box(Component& box, const Component& c) {
    box.x0 = std::min(box.x0, c.x0), box.y0 = std::min(box.y0, c.y0);
    box.x1 = std::max(box.x1, c.x1), box.y1 = std::max(box.y1, c.y1);
}

// The ink's box without specks: the big components' box, plus each small one that lies within
// kSpeckGap of it. On the 300 calibration images no small component lay more than 1 pixel
// outside the big ones' box; a speck of dust in the corner of a crop lies far outside.
Component ink_bounds(const std::vector<Component>& comps) {
    uint64_t total = 0;
    uint32_t largest = 0;
    for (const Component& c : comps) total += c.area, largest = std::max(largest, c.area);
    const double big = std::min(kSpeckArea * double(total), double(largest));
    Component box;
    for (const Component& c : comps)
        if (double(c.area) >= big) add_to_box(box, c);
    const double reach = kSpeckGap * std::max(box.x1 - box.x0 + 1, box.y1 - box.y0 + 1);
    Component out = box;
    for (const Component& c : comps) {
        const int gap = std::max({box.x0 - c.x1, c.x0 - box.x1, box.y0 - c.y1, c.y0 - box.y1, 0});
        if (double(gap) <= reach) add_to_box(out, c);
    }
    return out;
}

// The square of source pixels that becomes the output: side `side`, top-left (x0, y0) in region
// coordinates (it may reach outside the region, which reads as background).
struct Square {
    int x0 = 0;
    int y0 = 0;
    int side = 1;
};

// The content centred in a square with `margin` of its side empty on each side. Integer pixel
// offsets (the extra pixel of an odd difference goes below/right, as in most Kuzushiji-Kanji
// images), so a Kuzushiji-Kanji image maps onto itself pixel for pixel.
Square frame_square(int x0, int y0, int x1, int y1, double margin) {
    const int w = x1 - x0 + 1, h = y1 - y0 + 1;
    const int longer = std::max(w, h);
    Square s;
    s.side = std::max(longer, int(std::lround(double(longer) / (1.0 - 2.0 * margin))));
    s.x0 = x0 - (s.side - w) / 2;
    s.y0 = y0 - (s.side - h) / 2;
    return s;
}

// Reads the square in the ink-is-bright polarity; outside the region, the background.
struct SquareSampler {
    const Region* region;
    bool inverted;
    double fill;
    Square square;
    double at(int u, int v) const {
        const int x = square.x0 + u, y = square.y0 + v;
        if (x < 0 || y < 0 || x >= region->box.width || y >= region->box.height) return fill;
        const uint8_t g = region->at(x, y);
        return inverted ? 255 - g : g;
    }
};

// Box filter: each output pixel is the mean of the square's area it covers (partial pixels
// weighted). Only the region's pixels are visited, the rest of the cell counting as `fill`: the
// square of a 16 M x 1 strip is 16 M pixels wide, and visiting all of it would take 2.8e14 steps.
double area_average(const SquareSampler& s, int i, int j, double scale) {
    const double ax = i * scale, bx = (i + 1) * scale, ay = j * scale, by = (j + 1) * scale;
    const int u0 = std::max(int(std::floor(ax)), -s.square.x0);
    const int u1 = std::min(int(std::ceil(bx)), s.region->box.width - s.square.x0);
    const int v0 = std::max(int(std::floor(ay)), -s.square.y0);
    const int v1 = std::min(int(std::ceil(by)), s.region->box.height - s.square.y0);
    double sum = 0;  // of weight * (value - fill)
    for (int v = v0; v < v1; v++) {
        const double wy = std::min(by, v + 1.0) - std::max(ay, double(v));
        for (int u = u0; u < u1; u++) {
            const double wx = std::min(bx, u + 1.0) - std::max(ax, double(u));
            sum += wx * wy * (s.at(u, v) - s.fill);
        }
    }
    return s.fill + sum / (scale * scale);
}

// Pixel centres aligned (x_src = (i + 0.5) * scale - 0.5), clamped to the square's edge pixels.
double bilinear(const SquareSampler& s, int i, int j, double scale) {
    const double limit = s.square.side - 1;
    const double x = std::min(limit, std::max(0.0, (i + 0.5) * scale - 0.5));
    const double y = std::min(limit, std::max(0.0, (j + 0.5) * scale - 0.5));
    const int u = int(x), v = int(y);
    const int u1 = std::min(u + 1, s.square.side - 1), v1 = std::min(v + 1, s.square.side - 1);
    const double fx = x - u, fy = y - v;
    const double top = s.at(u, v) * (1 - fx) + s.at(u1, v) * fx;
    const double bottom = s.at(u, v1) * (1 - fx) + s.at(u1, v1) * fx;
    return top * (1 - fy) + bottom * fy;
}

// The square resampled to size x size grey levels (row-major, unrounded: the stretch comes next).
std::vector<double> resample(const SquareSampler& s, int size) {
    std::vector<double> out(size_t(size) * size_t(size));
    const double scale = double(s.square.side) / size;  // square pixels per output pixel
    for (int j = 0; j < size; j++)
        for (int i = 0; i < size; i++)
            out[size_t(j) * size_t(size) + size_t(i)] = scale >= 1.0 ? area_average(s, i, j, scale) : bilinear(s, i, j, scale);
    return out;
}

// The levels are set on the resampled values, not the source's: averaging k x k source pixels
// divides the noise by k, so the background's allowance shrinks with it, and the ink level is the
// one the output shows. Stretching the source instead, before averaging, left a noisy (+-6)
// black-on-paper copy of a real image (2x, framed exactly) 5.0 grey levels from it, against 2.6.
Image stretch_levels(const std::vector<double>& values, const Levels& l, double scale, int size) {
    const double low = l.base + kNoiseSigmas * l.noise / std::max(1.0, scale);
    std::vector<double> ink;
    double brightest = low;
    for (double v : values) {
        if (v > l.strong) ink.push_back(v);
        brightest = std::max(brightest, v);
    }
    double high = brightest;
    if (!ink.empty()) {
        const size_t k = std::min(ink.size() - 1, size_t(std::ceil(kInkPercentile * double(ink.size()))) - 1);
        std::nth_element(ink.begin(), ink.begin() + std::ptrdiff_t(k), ink.end());
        high = ink[k];
    }
    high = std::max(high, low + 1.0);
    Image out(size, size);
    for (size_t i = 0; i < values.size(); i++)
        out.pixels[i] = uint8_t(std::lround(std::min(255.0, std::max(0.0, (values[i] - low) * 255.0 / (high - low)))));
    return out;
}

Image rounded(const std::vector<double>& values, int size) {
    Image out(size, size);
    for (size_t i = 0; i < values.size(); i++) out.pixels[i] = uint8_t(std::lround(std::min(255.0, std::max(0.0, values[i]))));
    return out;
}

// One integer field of a box; false unless the whole (trimmed) field is an int.
bool parse_int_field(std::string field, int* out) {
    while (!field.empty() && field.front() == ' ') field.erase(field.begin());
    while (!field.empty() && field.back() == ' ') field.pop_back();
    if (field.empty()) return false;
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(field.c_str(), &end, 10);
    if (errno != 0 || end != field.c_str() + field.size() || v < INT_MIN || v > INT_MAX) return false;
    *out = int(v);
    return true;
}

}  // namespace

PreparedInput prepare_input(const Image& source, const PrepareOptions& options, const std::string& name) {
    check_options(source, options, name);
    const Region region = boxed_region(source, options, name);
    const Levels levels = measure_levels(region, options.invert, name);
    const Component ink = ink_bounds(find_components(region, levels));

    PreparedInput out;
    out.inverted = levels.inverted;
    out.background = levels.background;
    out.ink_box = Box{region.box.x + ink.x0, region.box.y + ink.y0, ink.x1 - ink.x0 + 1, ink.y1 - ink.y0 + 1};

    SquareSampler sampler{&region, levels.inverted, levels.base, Square{}};
    sampler.square = options.crop_to_ink ? frame_square(ink.x0, ink.y0, ink.x1, ink.y1, options.margin)
                                         : frame_square(0, 0, region.box.width - 1, region.box.height - 1, options.margin);
    const std::vector<double> values = resample(sampler, options.size);
    const double scale = double(sampler.square.side) / options.size;
    out.image = options.contrast_stretch ? stretch_levels(values, levels, scale, options.size) : rounded(values, options.size);
    return out;
}

InvertMode parse_invert_mode(const std::string& text, const std::string& what) {
    if (text == "auto") return InvertMode::Auto;
    if (text == "yes") return InvertMode::Yes;
    if (text == "no") return InvertMode::No;
    throw Error(what + ": expected auto, yes or no, got '" + text + "'");
}

Box parse_box(const std::string& text, const std::string& what) {
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        fields.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    Box b;
    int* slots[4] = {&b.x, &b.y, &b.width, &b.height};
    bool ok = fields.size() == 4;
    for (size_t k = 0; ok && k < 4; k++) ok = parse_int_field(fields[k], slots[k]);
    if (!ok) throw Error(what + ": expected x,y,width,height (4 integers), got '" + text + "'");
    return b;
}

}  // namespace k2k
