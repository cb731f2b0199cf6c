// RGB contact sheets for people: grey images and RGB tiles pasted on a white canvas with captions
// (cairo toy text), written as PNG. Used by `data show`, `generate` summary sheets and `eval`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/geometry.h"

namespace k2k {

class Sheet {
public:
    Sheet(int width, int height);  // white canvas

    int width() const { return width_; }
    int height() const { return height_; }
    // Pastes a grey image at (x, y) scaled by an integer factor (nearest neighbour); `invert`
    // shows white-on-black data as black ink on white paper.
    void paste_gray(const Image& image, int x, int y, int scale = 1, bool invert = false);
    // Pastes RGB bytes (w*h*3) at (x, y).
    void paste_rgb(const std::vector<uint8_t>& rgb, int w, int h, int x, int y);
    // Writes text with its baseline-left at (x, y), in pixels, black unless given.
    void text(const std::string& utf8, double x, double y, double size, uint8_t r = 0, uint8_t g = 0, uint8_t b = 0);
    // Draws a 1-px grey frame.
    void frame(int x, int y, int w, int h, uint8_t grey = 160);
    // Writes the sheet as an RGB PNG, atomically.
    void save_png(const std::string& path) const;
    const std::vector<uint8_t>& rgb() const { return rgb_; }

private:
    int width_;
    int height_;
    std::vector<uint8_t> rgb_;
};

// A white-on-black grey image turned into a heat map (black -> red -> yellow -> white), for
// per-pixel uncertainty maps; `max_value` maps to white (<= 0: the image's maximum).
std::vector<uint8_t> heat_map_rgb(const Image& image, int max_value = 0);

}  // namespace k2k
