#include "data/stroke_norm.h"

#include <algorithm>

#include "util/error.h"

namespace k2k {

Stroke3 unit_bbox_stroke3(const Stroke3& s3, float side, float centre) {
    const BBox box = strokes_bbox(stroke3_to_strokes(s3));
    if (box.empty()) return s3;
    const double longer = std::max(box.width(), box.height());
    const double k = longer > 0 ? double(side) / longer : 1.0;
    Stroke3 out = s3;
    // The first point, measured from the box's centre, scaled, then placed about `centre`.
    out[0][0] = float((double(s3[0][0]) - 0.5 * (double(box.min_x) + box.max_x)) * k + centre);
    out[0][1] = float((double(s3[0][1]) - 0.5 * (double(box.min_y) + box.max_y)) * k + centre);
    for (size_t i = 1; i < out.size(); ++i) {
        out[i][0] = float(double(s3[i][0]) * k);
        out[i][1] = float(double(s3[i][1]) * k);
    }
    return out;
}

Stroke3 sketch_for_model(const Stroke3& s3, const std::string& normalization) {
    if (normalization == "std") return s3;
    if (normalization == "unit_bbox") return unit_bbox_stroke3(s3, kUnitBboxSide, kUnitBboxCentre);
    throw Error("sketch.normalization: unknown '" + normalization + "' (known: std, unit_bbox)");
}

float model_stroke_scale(const std::string& normalization, float delta_std) {
    if (normalization == "unit_bbox") return kUnitBboxStd * kUnitBboxSide;
    if (normalization == "std") return delta_std;
    throw Error("sketch.normalization: unknown '" + normalization + "' (known: std, unit_bbox)");
}

void shift_first_point(Stroke3& s3, float shift, std::mt19937& rng) {
    if (s3.empty() || !(shift > 0.0f)) return;
    std::uniform_real_distribution<float> u(-shift, shift);
    const float dx = u(rng), dy = u(rng);
    s3[0][0] += dx;
    s3[0][1] += dy;
}

}  // namespace k2k
