// libFuzzer target: parse_kanjivg_svg (src/data/kanjivg.h), tinyxml2 + the KanjiVG structure +
// the path grammar, on arbitrary bytes. An even-sized input is named "04e8c.svg" (code point from
// the name), an odd-sized one "input.svg" (code point from the kvg:StrokePaths_ group id).
//
// Checked: k2k::Error is the only exception; a parsed character has at least one stroke, one id
// per stroke, no empty stroke, only finite points, and a code point that is a Unicode scalar value.
#include <cmath>
#include <cstdint>
#include <string>

#include "data/kanjivg.h"
#include "fuzz_support.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string name = size % 2 == 0 ? "04e8c.svg" : "input.svg";
    k2k::KanjiVgChar c;
    try {
        c = k2k::parse_kanjivg_svg(text, name);
    } catch (const k2k::Error&) {
        return 0;
    }
    if (c.strokes.empty()) k2k::fuzz::bug("parsed with no strokes");
    if (c.strokes.size() != c.stroke_ids.size())
        k2k::fuzz::bug("%zu strokes but %zu stroke ids", c.strokes.size(), c.stroke_ids.size());
    if (c.codepoint > 0x10FFFF || (c.codepoint >= 0xD800 && c.codepoint <= 0xDFFF))
        k2k::fuzz::bug("code point 0x%x is not a Unicode scalar value", unsigned(c.codepoint));
    for (size_t i = 0; i < c.strokes.size(); i++) {
        if (c.strokes[i].empty()) k2k::fuzz::bug("stroke %zu is empty", i);
        for (const k2k::Point& p : c.strokes[i])
            if (!std::isfinite(p.x) || !std::isfinite(p.y))
                k2k::fuzz::bug("stroke %zu has the point (%g, %g), not finite", i, double(p.x), double(p.y));
    }
    return 0;
}
