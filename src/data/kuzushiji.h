// Reader for the Kuzushiji-Kanji archive layout: <root>/U+XXXX/<16 hex digits>.png, 64x64 8-bit grey,
// white (255) ink on a black (0) background.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/geometry.h"

namespace k2k {

struct KuzushijiImage {
    uint32_t codepoint = 0;  // class, from the folder name (U+5B57 -> 0x5B57)
    std::string name;        // path relative to the root, e.g. "U+5B57/0a1b2c3d4e5f6789.png"
    Image image;             // 64x64, white ink on black, as stored
};

struct KuzushijiSet {
    std::vector<KuzushijiImage> images;      // sorted by code point, then file name
    size_t num_classes = 0;                  // distinct code points among `images`
    size_t num_folders = 0;                  // U+ folders found (a folder may hold only blank images)
    size_t num_files = 0;                    // *.png files found in them (images + blank + failed)
    size_t skipped_blank = 0;                // all-black images left out (the full archive has 28)
    std::vector<std::string> skipped_files;  // their relative names, in the same order
    std::vector<std::string> failed;         // "<path>: <cause>" of each file left out because it could
                                             // not be read, is not a PNG or is not 64x64, in file order
};

// Reads every *.png inside the sub-folders of `root` named "U+" + 4 to 6 hex digits; other files
// and folders (PROVENANCE.md, classes.csv, ...) are ignored. When `root` has no such folder but
// has a "kkanji2" sub-folder, that one is read (the parent of the archive folder may be passed).
// Decodes on `threads` threads (<= 0: one); the result does not depend on the thread count.
// A file that cannot be read, is malformed or is not 64x64 (checked from its header, before
// decoding) is left out and listed in `failed`; what to do about it is the caller's policy
// (prepare_dataset's). Throws k2k::Error when `root` is missing or holds no U+ folder.
KuzushijiSet read_kkanji_dir(const std::string& root, int threads = 2);

// "U+5B57" -> 0x5B57: "U+" then 4 to 6 hex digits (either case), value <= 0x10FFFF.
// Returns false (and leaves *cp alone) for anything else. The inverse, codepoint_label(), is in
// data/kanjivg.h.
bool parse_codepoint_label(const std::string& s, uint32_t* cp);

// A character given on the command line: "U+5B57" or the character itself in UTF-8 ("字").
// Throws k2k::Error "<what>: '<s>' is not a character: ..." for anything else.
uint32_t parse_character_arg(const std::string& s, const std::string& what);

}  // namespace k2k
