#include "data/stroke_norm.h"

#include <algorithm>

#include "util/error.h"

namespace k2k {

Stroke3 unit_bbox_stroke3(const Stroke3& s3, float side, float centre) {
    if (s3.empty()) return s3;
    // Absolute points (the rows' running sums) and their box.
    double x = 0, y = 0, min_x = 0, max_x = 0, min_y = 0, max_y = 0;
    for (size_t i = 0; i < s3.size(); ++i) {
        x += s3[i][0];
        y += s3[i][1];
        if (i == 0 || x < min_x) min_x = x;
        if (i == 0 || x > max_x) max_x = x;
        if (i == 0 || y < min_y) min_y = y;
        if (i == 0 || y > max_y) max_y = y;
    }
    const double longer = std::max(max_x - min_x, max_y - min_y);
    const double k = longer > 0 ? double(side) / longer : 1.0;
    Stroke3 out = s3;
    // The first point, measured from the box's centre, scaled, then placed about `centre`.
    out[0][0] = float((double(s3[0][0]) - 0.5 * (min_x + max_x)) * k + centre);
    out[0][1] = float((double(s3[0][1]) - 0.5 * (min_y + max_y)) * k + centre);
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
