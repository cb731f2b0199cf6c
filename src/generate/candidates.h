// The model's own candidates: every KanjiVG base character ranked by the MDN's likelihood of its
// modern latent given z_old. A reader that needs no extra network (the quality issue's item 3).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/cache.h"
#include "models/conv_vae.h"
#include "models/mdn.h"

namespace k2k {

// The characters a prediction can be, with their modern latents.
struct CandidateSet {
    std::vector<uint32_t> codepoints;  // every base KanjiVG entry of the cache, ascending (C)
    torch::Tensor latents;             // (C, z_new) vae_new encoder means of their rasters
    torch::Tensor rasters;             // (C, 1, 64, 64) uint8 on the CPU: the KanjiVG rasters themselves
};

// Encodes the raster of every base entry of `ds` with `vae_new` (its mean), in batches. The cache
// must hold 64x64 rasters. Throws k2k::Error when it holds no KanjiVG character.
CandidateSet make_candidate_set(ConvVae& vae_new, const Dataset& ds, torch::Device device);

// log p(latent_c | z_old) of every candidate under every mixture: mixture for B inputs (the MDN's
// output), latents (C,D); returns (B,C) float on the mixture's device. Chunked over C, so memory
// stays near 32 M floats whatever B and C are.
torch::Tensor candidate_log_likelihood(const MdnOutput& mixture, const torch::Tensor& latents);

struct Candidate {
    uint32_t codepoint = 0;   // the KanjiVG character
    double log_likelihood = 0;  // log p(its latent | z_old), nats
    double probability = 0;   // softmax of log_likelihood / temperature over all C candidates
};

// The `top` best candidates of each row of `log_likelihood` (B,C), best first, with probabilities
// softmax(log_likelihood / temperature) over all C (temperature > 0 flattens the density ratios,
// which over 64 dimensions are far too sharp to read as probabilities at 1).
std::vector<std::vector<Candidate>> top_candidates(const torch::Tensor& log_likelihood, const CandidateSet& set,
                                                   int64_t top, double temperature);

// generate.condition "candidates": the candidate each of the `samples` draws of every input is
// conditioned on, as indices into the set, (B*samples) int64 on the CPU, row i*samples + k = input
// i, draw k: the (k mod top)-th best candidate of row i of log_likelihood (B,C).
torch::Tensor candidate_picks(const torch::Tensor& log_likelihood, int64_t samples, int64_t top);

// What the picked candidates condition the decoders with, on `device`: z_pixels (P,z) their vae_new
// latents (decoded into the predicted pixels), ink (P,1,64,64) in [0,1] their KanjiVG rasters (what
// a canvas Sketch-RNN traces), z_sketch (P,z) the sketch stage's encoder mean of those rasters (the
// encoder the Sketch-RNN was trained with; z_pixels when sketch_encoder is null).
struct CandidateConditioning {
    torch::Tensor z_pixels, ink, z_sketch;
};
CandidateConditioning candidate_conditioning(const CandidateSet& set, const torch::Tensor& picks,
                                             ConvVae* sketch_encoder, torch::Device device);

// "U+4E0A:0.523;U+4E0B:0.210": code points and probabilities (3 decimals), for index.csv.
std::string candidates_text(const std::vector<Candidate>& candidates);

}  // namespace k2k
