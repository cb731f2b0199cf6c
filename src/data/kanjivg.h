// KanjiVG reader: one SVG file (e.g. 05b57.svg, 05b57-Kaisho.svg) -> the character's strokes in
// stroke order, flattened to polylines in KanjiVG user units (109x109 canvas, y down).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/geometry.h"
#include "data/svg_path.h"

namespace k2k {

struct KanjiVgChar {
    uint32_t codepoint = 0;                // from the file name (05b57.svg -> 0x5B57)
    std::string element;                   // UTF-8 kvg:element of the top-level group; may be empty
    bool element_mismatch = false;         // element is set but is not the file's character (an upstream slip)
    std::string variant;                   // "Kaisho" for 05b57-Kaisho.svg; empty for base files
    std::string file;                      // file name without folders, e.g. "05b57-Kaisho.svg"
    Strokes strokes;                       // one polyline per <path>, in stroke order
    std::vector<std::string> stroke_ids;   // the <path> ids ("kvg:05b57-s1", ...; "#<n>" if absent), parallel to strokes
};

// Reads and parses one KanjiVG file. Strokes are every <path> under the kvg:StrokePaths_* group
// in document order (the kvg:StrokeNumbers_* labels are ignored). A path with several subpaths
// (none in KanjiVG) becomes one polyline: its subpaths are concatenated, so the pen lift between
// them is lost. The code point comes from the file name, or from the StrokePaths group id when
// the name is not of the KanjiVG form. Throws k2k::Error("<path>: <cause>") for a missing file,
// malformed XML, no StrokePaths group, no paths, bad path data, or paths that flatten to more than
// opt.max_points points in all.
KanjiVgChar read_kanjivg_file(const std::string& path, const SvgPathOptions& opt = {});
// Same, from XML text in memory; `name` is the file name used for the code point and in errors.
KanjiVgChar parse_kanjivg_svg(const std::string& xml_text, const std::string& name, const SvgPathOptions& opt = {});

// Every *.svg file in `dir` (full paths), sorted by file name; throws if `dir` is not a folder.
std::vector<std::string> list_kanjivg_files(const std::string& dir);
// 0x5B57 -> "05b57.svg" (five lower-case hex digits, as KanjiVG names its base files).
std::string kanjivg_base_filename(uint32_t codepoint);
// "05b57.svg" -> (0x5B57, ""), "05b57-Kaisho.svg" -> (0x5B57, "Kaisho"). Takes a bare file
// name: 1-6 hex digits naming a Unicode scalar value, optionally '-' and an alphanumeric
// variant, then ".svg". Returns false (outputs untouched) for anything else. Outputs may be null.
bool parse_kanjivg_filename(const std::string& filename, uint32_t* codepoint, std::string* variant);

// UTF-8 encoding of a Unicode scalar value; throws for surrogates and values above U+10FFFF.
std::string codepoint_to_utf8(uint32_t cp);
// "U+5B57" (upper-case hex, at least four digits).
std::string codepoint_label(uint32_t cp);

}  // namespace k2k
