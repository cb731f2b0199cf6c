// Experiment configuration: one YAML file per experiment, one section per pipeline stage.
// Every key is one field below with its default and a one-line doc; `k2k config docs` prints them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace k2k {

struct DataConfig {
    std::string cache = "data/k2k.cache";        // dataset cache written by `k2k data prepare`
    std::string kanjivg = "data/kanjivg/kanji";  // KanjiVG SVG folder (used when the cache is missing)
    std::string kkanji = "data/kkanji2";         // Kuzushiji-Kanji kkanji2 folder (used when the cache is missing)
    double val_ratio = 0.05;                     // fraction of items in the validation split
    double test_ratio = 0.10;                    // fraction of items in the test split (never trained on)
    int64_t max_modern_chars = 0;                // use at most this many KanjiVG characters (0 = all)
    int64_t max_old_classes = 0;                 // use at most this many Kuzushiji classes (0 = all)
    bool kanjivg_variants = false;               // also train on KanjiVG variant files (-Kaisho, ...)
};

struct VaeConfig {
    int64_t z_size = 64;            // latent size
    double kl_tolerance = 0.5;      // free bits: KL floored at kl_tolerance * z_size nats per example
    std::string loss = "bce";       // reconstruction loss: bce | l2
    int64_t batch_size = 50;        // images per step
    int64_t steps = 2000;           // training steps
    double lr = 1e-3;               // Adam learning rate
    double grad_clip = 0.0;         // clip gradient norm at this value (0 = off)
    bool augment = true;            // random resize to [augment_min_size, augment_max_size] + random placement
    int64_t augment_min_size = 48;  // smallest random size of the augmented image (pixels)
    int64_t augment_max_size = 64;  // largest random size of the augmented image (pixels)
    int64_t eval_every = 250;       // steps between validation passes and checkpoints
    int64_t eval_batches = 4;       // validation batches per pass
};

struct MdnConfig {
    std::vector<int64_t> hidden = {512, 512};  // hidden layer widths (paper: 2 layers; reference 3 x 1024)
    int64_t num_mixtures = 5;                  // Gaussian components (per latent dimension for per_dim)
    std::string mode = "per_dim";              // per_dim (independent 1-D mixtures) | diag (mixture over the vector)
    int64_t batch_size = 256;                  // pairs per step
    int64_t steps = 3000;                      // training steps
    double lr = 1e-3;                          // Adam learning rate
    double grad_clip = 0.0;                    // clip gradient norm (0 = off)
    bool sample_z_old = true;                  // train on z_old ~ q(z|x_old) samples (true) or its mean
    bool sample_z_new = false;                 // target z_new ~ q(z|x_new) samples (true) or its mean
    std::string encoder = "frozen";            // frozen: z_old = vae_old's mean (paper) | finetune: vae_old's encoder trained with the MDN's likelihood
    bool augment = false;                      // encode freshly augmented Kuzushiji images every step (vae_old's resize-and-place)
    double contrastive = 0.0;                  // weight of the candidate cross-entropy (the right character's latent against `negatives` others; 0 = off)
    int64_t negatives = 1024;                  // other characters' latents per step in the contrastive term
    int64_t eval_every = 500;                  // steps between validation passes and checkpoints
};

struct SketchConfig {
    int64_t hidden_size = 512;              // decoder LSTM width (magenta 512; reference 1024)
    int64_t num_layers = 1;                 // stacked decoder layers (reference 3)
    std::string cell = "lstm";              // lstm | layer_norm | hyper
    int64_t num_mixtures = 20;              // GMM components of the offset distribution
    std::string output = "bivariate";       // bivariate (magenta) | per_axis (kanji2kanji)
    double recurrent_dropout_keep = 1.0;    // keep probability of recurrent dropout (1 = off)
    int64_t canvas_hidden = 0;              // 0: off (paper); else the decoder also sees the ink still to draw around its pen (data/canvas.h), projected to this many units
    double rdp_epsilon = 2.0;               // RDP simplification epsilon in KanjiVG units (0..109 canvas)
    int64_t max_seq_len = 100;              // longest stroke-3 sequence used (longer ones are skipped)
    bool trim_padding = false;              // training steps run each batch only up to its longest sketch's end token, not max_seq_len
    std::string start_token = "pen_down";   // pen_down [0,0,1,0,0] (magenta) | pen_up [0,0,0,1,0] (kanji2kanji)
    int64_t batch_size = 64;                // sketches per step
    int64_t steps = 3000;                   // training steps
    double lr = 1e-3;                       // initial Adam learning rate
    double lr_decay = 0.9999;               // lr = max(lr * lr_decay^step, min_lr)
    double min_lr = 1e-5;                   // learning-rate floor
    double grad_clip = 1.0;                 // clip gradient norm (0 = off)
    std::string grad_clip_mode = "norm";    // norm: the global norm (magenta) | value: each element (kanji2kanji)
    bool finetune_encoder = true;           // fine-tune the modern VAE encoder through the stroke loss
    double kl_tolerance = 0.2;              // KL term floor (mean over dims and batch, nats)
    double kl_weight = 0.5;                 // final KL weight w_max
    double kl_weight_start = 0.01;          // initial KL weight
    double kl_decay = 0.99995;              // w = w_max - (w_max - w_start) * kl_decay^step
    double mdn_fraction = 0.5;              // share of overlapping characters conditioned on MDN(z_old) instead of z_new
    double mdn_temperature = 0.25;          // temperature on pi when sampling z~_new from the MDN in training
    double augment_scale = 0.15;            // per-axis random scale in [1-s, 1+s]
    double augment_drop = 0.1;              // probability of dropping a point inside a stroke
    std::string normalization = "std";      // std: offsets divided by the training set's offset std (magenta) | unit_bbox: each sketch scaled to a unit bounding box, then / 0.16808838 (kanji2kanji; needs canvas_hidden 0)
    double first_point_shift = 0.0;         // unit_bbox: training shifts each sketch's first point by U[-s, s] per axis (normalised units; 0 = off)
    int64_t eval_every = 250;               // steps between validation passes and checkpoints
    int64_t eval_batches = 4;               // validation batches per pass
};

struct GenerateConfig {
    int64_t samples = 4;             // stroke samples (and MDN draws) per input
    double temperature = 0.15;       // Sketch-RNN sampling temperature
    double mdn_temperature = 0.25;   // MDN temperature on pi
    bool mdn_mode = true;            // use the chosen MDN component's mean (no noise), as the reference
    int64_t max_len = 130;           // longest stroke sample
    int64_t candidates = 10;         // candidate characters listed per input (the MDN's ranking of every KanjiVG character)
    double candidate_temperature = 10.0;  // divides the candidates' log-likelihoods before the softmax into probabilities (choose it on the validation split: k2k eval --split val reports best_temperature)
    std::string condition = "mdn";   // what pixels and strokes are drawn from: "mdn" (draws z~ of the MDN, the paper) or "candidates" (the latent and raster of the MDN's best candidates)
    int64_t condition_top = 1;       // condition "candidates": sample k is drawn from the (k mod condition_top)-th best candidate
    int64_t stroke_pool = 1;         // stroke samples drawn per sample kept: the best `samples` of samples x stroke_pool by agreement with the ink they trace (1: all kept)
};

struct ReaderConfig {
    bool enabled = false;              // also train the reader in `k2k pipeline` (after sketch); `k2k eval` needs it
    int64_t input_size = 32;           // side the 64x64 render is average-pooled to before the CNN (16, 32 or 64)
    int64_t width = 16;                // channels of the first conv block (each of the 4 blocks doubles them)
    int64_t hidden = 256;              // units of the embedding before the cosine classifier
    double scale = 16.0;               // logit scale of the cosine classifier
    int64_t batch_size = 128;          // renders per step
    int64_t steps = 3000;              // training steps
    double lr = 2e-3;                  // peak Adam learning rate (cosine decay to 0 over the steps)
    double label_smoothing = 0.1;      // cross-entropy label smoothing
    double affine = 0.1;               // random per-axis scale in [1-a, 1+a], rotation and shear up to a radians
    double translate = 6.0;            // random shift up to this many KanjiVG units per axis
    double line_width_min = 1.2;       // thinnest random line width (pixels at 64x64)
    double line_width_max = 3.4;       // thickest random line width
    double heldout_line_width = 2.0;   // width of the clean held-out renders; training skips +-0.15 px around it
    double rdp_max = 3.0;              // random RDP simplification epsilon up to this (KanjiVG units)
    double wobble = 1.0;               // per-vertex noise std, KanjiVG units (after simplification)
    double drop_stroke = 0.3;          // probability of dropping one short stroke
    double blur_max = 1.2;             // Gaussian blur sigma up to this (pixels), half of the renders
    double ink_min = 0.5;              // peak ink intensity drawn from [ink_min, 1]
    int64_t eval_every = 500;          // steps between validation passes and checkpoints
    int64_t eval_classes = 1024;       // classes in the fixed validation renders (spread over all classes)
};

struct BaselineConfig {
    bool enabled = false;              // also train the direct CNN baseline in `k2k pipeline` (after the reader)
    int64_t input_size = 32;           // side the 64x64 Kuzushiji image is average-pooled to (64 or 32)
    int64_t hidden = 128;              // units of the dense layer (Keras simple CNN: 128)
    int64_t batch_size = 128;          // images per step
    int64_t steps = 2000;              // training steps
    double lr = 1e-3;                  // Adam learning rate
    int64_t eval_every = 500;          // steps between validation passes and checkpoints
    int64_t knn_k = 4;                 // neighbours of the raw-pixel k-NN baseline (seed paper: 4)
};

struct ClassifyConfig {
    std::string dataset = "kmnist";          // kmnist | k49 (the official .npz files in data_dir) | kkanji (Kuzushiji-Kanji from data.cache, halved per class)
    std::string data_dir = "data/kmnist";    // folder holding <dataset>-{train,test}-{imgs,labels}.npz
    std::string model = "simple_cnn";        // knn | simple_cnn | preact_resnet18
    int64_t knn_k = 4;                       // neighbours of the k-NN (seed paper: 4)
    bool knn_distance_weights = true;        // k-NN votes weighted by 1/distance (the KMNIST benchmark's sklearn weights='distance')
    int64_t width = 64;                      // PreActResNet channels of the first block (64 = PreActResNet-18)
    int64_t hidden = 128;                    // units of the simple CNN's dense layer (Keras: 128)
    int64_t input_size = 0;                  // side the simple CNN average-pools its input to (0 = the image side; kkanji's 64x64: 32)
    std::string mixup = "none";              // none | input (Zhang et al.) | manifold (Verma et al.: input, after block 1 or 2)
    double mixup_alpha = 1.0;                // lambda ~ Beta(alpha, alpha) (input mixup 1, manifold mixup 2)
    std::string optimizer = "adam";          // adam | sgd (with momentum and Nesterov off)
    int64_t epochs = 12;                     // passes over the training images
    int64_t batch_size = 128;                // images per step
    double lr = 1e-3;                        // initial learning rate
    std::string lr_schedule = "constant";    // constant | step (lr *= gamma at each milestone epoch) | cosine (to 0 over the epochs)
    std::vector<int64_t> milestones = {100, 150};  // epochs at which a step schedule multiplies lr by gamma
    double gamma = 0.1;                      // factor of the step schedule
    double momentum = 0.9;                   // SGD momentum
    double weight_decay = 0.0;               // L2 weight decay (the manifold-mixup reference: 1e-4)
    int64_t val_size = 5000;                 // training images held out (seeded) for validation and model selection
    int64_t train_limit = 0;                 // use only the first N training images (0 = all; tests and quick looks)
    int64_t test_limit = 0;                  // score only the first N test images (0 = all)
    int64_t eval_every = 500;                // steps between validation passes and checkpoints
    int64_t augment_shift = 0;               // training images shifted by up to this many pixels per axis (zero fill; 0 = off)
};

struct Config {
    std::string name = "default";    // experiment name
    std::string run_dir = "runs/default";  // run folder: checkpoints, metrics, resolved config
    int64_t seed = 1;                // random seed of every stage
    std::string device = "auto";     // cpu | cuda | auto
    int64_t log_every = 50;          // steps between progress lines when not on a TTY
    DataConfig data;
    VaeConfig vae_new;
    VaeConfig vae_old;
    MdnConfig mdn;
    SketchConfig sketch;
    GenerateConfig generate;
    ReaderConfig reader;
    BaselineConfig baseline;
    ClassifyConfig classify;
};

// Reads a YAML config; missing keys keep their defaults. Throws k2k::Error naming the file, the
// key (dotted, e.g. `sketch.hidden_size`), the line, and what was expected, for unknown keys,
// wrong types and out-of-range values.
Config load_config(const std::string& path);
Config parse_config(const std::string& yaml_text, const std::string& name);
// The resolved config as YAML (every key, with its doc as a comment); parse_config reads it back.
std::string dump_config(const Config& config);
// Markdown reference of every key: section, key, type, default, range/choices, doc.
std::string config_reference();

}  // namespace k2k
