#include "data/sketch_set.h"

#include <cstdint>
#include <utility>

#include "data/selection.h"
#include "data/stroke_norm.h"

namespace k2k {

SketchSet build_sketches(const Dataset& ds, const std::vector<size_t>& items, const SketchConfig& sc,
                         size_t* skipped) {
    SketchSet set;
    for (size_t m : items) {
        Stroke3 s3 = sketch_for_model(modern_stroke3(ds, m, float(sc.rdp_epsilon)), sc.normalization);
        if (s3.empty() || int64_t(s3.size()) > sc.max_seq_len) {
            ++*skipped;
            continue;
        }
        set.sketches.push_back(std::move(s3));
        set.modern.push_back(m);
    }
    return set;
}

StartToken sketch_start_token(const SketchConfig& sc) {
    return sc.start_token == "pen_up" ? StartToken::PenUp : StartToken::PenDown;
}

}  // namespace k2k
