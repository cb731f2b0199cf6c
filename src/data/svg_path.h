// SVG path data (the "d" attribute) parser: the full SVG 1.1 / SVG 2 path grammar, with curves
// and arcs flattened to polylines within a stated tolerance so the rest of the data layer sees points only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/geometry.h"

namespace k2k {

struct SvgPathOptions {
    float tolerance = 0.1f;  // max distance between the polyline and the true curve, user units (> 0); default 0.1
};

// Parses SVG path data and returns one polyline per subpath, in order.
//
// Grammar: commands M m L l H h V v C c S s Q q T t A a Z z; extra argument sets repeat the
// command (after M/m they are implicit L/l); numbers like "-.5e-3", "1.2.3" (= 1.2, .3) and
// "10-5" (= 10, -5); comma/whitespace separators; arc flags may be written without separators
// ("a1 1 0 00 1 1"). S/T reflect the previous control point only after C/c/S/s resp. Q/q/T/t.
// Arcs follow the SVG implementation notes (endpoint -> center parameterisation, radii scaled up
// when too small, a zero radius is a straight line, equal endpoints draw nothing).
//
// Output: a subpath is emitted when it draws something (a lone moveto draws nothing). Z appends
// the subpath's start point unless the polyline already ends there; a drawing command after Z
// starts a new polyline at that start point. Curves are flattened by recursive subdivision
// until every piece is within `tolerance` of its chord, so every vertex lies on the curve and
// the polyline stays within `tolerance` of it. Empty (or all-whitespace) data gives no polylines.
//
// Malformed data throws k2k::Error with one line "<file>: path <id>: offset <n>: <cause>" (file
// and id parts are left out when empty; "svg path: offset <n>: <cause>" when both are), where
// <n> is the 0-based byte offset of the offending character in `d`.
std::vector<Polyline> parse_svg_path(std::string_view d, const SvgPathOptions& opt = {},
                                     const std::string& file = "", const std::string& path_id = "");

}  // namespace k2k
