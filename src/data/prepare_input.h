// A user's crop of one character (photograph or scan, usually dark ink on light paper, any size)
// made into the models' input: a square grey image framed and levelled like Kuzushiji-Kanji's.
#pragma once

#include <string>

#include "data/geometry.h"

namespace k2k {

enum class InvertMode { Auto, Yes, No };

// A rectangle in source pixels: columns x .. x + width - 1, rows y .. y + height - 1.
struct Box {
    int x = 0;
    int y = 0;
    int width = 0;
    int height = 0;
};

// The defaults reproduce Kuzushiji-Kanji's framing, measured on 300 of its images (one per random
// class; docs in prepare_input.cpp): the background is 0, the ink's bounding box touches two
// opposite sides (its longer side is the full 64 pixels in 87 % of them) and is centred across the
// other, so the margin is 0.
struct PrepareOptions {
    InvertMode invert = InvertMode::Auto;  // Auto: invert when the background is light (border median > 127)
    bool has_box = false;                  // crop to `box` (source pixels) first
    Box box;                               // the crop, used when has_box
    int size = 64;                         // side of the output square, 1..1024; 64 as Kuzushiji-Kanji
    double margin = 0.0;                   // empty margin on each side round the ink, share of the output
                                           // side, 0..0.45; 0 as Kuzushiji-Kanji
    bool crop_to_ink = true;               // crop to the ink's bounding box, then pad to a square; false:
                                           // the whole (boxed) source padded to a square
    bool contrast_stretch = true;          // map the background to 0 and the ink to 255
};

struct PreparedInput {
    Image image;             // size x size, white ink on black, as Kuzushiji-Kanji
    bool inverted = false;   // the source was dark ink on a light background
    double background = 0;   // estimated background grey level of the (boxed) source, 0..255
    Box ink_box;             // the ink's bounding box, in source pixel coordinates
};

// The steps: the box crop; the background (median of the outer ring of pixels) and its noise (their
// median absolute deviation); inversion; the ink found by hysteresis (pixels above Otsu's threshold,
// grown into the faint edge pixels connected to them); small ink components far from the rest
// dropped as specks; the ink's box padded to a square centred on it; area averaging (downscaling)
// or bilinear (upscaling) to size x size; then the grey levels stretched so the background (plus
// its noise allowance) is 0 and the ink (90th percentile of its bright pixels) 255. Throws
// k2k::Error naming `name` for a bad box ("<name>: box 10,10,500,20 is not inside the 300x200
// image", "... is empty"), bad options, and an image without ink ("<name>: no ink found (the image
// is blank)"). Memory: 5 bytes per source pixel at most (a visited mask and the flood fill's
// stack) and 17 per output pixel.
PreparedInput prepare_input(const Image& source, const PrepareOptions& options, const std::string& name);

// "auto", "yes" or "no"; otherwise k2k::Error "<what>: expected auto, yes or no, got 'maybe'".
InvertMode parse_invert_mode(const std::string& text, const std::string& what);
// "x,y,width,height", four integers (spaces allowed round them); otherwise k2k::Error
// "<what>: expected x,y,width,height (4 integers), got '1,2,3'". Whether the box fits an image is
// prepare_input's check.
Box parse_box(const std::string& text, const std::string& what);

}  // namespace k2k
