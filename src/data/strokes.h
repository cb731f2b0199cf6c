// Stroke pipeline: RDP simplification, stroke-3 <-> stroke-5 <-> absolute polylines,
// normalisation (dataset delta std or unit bounding box) and Sketch-RNN style augmentation.
#pragma once

#include <random>
#include <vector>

#include "data/geometry.h"

namespace k2k {

// ---------------------------------------------------------------------------------------------
// Formats (see geometry.h for the types). Worked example: two strokes (0,0)-(3,0) and (3,4)-(3,6)
//
//   Strokes (absolute)        Stroke3 (dx, dy, pen_lifted)   Stroke5, max_len 5 (dx, dy, down, up, end)
//                                                             row 0  0  0  1 0 0   start token (PenDown)
//   {(0,0), (3,0)}            0  0  0                          row 1  0  0  1 0 0
//                             3  0  1  <- pen leaves paper    row 2  3  0  0 1 0
//   {(3,4), (3,6)}            0  4  0                          row 3  0  4  1 0 0
//                             0  2  1                          row 4  0  2  0 1 0
//                                                             row 5  0  0  0 0 1   end padding
//
// * Stroke-3: the first row is the offset from the origin (0,0); pen_lifted = 1 on the last point
//   of each stroke, so the move to the next stroke's first point is drawn with the pen up.
// * Stroke-5 (magenta `DataLoader.pad_batch`, i.e. `to_big_strokes` shifted by one row):
//   max_len + 1 rows; row 0 is the start token, rows 1..n the n points (p_down = 1 - pen_lifted,
//   p_up = pen_lifted), rows n+1..max_len are (0,0,0,0,1). The start token is (0,0,1,0,0) in
//   magenta (StartToken::PenDown) and (0,0,0,1,0) in kanji2kanji (StartToken::PenUp).
// * stroke5_to_stroke3 takes the rows WITHOUT the start token (what the sampler produces), so
//   stroke3 -> stroke3_to_stroke5 -> drop row 0 -> stroke5_to_stroke3 is the identity.
// ---------------------------------------------------------------------------------------------

// Ramer-Douglas-Peucker: keeps both endpoints and every point whose distance to the chord of its
// current span is > epsilon (strictly), recursing on the two halves. The distance is to the chord
// as a *segment* (projection clamped to its ends; a degenerate chord uses the distance to its
// point), not to the infinite line as the `rdp` Python package does: a stroke that doubles back
// along itself keeps its turning point. Hence epsilon = 0 removes exactly the points lying on the
// chord: collinear midpoints and repeated points. Polylines of fewer than 3 points are returned
// unchanged. Throws k2k::Error for epsilon < 0 or not finite.
Polyline rdp_simplify(const Polyline& line, float epsilon);
Strokes rdp_simplify(const Strokes& strokes, float epsilon);

// Absolute polylines -> stroke-3; empty polylines are skipped, a 1-point polyline becomes one
// pen-lifted row (a dot).
Stroke3 strokes_to_stroke3(const Strokes& strokes);
// Stroke-3 -> absolute polylines (for drawing); a new polyline starts after each row whose
// pen_lifted > 0.5. Sums are accumulated in double so long sketches round-trip to float error.
Strokes stroke3_to_strokes(const Stroke3& s3);

enum class StartToken {
    PenDown,  // (0,0,1,0,0): magenta sketch_rnn
    PenUp,    // (0,0,0,1,0): kanji2kanji
};

// Stroke-3 (n rows) -> stroke-5 of max_len + 1 rows (layout above). Throws k2k::Error when
// n > max_len or max_len < 0.
Stroke5 stroke3_to_stroke5(const Stroke3& s3, int max_len, StartToken start = StartToken::PenDown);
// Stroke-5 rows WITHOUT the start token -> stroke-3. Each row's pen state is the largest of its
// three pen values (one-hot in practice; ties prefer down, then up); conversion stops before the
// first row whose state is p_end; a p_up row becomes pen_lifted = 1.
Stroke3 stroke5_to_stroke3(const Stroke5& rows);

// Population standard deviation of all dx and dy values of all sketches taken together
// (magenta `calculate_normalizing_scale_factor`); 0 when there is no row.
float stroke3_delta_std(const std::vector<Stroke3>& sketches);
// Divides every dx, dy by `factor` (pen column untouched). Throws k2k::Error if factor is 0 or
// not finite.
void scale_stroke3(Stroke3& s3, float factor);

// Axis-aligned bounding box of all points; empty() when there is no point.
struct BBox {
    float min_x = 0.0f;  // smallest x (valid only when !empty())
    float min_y = 0.0f;  // smallest y
    float max_x = 0.0f;  // largest x
    float max_y = 0.0f;  // largest y
    bool has_points = false;  // false for a drawing without points

    bool empty() const { return !has_points; }
    float width() const { return max_x - min_x; }
    float height() const { return max_y - min_y; }
};
BBox strokes_bbox(const Strokes& strokes);

// kanji2kanji normalisation: translate the bbox's top-left corner to (0,0) and scale uniformly so
// the bbox's longer side is 1 (aspect kept). A drawing whose bbox is a single point is only
// translated; an empty drawing is returned unchanged.
Strokes normalize_unit_bbox(const Strokes& strokes);

struct StrokeAugmentOptions {
    float scale = 0.15f;     // per-axis scale factor drawn from U[1 - scale, 1 + scale]; 0 = off
    float drop_prob = 0.1f;  // probability of dropping each droppable point; 0 = off
    float limit = 1000.0f;   // dx and dy are clamped to [-limit, limit] after scaling
};

// Sketch-RNN augmentation (magenta `DataLoader.random_scale` then `augment_strokes`, then the
// loader's clamp): scales dx by sx and dy by sy, then drops points. A row may be dropped only if
// it is neither the first point of a stroke (row 0 or the row after a pen lift), nor a pen-lift
// row, nor the last row; its offset is added to the next row, so every kept point stays where it
// was and strokes keep their ends. Unlike magenta (which also protects the first 3 points of each
// stroke and merges into the previous point) any interior point may go. Random draws, in order:
// sx, sy, then one per row; uses only rng() outputs (portable across standard libraries).
// Throws k2k::Error for scale outside [0, 1), drop_prob outside [0, 1] or limit <= 0.
Stroke3 augment_stroke3(const Stroke3& s3, const StrokeAugmentOptions& options, std::mt19937& rng);

// Largest number of rows over the sketches (0 for none): the Nmax of stroke-5 padding.
int max_stroke3_len(const std::vector<Stroke3>& sketches);

}  // namespace k2k
