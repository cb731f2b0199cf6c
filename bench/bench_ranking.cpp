// Which score should rank a stroke pool (generate.stroke_pool)? Not a speed benchmark: one pass of
// the Sketch-RNN fed the true modern latent and raster of a split's KanjiVG characters (link (b) of
// `k2k eval`), N*P draws per character, each read by the run's reader; then every candidate score
// keeps each character's N best draws and the reader's verdicts give per-sample, first-ranked and
// best-of-N accuracy, so rankers are compared on the same draws. Choose on the validation split.
//
//   ./build/bench/bench_ranking --run runs/full2 [--split val] [--chars 300] [--samples 10] [--pool 8]
//                               [--seed 1] [--threads 2]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "config/config.h"
#include "data/raster.h"
#include "data/selection.h"
#include "data/split.h"
#include "data/strokes.h"
#include "eval/context.h"
#include "eval/transfer.h"
#include "generate/ranking.h"
#include "run/batches.h"
#include "run/loaders.h"
#include "runtime/runtime.h"
#include "util/error.h"

namespace {

namespace F = torch::nn::functional;

struct Options {
    std::string run, split = "val";
    int chars = 300, samples = 10, pool = 8, threads = 2;
    uint64_t seed = 1;
};

// Cosine of (N,1,S,S) renders with targets (N,1,S,S) after a k x k box blur (k = 1: none).
torch::Tensor blurred_cosine(const torch::Tensor& a, const torch::Tensor& b, int k) {
    auto blur = [k](const torch::Tensor& x) {
        return k == 1 ? x.flatten(1) : F::avg_pool2d(x, F::AvgPool2dFuncOptions(k).stride(1).padding(k / 2)).flatten(1);
    };
    torch::Tensor x = blur(a), y = blur(b);
    return (x * y).sum(1) / (x.norm(2, 1) * y.norm(2, 1)).clamp_min(1e-12);
}

// Dice of the ink (> 0.5) of a and b, (N,).
torch::Tensor dice(const torch::Tensor& a, const torch::Tensor& b) {
    torch::Tensor x = (a > 0.5).to(torch::kFloat32).flatten(1), y = (b > 0.5).to(torch::kFloat32).flatten(1);
    return 2 * (x * y).sum(1) / (x.sum(1) + y.sum(1)).clamp_min(1);
}

// Distance (3-4 chamfer / 3, in pixels) of every pixel of an S*S mask to the nearest ink pixel.
std::vector<float> distance_to_ink(const float* ink, int s) {
    const float big = 1e6f;
    std::vector<float> d(size_t(s) * size_t(s));
    for (int i = 0; i < s * s; ++i) d[size_t(i)] = ink[i] > 0.5f ? 0.0f : big;
    auto at = [&](int y, int x) -> float& { return d[size_t(y) * size_t(s) + size_t(x)]; };
    for (int y = 0; y < s; ++y)
        for (int x = 0; x < s; ++x) {
            float& v = at(y, x);
            if (x > 0) v = std::min(v, at(y, x - 1) + 3);
            if (y > 0) v = std::min(v, at(y - 1, x) + 3);
            if (y > 0 && x > 0) v = std::min(v, at(y - 1, x - 1) + 4);
            if (y > 0 && x + 1 < s) v = std::min(v, at(y - 1, x + 1) + 4);
        }
    for (int y = s - 1; y >= 0; --y)
        for (int x = s - 1; x >= 0; --x) {
            float& v = at(y, x);
            if (x + 1 < s) v = std::min(v, at(y, x + 1) + 3);
            if (y + 1 < s) v = std::min(v, at(y + 1, x) + 3);
            if (y + 1 < s && x + 1 < s) v = std::min(v, at(y + 1, x + 1) + 4);
            if (y + 1 < s && x > 0) v = std::min(v, at(y + 1, x - 1) + 4);
        }
    for (float& v : d) v /= 3.0f;
    return d;
}

// Minus the symmetric mean chamfer distance between the ink of a (N,1,S,S) and b (N,1,S,S), (N,).
torch::Tensor neg_chamfer(const torch::Tensor& a, const torch::Tensor& b) {
    const int64_t n = a.size(0), s = a.size(2);
    torch::Tensor ac = a.contiguous(), bc = b.contiguous();
    torch::Tensor out = torch::zeros({n});
    for (int64_t i = 0; i < n; ++i) {
        const float* pa = ac[i].data_ptr<float>();
        const float* pb = bc[i].data_ptr<float>();
        const std::vector<float> da = distance_to_ink(pa, int(s)), db = distance_to_ink(pb, int(s));
        double sa = 0, sb = 0;
        int64_t na = 0, nb = 0;
        for (int64_t p = 0; p < s * s; ++p) {
            if (pa[p] > 0.5f) sa += db[size_t(p)], ++na;
            if (pb[p] > 0.5f) sb += da[size_t(p)], ++nb;
        }
        out[i] = (na == 0 || nb == 0) ? -1e6 : -(sa / double(na) + sb / double(nb));
    }
    return out;
}

// Rank of each score within its item (0 = best), as float, for rank-sum combinations.
torch::Tensor ranks(const torch::Tensor& scores, int64_t per_item) {
    torch::Tensor order = scores.view({-1, per_item}).argsort(int64_t(1), /*descending=*/true);
    return order.argsort(int64_t(1), false).to(torch::kFloat32).view({-1});
}

struct Tally {
    double per_sample = 0, first = 0, best = 0;
    int64_t items = 0;
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--run") o.run = value;
        else if (key == "--split") o.split = value;
        else if (key == "--chars") o.chars = std::atoi(value.c_str());
        else if (key == "--samples") o.samples = std::atoi(value.c_str());
        else if (key == "--pool") o.pool = std::atoi(value.c_str());
        else if (key == "--threads") o.threads = std::atoi(value.c_str());
        else if (key == "--seed") o.seed = std::strtoull(value.c_str(), nullptr, 10);
        else {
            std::fprintf(stderr, "usage: bench_ranking --run R [--split val] [--chars 300] [--samples 10] "
                                 "[--pool 8] [--seed 1] [--threads 2]\n");
            return 2;
        }
    }
    if (o.run.empty() || o.chars <= 0 || o.samples <= 0 || o.pool <= 0 || o.threads <= 0) {
        std::fprintf(stderr, "bench_ranking: --run is required; counts and threads must be positive\n");
        return 2;
    }
    try {
        k2k::init_runtime(o.threads);
        k2k::EvalContext context;
        context.config = k2k::load_config(o.run + "/config.yaml");
        context.config.run_dir = o.run;
        context.split = k2k::parse_split(o.split);
        context.samples = o.samples;
        context.data = k2k::select_training_data(k2k::load_or_prepare_dataset(context.config.data, false),
                                                 context.config.data);
        const k2k::Dataset& ds = context.data.ds;
        k2k::ReaderJudge reader = k2k::load_reader_judge(context);
        if (!reader.trained.model) throw k2k::Error(o.run + "/reader: not trained");
        k2k::TrainedSketch sketch = k2k::load_trained_sketch(context.config, torch::kCPU);
        k2k::ConvVae vae_new = k2k::load_trained_vae(context.config, "vae_new", torch::kCPU);

        std::vector<size_t> base;  // the split's base characters the reader knows, spread evenly
        for (size_t e : context.modern_items())
            if (ds.modern_variant(e).empty() && reader.class_index.count(ds.modern_codepoint(e))) base.push_back(e);
        std::vector<size_t> chars;
        for (size_t i = 0; i < size_t(o.chars) && i < base.size(); ++i)
            chars.push_back(base[i * base.size() / std::min(base.size(), size_t(o.chars))]);

        const int64_t n = o.samples, per_item = int64_t(o.samples) * o.pool;
        const std::vector<std::string> names = {"cos_blur1", "cos_blur3 (now)", "cos_blur5", "cos_blur7", "dice",
                                                "neg_chamfer", "latent_l2 (sketch enc)", "latent_l2 (vae_new)",
                                                "rank sum cos3 + chamfer", "rank sum cos3 + latent(sketch)",
                                                "rank sum cos3 + chamfer + latent(sketch)",
                                                "mean cos_blur3/5/7", "rank sum cos5 + chamfer"};
        std::vector<Tally> tallies(names.size());
        Tally unranked, oracle;
        double raw_rate = 0;
        torch::NoGradGuard no_grad;
        at::Generator gen = at::detail::createCPUGenerator(o.seed);
        const size_t chunk = std::max<size_t>(1, size_t(256 / per_item));
        for (size_t start = 0; start < chars.size(); start += chunk) {
            std::vector<size_t> part(chars.begin() + long(start), chars.begin() + long(std::min(chars.size(), start + chunk)));
            torch::Tensor x = k2k::modern_images(ds, part, nullptr, 64, 64, torch::kCPU);  // (B,1,64,64)
            torch::Tensor z = sketch.encoder->encode(x).first.repeat_interleave(per_item, 0);
            torch::Tensor ink = x.repeat_interleave(per_item, 0);
            const k2k::SketchSampleOptions opt = sketch.sample_options(context.config.generate.temperature,
                                                                        context.config.generate.max_len, ink);
            std::vector<k2k::Stroke3> drawn = sketch.model->sample(z, opt, gen);
            std::vector<k2k::Image> renders;
            for (k2k::Stroke3& s : drawn) {
                k2k::scale_stroke3(s, 1.0f / sketch.scale);
                renders.push_back(k2k::render_strokes(k2k::stroke3_to_strokes(s), ds.meta.raster));
            }
            torch::Tensor r = k2k::images_to_tensor(renders, torch::kCPU);  // (B*NP,1,S,S)
            torch::Tensor t = ink;
            if (r.size(2) != 64) t = F::interpolate(ink, F::InterpolateFuncOptions().size(std::vector<int64_t>{r.size(2), r.size(3)}));
            torch::Tensor read = reader.trained.model->forward(r).argmax(1);  // (B*NP,)
            std::vector<int64_t> target;
            for (size_t e : part) target.push_back(reader.class_index.at(ds.modern_codepoint(e)));
            torch::Tensor right = (read.view({-1, per_item}) ==
                                   torch::tensor(target, torch::kInt64).unsqueeze(1)).to(torch::kFloat32);  // (B,NP)

            torch::Tensor mu_r = sketch.encoder->encode(r).first, mu_x = sketch.encoder->encode(x).first.repeat_interleave(per_item, 0);
            torch::Tensor v_r = vae_new->encode(r).first, v_x = vae_new->encode(x).first.repeat_interleave(per_item, 0);
            torch::Tensor cos3 = blurred_cosine(r, t, 3), cos5 = blurred_cosine(r, t, 5), cos7 = blurred_cosine(r, t, 7);
            torch::Tensor cham = neg_chamfer(r, t);
            torch::Tensor lat = -(mu_r - mu_x).norm(2, 1);
            std::vector<torch::Tensor> scores = {blurred_cosine(r, t, 1), cos3, cos5, cos7, dice(r, t), cham, lat,
                                                 -(v_r - v_x).norm(2, 1),
                                                 -(ranks(cos3, per_item) + ranks(cham, per_item)),
                                                 -(ranks(cos3, per_item) + ranks(lat, per_item)),
                                                 -(ranks(cos3, per_item) + ranks(cham, per_item) + ranks(lat, per_item)),
                                                 (cos3 + cos5 + cos7) / 3, -(ranks(cos5, per_item) + ranks(cham, per_item))};
            for (size_t k = 0; k < scores.size(); ++k) {
                torch::Tensor order = scores[k].view({-1, per_item}).argsort(int64_t(1), /*descending=*/true).slice(1, 0, n);
                torch::Tensor kept = right.gather(1, order);  // (B,N) best first
                tallies[k].per_sample += kept.mean(1).sum().item<double>();
                tallies[k].first += kept.select(1, 0).sum().item<double>();
                tallies[k].best += kept.amax(1).sum().item<double>();
                tallies[k].items += int64_t(part.size());
            }
            torch::Tensor first_n = right.slice(1, 0, n);
            unranked.per_sample += first_n.mean(1).sum().item<double>();
            unranked.first += first_n.select(1, 0).sum().item<double>();
            unranked.best += first_n.amax(1).sum().item<double>();
            torch::Tensor count = right.sum(1);
            oracle.per_sample += (count.clamp_max(double(n)) / double(n)).sum().item<double>();
            oracle.best += (count > 0).to(torch::kFloat32).sum().item<double>();
            raw_rate += right.mean(1).sum().item<double>();
            std::fprintf(stderr, "\r%zu / %zu characters", start + part.size(), chars.size());
        }
        const double items = double(chars.size());
        std::printf("\n%zu %s characters, %d kept of %lld draws each, sketch T %.3g; every draw read right: %.2f %%\n",
                    chars.size(), o.split.c_str(), o.samples, static_cast<long long>(per_item),
                    context.config.generate.temperature, 100 * raw_rate / items);
        std::printf("| ranker | per sample | first-ranked | best of %d |\n|---|---|---|---|\n", o.samples);
        std::printf("| no pool (the first %d draws) | %.2f %% | %.2f %% | %.2f %% |\n", o.samples,
                    100 * unranked.per_sample / items, 100 * unranked.first / items, 100 * unranked.best / items);
        for (size_t k = 0; k < names.size(); ++k)
            std::printf("| %s | %.2f %% | %.2f %% | %.2f %% |\n", names[k].c_str(), 100 * tallies[k].per_sample / items,
                        100 * tallies[k].first / items, 100 * tallies[k].best / items);
        std::printf("| oracle (the reader's verdicts) | %.2f %% | | %.2f %% |\n", 100 * oracle.per_sample / items,
                    100 * oracle.best / items);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_ranking: %s\n", e.what());
        return 1;
    }
    return 0;
}
