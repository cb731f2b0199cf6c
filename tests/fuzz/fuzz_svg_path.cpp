// libFuzzer target: parse_svg_path (src/data/svg_path.h) on arbitrary bytes, and a round trip of
// its result through path data written back with 9 significant digits.
//
// Checked: k2k::Error is the only exception; every returned point is finite (the round trip could
// not write it otherwise); and writing the polylines back as "M x y L x y x y ..." (a one-point
// polyline, which "M x y Z" gives, as "M x y Z") and parsing that again gives the same number of
// polylines, each with the same number of points, every coordinate within 1e-3 of the first
// parse's relative to the larger magnitude (|a - b| <= 1e-3 * max(|a|, |b|), so zeros stay zeros).
// %.9g is exact for a float, so this only allows for the rounding of the parser's decimal reading.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "data/svg_path.h"
#include "fuzz_support.h"
#include "util/error.h"

namespace {

using k2k::Polyline;

std::string to_path_data(const std::vector<Polyline>& lines) {
    std::string d;
    char buf[64];
    for (const Polyline& line : lines) {
        for (size_t i = 0; i < line.size(); i++) {
            const char* cmd = i == 0 ? "M" : i == 1 ? " L" : "";
            std::snprintf(buf, sizeof buf, "%s%.9g %.9g ", cmd, double(line[i].x), double(line[i].y));
            d += buf;
        }
        if (line.size() == 1) d += "Z ";
    }
    return d;
}

bool close_enough(float a, float b) {
    return std::fabs(double(a) - double(b)) <= 1e-3 * std::fmax(std::fabs(double(a)), std::fabs(double(b)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view d(reinterpret_cast<const char*>(data), size);
    std::vector<Polyline> first;
    try {
        first = k2k::parse_svg_path(d);
    } catch (const k2k::Error&) {
        return 0;  // malformed path data: the expected outcome for most inputs
    }
    for (size_t i = 0; i < first.size(); i++) {
        if (first[i].empty()) k2k::fuzz::bug("polyline %zu is empty", i);
        for (size_t j = 0; j < first[i].size(); j++)
            if (!std::isfinite(first[i][j].x) || !std::isfinite(first[i][j].y))
                k2k::fuzz::bug("polyline %zu point %zu is (%g, %g), not finite", i, j, double(first[i][j].x),
                               double(first[i][j].y));
    }

    const std::string written = to_path_data(first);
    std::vector<Polyline> second;
    try {
        second = k2k::parse_svg_path(written);
    } catch (const k2k::Error& e) {
        k2k::fuzz::bug("the written path data does not parse: %s", e.what());
    }
    if (second.size() != first.size())
        k2k::fuzz::bug("round trip: %zu polylines, then %zu", first.size(), second.size());
    for (size_t i = 0; i < first.size(); i++) {
        if (second[i].size() != first[i].size())
            k2k::fuzz::bug("round trip: polyline %zu has %zu points, then %zu", i, first[i].size(), second[i].size());
        for (size_t j = 0; j < first[i].size(); j++) {
            const k2k::Point a = first[i][j], b = second[i][j];
            if (!close_enough(a.x, b.x) || !close_enough(a.y, b.y))
                k2k::fuzz::bug("round trip: polyline %zu point %zu is (%.9g, %.9g), then (%.9g, %.9g)", i, j,
                               double(a.x), double(a.y), double(b.x), double(b.y));
        }
    }
    return 0;
}
