// Plain geometry and image types shared by the whole data layer.
// No torch here: the data layer must compile without LibTorch headers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace k2k {

struct Point {
    float x;  // user units (KanjiVG: 0..109, y grows downwards)
    float y;
};

using Polyline = std::vector<Point>;  // one pen-down trace
using Strokes = std::vector<Polyline>;  // a drawing: its strokes in drawing order

// Stroke-3 format (Ha & Eck 2017), one row per point:
//   (dx, dy, pen_lifted) — offset from the previous point; pen_lifted = 1 when the pen leaves
//   the paper after this point (the last point of each stroke), 0 otherwise.
// The first row is the offset from the origin (0,0).
using Stroke3 = std::vector<std::array<float, 3>>;

// Stroke-5 format, one row per step, padded to a fixed length Nmax + 1:
//   (dx, dy, p_down, p_up, p_end) with exactly one of the three pen bits set.
//   Row 0 is the start token; rows after the sketch ends are (0, 0, 0, 0, 1).
using Stroke5 = std::vector<std::array<float, 5>>;

// An 8-bit single-channel image, row-major, pixels[y * width + x].
struct Image {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> pixels;

    Image() = default;
    Image(int w, int h, uint8_t fill = 0) : width(w), height(h), pixels(size_t(w) * size_t(h), fill) {}
    uint8_t at(int x, int y) const { return pixels[size_t(y) * size_t(width) + size_t(x)]; }
    uint8_t& at(int x, int y) { return pixels[size_t(y) * size_t(width) + size_t(x)]; }
};

}  // namespace k2k
