// RGB contact sheets: pasting, captions (cairo), PNG output.
#include "export/sheet.h"

#include <cairo.h>

#include <algorithm>
#include <cstring>

#include "data/png_io.h"
#include "util/error.h"

namespace k2k {

Sheet::Sheet(int width, int height) : width_(width), height_(height), rgb_(size_t(width) * size_t(height) * 3, 255) {
    if (width <= 0 || height <= 0) throw Error("Sheet: empty canvas");
}

void Sheet::paste_gray(const Image& image, int x, int y, int scale, bool invert) {
    for (int sy = 0; sy < image.height * scale; ++sy) {
        int ty = y + sy;
        if (ty < 0 || ty >= height_) continue;
        for (int sx = 0; sx < image.width * scale; ++sx) {
            int tx = x + sx;
            if (tx < 0 || tx >= width_) continue;
            uint8_t v = image.at(sx / scale, sy / scale);
            if (invert) v = uint8_t(255 - v);
            uint8_t* p = &rgb_[(size_t(ty) * size_t(width_) + size_t(tx)) * 3];
            p[0] = p[1] = p[2] = v;
        }
    }
}

void Sheet::paste_rgb(const std::vector<uint8_t>& rgb, int w, int h, int x, int y) {
    if (rgb.size() != size_t(w) * size_t(h) * 3) throw Error("Sheet::paste_rgb: buffer does not match its size");
    for (int sy = 0; sy < h; ++sy) {
        int ty = y + sy;
        if (ty < 0 || ty >= height_) continue;
        for (int sx = 0; sx < w; ++sx) {
            int tx = x + sx;
            if (tx < 0 || tx >= width_) continue;
            std::memcpy(&rgb_[(size_t(ty) * size_t(width_) + size_t(tx)) * 3], &rgb[(size_t(sy) * size_t(w) + size_t(sx)) * 3], 3);
        }
    }
}

void Sheet::text(const std::string& utf8, double x, double y, double size, uint8_t r, uint8_t g, uint8_t b) {
    // Draw on a cairo ARGB surface that mirrors the canvas, then copy the pixels back.
    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width_, height_);
    unsigned char* data = cairo_image_surface_get_data(surface);
    int stride = cairo_image_surface_get_stride(surface);
    for (int yy = 0; yy < height_; ++yy)
        for (int xx = 0; xx < width_; ++xx) {
            const uint8_t* p = &rgb_[(size_t(yy) * size_t(width_) + size_t(xx)) * 3];
            uint32_t v = (uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8) | p[2];
            std::memcpy(data + size_t(yy) * size_t(stride) + size_t(xx) * 4, &v, 4);
        }
    cairo_surface_mark_dirty(surface);
    cairo_t* cr = cairo_create(surface);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_set_source_rgb(cr, r / 255.0, g / 255.0, b / 255.0);
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, utf8.c_str());
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    for (int yy = 0; yy < height_; ++yy)
        for (int xx = 0; xx < width_; ++xx) {
            uint32_t v;
            std::memcpy(&v, data + size_t(yy) * size_t(stride) + size_t(xx) * 4, 4);
            uint8_t* p = &rgb_[(size_t(yy) * size_t(width_) + size_t(xx)) * 3];
            p[0] = uint8_t(v >> 16);
            p[1] = uint8_t(v >> 8);
            p[2] = uint8_t(v);
        }
    cairo_surface_destroy(surface);
}

void Sheet::frame(int x, int y, int w, int h, uint8_t grey) {
    auto put = [&](int px, int py) {
        if (px < 0 || py < 0 || px >= width_ || py >= height_) return;
        uint8_t* p = &rgb_[(size_t(py) * size_t(width_) + size_t(px)) * 3];
        p[0] = p[1] = p[2] = grey;
    };
    for (int i = 0; i < w; ++i) {
        put(x + i, y);
        put(x + i, y + h - 1);
    }
    for (int i = 0; i < h; ++i) {
        put(x, y + i);
        put(x + w - 1, y + i);
    }
}

void Sheet::save_png(const std::string& path) const { write_png_rgb(path, width_, height_, rgb_); }

std::vector<uint8_t> heat_map_rgb(const Image& image, int max_value) {
    int mx = max_value;
    if (mx <= 0) {
        mx = 1;
        for (uint8_t v : image.pixels) mx = std::max(mx, int(v));
    }
    std::vector<uint8_t> rgb(image.pixels.size() * 3);
    for (size_t i = 0; i < image.pixels.size(); ++i) {
        double t = std::min(1.0, double(image.pixels[i]) / mx);  // 0..1
        double r = std::min(1.0, t * 3), g = std::clamp(t * 3 - 1, 0.0, 1.0), b = std::clamp(t * 3 - 2, 0.0, 1.0);
        rgb[i * 3] = uint8_t(r * 255);
        rgb[i * 3 + 1] = uint8_t(g * 255);
        rgb[i * 3 + 2] = uint8_t(b * 255);
    }
    return rgb;
}

}  // namespace k2k
