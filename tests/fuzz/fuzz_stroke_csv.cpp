// libFuzzer target: read_stroke3_csv (src/export/svg_writer.h) on arbitrary bytes, written to a
// per-process temp file first (the reader takes a path).
//
// Checked: k2k::Error is the only exception; a file that reads has at least one row, every dx and
// dy finite, and every pen_lifted 0 or 1.
#include <cmath>
#include <cstdint>

#include "export/svg_writer.h"
#include "fuzz_support.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static k2k::fuzz::TempInput temp("stroke_csv", ".csv");
    const std::string& path = temp.write(data, size);
    k2k::Stroke3 rows;
    try {
        rows = k2k::read_stroke3_csv(path);
    } catch (const k2k::Error&) {
        return 0;
    }
    if (rows.empty()) k2k::fuzz::bug("read no rows without an error");
    for (size_t i = 0; i < rows.size(); i++) {
        if (!std::isfinite(rows[i][0]) || !std::isfinite(rows[i][1]))
            k2k::fuzz::bug("row %zu is (%g, %g), not finite", i, double(rows[i][0]), double(rows[i][1]));
        if (rows[i][2] != 0.0f && rows[i][2] != 1.0f) k2k::fuzz::bug("row %zu has pen_lifted %g", i, double(rows[i][2]));
    }
    return 0;
}
