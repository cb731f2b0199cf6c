// How sketches are normalised for the Sketch-RNN (sketch.normalization): "std" leaves KanjiVG
// units to the caller's global scale (the training set's offset std, magenta); "unit_bbox" is
// kanji2kanji's: each sketch scaled so its bounding box's longer side is 1, then divided by
// 0.16808838. kanji2kanji also moves the box's corner to the origin; k2k centres the box on
// KanjiVG's canvas instead (only the first row differs: by a constant for square boxes, by half
// the missing width or height otherwise), so generated strokes land where KanjiVG's rasters, the
// stroke ranking and the reader expect them. Torch-free.
#pragma once

#include <random>
#include <string>

#include "data/strokes.h"

namespace k2k {

// kanji2kanji's divisor after the unit bounding box.
constexpr float kUnitBboxStd = 0.16808838f;
// The side, in KanjiVG units, unit_bbox sketches are given before the global scale divides them
// (generated sketches come back at this size), and the centre their box is moved to: KanjiVG's
// canvas is 109 units.
constexpr float kUnitBboxSide = 100.0f;
constexpr float kUnitBboxCentre = 54.5f;

// s3 scaled uniformly about its bounding box's centre so the box's longer side is `side` (aspect
// kept), and moved so that centre is (centre, centre): only the first row's offset moves, the
// others are only scaled. A sketch whose points all coincide is only moved; an empty one is
// returned unchanged.
Stroke3 unit_bbox_stroke3(const Stroke3& s3, float side, float centre);

// The sketch as the model is trained on it, in KanjiVG-sized units: s3 for "std", its unit-bbox
// form (side kUnitBboxSide, centre kUnitBboxCentre) for "unit_bbox". Throws k2k::Error for any other name.
Stroke3 sketch_for_model(const Stroke3& s3, const std::string& normalization);

// The global divisor that turns sketch_for_model's units into the model's: the training set's
// offset std for "std" (given as delta_std), kUnitBboxStd * kUnitBboxSide for "unit_bbox" (so each
// sketch ends as kanji2kanji's unit box / 0.16808838).
float model_stroke_scale(const std::string& normalization, float delta_std);

// kanji2kanji's random shift: U[-shift, shift] (in s3's units) added to the first row's dx and dy
// (dx drawn first). Other rows untouched; shift 0 or an empty sketch leaves it as it is
// (and draws nothing).
void shift_first_point(Stroke3& s3, float shift, std::mt19937& rng);

}  // namespace k2k
