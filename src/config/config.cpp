// YAML <-> Config: one visitor walks every field (key, doc, range) so reading, validation,
// dumping and the reference docs can never disagree about which keys exist.
#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "util/error.h"
#include "util/fs.h"

namespace k2k {

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr double kInf = std::numeric_limits<double>::infinity();

// What every consumer of the schema implements.
class FieldVisitor {
public:
    virtual ~FieldVisitor() = default;
    virtual void section(const std::string& name, const std::string& doc) = 0;  // "" = top level
    virtual void field(const char* key, int64_t& v, const char* doc, int64_t lo, int64_t hi) = 0;
    virtual void field(const char* key, double& v, const char* doc, double lo, double hi) = 0;
    virtual void field(const char* key, bool& v, const char* doc) = 0;
    // `choices` empty: free text.
    virtual void field(const char* key, std::string& v, const char* doc, const std::vector<std::string>& choices) = 0;
    virtual void field(const char* key, std::vector<int64_t>& v, const char* doc, int64_t lo, int64_t hi) = 0;
};

void visit_vae(VaeConfig& c, FieldVisitor& v) {
    v.field("z_size", c.z_size, "latent size", 1, 4096);
    v.field("kl_tolerance", c.kl_tolerance, "free bits: KL floored at kl_tolerance * z_size nats per example", 0, 100);
    v.field("loss", c.loss, "reconstruction loss", {"bce", "l2"});
    v.field("batch_size", c.batch_size, "images per step", 1, 1 << 20);
    v.field("steps", c.steps, "training steps", 1, kMaxInt);
    v.field("lr", c.lr, "Adam learning rate", 1e-9, 10);
    v.field("grad_clip", c.grad_clip, "clip the gradient norm at this value (0 = off)", 0, kInf);
    v.field("augment", c.augment, "random resize + random placement of each training image");
    v.field("augment_min_size", c.augment_min_size, "smallest random size of an augmented image (pixels)", 8, 64);
    v.field("augment_max_size", c.augment_max_size, "largest random size of an augmented image (pixels)", 8, 64);
    v.field("eval_every", c.eval_every, "steps between validation passes and checkpoints", 1, kMaxInt);
    v.field("eval_batches", c.eval_batches, "validation batches per pass", 1, 1 << 20);
}

void visit_all(Config& c, FieldVisitor& v) {
    v.section("", "experiment");
    v.field("name", c.name, "experiment name", {});
    v.field("run_dir", c.run_dir, "run folder: checkpoints, metrics, resolved config (relative to the working directory)", {});
    v.field("seed", c.seed, "random seed of every stage", 0, kMaxInt);
    v.field("device", c.device, "where to train", {"cpu", "cuda", "auto"});
    v.field("log_every", c.log_every, "steps between progress lines when stdout is not a terminal", 1, kMaxInt);

    DataConfig& d = c.data;
    v.section("data", "datasets and splits");
    v.field("cache", d.cache, "dataset cache written by `k2k data prepare` (made from kanjivg + kkanji when missing)", {});
    v.field("kanjivg", d.kanjivg, "KanjiVG SVG folder", {});
    v.field("kkanji", d.kkanji, "Kuzushiji-Kanji kkanji2 folder", {});
    v.field("val_ratio", d.val_ratio, "fraction of items in the validation split", 0, 0.5);
    v.field("test_ratio", d.test_ratio, "fraction of items in the test split (never trained on)", 0, 0.5);
    v.field("max_modern_chars", d.max_modern_chars, "use at most this many KanjiVG characters (0 = all)", 0, kMaxInt);
    v.field("max_old_classes", d.max_old_classes, "use at most this many Kuzushiji classes (0 = all)", 0, kMaxInt);
    v.field("kanjivg_variants", d.kanjivg_variants, "also use KanjiVG variant files (-Kaisho, ...)");

    v.section("vae_new", "conv VAE on KanjiVG rasters (z_new)");
    visit_vae(c.vae_new, v);
    v.section("vae_old", "conv VAE on Kuzushiji-Kanji images (z_old)");
    visit_vae(c.vae_old, v);

    MdnConfig& m = c.mdn;
    v.section("mdn", "mixture density network P(z_new | z_old)");
    v.field("hidden", m.hidden, "hidden layer widths (paper: 2 layers; reference: [1024, 1024, 1024])", 1, 1 << 16);
    v.field("num_mixtures", m.num_mixtures, "Gaussian components (per latent dimension for per_dim)", 1, 1024);
    v.field("mode", m.mode, "per_dim: independent 1-D mixtures per dimension (reference); diag: mixture over the vector", {"per_dim", "diag"});
    v.field("batch_size", m.batch_size, "pairs per step", 1, 1 << 20);
    v.field("steps", m.steps, "training steps", 1, kMaxInt);
    v.field("lr", m.lr, "Adam learning rate", 1e-9, 10);
    v.field("grad_clip", m.grad_clip, "clip the gradient norm (0 = off)", 0, kInf);
    v.field("sample_z_old", m.sample_z_old, "train on z_old sampled from q(z|x_old) (true) or on its mean");
    v.field("sample_z_new", m.sample_z_new, "targets z_new sampled from q(z|x_new) (true) or its mean");
    v.field("encoder", m.encoder, "frozen: z_old is vae_old's mean (paper); finetune: vae_old's encoder is trained with the MDN's likelihood on the pairs (P(z_new | x_old) end to end)", {"frozen", "finetune"});
    v.field("contrastive", m.contrastive, "weight of a cross-entropy that ranks the right character's vae_new latent above `negatives` random other characters' by the MDN's likelihood (trains the candidate list; 0 = off, the paper)", 0, 1e6);
    v.field("negatives", m.negatives, "other KanjiVG characters' latents per step in the contrastive term", 1, 1 << 20);
    v.field("augment", m.augment, "encode freshly augmented Kuzushiji images each step (vae_old's resize-and-place; many latents per image, as the reference) instead of fixed latents");
    v.field("eval_every", m.eval_every, "steps between validation passes and checkpoints", 1, kMaxInt);

    SketchConfig& s = c.sketch;
    v.section("sketch", "conditional Sketch-RNN decoder");
    v.field("hidden_size", s.hidden_size, "decoder width (magenta 512; reference 1024)", 1, 1 << 14);
    v.field("num_layers", s.num_layers, "stacked decoder layers (reference 3)", 1, 16);
    v.field("cell", s.cell, "recurrent cell", {"lstm", "layer_norm", "hyper"});
    v.field("num_mixtures", s.num_mixtures, "mixture components of the offset distribution", 1, 256);
    v.field("output", s.output, "bivariate GMM (magenta) or independent per-axis mixtures (kanji2kanji)", {"bivariate", "per_axis"});
    v.field("recurrent_dropout_keep", s.recurrent_dropout_keep, "keep probability of recurrent dropout (1 = off)", 0.01, 1);
    v.field("canvas_hidden", s.canvas_hidden, "0: off (the paper's decoder); else each step the decoder also reads a pen-centred view of the ink still to draw (the KanjiVG raster in training, the predicted pixels at inference), projected to this many units", 0, 4096);
    v.field("rdp_epsilon", s.rdp_epsilon, "RDP simplification epsilon in KanjiVG units (109-unit canvas)", 0, 50);
    v.field("max_seq_len", s.max_seq_len, "longest stroke-3 sequence used (longer ones are skipped)", 2, 10000);
    v.field("trim_padding", s.trim_padding, "training steps run each batch only up to its longest sketch's end token instead of max_seq_len (the loss keeps magenta's B*max_seq_len normaliser and drops only the pen terms after that end; validation is unchanged)");
    v.field("start_token", s.start_token, "pen_down [0,0,1,0,0] (magenta) or pen_up [0,0,0,1,0] (kanji2kanji)", {"pen_down", "pen_up"});
    v.field("batch_size", s.batch_size, "sketches per step", 1, 1 << 20);
    v.field("steps", s.steps, "training steps", 1, kMaxInt);
    v.field("lr", s.lr, "initial Adam learning rate", 1e-9, 10);
    v.field("lr_decay", s.lr_decay, "lr = max(lr * lr_decay^step, min_lr)", 0.5, 1);
    v.field("min_lr", s.min_lr, "learning-rate floor", 0, 10);
    v.field("grad_clip", s.grad_clip, "clip the gradient norm (0 = off)", 0, kInf);
    v.field("grad_clip_mode", s.grad_clip_mode, "norm: clip the global gradient norm at grad_clip (magenta); value: clip each gradient element to [-grad_clip, grad_clip] (kanji2kanji)", {"norm", "value"});
    v.field("finetune_encoder", s.finetune_encoder, "fine-tune the modern VAE encoder through the stroke loss (with the KL term)");
    v.field("kl_tolerance", s.kl_tolerance, "floor of the KL term (mean over batch and dims, nats)", 0, 100);
    v.field("kl_weight", s.kl_weight, "final KL weight w_max", 0, 100);
    v.field("kl_weight_start", s.kl_weight_start, "initial KL weight", 0, 100);
    v.field("kl_decay", s.kl_decay, "w = w_max - (w_max - w_start) * kl_decay^step", 0, 1);
    v.field("mdn_fraction", s.mdn_fraction, "share of overlapping characters conditioned on z~_new = MDN(z_old) instead of z_new", 0, 1);
    v.field("mdn_temperature", s.mdn_temperature, "temperature on pi when sampling z~_new from the MDN during training", 0.01, 10);
    v.field("augment_scale", s.augment_scale, "per-axis random scale in [1-s, 1+s]", 0, 0.9);
    v.field("augment_drop", s.augment_drop, "probability of dropping a point inside a stroke", 0, 0.9);
    v.field("normalization", s.normalization, "std: every offset divided by the training set's offset standard deviation (magenta); unit_bbox: each sketch moved and scaled to a unit bounding box, then divided by 0.16808838 (kanji2kanji; needs canvas_hidden 0, whose pen follows KanjiVG coordinates)", {"std", "unit_bbox"});
    v.field("first_point_shift", s.first_point_shift, "unit_bbox only (an error otherwise): training adds U[-s, s] per axis to each sketch's first point, in normalised units (kanji2kanji's random shift; 0 = off)", 0, 100);
    v.field("eval_every", s.eval_every, "steps between validation passes and checkpoints", 1, kMaxInt);
    v.field("eval_batches", s.eval_batches, "validation batches per pass", 1, 1 << 20);

    GenerateConfig& g = c.generate;
    v.section("generate", "defaults of `k2k generate`");
    v.field("samples", g.samples, "stroke samples (and MDN draws) per input", 1, 1000);
    v.field("temperature", g.temperature, "Sketch-RNN sampling temperature", 0.01, 10);
    v.field("mdn_temperature", g.mdn_temperature, "MDN temperature on pi", 0.01, 10);
    v.field("mdn_mode", g.mdn_mode, "use the chosen MDN component's mean (no noise), as the reference does");
    v.field("max_len", g.max_len, "longest stroke sample", 2, 10000);
    v.field("candidates", g.candidates, "candidate characters listed per input (the MDN's ranking of every KanjiVG character)", 1, 100);
    v.field("candidate_temperature", g.candidate_temperature, "divides the candidates' log-likelihoods before the softmax into probabilities (choose it on the validation split: k2k eval --split val reports best_temperature)", 0.01, 10000);
    v.field("condition", g.condition, "what pixels and strokes are drawn from: mdn (the MDN's draws z~_new, the paper) or candidates (the modern latent and KanjiVG raster of the MDN's best candidates: the MDN's likelihood over the 6,703 known latents instead of its free draws)", {"mdn", "candidates"});
    v.field("condition_top", g.condition_top, "condition candidates: sample k is drawn from the (k mod condition_top)-th best candidate (1: every sample from the best)", 1, 100);
    v.field("stroke_pool", g.stroke_pool, "stroke samples drawn per sample kept: of samples x stroke_pool draws, the samples that agree best with the ink they trace (the predicted pixels or the candidate's raster; generate/ranking.h) are kept (1: every draw kept)", 1, 64);

    ReaderConfig& r = c.reader;
    v.section("reader", "classifier over all KanjiVG base characters that reads predictions for `k2k eval`");
    v.field("enabled", r.enabled, "also train the reader in `k2k pipeline` (after sketch; off by default so small configs stay fast); `k2k eval` needs it");
    v.field("input_size", r.input_size, "side the 64x64 render is average-pooled to before the CNN (16, 32 or 64)", 16, 64);
    v.field("width", r.width, "channels of the first conv block (each of the 4 blocks doubles them)", 1, 1024);
    v.field("hidden", r.hidden, "units of the embedding before the cosine classifier", 1, 1 << 16);
    v.field("scale", r.scale, "logit scale of the cosine classifier (logit = scale * cosine)", 0.1, 1000);
    v.field("batch_size", r.batch_size, "renders per step", 1, 1 << 20);
    v.field("steps", r.steps, "training steps", 1, kMaxInt);
    v.field("lr", r.lr, "peak Adam learning rate (cosine decay to 0 over the steps)", 1e-9, 10);
    v.field("label_smoothing", r.label_smoothing, "cross-entropy label smoothing", 0, 0.9);
    v.field("affine", r.affine, "random per-axis scale in [1-a, 1+a], rotation and shear up to a radians", 0, 0.5);
    v.field("translate", r.translate, "random shift up to this many KanjiVG units per axis", 0, 50);
    v.field("line_width_min", r.line_width_min, "thinnest random line width (pixels at 64x64)", 0.3, 16);
    v.field("line_width_max", r.line_width_max, "thickest random line width (pixels at 64x64)", 0.3, 16);
    v.field("heldout_line_width", r.heldout_line_width, "line width of the clean held-out renders; training skips +-0.15 px around it", 0.3, 16);
    v.field("rdp_max", r.rdp_max, "random RDP simplification epsilon up to this (KanjiVG units)", 0, 20);
    v.field("wobble", r.wobble, "per-vertex noise std in KanjiVG units (after simplification)", 0, 20);
    v.field("drop_stroke", r.drop_stroke, "probability of dropping one short stroke", 0, 1);
    v.field("blur_max", r.blur_max, "Gaussian blur sigma up to this (pixels) on half of the renders", 0, 8);
    v.field("ink_min", r.ink_min, "peak ink intensity drawn from [ink_min, 1]", 0.05, 1);
    v.field("eval_every", r.eval_every, "steps between validation passes and checkpoints", 1, kMaxInt);
    v.field("eval_classes", r.eval_classes, "classes in the fixed validation renders (spread over all classes)", 1, 1 << 20);

    BaselineConfig& b = c.baseline;
    v.section("baseline", "direct Kuzushiji image -> code point classifiers reported by `k2k eval`");
    v.field("enabled", b.enabled, "also train the direct CNN baseline in `k2k pipeline` (after the reader; off by default)");
    v.field("input_size", b.input_size, "side the 64x64 Kuzushiji image is average-pooled to (64 or 32)", 16, 64);
    v.field("hidden", b.hidden, "units of the dense layer (Keras simple CNN: 128)", 1, 1 << 16);
    v.field("batch_size", b.batch_size, "images per step", 1, 1 << 20);
    v.field("steps", b.steps, "training steps", 1, kMaxInt);
    v.field("lr", b.lr, "Adam learning rate", 1e-9, 10);
    v.field("eval_every", b.eval_every, "steps between validation passes and checkpoints", 1, kMaxInt);
    v.field("knn_k", b.knn_k, "neighbours of the raw-pixel k-NN baseline (seed paper: 4)", 1, 1000);

    ClassifyConfig& k = c.classify;
    v.section("classify", "`k2k classify`: the seed paper's classification baselines on Kuzushiji-MNIST / Kuzushiji-49");
    v.field("dataset", k.dataset, "kmnist, k49 (the official .npz files in data_dir), or kkanji: Kuzushiji-Kanji from data.cache, every class with 2 or more images halved at random into test and training images", {"kmnist", "k49", "kkanji"});
    v.field("data_dir", k.data_dir, "folder holding the official <dataset>-{train,test}-{imgs,labels}.npz (data_tools/fetch_data.sh --only kmnist|k49)", {});
    v.field("model", k.model, "knn: k-NN on raw pixels; simple_cnn: the Keras simple CNN; preact_resnet18: PreActResNet-18 (3x3 stem, no max-pool, blocks [2,2,2,2])", {"knn", "simple_cnn", "preact_resnet18"});
    v.field("knn_k", k.knn_k, "neighbours of the k-NN (seed paper: 4)", 1, 1000);
    v.field("knn_distance_weights", k.knn_distance_weights, "k-NN votes weighted by 1/distance (the KMNIST benchmark's sklearn weights='distance'); false: one vote each");
    v.field("width", k.width, "PreActResNet channels of the first block, doubled by each later block (64 = PreActResNet-18)", 1, 1024);
    v.field("hidden", k.hidden, "units of the simple CNN's dense layer (Keras: 128)", 1, 1 << 16);
    v.field("input_size", k.input_size, "side the simple CNN average-pools its input to (0 = the image side; it must divide it; kkanji's 64x64: 32)", 0, 4096);
    v.field("mixup", k.mixup, "none; input: mixup of image pairs (Zhang et al. 2018); manifold: mixup at a layer drawn from {input, after block 1, after block 2} (Verma et al. 2019; preact_resnet18 only)", {"none", "input", "manifold"});
    v.field("mixup_alpha", k.mixup_alpha, "mixing weight lambda ~ Beta(alpha, alpha) (input mixup: 1; manifold mixup: 2)", 0.01, 100);
    v.field("optimizer", k.optimizer, "adam, or sgd with momentum (the manifold-mixup reference)", {"adam", "sgd"});
    v.field("epochs", k.epochs, "passes over the training images", 1, 100000);
    v.field("batch_size", k.batch_size, "images per step", 1, 1 << 20);
    v.field("lr", k.lr, "initial learning rate", 1e-9, 10);
    v.field("lr_schedule", k.lr_schedule, "constant; step: lr *= gamma at each milestone epoch; cosine: decay to 0 over the epochs", {"constant", "step", "cosine"});
    v.field("milestones", k.milestones, "epochs at which the step schedule multiplies lr by gamma", 1, 100000);
    v.field("gamma", k.gamma, "factor of the step schedule", 1e-6, 1);
    v.field("momentum", k.momentum, "SGD momentum", 0, 0.999);
    v.field("weight_decay", k.weight_decay, "L2 weight decay (the manifold-mixup reference: 1e-4)", 0, 1);
    v.field("val_size", k.val_size, "training images held out (seeded) for validation and model selection (best.pt)", 1, kMaxInt);
    v.field("train_limit", k.train_limit, "use only the first N training images before the hold-out (0 = all)", 0, kMaxInt);
    v.field("test_limit", k.test_limit, "score only the first N test images (0 = all)", 0, kMaxInt);
    v.field("eval_every", k.eval_every, "steps between validation passes and checkpoints", 1, kMaxInt);
    v.field("augment_shift", k.augment_shift, "training images moved by a random whole-pixel shift of up to this many pixels per axis, zero fill (0 = off)", 0, 64);
}

// YAML text that reads back as x: the shortest of at least 10 significant digits, and YAML's
// ".inf". (Always 10 digits made the resolved dump of "val_ratio: 0.49999999999, test_ratio: 0.5"
// say 0.5 and 0.5, which parse_config then refused, and "grad_clip: .inf" was dumped as "inf", which
// it cannot read: the run folder could not read its own config. fuzz_config found both.)
std::string fmt_double(double x) {
    if (std::isinf(x)) return x > 0 ? ".inf" : "-.inf";
    std::string out;
    for (int digits = 10; digits <= 17; ++digits) {
        std::ostringstream s;
        s << std::setprecision(digits) << x;
        out = s.str();
        if (std::strtod(out.c_str(), nullptr) == x) break;
    }
    if (out.find_first_of(".eEn") == std::string::npos) out += ".0";  // keep it a float in YAML
    return out;
}

std::string range_text(int64_t lo, int64_t hi) {
    return "[" + std::to_string(lo) + ", " + (hi == kMaxInt ? std::string("inf") : std::to_string(hi)) + "]";
}

std::string range_text(double lo, double hi) {
    return "[" + fmt_double(lo) + ", " + (std::isinf(hi) ? std::string("inf") : fmt_double(hi)) + "]";
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
    return out;
}

// Reads values from a YAML document and remembers which keys it used, so the rest are errors.
class YamlReader : public FieldVisitor {
public:
    YamlReader(const YAML::Node& root, const std::string& file) : root_(root), file_(file) {}

    void section(const std::string& name, const std::string&) override {
        section_ = name;
        sections_.insert(name);
        if (name.empty()) {
            node_.reset(root_);  // reset, not =: assigning a YAML::Node overwrites the node it refers to
            return;
        }
        node_.reset(root_[name]);
        if (node_ && !node_.IsMap() && !node_.IsNull()) fail(name, node_, "expected a mapping of keys");
    }
    void field(const char* key, int64_t& v, const char*, int64_t lo, int64_t hi) override {
        YAML::Node n = get(key);
        if (!n) return;
        int64_t x = 0;
        if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, x))
            fail(dotted(key), n, "expected an integer, got '" + text(n) + "'");
        if (x < lo || x > hi) fail(dotted(key), n, "expected an integer in " + range_text(lo, hi) + ", got " + std::to_string(x));
        v = x;
    }
    void field(const char* key, double& v, const char*, double lo, double hi) override {
        YAML::Node n = get(key);
        if (!n) return;
        double x = 0;
        if (!n.IsScalar() || !YAML::convert<double>::decode(n, x) || std::isnan(x))
            fail(dotted(key), n, "expected a number, got '" + text(n) + "'");
        if (x < lo || x > hi) fail(dotted(key), n, "expected a number in " + range_text(lo, hi) + ", got " + text(n));
        v = x;
    }
    void field(const char* key, bool& v, const char*) override {
        YAML::Node n = get(key);
        if (!n) return;
        bool x = false;
        if (!n.IsScalar() || !YAML::convert<bool>::decode(n, x))
            fail(dotted(key), n, "expected true or false, got '" + text(n) + "'");
        v = x;
    }
    void field(const char* key, std::string& v, const char*, const std::vector<std::string>& choices) override {
        YAML::Node n = get(key);
        if (!n) return;
        if (!n.IsScalar()) fail(dotted(key), n, "expected a string");
        std::string x = n.Scalar();
        if (!choices.empty()) {
            bool ok = false;
            for (const std::string& c : choices) ok = ok || c == x;
            if (!ok) fail(dotted(key), n, "expected one of " + join(choices, ", ") + ", got '" + x + "'");
        }
        v = x;
    }
    void field(const char* key, std::vector<int64_t>& v, const char*, int64_t lo, int64_t hi) override {
        YAML::Node n = get(key);
        if (!n) return;
        if (!n.IsSequence() || n.size() == 0) fail(dotted(key), n, "expected a non-empty list of integers, e.g. [512, 512]");
        std::vector<int64_t> out;
        for (const YAML::Node& e : n) {
            int64_t x = 0;
            if (!e.IsScalar() || !YAML::convert<int64_t>::decode(e, x))
                fail(dotted(key), e, "expected a list of integers, got element '" + text(e) + "'");
            if (x < lo || x > hi) fail(dotted(key), e, "expected integers in " + range_text(lo, hi) + ", got " + std::to_string(x));
            out.push_back(x);
        }
        v = out;
    }

    // After the walk: every key in the document must have been used.
    void check_unknown_keys() {
        for (const auto& kv : root_) {
            std::string key = kv.first.as<std::string>();
            if (sections_.count(key)) {
                if (kv.second.IsMap())
                    for (const auto& inner : kv.second) {
                        std::string k2 = inner.first.as<std::string>();
                        if (!used_.count(key + "." + k2)) unknown(key + "." + k2, inner.first, key);
                    }
            } else if (!used_.count(key)) {
                unknown(key, kv.first, "");
            }
        }
    }

private:
    YAML::Node get(const char* key) {
        used_.insert(dotted(key));
        known_[section_].push_back(key);
        if (!node_ || node_.IsNull()) return YAML::Node(YAML::NodeType::Undefined);  // "not given"
        return node_[key];
    }
    std::string dotted(const char* key) const { return section_.empty() ? key : section_ + "." + key; }
    static std::string text(const YAML::Node& n) {
        if (n.IsScalar()) return n.Scalar();
        if (n.IsSequence()) return "a list";
        if (n.IsMap()) return "a mapping";
        return "nothing";
    }
    [[noreturn]] void fail(const std::string& key, const YAML::Node& n, const std::string& what) const {
        throw Error(file_ + ":" + std::to_string(n.Mark().line + 1) + ": " + key + ": " + what);
    }
    [[noreturn]] void unknown(const std::string& key, const YAML::Node& n, const std::string& section) {
        std::vector<std::string> known = known_[section];
        if (section.empty())
            for (const std::string& s : sections_)
                if (!s.empty()) known.push_back(s);
        throw Error(file_ + ":" + std::to_string(n.Mark().line + 1) + ": unknown key '" + key + "' (known " +
                    (section.empty() ? std::string("top-level keys") : "keys of " + section) + ": " + join(known, ", ") + ")");
    }

    YAML::Node root_;
    YAML::Node node_;
    std::string file_;
    std::string section_;
    std::set<std::string> sections_;
    std::set<std::string> used_;
    std::map<std::string, std::vector<std::string>> known_;
};

// Writes the config as YAML with each key's doc as a comment.
class YamlWriter : public FieldVisitor {
public:
    std::ostringstream out;

    void section(const std::string& name, const std::string& doc) override {
        indent_ = name.empty() ? "" : "  ";
        if (!name.empty()) out << "\n" << name << ":  # " << doc << "\n";
    }
    void field(const char* key, int64_t& v, const char* doc, int64_t, int64_t) override { line(key, std::to_string(v), doc); }
    void field(const char* key, double& v, const char* doc, double, double) override { line(key, fmt_double(v), doc); }
    void field(const char* key, bool& v, const char* doc) override { line(key, v ? "true" : "false", doc); }
    void field(const char* key, std::string& v, const char* doc, const std::vector<std::string>&) override {
        YAML::Emitter e;
        e << YAML::DoubleQuoted << v;
        line(key, e.c_str(), doc);
    }
    void field(const char* key, std::vector<int64_t>& v, const char* doc, int64_t, int64_t) override {
        std::string s = "[";
        for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
        line(key, s + "]", doc);
    }

private:
    void line(const char* key, const std::string& value, const char* doc) {
        out << indent_ << key << ": " << value << "  # " << doc << "\n";
    }
    std::string indent_;
};

// Writes the markdown reference table.
class DocWriter : public FieldVisitor {
public:
    std::ostringstream out;

    void section(const std::string& name, const std::string& doc) override {
        out << "\n### " << (name.empty() ? std::string("top level") : "`" + name + "`") << " — " << doc << "\n\n"
            << "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
    }
    void field(const char* key, int64_t& v, const char* doc, int64_t lo, int64_t hi) override {
        row(key, "integer", std::to_string(v), range_text(lo, hi), doc);
    }
    void field(const char* key, double& v, const char* doc, double lo, double hi) override {
        row(key, "number", fmt_double(v), range_text(lo, hi), doc);
    }
    void field(const char* key, bool& v, const char* doc) override { row(key, "bool", v ? "true" : "false", "true, false", doc); }
    void field(const char* key, std::string& v, const char* doc, const std::vector<std::string>& choices) override {
        row(key, "string", "`" + v + "`", choices.empty() ? "any" : join(choices, ", "), doc);
    }
    void field(const char* key, std::vector<int64_t>& v, const char* doc, int64_t lo, int64_t hi) override {
        std::string s = "[";
        for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
        row(key, "list of integers", s + "]", "each in " + range_text(lo, hi), doc);
    }

private:
    void row(const char* key, const char* type, const std::string& def, const std::string& allowed, const char* doc) {
        out << "| `" << key << "` | " << type << " | " << def << " | " << allowed << " | " << doc << " |\n";
    }
};

void check_consistency(const Config& c, const std::string& file) {
    for (const VaeConfig* v : {&c.vae_new, &c.vae_old}) {
        const char* name = v == &c.vae_new ? "vae_new" : "vae_old";
        if (v->augment_min_size > v->augment_max_size)
            throw Error(file + ": " + name + ".augment_min_size (" + std::to_string(v->augment_min_size) +
                        ") must not exceed " + name + ".augment_max_size (" + std::to_string(v->augment_max_size) + ")");
    }
    if (c.reader.line_width_min > c.reader.line_width_max)
        throw Error(file + ": reader.line_width_min (" + fmt_double(c.reader.line_width_min) +
                    ") must not exceed reader.line_width_max (" + fmt_double(c.reader.line_width_max) + ")");
    if (64 % c.reader.input_size != 0 || 64 % c.baseline.input_size != 0)
        throw Error(file + ": reader.input_size and baseline.input_size must divide 64 (16, 32 or 64)");
    if (c.data.val_ratio + c.data.test_ratio >= 1.0)
        throw Error(file + ": data.val_ratio + data.test_ratio must be below 1");
    if (c.sketch.normalization == "unit_bbox" && c.sketch.canvas_hidden > 0)
        throw Error(file + ": sketch.normalization unit_bbox needs sketch.canvas_hidden 0 (the canvas follows the pen in KanjiVG coordinates, which a unit bounding box loses)");
    if (c.sketch.first_point_shift > 0 && c.sketch.normalization != "unit_bbox")
        throw Error(file + ": sketch.first_point_shift is kanji2kanji's shift of unit-bbox sketches; it needs sketch.normalization unit_bbox");
}

// yaml-cpp 0.7 keeps every entry of a repeated key and node[key] finds the first, so a second
// value would be silently ignored: refuse it, naming both lines. `prefix` is the dotted path.
void check_duplicate_keys(const YAML::Node& node, const std::string& prefix, const std::string& file) {
    if (node.IsSequence()) {
        for (size_t i = 0; i < node.size(); ++i) check_duplicate_keys(node[i], prefix + "[" + std::to_string(i) + "]", file);
        return;
    }
    if (!node.IsMap()) return;
    std::map<std::string, int> first_line;  // key -> line (1-based) of its first entry
    for (const auto& kv : node) {
        const int line = kv.first.Mark().line + 1;
        // A list or mapping as a key ("[a]: 1") used to escape parse_config as yaml-cpp's "bad
        // conversion" from the unknown-key check, naming no file (fuzz_config's property).
        if (kv.first.IsSequence() || kv.first.IsMap())
            throw Error(file + ":" + std::to_string(line) + ": " + (prefix.empty() ? std::string() : "in '" + prefix + "': ") +
                        "a key must be a plain name, not a " + (kv.first.IsMap() ? "mapping" : "list"));
        const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
        const std::string dotted = prefix.empty() ? key : prefix + "." + key;
        auto seen = first_line.find(key);
        if (seen != first_line.end())
            throw Error(file + ":" + std::to_string(line) + ": duplicate key '" + dotted + "' (first at line " +
                        std::to_string(seen->second) + ")");
        first_line[key] = line;
        check_duplicate_keys(kv.second, dotted, file);
    }
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& name) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw Error(name + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML (" + e.msg + ")");
    }
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) throw Error(name + ": expected a YAML mapping of sections at the top level");
    check_duplicate_keys(root, "", name);
    Config config;
    YamlReader reader(root, name);
    visit_all(config, reader);
    reader.check_unknown_keys();
    check_consistency(config, name);
    return config;
}

Config load_config(const std::string& path) { return parse_config(read_file_text(path), path); }

std::string dump_config(const Config& config) {
    Config copy = config;
    YamlWriter writer;
    writer.out << "# k2k resolved config: every key with its value (defaults filled in)\n";
    visit_all(copy, writer);
    return writer.out.str();
}

std::string config_reference() {
    Config defaults;
    DocWriter writer;
    visit_all(defaults, writer);
    return writer.out.str();
}

}  // namespace k2k
