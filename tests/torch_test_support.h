// Helpers shared by the tests that link LibTorch (test_support.h stays torch-free).
#pragma once

#include <c10/util/Exception.h>

#include <functional>
#include <string>

#include "config/config.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "run/options.h"
#include "run/run_dir.h"
#include "runtime/runtime.h"
#include "train/pipeline.h"

namespace k2k::test {

// The message (without the C++ backtrace) of the c10::Error that fn throws (TORCH_CHECK), or
// "(no exception)".
inline std::string check_message(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const c10::Error& e) {
        return e.what_without_backtrace();
    }
    return "(no exception)";
}

// The config of a tiny run (every stage a few steps of tiny models, on CPU) in root/run, its cache
// root/k2k.cache prepared from the kanjivg and kkanji folders given; evaluation stages off.
inline Config tiny_run_config(const std::string& root, const std::string& kanjivg, const std::string& kkanji) {
    Config cfg;
    cfg.run_dir = root + "/run";
    cfg.device = "cpu";
    cfg.log_every = 1000;
    cfg.data.cache = root + "/k2k.cache";
    cfg.data.kanjivg = kanjivg;
    cfg.data.kkanji = kkanji;
    for (VaeConfig* v : {&cfg.vae_new, &cfg.vae_old}) {
        v->z_size = 8;
        v->batch_size = 8;
        v->steps = 4;
        v->eval_every = 2;
        v->eval_batches = 1;
    }
    cfg.mdn.hidden = {16};
    cfg.mdn.num_mixtures = 3;
    cfg.mdn.batch_size = 16;
    cfg.mdn.steps = 4;
    cfg.mdn.eval_every = 2;
    cfg.sketch.hidden_size = 16;
    cfg.sketch.num_mixtures = 3;
    cfg.sketch.max_seq_len = 150;
    cfg.sketch.batch_size = 4;
    cfg.sketch.steps = 4;
    cfg.sketch.eval_every = 2;
    cfg.sketch.eval_batches = 1;
    cfg.generate.temperature = 0.5;
    cfg.reader.enabled = false;
    cfg.baseline.enabled = false;
    return cfg;
}

// Trains every stage of cfg on the CPU (run_pipeline); returns "" or the error's message, for
// fixtures that train once per file and report the failure in each test.
inline std::string train_run(const Config& cfg) {
    try {
        run_pipeline(cfg, torch::kCPU, false);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace k2k::test
