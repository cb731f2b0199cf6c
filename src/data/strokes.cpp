// Stroke pipeline: RDP, stroke-3/stroke-5 conversions, normalisation and augmentation.
// Pure functions over geometry.h types; the formats are documented once, in strokes.h.
#include "data/strokes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "util/error.h"

namespace k2k {

namespace {

// Distance from p to the segment a-b (to a itself when the segment is degenerate).
double point_segment_distance(const Point& p, const Point& a, const Point& b) {
    double vx = double(b.x) - a.x;
    double vy = double(b.y) - a.y;
    double wx = double(p.x) - a.x;
    double wy = double(p.y) - a.y;
    double len2 = vx * vx + vy * vy;
    double t = 0.0;
    if (len2 > 0.0) t = std::clamp((wx * vx + wy * vy) / len2, 0.0, 1.0);
    double dx = wx - t * vx;
    double dy = wy - t * vy;
    return std::sqrt(dx * dx + dy * dy);
}

// Uniform float in [0, 1) from the top 24 bits of one mt19937 output: unlike
// std::uniform_real_distribution, the sequence is the same with every standard library.
float uniform01(std::mt19937& rng) {
    return float(rng() >> 8) * (1.0f / 16777216.0f);
}

std::string float_text(float v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", double(v));
    return buf;
}

}  // namespace

Polyline rdp_simplify(const Polyline& line, float epsilon) {
    if (!(epsilon >= 0.0f) || !std::isfinite(epsilon))
        throw Error("rdp_simplify: epsilon must be finite and >= 0 (got " + float_text(epsilon) + ")");
    size_t n = line.size();
    if (n < 3) return line;

    // Iterative over an explicit stack of spans so long polylines cannot overflow the call stack.
    std::vector<char> keep(n, 0);
    keep[0] = 1;
    keep[n - 1] = 1;
    std::vector<std::pair<size_t, size_t>> spans;
    spans.push_back({0, n - 1});
    while (!spans.empty()) {
        size_t first = spans.back().first;
        size_t last = spans.back().second;
        spans.pop_back();
        if (last - first < 2) continue;
        double best = -1.0;
        size_t best_i = first;
        for (size_t i = first + 1; i < last; i++) {
            double d = point_segment_distance(line[i], line[first], line[last]);
            if (d > best) {
                best = d;
                best_i = i;
            }
        }
        if (best > double(epsilon)) {
            keep[best_i] = 1;
            spans.push_back({first, best_i});
            spans.push_back({best_i, last});
        }
    }
    Polyline out;
    for (size_t i = 0; i < n; i++)
        if (keep[i]) out.push_back(line[i]);
    return out;
}

Strokes rdp_simplify(const Strokes& strokes, float epsilon) {
    Strokes out;
    out.reserve(strokes.size());
    for (const Polyline& line : strokes) out.push_back(rdp_simplify(line, epsilon));
    return out;
}

Stroke3 strokes_to_stroke3(const Strokes& strokes) {
    Stroke3 out;
    Point prev = {0.0f, 0.0f};
    for (const Polyline& line : strokes) {
        for (size_t i = 0; i < line.size(); i++) {
            float lifted = (i + 1 == line.size()) ? 1.0f : 0.0f;
            out.push_back({line[i].x - prev.x, line[i].y - prev.y, lifted});
            prev = line[i];
        }
    }
    return out;
}

Strokes stroke3_to_strokes(const Stroke3& s3) {
    Strokes out;
    Polyline current;
    double x = 0.0;
    double y = 0.0;
    for (const auto& row : s3) {
        x += row[0];
        y += row[1];
        current.push_back({float(x), float(y)});
        if (row[2] > 0.5f) {
            out.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) out.push_back(std::move(current));
    return out;
}

Stroke5 stroke3_to_stroke5(const Stroke3& s3, int max_len, StartToken start) {
    if (max_len < 0) throw Error("stroke3_to_stroke5: max_len must be >= 0 (got " + std::to_string(max_len) + ")");
    if (s3.size() > size_t(max_len))
        throw Error("stroke3_to_stroke5: sketch has " + std::to_string(s3.size()) + " points, more than max_len " +
                    std::to_string(max_len));
    Stroke5 out(size_t(max_len) + 1, {0.0f, 0.0f, 0.0f, 0.0f, 1.0f});
    if (start == StartToken::PenDown)
        out[0] = {0.0f, 0.0f, 1.0f, 0.0f, 0.0f};
    else
        out[0] = {0.0f, 0.0f, 0.0f, 1.0f, 0.0f};
    for (size_t i = 0; i < s3.size(); i++) {
        float up = s3[i][2];
        out[i + 1] = {s3[i][0], s3[i][1], 1.0f - up, up, 0.0f};
    }
    return out;
}

Stroke3 stroke5_to_stroke3(const Stroke5& rows) {
    Stroke3 out;
    for (const auto& r : rows) {
        bool up = r[3] > r[2];
        float pen_best = up ? r[3] : r[2];
        if (r[4] > pen_best) break;
        out.push_back({r[0], r[1], up ? 1.0f : 0.0f});
    }
    return out;
}

float stroke3_delta_std(const std::vector<Stroke3>& sketches) {
    // Two passes in double: the Δ values of a whole dataset (~1M numbers) lose digits in float.
    double sum = 0.0;
    size_t count = 0;
    for (const Stroke3& s : sketches)
        for (const auto& row : s) {
            sum += double(row[0]) + double(row[1]);
            count += 2;
        }
    if (count == 0) return 0.0f;
    double mean = sum / double(count);
    double sq = 0.0;
    for (const Stroke3& s : sketches)
        for (const auto& row : s) {
            double a = row[0] - mean;
            double b = row[1] - mean;
            sq += a * a + b * b;
        }
    return float(std::sqrt(sq / double(count)));
}

void scale_stroke3(Stroke3& s3, float factor) {
    if (factor == 0.0f || !std::isfinite(factor))
        throw Error("scale_stroke3: factor must be finite and non-zero (got " + float_text(factor) + ")");
    for (auto& row : s3) {
        row[0] /= factor;
        row[1] /= factor;
    }
}

BBox strokes_bbox(const Strokes& strokes) {
    BBox box;
    for (const Polyline& line : strokes)
        for (const Point& p : line) {
            if (!box.has_points) {
                box.min_x = box.max_x = p.x;
                box.min_y = box.max_y = p.y;
                box.has_points = true;
                continue;
            }
            box.min_x = std::min(box.min_x, p.x);
            box.max_x = std::max(box.max_x, p.x);
            box.min_y = std::min(box.min_y, p.y);
            box.max_y = std::max(box.max_y, p.y);
        }
    return box;
}

Strokes normalize_unit_bbox(const Strokes& strokes) {
    BBox box = strokes_bbox(strokes);
    if (box.empty()) return strokes;
    float side = std::max(box.width(), box.height());
    float scale = side > 0.0f ? 1.0f / side : 1.0f;
    Strokes out = strokes;
    for (Polyline& line : out)
        for (Point& p : line) {
            p.x = (p.x - box.min_x) * scale;
            p.y = (p.y - box.min_y) * scale;
        }
    return out;
}

Stroke3 augment_stroke3(const Stroke3& s3, const StrokeAugmentOptions& options, std::mt19937& rng) {
    if (!(options.scale >= 0.0f && options.scale < 1.0f))
        throw Error("augment_stroke3: scale must be in [0, 1) (got " + float_text(options.scale) + ")");
    if (!(options.drop_prob >= 0.0f && options.drop_prob <= 1.0f))
        throw Error("augment_stroke3: drop_prob must be in [0, 1] (got " + float_text(options.drop_prob) + ")");
    if (!(options.limit > 0.0f))
        throw Error("augment_stroke3: limit must be > 0 (got " + float_text(options.limit) + ")");
    float sx = 1.0f + (uniform01(rng) * 2.0f - 1.0f) * options.scale;
    float sy = 1.0f + (uniform01(rng) * 2.0f - 1.0f) * options.scale;
    Stroke3 out;
    out.reserve(s3.size());
    float carry_x = 0.0f;  // offsets of dropped rows, owed to the next kept row
    float carry_y = 0.0f;
    for (size_t i = 0; i < s3.size(); i++) {
        float u = uniform01(rng);  // drawn for every row so the sequence does not depend on the data
        bool first_of_stroke = (i == 0) || s3[i - 1][2] > 0.5f;
        bool pen_lift = s3[i][2] > 0.5f;
        bool last = (i + 1 == s3.size());
        float dx = s3[i][0] * sx + carry_x;
        float dy = s3[i][1] * sy + carry_y;
        if (!first_of_stroke && !pen_lift && !last && u < options.drop_prob) {
            carry_x = dx;
            carry_y = dy;
            continue;
        }
        carry_x = 0.0f;
        carry_y = 0.0f;
        out.push_back({dx, dy, s3[i][2]});
    }
    for (auto& row : out) {
        row[0] = std::clamp(row[0], -options.limit, options.limit);
        row[1] = std::clamp(row[1], -options.limit, options.limit);
    }
    return out;
}

int max_stroke3_len(const std::vector<Stroke3>& sketches) {
    size_t best = 0;
    for (const Stroke3& s : sketches) best = std::max(best, s.size());
    return int(best);
}

}  // namespace k2k
