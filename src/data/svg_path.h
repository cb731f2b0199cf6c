// SVG path data (the "d" attribute) parser: the full SVG 1.1 / SVG 2 path grammar, with curves
// and arcs flattened to polylines within a stated tolerance so the rest of the data layer sees points only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "data/geometry.h"

namespace k2k {

// Most points one path data (and one KanjiVG file, all its paths together) may flatten to: a
// 17-byte arc gives up to 65536, so 4 KB of path data gave 15.7 M points (126 MB) and 66 KB ran out
// of memory. Real KanjiVG needs at most 116 per path and 208 per file (tolerance 0.1).
constexpr size_t kSvgPathMaxPoints = 100000;

struct SvgPathOptions {
    float tolerance = 0.1f;                // max distance between the polyline and the true curve, user units (> 0); default 0.1
    size_t max_points = kSvgPathMaxPoints; // refuse data that flattens to more points than this; default 100000
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
// <n> is the 0-based byte offset of the offending character in `d`. Every number must fit a float
// and so must every point drawn ("'l' draws the point (6e+38, 0), outside the float range": relative
// moves add up, arcs scale their radii), and the polylines may hold at most `max_points` points in
// all ("path data flattens to more than 100000 points (SvgPathOptions::max_points)"); both name the
// offset of the command's arguments.
std::vector<Polyline> parse_svg_path(std::string_view d, const SvgPathOptions& opt = {},
                                     const std::string& file = "", const std::string& path_id = "");

}  // namespace k2k
