// What `k2k serve` answers: one image (PNG or JPEG bytes, a crop or a page with a box) ->
// prepared 64x64 input, the model's candidates with their KanjiVG strokes and Kuzushiji evidence,
// predicted modern pixels with their uncertainty, and ranked stroke samples, as JSON.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "data/prepare_input.h"
#include "util/error.h"

namespace k2k {

// A request the client got wrong (bad image, bad parameter): HTTP `status`, one-line message.
class BadRequest : public Error {
public:
    BadRequest(int status, const std::string& what) : Error(what), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

struct EngineOptions {
    std::string run_dir;           // run folder written by k2k pipeline
    std::string device = "auto";   // cpu | cuda | auto
    int64_t samples = 8;           // stroke samples per answer unless the request asks (1..kMaxSamples)
    int64_t candidates = 10;       // candidates listed per answer
    int64_t stroke_pool = 1;       // stroke samples drawn per sample answered (0 = the run config's generate.stroke_pool; 1 keeps answers near 120 ms on 2 cores)
    int64_t evidence = 3;          // Kuzushiji training images shown per candidate
    uint64_t max_pixels = 0;       // largest decoded image (0 = the PNG reader's default, 4096x4096)
};

// Per-request settings (the query string of POST /api/read).
struct ReadParams {
    PrepareOptions prepare;  // inversion and box
    int64_t samples = 0;     // 0 = the engine's
    uint64_t seed = 1;       // seed of every random draw
};

constexpr int64_t kMaxSamples = 16;  // most stroke samples one request may ask for

// Parses the query parameters invert=auto|yes|no, box=x,y,w,h, samples=N, seed=S; any other name
// is refused. Throws BadRequest(400, "<name>: <cause>").
ReadParams parse_read_params(const std::multimap<std::string, std::string>& params);

// The models of one run folder, loaded once; read() is safe to call from several threads (the
// models run one request at a time; decoding and JSON building run in parallel).
class ReadEngine {
public:
    explicit ReadEngine(const EngineOptions& options);  // throws k2k::Error for a bad run folder
    ~ReadEngine();
    ReadEngine(const ReadEngine&) = delete;
    ReadEngine& operator=(const ReadEngine&) = delete;

    // {"status":"ok","version":1,"run":...,"characters":C,"kuzushiji_classes":K,"samples":N,"classifier":bool}
    nlohmann::json health() const;
    // The answer to POST /api/read (schema "k2k-read", version 1; README "k2k serve"). Throws
    // BadRequest(400, ...) for bytes that are not a readable PNG/JPEG within the limits or an
    // image with no ink; k2k::Error / std::exception for a fault of the server.
    nlohmann::json read(const std::string& body, const ReadParams& params);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace k2k
