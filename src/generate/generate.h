// `k2k generate` as a library: Kuzushiji images -> reconstruction, predicted modern kanji (pixels,
// uncertainty) and stroke samples (SVG) through a trained run folder; and modern kanji -> strokes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "generate/candidates.h"

namespace k2k {

// Settings of one generate call. Negative / zero / empty fields take the run config's
// `generate` section (the defaults written next to the checkpoints).
struct GenerateOptions {
    std::string out_dir;           // output folder (required); created when missing
    int64_t samples = 0;           // MDN draws and stroke samples per input; 0 = config generate.samples
    double temperature = 0.0;      // Sketch-RNN sampling temperature; <= 0 = config generate.temperature
    double mdn_temperature = 0.0;  // MDN temperature on pi; <= 0 = config generate.mdn_temperature
    std::string mdn_mode;          // "mean" (component mean, no noise) | "sample" | "" = config generate.mdn_mode
    std::string condition;         // "mdn" | "candidates" | "" = config generate.condition (predict.h)
    int64_t max_len = 0;           // longest stroke sample in rows; 0 = config generate.max_len
    uint64_t seed = 1;             // seed of the one CPU generator behind every random draw
    std::string device = "cpu";    // cpu | cuda | auto
    bool resize = false;           // resize inputs that are not 64x64 instead of refusing them
    bool prepare = false;          // photographed / scanned crops: invert when light, crop to the ink, pad, resize,
                                   // stretch the contrast (data/prepare_input.h) before the models see them
    std::string invert = "auto";   // with prepare: auto (invert light backgrounds) | yes | no
    bool verbose = true;           // print one line per input and a summary on stdout
};

// What was written for one input. Paths are relative to out_dir, '/'-separated.
struct GeneratedItem {
    std::string input;                 // the input: image file, or "U+5B57" for generate_from_kanji
    std::string stem;                  // output sub-folder name
    std::string reconstruction;        // <stem>/reconstruction.png (images only)
    std::string modern;                // <stem>/modern.png (images only)
    std::string uncertainty;           // <stem>/uncertainty.png (images only)
    std::string sheet;                 // <stem>/sheet.png
    std::vector<std::string> svgs;     // <stem>/strokes_<i>.svg, i = 0..samples-1
    std::vector<int> strokes;          // pen-down strokes of each sample
    std::vector<int> rows;             // stroke-3 rows (points) of each sample
    double mean_std = 0.0;             // mean over pixels of the per-pixel std over samples (0..0.5; images only)
    double max_std = 0.0;              // largest per-pixel std (images only)
    std::vector<Candidate> candidates;  // the MDN's best characters for the input, best first (images only)
};

struct GenerateSummary {
    std::vector<GeneratedItem> items;  // one per input, in input order
    std::string index_csv;             // out_dir/index.csv (images only; empty otherwise)
    std::string index_json;            // out_dir/index.json: the same rows with the candidate lists (images only)
    int64_t samples = 0;               // the resolved settings used
    double temperature = 0.0;
    double mdn_temperature = 0.0;
    bool mdn_mode = true;              // true = component mean
    int64_t max_len = 0;
    double seconds = 0.0;              // wall time, models loading included
};

// A file -> {file}; a folder -> its .png / .jpg / .jpeg files (any case; not recursive), sorted by
// name. Throws k2k::Error "<path>: no such file or folder" or "<dir>: no .png or .jpg file in this folder".
std::vector<std::string> list_input_images(const std::string& path);

// Paper path (2), per input image x (64x64 8-bit grey, white ink on black as Kuzushiji-Kanji):
//   z_old = mu of vae_old.encode(x); N draws z~ = mdn_sample(MDN(z_old), mdn_temperature, mode);
//   images = vae_new.decode(z~) (N,1,64,64); strokes = sketch.sample(z~, temperature) x scale.
// Writes under out_dir/<stem>/ (stem = file name without extension; stems must be unique):
//   reconstruction.png  vae_old's reconstruction decode(mu(x)), white on black
//   modern.png          mean over the N decoded images, white on black
//   uncertainty.png     per-pixel std over the N images (population std) x 510, rounded: values in
//                       [0,1] have std <= 0.5, so 255 is the largest possible spread
//   strokes_<i>.svg     sample i in KanjiVG's SVG conventions, fitted into the 109 canvas
//   sheet.png           input | reconstruction | modern | uncertainty (heat map) | stroke samples
// and out_dir/index.csv, header
//   input,stem,reconstruction,modern,uncertainty,sheet,svgs,mean_std,max_std,strokes,rows,candidates
// one row per input; svgs, strokes and rows hold one value per sample joined by ';'
// (strokes = pen-down strokes, rows = stroke-3 points of each sample); candidates holds the
// generate.candidates best characters of the MDN's ranking as "U+4E0A:0.523;..." (candidates.h:
// every KanjiVG character of the cache ranked by log p(its vae_new latent | z_old)), also written
// with the characters themselves to out_dir/index.json and on the sheet; mean_std and max_std are
// the uncertainty in [0, 0.5] before the x510 scaling. Fields are quoted as in RFC 4180 when needed.
// The generator is reseeded with options.seed before each input, so an input's outputs depend
// only on (seed, image, settings), not on the other inputs. Every file is written atomically.
// Inputs are PNG or JPEG. With options.prepare each goes through prepare_input first; without it
// an image must already look like Kuzushiji-Kanji: white ink on black (a mostly light image is
// refused: "<file>: mostly light (mean grey 201): ... pass --prepare ...") and 64x64 (or resized
// with options.resize). Throws k2k::Error (one line naming the file) for a missing run folder,
// config or checkpoint, a corrupt checkpoint, an unreadable image, or an image that is not 64x64
// without options.resize or prepare: "<file>: image is WxH, expected 64x64 (pass --resize to resize it)".
// Every input is read and checked before the models run, so a bad file writes nothing.
GenerateSummary generate_from_images(const std::string& run_dir, const std::vector<std::string>& inputs,
                                     const GenerateOptions& options);

// Paper path (1): the modern raster of `codepoint` (its base KanjiVG entry in the run config's
// data.cache) -> the sketch stage's fine-tuned encoder -> z (its mean for one sample; N draws
// mu + sigma * eps otherwise) -> N stroke samples. Writes out_dir/U+XXXX/strokes_<i>.svg and
// out_dir/U+XXXX/sheet.png (raster | stroke samples). Throws k2k::Error
// "<cache>: no KanjiVG entry for U+XXXX" for a character that is not in the cache.
GenerateSummary generate_from_kanji(const std::string& run_dir, uint32_t codepoint, const GenerateOptions& options);

}  // namespace k2k
