// Conditional Sketch-RNN decoder: z -> initial states, teacher-forced forward through RnnStack and
// the mixture head, and the batched sampler (mixture sampled on the CPU from pre-drawn uniforms).
#include "models/sketch_rnn.h"

#include <torch/torch.h>

#include <cmath>

namespace k2k {

namespace {

constexpr double kTwoPi = 6.28318530717958647692;

// Index drawn from softmax(logits/τ) by inverting the CDF at u ∈ [0,1); argmax when greedy.
// scratch is reused between calls to avoid allocating per step.
int64_t draw_categorical(const float* logits, int64_t n, double tau, double u, bool greedy,
                         std::vector<double>& scratch) {
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
        if (logits[j] > logits[best]) best = j;
    if (greedy) return best;
    scratch.resize(size_t(n));
    double total = 0.0;
    for (int64_t j = 0; j < n; j++) {
        scratch[size_t(j)] = std::exp((double(logits[j]) - double(logits[best])) / tau);
        total += scratch[size_t(j)];
    }
    const double target = u * total;
    double cum = 0.0;
    for (int64_t j = 0; j < n; j++) {
        cum += scratch[size_t(j)];
        if (target < cum) return j;
    }
    return n - 1;  // only reachable through rounding
}

// Same transforms as split_bivariate / split_per_axis (sketch_loss.h), on one value.
double bounded_sigma(float raw) {
    return std::exp(kSketchLogSigmaLimit * std::tanh(double(raw) / kSketchLogSigmaLimit));
}

void close_sample(Stroke3& s) {
    if (!s.empty()) s.back()[2] = 1.0f;
}

}  // namespace

SketchRnnImpl::SketchRnnImpl(SketchRnnOptions options_) : options(std::move(options_)) {
    reset();
}

void SketchRnnImpl::reset() {
    const SketchRnnOptions& o = options;
    TORCH_CHECK(o.z_size() > 0, "SketchRnnOptions: z_size must be positive, got ", o.z_size());
    TORCH_CHECK(o.input_size() == 5, "SketchRnnOptions: input_size must be 5 (stroke-5 rows), got ",
                o.input_size());
    TORCH_CHECK(o.hidden_size() > 0, "SketchRnnOptions: hidden_size must be positive, got ", o.hidden_size());
    TORCH_CHECK(o.max_steps() > 0, "SketchRnnOptions: max_steps must be positive, got ", o.max_steps());
    TORCH_CHECK(o.start_token() == "pen_down" || o.start_token() == "pen_up",
                "SketchRnnOptions: start_token must be \"pen_down\" or \"pen_up\", got \"", o.start_token(),
                "\"");
    const int64_t out_size = sketch_output_size(o.output(), o.num_mixtures());

    if (rnn) unregister_module("rnn");
    if (init_state) unregister_module("init_state");
    if (head) unregister_module("head");
    if (canvas_proj) unregister_module("canvas_proj");
    TORCH_CHECK(o.canvas_hidden() >= 0, "SketchRnnOptions: canvas_hidden must be >= 0, got ", o.canvas_hidden());
    RnnStackOptions ro;
    ro.cell(o.cell())
        .input_size(o.input_size() + o.canvas_hidden() + o.z_size())
        .hidden_size(o.hidden_size())
        .num_layers(o.num_layers())
        .hyper_size(o.hyper_size())
        .hyper_embed(o.hyper_embed())
        .hyper_layer_norm(o.hyper_layer_norm())
        .recurrent_dropout_keep(o.recurrent_dropout_keep());
    rnn = register_module("rnn", RnnStack(ro));
    init_state = register_module("init_state", torch::nn::Linear(o.z_size(), rnn->state_size()));
    head = register_module("head", torch::nn::Linear(o.hidden_size(), out_size));
    canvas_proj = nullptr;
    if (o.canvas_hidden() > 0)
        canvas_proj = register_module("canvas_proj", torch::nn::Linear(kCanvasFeatures, o.canvas_hidden()));

    torch::NoGradGuard no_grad;
    // magenta: initial state = tanh(super_linear(z, init_w='gaussian', weight_start=0.001)).
    init_state->weight.normal_(0.0, 0.001);
    init_state->bias.zero_();
    // magenta output_w: TF default Glorot uniform, zero bias.
    const double limit = std::sqrt(6.0 / double(o.hidden_size() + out_size));
    head->weight.uniform_(-limit, limit);
    head->bias.zero_();
}

int64_t SketchRnnImpl::output_size() const {
    return sketch_output_size(options.output(), options.num_mixtures());
}

RnnState SketchRnnImpl::initial_state(const torch::Tensor& z) {
    // z is (B, z_size)
    TORCH_CHECK(z.dim() == 2 && z.size(1) == options.z_size(), "SketchRnn: z must be (B, ", options.z_size(),
                "), got ", z.sizes());
    return rnn->split_state(torch::tanh(init_state->forward(z)));
}

torch::Tensor SketchRnnImpl::forward(const torch::Tensor& strokes, const torch::Tensor& z, RnnPath path,
                                     const torch::Tensor& canvas) {
    // strokes is (B,T+1,5), z is (B,z_size) -> (B,T,3+6M)
    TORCH_CHECK(strokes.dim() == 3 && strokes.size(2) == options.input_size() && strokes.size(1) >= 2,
                "SketchRnn::forward: strokes must be (B, T+1, ", options.input_size(), ") with T >= 1, got ",
                strokes.sizes());
    const int64_t b = strokes.size(0), steps = strokes.size(1) - 1;
    TORCH_CHECK(steps <= options.max_steps(), "SketchRnn::forward: ", steps, " steps exceed max_steps ",
                options.max_steps());
    TORCH_CHECK(z.dim() == 2 && z.size(0) == b && z.size(1) == options.z_size(),
                "SketchRnn::forward: z must be (", b, ", ", options.z_size(), "), got ", z.sizes());
    std::vector<torch::Tensor> parts = {strokes.narrow(1, 0, steps)};
    if (canvas_proj) {
        TORCH_CHECK(canvas.defined() && canvas.dim() == 3 && canvas.size(0) == b && canvas.size(1) >= steps &&
                        canvas.size(2) == kCanvasFeatures,
                    "SketchRnn::forward: a canvas decoder needs canvas (", b, ", >= ", steps, ", ", kCanvasFeatures,
                    "), got ", canvas.defined() ? canvas.sizes() : torch::IntArrayRef{});
        parts.push_back(torch::relu(canvas_proj->forward(canvas.narrow(1, 0, steps))));
    }
    // z is the same at every step: RnnStack projects it once per sketch (cond), not T times.
    const torch::Tensor x = parts.size() == 1 ? parts[0] : torch::cat(parts, 2);
    RnnState state = initial_state(z);
    return head->forward(rnn->forward(x, state, path, z));
}

ReconstructionLoss SketchRnnImpl::reconstruction(const torch::Tensor& strokes, const torch::Tensor& z,
                                                 const torch::Tensor& canvas) {
    const torch::Tensor raw = forward(strokes, z, RnnPath::Auto, canvas);
    return reconstruction_loss(raw, strokes.narrow(1, 1, strokes.size(1) - 1), options.output(),
                               options.num_mixtures());
}

std::vector<Stroke3> SketchRnnImpl::sample(const torch::Tensor& z, const SketchSampleOptions& opt,
                                           at::Generator gen) {
    TORCH_CHECK(z.dim() == 2 && z.size(1) == options.z_size() && z.size(0) > 0,
                "SketchRnn::sample: z must be (B, ", options.z_size(), "), got ", z.sizes());
    TORCH_CHECK(opt.temperature > 0.0, "SketchRnn::sample: temperature must be > 0, got ", opt.temperature);
    TORCH_CHECK(opt.max_len >= 0, "SketchRnn::sample: max_len must be >= 0, got ", opt.max_len);
    TORCH_CHECK(gen.defined() && gen.device().is_cpu(),
                "SketchRnn::sample: the generator must be a CPU generator");
    torch::NoGradGuard no_grad;
    const int64_t b = z.size(0), m = options.num_mixtures(), width = output_size();
    const int64_t max_len = opt.max_len > 0 ? opt.max_len : options.max_steps();
    const bool bivariate = options.output() == "bivariate";
    const double tau = opt.temperature, sqrt_tau = std::sqrt(opt.temperature);

    // All uniforms up front, 5 per sample and step: component (x), component (y, per_axis),
    // two for Box-Muller, pen state. Samples that end early leave theirs unused, so each sample's
    // draws do not depend on when the others end.
    const torch::Tensor uniforms =
        torch::rand({max_len, b, 5}, gen, torch::TensorOptions().dtype(torch::kDouble));
    const double* u_all = uniforms.data_ptr<double>();

    // Canvas decoders: one tracker per sample on its ink, fed each emitted row in KanjiVG units.
    std::vector<CanvasTracker> trackers;
    std::vector<float> canvas_features;
    if (canvas_proj) {
        const int64_t s = opt.raster.size;
        TORCH_CHECK(opt.ink.defined() && opt.ink.dim() == 4 && opt.ink.size(0) == b && opt.ink.size(1) == 1 &&
                        opt.ink.size(2) == s && opt.ink.size(3) == s,
                    "SketchRnn::sample: a canvas decoder needs ink (", b, ", 1, ", s, ", ", s, ")");
        const torch::Tensor ink = opt.ink.to(torch::kCPU, torch::kFloat).contiguous();
        for (int64_t i = 0; i < b; i++) trackers.emplace_back(ink.data_ptr<float>() + i * s * s, opt.raster);
        canvas_features.resize(size_t(b) * kCanvasFeatures);
    }
    RnnState state = initial_state(z);
    const RnnStepper stepper(*rnn, z);              // z's share of the input projection computed once
    std::vector<float> input(size_t(b) * 5, 0.0f);  // stroke-5 rows fed at the next step
    const int64_t start_pen = options.start_token() == "pen_down" ? 2 : 3;
    for (int64_t i = 0; i < b; i++) input[size_t(i * 5 + start_pen)] = 1.0f;
    std::vector<Stroke3> out(static_cast<size_t>(b));
    std::vector<char> done(static_cast<size_t>(b), 0);
    std::vector<double> scratch;
    int64_t remaining = b;

    for (int64_t t = 0; t < max_len && remaining > 0; t++) {
        torch::Tensor s = torch::from_blob(input.data(), {b, 5}, torch::kFloat).to(z.device(), z.scalar_type());
        if (canvas_proj) {
            for (int64_t i = 0; i < b; i++) trackers[size_t(i)].features(canvas_features.data() + i * kCanvasFeatures);
            const torch::Tensor f = torch::from_blob(canvas_features.data(), {b, kCanvasFeatures}, torch::kFloat)
                                        .to(z.device(), z.scalar_type());
            s = torch::cat({s, torch::relu(canvas_proj->forward(f))}, 1);
        }
        const torch::Tensor h = stepper.step(s, state);
        const torch::Tensor raw = head->forward(h).to(torch::kCPU, torch::kFloat).contiguous();  // (B, 3+6M)
        const float* r_all = raw.data_ptr<float>();
        for (int64_t i = 0; i < b; i++) {
            if (done[size_t(i)]) continue;
            const float* r = r_all + i * width;
            const double* u = u_all + (t * b + i) * 5;
            const double radius = std::sqrt(-2.0 * std::log(1.0 - u[2]));
            const double n1 = radius * std::cos(kTwoPi * u[3]), n2 = radius * std::sin(kTwoPi * u[3]);
            double dx, dy;
            if (bivariate) {
                const int64_t j = draw_categorical(r + 3, m, tau, u[0], opt.greedy, scratch);
                const double mx = r[3 + m + j], my = r[3 + 2 * m + j];
                const double sx = bounded_sigma(r[3 + 3 * m + j]) * sqrt_tau;
                const double sy = bounded_sigma(r[3 + 4 * m + j]) * sqrt_tau;
                const double rho = std::tanh(double(r[3 + 5 * m + j])) * kSketchRhoScale;
                dx = opt.greedy ? mx : mx + sx * n1;
                dy = opt.greedy ? my : my + sy * (rho * n1 + std::sqrt((1.0 - rho) * (1.0 + rho)) * n2);
            } else {
                const float* px = r + 3;          // x: logits, μ, raw log σ
                const float* py = r + 3 + 3 * m;  // y
                const int64_t jx = draw_categorical(px, m, tau, u[0], opt.greedy, scratch);
                const int64_t jy = draw_categorical(py, m, tau, u[1], opt.greedy, scratch);
                dx = opt.greedy ? px[m + jx] : px[m + jx] + bounded_sigma(px[2 * m + jx]) * sqrt_tau * n1;
                dy = opt.greedy ? py[m + jy] : py[m + jy] + bounded_sigma(py[2 * m + jy]) * sqrt_tau * n2;
            }
            const int64_t pen = draw_categorical(r, 3, tau, u[4], opt.greedy, scratch);
            Stroke3& s3 = out[size_t(i)];
            float* next = input.data() + i * 5;
            if (pen == 2) {  // end of sketch: not emitted
                done[size_t(i)] = 1;
                remaining--;
                close_sample(s3);
                continue;
            }
            s3.push_back({float(dx), float(dy), pen == 1 ? 1.0f : 0.0f});
            if (canvas_proj) trackers[size_t(i)].feed(float(dx) * opt.unit_scale, float(dy) * opt.unit_scale, pen == 1);
            next[0] = float(dx);
            next[1] = float(dy);
            next[2] = pen == 0 ? 1.0f : 0.0f;
            next[3] = pen == 1 ? 1.0f : 0.0f;
            next[4] = 0.0f;
        }
    }
    for (int64_t i = 0; i < b; i++)
        if (!done[size_t(i)]) close_sample(out[size_t(i)]);
    return out;
}

}  // namespace k2k
