// What the reader classifier sees: KanjiVG strokes rendered with random "sketchy" distortions for
// its training (augment_for_reader), and the clean held-out renders its own accuracy is measured on.
#pragma once

#include <cstdint>
#include <random>

#include "data/geometry.h"
#include "data/raster.h"

namespace k2k {

// Half-width of the band of line widths around heldout_line_width that training never draws, so
// the clean held-out renders use a parameter no training render had.
constexpr float kReaderHeldoutBand = 0.15f;

// Strokes shorter than this (KanjiVG units, 109-unit canvas) may be dropped: the ticks and dots a
// sampled sketch most often forgets.
constexpr float kReaderShortStroke = 25.0f;

struct ReaderAugmentOptions {
    float affine = 0.1f;              // per-axis scale in [1-a, 1+a], rotation and shear up to a radians; default 0.1
    float translate = 6.0f;           // shift up to this many KanjiVG units per axis; default 6
    float line_width_min = 1.2f;      // thinnest line (pixels at the raster's size); default 1.2
    float line_width_max = 3.4f;      // thickest line; default 3.4
    float heldout_line_width = 2.0f;  // clean held-out width; training skips +-kReaderHeldoutBand around it; default 2
    float rdp_max = 3.0f;             // RDP epsilon drawn from [0, rdp_max] (KanjiVG units); default 3
    float wobble = 1.0f;              // per-vertex Gaussian noise, std drawn from [0, wobble] (KanjiVG units); default 1
    float drop_stroke = 0.3f;         // probability of dropping one short stroke (never the only one); default 0.3
    float blur_max = 1.2f;            // half of the renders are blurred with sigma from [0, blur_max] px; default 1.2
    float ink_min = 0.5f;             // peak ink scaled by a factor from [ink_min, 1]; default 0.5
};

// Maps u in [0, 1) onto [line_width_min, line_width_max] minus the open band
// (heldout_line_width - kReaderHeldoutBand, heldout_line_width + kReaderHeldoutBand), uniformly
// over what is left. Throws k2k::Error when min > max or the band covers the whole range.
float reader_line_width(float u, const ReaderAugmentOptions& options);

// One training render of a character: drop a short stroke, simplify (RDP), wobble each vertex,
// apply a random affine map about the canvas centre, render with a random line width (`raster`
// gives size, margin and canvas; its line_width is ignored), blur, scale the ink. Deterministic in
// the rng state; uses only rng() outputs (no std distributions, whose sequences differ between
// standard libraries). Draws, in order: drop (1 when there are 2+ strokes, plus 1 to pick one of
// the short strokes when dropping), rdp epsilon, wobble std, 4 per remaining vertex, affine (sx,
// sy, rotation, shear, tx, ty), width, blur (1, plus 1 for sigma when blurring), ink. The result
// is raster.size square, white ink on black.
Image augment_for_reader(const Strokes& strokes, const ReaderAugmentOptions& options, const RasterOptions& raster,
                         std::mt19937& rng);

// The clean held-out render: the strokes as they are, at heldout_line_width, no other change.
Image render_reader_clean(const Strokes& strokes, const ReaderAugmentOptions& options, const RasterOptions& raster);

// Separable Gaussian blur (radius ceil(3 sigma), zero outside the image), rounded back to 8 bits.
// sigma <= 0 returns the image unchanged.
Image gaussian_blur(const Image& image, float sigma);

}  // namespace k2k
