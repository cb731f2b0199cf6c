// Rasterising strokes (a distance-field rasteriser, and cairo as the reference), Pillow-style
// bilinear resizing and the resize-and-place augmentation.
#include "data/raster.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "data/strokes.h"
#include "util/error.h"

namespace k2k {

namespace {

std::string float_text(float v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", double(v));
    return buf;
}

// Uniform integer in [lo, hi] from one mt19937 output; the modulo bias is < 2^-25 for the ranges
// used here, and unlike std::uniform_int_distribution the sequence is the same everywhere.
int uniform_int(std::mt19937& rng, int lo, int hi) {
    uint32_t span = uint32_t(hi - lo) + 1u;
    return lo + int(rng() % span);
}

// Source units -> device pixels: (x, y) -> (ox + x * scale, oy + y * scale).
struct Mapping {
    double scale;
    double ox;
    double oy;
};

Mapping make_mapping(const Strokes& strokes, double size, double margin, double canvas, bool fit_bbox) {
    double inner = size - 2.0 * margin;
    Mapping m = {inner / canvas, margin, margin};
    if (!fit_bbox) return m;
    BBox box = strokes_bbox(strokes);
    if (box.empty()) return m;
    double side = std::max(box.width(), box.height());
    if (side > 0.0) m.scale = inner / side;
    double cx = 0.5 * (double(box.min_x) + box.max_x);
    double cy = 0.5 * (double(box.min_y) + box.max_y);
    m.ox = 0.5 * size - cx * m.scale;
    m.oy = 0.5 * size - cy * m.scale;
    return m;
}

// A coordinate clamped to [0, n - 1] before the cast to int, so far-off or NaN points (a user's
// SVG) cannot overflow it; NaN maps to 0 and then inks nothing.
int pixel_index(float v, int n) {
    return int(std::min(float(n - 1), std::max(0.0f, v)));  // this argument order maps NaN to 0
}

// Adds every polyline as its own subpath; a 1-point polyline becomes a zero-length segment,
// which cairo draws as a dot with round caps.
void add_polyline(cairo_t* cr, const Polyline& line, const Mapping& m) {
    if (line.empty()) return;
    cairo_move_to(cr, m.ox + line[0].x * m.scale, m.oy + line[0].y * m.scale);
    if (line.size() == 1) {
        cairo_line_to(cr, m.ox + line[0].x * m.scale, m.oy + line[0].y * m.scale);
        return;
    }
    for (size_t i = 1; i < line.size(); i++) cairo_line_to(cr, m.ox + line[i].x * m.scale, m.oy + line[i].y * m.scale);
}

// One A8 surface per thread, reused across calls: saves the allocation and set-up of a fresh
// surface for each of the ~12k rasters of a data preparation.
struct ThreadSurface {
    cairo_surface_t* surface = nullptr;
    int size = 0;

    ~ThreadSurface() {
        if (surface) cairo_surface_destroy(surface);
    }
    cairo_surface_t* get(int want) {
        if (surface && size != want) {
            cairo_surface_destroy(surface);
            surface = nullptr;
        }
        if (!surface) {
            surface = cairo_image_surface_create(CAIRO_FORMAT_A8, want, want);
            if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
                std::string msg = cairo_status_to_string(cairo_surface_status(surface));
                cairo_surface_destroy(surface);
                surface = nullptr;
                throw Error("render_strokes_cairo: cannot create a " + std::to_string(want) + "x" + std::to_string(want) +
                            " cairo surface (" + msg + ")");
            }
            size = want;
        }
        return surface;
    }
};

void check_mapping_options(const char* fn, int size, float line_width, double margin, float canvas) {
    std::string f = fn;
    if (size < 1) throw Error(f + ": size must be >= 1 (got " + std::to_string(size) + ")");
    if (!(line_width > 0.0f)) throw Error(f + ": line_width must be > 0 (got " + float_text(line_width) + ")");
    if (!(canvas > 0.0f)) throw Error(f + ": canvas must be > 0 (got " + float_text(canvas) + ")");
    if (!(margin >= 0.0) || !(2.0 * margin < double(size)))
        throw Error(f + ": margin " + float_text(float(margin)) + " leaves no room in a " + std::to_string(size) +
                    "-pixel image");
}

// Separable filter taps: output pixel o reads inputs [start[o], start[o] + count[o]) with weights
// w[o * max_taps + k] (Pillow's precompute_coeffs with the triangle filter).
struct Taps {
    std::vector<int> start;
    std::vector<int> count;
    std::vector<float> w;
    int max_taps = 0;
};

Taps make_taps(int in_size, int out_size) {
    double scale = double(in_size) / double(out_size);
    double filter_scale = std::max(scale, 1.0);
    double support = 1.0 * filter_scale;  // the triangle filter's support is 1 at scale 1
    Taps t;
    t.max_taps = int(std::ceil(support)) * 2 + 1;
    t.start.resize(size_t(out_size));
    t.count.resize(size_t(out_size));
    t.w.assign(size_t(out_size) * size_t(t.max_taps), 0.0f);
    for (int o = 0; o < out_size; o++) {
        double center = (o + 0.5) * scale;
        int lo = std::max(0, int(center - support + 0.5));
        int hi = std::min(in_size, int(center + support + 0.5));
        int n = std::min(hi - lo, t.max_taps);
        float* k = &t.w[size_t(o) * size_t(t.max_taps)];
        double total = 0.0;
        for (int i = 0; i < n; i++) {
            double x = (lo + i - center + 0.5) / filter_scale;
            double v = std::max(0.0, 1.0 - std::fabs(x));
            k[i] = float(v);
            total += v;
        }
        for (int i = 0; i < n; i++) k[i] = total > 0.0 ? float(k[i] / total) : 0.0f;
        t.start[size_t(o)] = lo;
        t.count[size_t(o)] = n;
    }
    return t;
}

void hsv_to_rgb(double h, double s, double v, double* r, double* g, double* b) {
    double hh = std::fmod(h, 1.0) * 6.0;
    int i = int(hh);
    double f = hh - i;
    double p = v * (1.0 - s);
    double q = v * (1.0 - s * f);
    double t = v * (1.0 - s * (1.0 - f));
    switch (i % 6) {
        case 0: *r = v; *g = t; *b = p; break;
        case 1: *r = q; *g = v; *b = p; break;
        case 2: *r = p; *g = v; *b = t; break;
        case 3: *r = p; *g = q; *b = v; break;
        case 4: *r = t; *g = p; *b = v; break;
        default: *r = v; *g = p; *b = q; break;
    }
}

}  // namespace

Image render_strokes_cairo(const Strokes& strokes, const RasterOptions& options) {
    check_mapping_options("render_strokes_cairo", options.size, options.line_width, options.margin, options.canvas);
    thread_local ThreadSurface cache;
    cairo_surface_t* surface = cache.get(options.size);
    cairo_surface_flush(surface);
    int stride = cairo_image_surface_get_stride(surface);
    unsigned char* data = cairo_image_surface_get_data(surface);
    std::memset(data, 0, size_t(stride) * size_t(options.size));
    cairo_surface_mark_dirty(surface);

    cairo_t* cr = cairo_create(surface);
    cairo_set_antialias(cr, options.antialias ? CAIRO_ANTIALIAS_DEFAULT : CAIRO_ANTIALIAS_NONE);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_width(cr, options.line_width);
    cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 1.0);
    Mapping m = make_mapping(strokes, options.size, options.margin, options.canvas, options.fit_bbox);
    // One stroke for the whole drawing: cairo strokes a path as the union of its pieces.
    for (const Polyline& line : strokes) add_polyline(cr, line, m);
    cairo_stroke(cr);
    cairo_status_t status = cairo_status(cr);
    cairo_destroy(cr);
    if (status != CAIRO_STATUS_SUCCESS)
        throw Error(std::string("render_strokes_cairo: cairo failed (") + cairo_status_to_string(status) + ")");
    cairo_surface_flush(surface);

    Image out(options.size, options.size);
    for (int y = 0; y < options.size; y++)
        std::memcpy(&out.pixels[size_t(y) * size_t(options.size)], data + size_t(y) * size_t(stride),
                    size_t(options.size));
    return out;
}

Image render_strokes(const Strokes& strokes, const RasterOptions& options) {
    check_mapping_options("render_strokes", options.size, options.line_width, options.margin, options.canvas);
    int n = options.size;
    size_t count = size_t(n) * size_t(n);
    Mapping m = make_mapping(strokes, n, options.margin, options.canvas, options.fit_bbox);
    float hw = 0.5f * options.line_width;
    float reach = hw + 0.5f;  // pixel centres farther than this from a centre line get no ink from it
    float reach2 = reach * reach;
    // Per-thread scratch, reused across calls: squared distance from each pixel centre to the
    // current polyline (infinity where untouched), the union of the finished polylines' ink, and
    // the span of columns each row's current polyline touched.
    thread_local std::vector<float> dist2;
    thread_local std::vector<float> ink;
    thread_local std::vector<int> span_lo;
    thread_local std::vector<int> span_hi;
    dist2.assign(count, std::numeric_limits<float>::infinity());
    ink.assign(count, 0.0f);
    float* d2 = dist2.data();
    float* acc = ink.data();
    for (const Polyline& line : strokes) {
        if (line.empty()) continue;
        span_lo.assign(size_t(n), n);
        span_hi.assign(size_t(n), -1);
        for (size_t i = 0; i < line.size(); i++) {
            // Segment i-1 -> i; a 1-point polyline is the zero-length segment (its dot).
            if (i == 0 && line.size() > 1) continue;
            const Point& pa = line[i == 0 ? 0 : i - 1];
            const Point& pb = line[i];
            float ax = float(m.ox + pa.x * m.scale);
            float ay = float(m.oy + pa.y * m.scale);
            float vx = float(m.ox + pb.x * m.scale) - ax;
            float vy = float(m.oy + pb.y * m.scale) - ay;
            float len2 = vx * vx + vy * vy;
            float inv_len2 = len2 > 0.0f ? 1.0f / len2 : 0.0f;
            int x0 = pixel_index(std::floor(std::min(ax, ax + vx) - reach), n);
            int x1 = pixel_index(std::ceil(std::max(ax, ax + vx) + reach), n);
            int y0 = pixel_index(std::floor(std::min(ay, ay + vy) - reach), n);
            int y1 = pixel_index(std::ceil(std::max(ay, ay + vy) + reach), n);
            // Along a row, only x within reach of the segment's infinite line can be reached:
            // |(x - ax) vy - wy vx| <= reach * |v| bounds x for any segment that is not horizontal.
            float half_span = std::fabs(vy) > 1e-6f ? reach * std::sqrt(len2) / std::fabs(vy) : 0.0f;
            for (int y = y0; y <= y1; y++) {
                float wy = float(y) + 0.5f - ay;
                float* row = d2 + size_t(y) * size_t(n);
                int xa = x0;
                int xb = x1;
                if (half_span > 0.0f) {
                    float xc = ax + wy * vx / vy - 0.5f;  // pixel index whose centre is on the line
                    xa = std::max(x0, pixel_index(std::floor(xc - half_span), n));
                    xb = std::min(x1, pixel_index(std::ceil(xc + half_span), n));
                }
                if (xa > xb) continue;
                span_lo[size_t(y)] = std::min(span_lo[size_t(y)], xa);
                span_hi[size_t(y)] = std::max(span_hi[size_t(y)], xb);
                for (int x = xa; x <= xb; x++) {
                    float wx = float(x) + 0.5f - ax;
                    float t = std::min(std::max((wx * vx + wy * vy) * inv_len2, 0.0f), 1.0f);
                    float dx = wx - t * vx;
                    float dy = wy - t * vy;
                    row[x] = std::min(row[x], dx * dx + dy * dy);
                }
            }
        }
        // Within a polyline the nearest segment decides (its segments overlap at every joint);
        // across polylines coverages combine as a union, 1 - (1 - a)(1 - b), so a pixel half
        // inked by each of two crossing or neighbouring strokes gets more than either alone.
        for (int y = 0; y < n; y++) {
            float* row = d2 + size_t(y) * size_t(n);
            float* out_row = acc + size_t(y) * size_t(n);
            for (int x = span_lo[size_t(y)]; x <= span_hi[size_t(y)]; x++) {
                float q = row[x];
                row[x] = std::numeric_limits<float>::infinity();
                if (!(q < reach2)) continue;
                float d = std::sqrt(q);
                float cover;
                if (options.antialias) {
                    // Exact box-filter coverage of a band of half-width hw whose centre line is d away.
                    cover = std::min(std::max(std::min(0.5f, d + hw) - std::max(-0.5f, d - hw), 0.0f), 1.0f);
                } else {
                    cover = d <= hw ? 1.0f : 0.0f;
                }
                out_row[x] += cover * (1.0f - out_row[x]);
            }
        }
    }
    Image out(n, n);
    uint8_t* px = out.pixels.data();  // a local pointer: uint8_t stores alias everything else
    for (size_t i = 0; i < count; i++) px[i] = uint8_t(acc[i] * 255.0f + 0.5f);
    return out;
}

Image resize_image(const Image& src, int w, int h) {
    if (w < 1 || h < 1)
        throw Error("resize_image: target size must be at least 1x1 (got " + std::to_string(w) + "x" +
                    std::to_string(h) + ")");
    if (src.width < 1 || src.height < 1 || src.pixels.size() != size_t(src.width) * size_t(src.height))
        throw Error("resize_image: source image is empty or its buffer does not match its size");
    Taps tx = make_taps(src.width, w);
    Taps ty = make_taps(src.height, h);
    // Horizontal pass into floats (src.height x w), then vertical pass with rounding.
    std::vector<float> mid(size_t(src.height) * size_t(w));
    for (int y = 0; y < src.height; y++) {
        const uint8_t* row = &src.pixels[size_t(y) * size_t(src.width)];
        for (int x = 0; x < w; x++) {
            const float* k = &tx.w[size_t(x) * size_t(tx.max_taps)];
            int s = tx.start[size_t(x)];
            float acc = 0.0f;
            for (int i = 0; i < tx.count[size_t(x)]; i++) acc += k[i] * float(row[s + i]);
            mid[size_t(y) * size_t(w) + size_t(x)] = acc;
        }
    }
    Image out(w, h);
    for (int y = 0; y < h; y++) {
        const float* k = &ty.w[size_t(y) * size_t(ty.max_taps)];
        int s = ty.start[size_t(y)];
        for (int x = 0; x < w; x++) {
            float acc = 0.0f;
            for (int i = 0; i < ty.count[size_t(y)]; i++) acc += k[i] * mid[size_t(s + i) * size_t(w) + size_t(x)];
            out.pixels[size_t(y) * size_t(w) + size_t(x)] = uint8_t(std::clamp(std::lround(acc), 0L, 255L));
        }
    }
    return out;
}

Image random_resize_place(const Image& src, int min_size, int max_size, std::mt19937& rng) {
    if (src.width < 1 || src.width != src.height)
        throw Error("random_resize_place: source must be a non-empty square image (got " + std::to_string(src.width) +
                    "x" + std::to_string(src.height) + ")");
    if (min_size < 1 || min_size > max_size || max_size > src.width)
        throw Error("random_resize_place: need 1 <= min_size <= max_size <= " + std::to_string(src.width) +
                    " (got " + std::to_string(min_size) + ", " + std::to_string(max_size) + ")");
    int n = src.width;
    int s = uniform_int(rng, min_size, max_size);
    int ox = uniform_int(rng, 0, n - s);
    int oy = uniform_int(rng, 0, n - s);
    Image small = (s == n) ? src : resize_image(src, s, s);
    Image out(n, n, 0);
    for (int y = 0; y < s; y++)
        std::memcpy(&out.pixels[size_t(oy + y) * size_t(n) + size_t(ox)], &small.pixels[size_t(y) * size_t(s)],
                    size_t(s));
    return out;
}

std::vector<uint8_t> render_strokes_rgb_numbered(const Strokes& strokes, int size,
                                                 const NumberedRenderOptions& options) {
    double margin = double(options.margin) * size;
    check_mapping_options("render_strokes_rgb_numbered", size, options.line_width, margin, options.canvas);
    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, size, size);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        std::string msg = cairo_status_to_string(cairo_surface_status(surface));
        cairo_surface_destroy(surface);
        throw Error("render_strokes_rgb_numbered: cannot create a cairo surface (" + msg + ")");
    }
    cairo_t* cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
    cairo_paint(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_width(cr, options.line_width);
    Mapping m = make_mapping(strokes, size, margin, options.canvas, options.fit_bbox);
    for (size_t i = 0; i < strokes.size(); i++) {
        // Golden-ratio hue steps keep neighbouring strokes' colours far apart.
        double r, g, b;
        hsv_to_rgb(0.61803398875 * double(i), 0.85, 0.8, &r, &g, &b);
        cairo_set_source_rgb(cr, r, g, b);
        add_polyline(cr, strokes[i], m);
        cairo_stroke(cr);
    }
    // Numbers go on top of every stroke so later strokes cannot hide them.
    double font = options.font_size > 0.0f ? options.font_size : size / 14.0;
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, font);
    for (size_t i = 0; i < strokes.size(); i++) {
        if (strokes[i].empty()) continue;
        std::string label = std::to_string(i + 1);
        cairo_text_extents_t ext;
        cairo_text_extents(cr, label.c_str(), &ext);
        // Centred just behind the first point, against the stroke's initial direction, so labels
        // of strokes starting at the same place (a corner) point different ways; kept inside.
        double sx = m.ox + strokes[i][0].x * m.scale;
        double sy = m.oy + strokes[i][0].y * m.scale;
        double dx = -0.7071;
        double dy = -0.7071;
        for (size_t k = 1; k < strokes[i].size(); k++) {
            double ex = (strokes[i][k].x - strokes[i][0].x) * m.scale;
            double ey = (strokes[i][k].y - strokes[i][0].y) * m.scale;
            double len = std::sqrt(ex * ex + ey * ey);
            if (len > 0.5) {
                dx = ex / len;
                dy = ey / len;
                break;
            }
        }
        double cx = sx - dx * 0.9 * font;
        double cy = sy - dy * 0.9 * font;
        double x = cx - (ext.x_bearing + 0.5 * ext.width);
        double y = cy - (ext.y_bearing + 0.5 * ext.height);
        x = std::clamp(x, 1.0, std::max(1.0, size - ext.x_advance - 1.0));
        y = std::clamp(y, -ext.y_bearing + 1.0, std::max(-ext.y_bearing + 1.0, double(size) - 1.0));
        cairo_move_to(cr, x, y);
        cairo_text_path(cr, label.c_str());
        cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
        cairo_set_line_width(cr, std::max(2.0, font / 5.0));
        cairo_stroke_preserve(cr);
        cairo_set_source_rgb(cr, 0.0, 0.0, 0.0);
        cairo_fill(cr);
    }
    cairo_status_t status = cairo_status(cr);
    cairo_destroy(cr);
    if (status != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        throw Error(std::string("render_strokes_rgb_numbered: cairo failed (") + cairo_status_to_string(status) + ")");
    }
    cairo_surface_flush(surface);
    int stride = cairo_image_surface_get_stride(surface);
    const unsigned char* data = cairo_image_surface_get_data(surface);
    std::vector<uint8_t> rgb(size_t(size) * size_t(size) * 3);
    for (int y = 0; y < size; y++) {
        const uint32_t* row = reinterpret_cast<const uint32_t*>(data + size_t(y) * size_t(stride));
        for (int x = 0; x < size; x++) {
            uint32_t p = row[x];  // RGB24: native-endian 0x00RRGGBB
            uint8_t* o = &rgb[(size_t(y) * size_t(size) + size_t(x)) * 3];
            o[0] = uint8_t((p >> 16) & 0xff);
            o[1] = uint8_t((p >> 8) & 0xff);
            o[2] = uint8_t(p & 0xff);
        }
    }
    cairo_surface_destroy(surface);
    return rgb;
}

}  // namespace k2k
