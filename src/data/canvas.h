// What a stroke decoder that "sees what it draws" is shown before each step: the ink still to be
// drawn around its pen. A CanvasTracker holds a 64x64 ink image (the KanjiVG raster in training,
// the predicted modern pixels at inference), follows the pen through stroke-3 rows, erases the ink
// under every drawn segment, and gives a foveated, pen-centred view of the ink that remains.
// Torch-free; the same code builds the training features and steps the sampler.
#pragma once

#include <cstdint>
#include <vector>

#include "data/geometry.h"
#include "data/raster.h"

namespace k2k {

// Features per step (kCanvasFeatures floats), in this order:
//   pen position x, y (pixels / size, in [0, 1] on the canvas);
//   remaining ink fraction (remaining / initial ink, 0 when there was none);
//   three pen-centred windows of the remaining ink, bilinearly sampled from its mean-pooled maps:
//   15 x 15 cells of 8 px (reach +-56 px), 9 x 9 cells of 4 px (+-16 px), 7 x 7 cells of 2 px
//   (+-6 px), each row-major (y outer), 0 outside the canvas.
constexpr int kCanvasFeatures = 3 + 15 * 15 + 9 * 9 + 7 * 7;

class CanvasTracker {
public:
    // ink: size x size values in [0, 1] (row-major); raster: the dataset's raster options (size,
    // margin, canvas map KanjiVG units to pixels; fit_bbox must be false). The pen starts at the
    // KanjiVG origin with the pen up.
    CanvasTracker(const float* ink, const RasterOptions& raster);

    // One stroke-3 row in KanjiVG units: the pen moves by (dx, dy); the segment is drawn (its ink
    // erased) when the pen was down, i.e. the previous row's pen_lifted was 0; a point reached and
    // left with the pen up (a one-point stroke) erases a dot.
    void feed(float dx, float dy, bool pen_lifted);

    // The kCanvasFeatures values of the current state into out.
    void features(float* out) const;

private:
    void erase_segment(double x0, double y0, double x1, double y1);  // pixel coordinates
    double sample_pooled(int level, double x, double y) const;       // bilinear, pixel coordinates

    int size_ = 64;
    double scale_ = 1.0, offset_ = 0.0;  // pixel = offset + scale * KanjiVG unit
    double radius_ = 1.5;                // erase radius around a drawn segment (pixels)
    std::vector<float> ink_, remaining_;  // size x size
    std::vector<std::vector<float>> pooled_;  // per level (cells of 8, 4, 2 px): mean remaining ink
    double initial_ = 0, left_ = 0;       // sums of ink and remaining ink
    double x_ = 0, y_ = 0;                // pen, KanjiVG units
    bool lifted_ = true;                  // the next move is drawn with the pen up
};

// Training features of one sketch: the tracker fed the rows of `s3` (KanjiVG units) one by one;
// rows 0..rows-1 of `out` (rows x kCanvasFeatures) are the features before predicting stroke-5 row
// t + 1, i.e. after feeding the start token and the first t rows (rows beyond the sketch repeat
// the final state).
void canvas_sequence(const Stroke3& s3, const float* ink, const RasterOptions& raster, int rows, float* out);

}  // namespace k2k
