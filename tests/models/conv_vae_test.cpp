// Tests for models/conv_vae.h: shapes, errors, the fast decoder against the native one, golden values
// from tests/golden/gen_conv_vae.py, the loss (free bits, extreme inputs), save/load, overfitting.
#include "models/conv_vae.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/png_io.h"
#include "test_support.h"

namespace k2k {
namespace {

// The same closed-form parameter fill as tests/golden/gen_conv_vae.py (exact uint32 arithmetic).
double hash_unit(uint64_t i, uint64_t j) {
    uint32_t h = uint32_t(i * 2654435761ull + j * 40503ull + 12345ull);
    h ^= h >> 13;
    h = uint32_t(uint64_t(h) * 1274126177ull);
    h ^= h >> 16;
    return 2.0 * (double(h) / 4294967296.0) - 1.0;
}

void fill_parameters(ConvVae& model) {
    torch::NoGradGuard no_grad;
    uint64_t j = 0;
    for (auto& p : model->parameters()) {
        double scale = 0.1;
        if (p.dim() > 1) scale = std::sqrt(6.0 / double(p.numel() / p.size(0)));
        std::vector<float> values(size_t(p.numel()));
        for (size_t i = 0; i < values.size(); ++i) values[i] = float(scale * hash_unit(i, j));
        p.copy_(torch::tensor(values).view(p.sizes()));
        ++j;
    }
}

double input_value(int64_t i) {
    const int64_t b = i / 4096;
    return std::min(1.0, std::max(0.0, 1.5 * std::sin(0.37 * double(i) * (1.0 + 0.5 * double(b))) -
                                           0.4 * double(b)));
}

std::vector<double> to_vector(const torch::Tensor& t) {
    torch::Tensor c = t.detach().to(torch::kDouble).contiguous().view(-1);
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

nlohmann::json read_golden() {
    std::ifstream in(test::fixtures_dir() + "/golden/conv_vae.json");
    EXPECT_TRUE(in.good()) << "missing tests/fixtures/golden/conv_vae.json";
    return nlohmann::json::parse(in);
}

// |a - b| <= tol * scale elementwise, with a message naming what differs.
void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol,
                  double scale, const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], tol * scale) << what << " [" << i << "]";
}

double max_abs(const torch::Tensor& t) { return t.detach().abs().max().item<double>(); }

std::string check_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const c10::Error& e) {
        return e.msg();
    }
    return "(no exception)";
}

TEST(ConvVae, OptionsAreValidated) {
    EXPECT_EQ(check_message([] { ConvVae(ConvVaeOptions().loss("l1")); }),
              "ConvVaeOptions.loss must be \"bce\" or \"l2\", got \"l1\".");
    EXPECT_EQ(check_message([] { ConvVae(ConvVaeOptions().decoder_impl("cuda")); }),
              "ConvVaeOptions.decoder_impl must be \"auto\", \"native\" or \"fast\", got \"cuda\".");
    EXPECT_EQ(check_message([] { ConvVae(ConvVaeOptions().z_size(0)); }),
              "ConvVaeOptions.z_size must be positive.");
    EXPECT_EQ(check_message([] { ConvVae(ConvVaeOptions().kl_tolerance(-1)); }),
              "ConvVaeOptions.kl_tolerance must be >= 0.");
}

TEST(ConvVae, ShapesAndDtypesOfEveryFunction) {
    torch::manual_seed(1);
    ConvVae model(ConvVaeOptions().z_size(16));
    at::Generator gen = at::detail::createCPUGenerator(3);
    torch::Tensor x = torch::rand({3, 1, 64, 64}, gen);
    auto [mu, logvar] = model->encode(x);
    EXPECT_EQ(mu.sizes(), (std::vector<int64_t>{3, 16}));
    EXPECT_EQ(logvar.sizes(), (std::vector<int64_t>{3, 16}));
    torch::Tensor z = model->sample_z(mu, logvar, gen);
    EXPECT_EQ(z.sizes(), (std::vector<int64_t>{3, 16}));
    EXPECT_EQ(model->decode_logits(z).sizes(), (std::vector<int64_t>{3, 1, 64, 64}));
    torch::Tensor images = model->decode(z);
    EXPECT_EQ(images.sizes(), (std::vector<int64_t>{3, 1, 64, 64}));
    EXPECT_GE(images.min().item<float>(), 0.0f);
    EXPECT_LE(images.max().item<float>(), 1.0f);
    EXPECT_EQ(model->reconstruct(x).sizes(), (std::vector<int64_t>{3, 1, 64, 64}));
    EXPECT_EQ(model->sample(5, gen).sizes(), (std::vector<int64_t>{5, 1, 64, 64}));
    ConvVaeOutput out = model->forward(x, gen);
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{3, 1, 64, 64}));
    EXPECT_EQ(out.z.sizes(), (std::vector<int64_t>{3, 16}));
    ConvVaeLoss loss = model->loss(out, x);
    for (const torch::Tensor& t : {mu, logvar, z, images, out.logits, loss.total, loss.recon, loss.kl,
                                   loss.kl_raw})
        EXPECT_EQ(t.scalar_type(), torch::kFloat);
    EXPECT_EQ(loss.total.dim(), 0);
    EXPECT_NEAR(loss.total.item<double>(), loss.recon.item<double>() + loss.kl.item<double>(), 1e-3);
    // The floor of 0.5 * 16 nats can only raise the KL term.
    EXPECT_GE(loss.kl.item<double>(), 8.0 - 1e-6);
    EXPECT_GE(loss.kl.item<double>(), loss.kl_raw.item<double>() - 1e-6);

    // Three channels (World Models) work the same way.
    ConvVae rgb(ConvVaeOptions().z_size(4).in_channels(3));
    EXPECT_EQ(rgb->reconstruct(torch::rand({2, 3, 64, 64})).sizes(),
              (std::vector<int64_t>{2, 3, 64, 64}));
}

TEST(ConvVae, BadShapesAreRejected) {
    ConvVae model(ConvVaeOptions().z_size(8));
    EXPECT_EQ(check_message([&] { model->encode(torch::rand({2, 1, 32, 32})); }),
              "ConvVae::encode needs x of shape (B,1,64,64), got [2, 1, 32, 32].");
    EXPECT_EQ(check_message([&] { model->decode(torch::rand({2, 9})); }),
              "ConvVae::decode needs z of shape (B,8), got [2, 9].");
    EXPECT_EQ(check_message([&] {
                  conv_vae_loss(torch::zeros({2, 1, 64, 64}), torch::zeros({2, 1, 64, 64}),
                                torch::zeros({2, 8}), torch::zeros({2, 8}), 0.5, "l1");
              }),
              "conv_vae_loss: loss must be \"bce\" or \"l2\", got \"l1\".");
}

TEST(ConvVae, DecoderChoiceAndCheckpointLayoutDoNotDependOnThePath) {
    ConvVae native(ConvVaeOptions().decoder_impl("native"));
    ConvVae fast(ConvVaeOptions().decoder_impl("fast"));
    ConvVae automatic;
    EXPECT_FALSE(native->uses_fast_decoder(torch::kCPU));
    EXPECT_TRUE(fast->uses_fast_decoder(torch::kCPU));
    EXPECT_TRUE(fast->uses_fast_decoder(torch::Device(torch::kCUDA, 0)));
    EXPECT_TRUE(automatic->uses_fast_decoder(torch::kCPU));
    EXPECT_FALSE(automatic->uses_fast_decoder(torch::Device(torch::kCUDA, 0)));
    auto a = native->named_parameters(), b = fast->named_parameters();
    ASSERT_EQ(a.size(), b.size());
    ASSERT_EQ(a.size(), 22u);  // 11 layers x (weight, bias)
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].key(), b[i].key());
        EXPECT_EQ(a[i].value().sizes(), b[i].value().sizes());
    }
}

// The fast decoder against the native ConvTranspose2d one: outputs and the gradients of a loss
// with respect to every parameter and to z. float32; both sum the same products in a different
// order, so they agree to ~1e-6 relative; the bound is 1e-5 of each tensor's largest entry.
TEST(ConvVae, FastDecoderMatchesNativeOutputsAndGradients) {
    torch::manual_seed(5);
    ConvVae model(ConvVaeOptions().z_size(64).in_channels(1));
    at::Generator gen = at::detail::createCPUGenerator(7);
    torch::Tensor z0 = 2.0 * torch::randn({4, 64}, gen);
    torch::Tensor target = torch::rand({4, 1, 64, 64}, gen);
    const double tol = 1e-5;

    auto run = [&](bool fast, std::vector<torch::Tensor>& grads) {
        model->zero_grad();
        torch::Tensor z = z0.clone().requires_grad_(true);
        torch::Tensor logits = fast ? model->decode_logits_fast(z) : model->decode_logits_native(z);
        torch::binary_cross_entropy_with_logits(logits, target, {}, {}, at::Reduction::Sum).backward();
        grads.clear();
        for (auto& p : model->parameters())
            grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
        grads.push_back(z.grad().clone());
        return logits.detach();
    };
    std::vector<torch::Tensor> g_native, g_fast;
    torch::Tensor y_native = run(false, g_native);
    torch::Tensor y_fast = run(true, g_fast);
    ASSERT_EQ(y_fast.sizes(), y_native.sizes());
    double worst = (y_fast - y_native).abs().max().item<double>() / max_abs(y_native);
    EXPECT_LE(worst, tol) << "logits";
    auto names = model->named_parameters().keys();
    names.push_back("z");
    ASSERT_EQ(g_fast.size(), names.size());
    for (size_t i = 0; i < g_fast.size(); ++i) {
        const bool decoder = names[i].rfind("dec_", 0) == 0 || names[i] == "z";
        if (!decoder) {  // the encoder is not on this path
            EXPECT_EQ(max_abs(g_native[i]), 0.0) << names[i];
            continue;
        }
        ASSERT_GT(max_abs(g_native[i]), 0.0) << names[i];
        const double rel = (g_fast[i] - g_native[i]).abs().max().item<double>() / max_abs(g_native[i]);
        EXPECT_LE(rel, tol) << names[i];
        worst = std::max(worst, rel);
    }
    RecordProperty("worst_relative_difference", std::to_string(worst));
    std::printf("fast vs native decoder: worst relative difference %.2e\n", worst);
}

TEST(ConvVae, SaveAndLoadGiveIdenticalOutputs) {
    torch::manual_seed(11);
    ConvVae saved(ConvVaeOptions().z_size(8));
    const std::string path = test::make_temp_dir("conv_vae") + "/vae.pt";
    torch::save(saved, path);
    torch::manual_seed(12);
    ConvVae loaded(ConvVaeOptions().z_size(8).decoder_impl("native"));
    torch::Tensor x = torch::rand({2, 1, 64, 64});
    EXPECT_FALSE(torch::equal(saved->reconstruct(x), loaded->reconstruct(x)));
    torch::load(loaded, path);
    // Same weights through the same decoder: bit-identical; through the other decoder: close.
    ConvVae loaded_fast(ConvVaeOptions().z_size(8).decoder_impl("fast"));
    torch::load(loaded_fast, path);
    saved->options.decoder_impl("native");
    EXPECT_TRUE(torch::equal(saved->reconstruct(x), loaded->reconstruct(x)));
    EXPECT_TRUE(torch::allclose(loaded_fast->reconstruct(x), loaded->reconstruct(x), 1e-5, 1e-6));
    test::remove_tree(std::filesystem::path(path).parent_path().string());
}

// Golden values from tests/golden/gen_conv_vae.py (PyTorch 1.13, float32). Tolerance: 1e-4 of
// each quantity's scale (float32 sums over ~1000-term dot products in another order).
TEST(ConvVae, MatchesPyTorchGoldenValues) {
    const nlohmann::json g = read_golden();
    const int64_t z_size = g["z_size"], batch = g["batch"];
    const double tol = 1e-4;
    for (const char* impl : {"native", "fast"}) {
        SCOPED_TRACE(impl);
        ConvVae model(ConvVaeOptions().z_size(z_size).kl_tolerance(g["kl_tolerance"]).decoder_impl(impl));
        auto names = model->named_parameters().keys();
        ASSERT_EQ(names, g["param_names"].get<std::vector<std::string>>());
        fill_parameters(model);
        std::vector<float> pixels(size_t(batch * 4096));
        for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = float(input_value(int64_t(i)));
        torch::Tensor x = torch::tensor(pixels).view({batch, 1, 64, 64});
        torch::Tensor eps = torch::tensor(g["eps"].get<std::vector<float>>()).view({batch, z_size});

        ConvVaeOutput out = model->forward_with_noise(x, eps);
        expect_close(to_vector(out.mu), g["mu"], tol, 1.0, "mu");
        expect_close(to_vector(out.logvar), g["logvar"], tol, 1.0, "logvar");
        expect_close(to_vector(out.z), g["z"], tol, 1.0, "z");
        const double abs_sum = g["logits_abs_sum"], sq_sum = g["logits_sq_sum"];
        EXPECT_NEAR(out.logits.abs().sum().item<double>(), abs_sum, tol * abs_sum);
        EXPECT_NEAR(out.logits.to(torch::kDouble).pow(2).sum().item<double>(), sq_sum, tol * sq_sum);
        const int64_t stride = g["logit_stride"];
        torch::Tensor strided = out.logits.reshape({-1}).slice(0, 0, out.logits.numel(), stride);
        expect_close(to_vector(strided), g["logits_strided"], tol, max_abs(out.logits), "logits");

        for (const std::string loss_name : {"bce", "l2"}) {
            SCOPED_TRACE(loss_name);
            model->options.loss(loss_name);
            const nlohmann::json& want = g["losses"][loss_name];
            model->zero_grad();
            ConvVaeLoss loss = model->loss(out, x);
            EXPECT_NEAR(loss.total.item<double>(), want["total"].get<double>(), tol * want["total"].get<double>());
            EXPECT_NEAR(loss.recon.item<double>(), want["recon"].get<double>(), tol * want["recon"].get<double>());
            EXPECT_NEAR(loss.kl.item<double>(), want["kl"].get<double>(), tol * want["kl"].get<double>());
            EXPECT_NEAR(loss.kl_raw.item<double>(), want["kl_raw"].get<double>(), tol * want["kl_raw"].get<double>());
            loss.total.backward({}, /*retain_graph=*/true);
            for (auto& item : model->named_parameters()) {
                const nlohmann::json& gw = g["grads"][loss_name][item.key()];
                const torch::Tensor grad = item.value().grad();
                const double scale = gw["max_abs"];
                EXPECT_NEAR(max_abs(grad), scale, tol * scale) << item.key();
                EXPECT_NEAR(grad.to(torch::kDouble).abs().sum().item<double>(), gw["abs_sum"].get<double>(),
                            tol * gw["abs_sum"].get<double>())
                    << item.key();
                const std::vector<double> head = gw["head"];
                std::vector<double> got = to_vector(grad.reshape({-1}).slice(0, 0, int64_t(head.size())));
                expect_close(got, head, tol, scale, item.key());
            }
        }
    }
}

// Free bits: an example whose KL is below kl_tolerance * z_size adds exactly the floor to the loss
// and no gradient; one above it gets the exact KL gradient d/dmu = mu, d/dlogvar = (exp(lv)-1)/2.
TEST(ConvVaeLoss, FreeBitsFloorIsPerExampleAndStopsTheGradient) {
    const int64_t z = 4;
    torch::Tensor logits = torch::zeros({2, 1, 64, 64});
    torch::Tensor x = torch::zeros({2, 1, 64, 64});
    // Example 0: KL = 0.5 * 4 * 0.01 = 0.02 (below the floor 2); example 1: KL = 0.5 * 4 * 9 = 18.
    torch::Tensor mu = torch::tensor({0.1f, 0.1f, 0.1f, 0.1f, 3.f, 3.f, 3.f, 3.f}).view({2, z});
    torch::Tensor logvar = torch::zeros({2, z});
    mu.requires_grad_(true);
    logvar.requires_grad_(true);
    ConvVaeLoss loss = conv_vae_loss(logits, x, mu, logvar, /*kl_tolerance=*/0.5, "bce");
    EXPECT_NEAR(loss.kl_raw.item<double>(), (0.02 + 18.0) / 2, 1e-5);
    EXPECT_NEAR(loss.kl.item<double>(), (2.0 + 18.0) / 2, 1e-5);
    EXPECT_NEAR(loss.recon.item<double>(), 4096 * std::log(2.0), 1e-2);
    loss.kl.backward();
    torch::Tensor gmu = mu.grad(), glv = logvar.grad();
    for (int64_t j = 0; j < z; ++j) {
        EXPECT_EQ(gmu[0][j].item<float>(), 0.0f);
        EXPECT_EQ(glv[0][j].item<float>(), 0.0f);
        EXPECT_NEAR(gmu[1][j].item<float>(), 3.0 / 2, 1e-6);  // mu / batch
        EXPECT_NEAR(glv[1][j].item<float>(), 0.0, 1e-6);      // (exp(0) - 1) / 2 / batch
    }
    // kl_tolerance 0: no floor at all.
    ConvVaeLoss plain = conv_vae_loss(logits, x, mu, logvar, 0.0, "bce");
    EXPECT_NEAR(plain.kl.item<double>(), plain.kl_raw.item<double>(), 1e-6);
}

TEST(ConvVaeLoss, ExtremeInputsGiveFiniteLossesAndGradients) {
    for (const std::string loss_name : {"bce", "l2"}) {
        SCOPED_TRACE(loss_name);
        torch::Tensor logits = torch::full({2, 1, 64, 64}, 1e4f);
        logits.slice(0, 1, 2).fill_(-1e4f);
        torch::Tensor x = torch::zeros({2, 1, 64, 64});
        x.slice(0, 1, 2).fill_(1.0f);  // every pixel confidently wrong
        torch::Tensor mu = torch::full({2, 8}, 1e4f);
        torch::Tensor logvar = torch::full({2, 8}, 50.0f);
        logvar.slice(1, 0, 4).fill_(-50.0f);
        for (auto* t : {&logits, &mu, &logvar}) t->requires_grad_(true);
        ConvVaeLoss loss = conv_vae_loss(logits, x, mu, logvar, 0.5, loss_name);
        EXPECT_TRUE(std::isfinite(loss.total.item<double>()));
        EXPECT_GT(loss.recon.item<double>(), 0.0);
        if (loss_name == "bce") {
            EXPECT_NEAR(loss.recon.item<double>(), 4096 * 1e4, 4096 * 1e4 * 1e-6);
        }
        loss.total.backward();
        for (auto* t : {&logits, &mu, &logvar}) EXPECT_TRUE(torch::isfinite(t->grad()).all().item<bool>());
    }
}

TEST(ConvVae, SeedsMakeSamplesReproducible) {
    torch::manual_seed(2);
    ConvVae model(ConvVaeOptions().z_size(8));
    at::Generator g1 = at::detail::createCPUGenerator(42), g2 = at::detail::createCPUGenerator(42);
    at::Generator g3 = at::detail::createCPUGenerator(43);
    torch::Tensor a = model->sample(3, g1), b = model->sample(3, g2), c = model->sample(3, g3);
    EXPECT_TRUE(torch::equal(a, b));
    EXPECT_FALSE(torch::allclose(a, c));
    torch::Tensor x = torch::rand({2, 1, 64, 64});
    ConvVaeOutput o1 = model->forward(x, at::detail::createCPUGenerator(9));
    ConvVaeOutput o2 = model->forward(x, at::detail::createCPUGenerator(9));
    ConvVaeOutput o3 = model->forward(x, at::detail::createCPUGenerator(10));
    EXPECT_TRUE(torch::equal(o1.z, o2.z));
    EXPECT_FALSE(torch::equal(o1.z, o3.z));
    // reconstruct is deterministic (decodes mu).
    EXPECT_TRUE(torch::equal(model->reconstruct(x), model->reconstruct(x)));
}

// Loads the first 4 images (sorted file names) of 4 common classes: (16,1,64,64), ink = 1.
torch::Tensor load_kkanji_batch() {
    const std::string root = test::shared_data_dir() + "/kkanji2";
    std::vector<float> pixels;
    for (const char* cls : {"U+4EBA", "U+5927", "U+5C71", "U+65E5"}) {
        std::vector<std::string> files;
        for (const auto& entry : std::filesystem::directory_iterator(root + "/" + cls))
            if (entry.path().extension() == ".png") files.push_back(entry.path().string());
        std::sort(files.begin(), files.end());
        EXPECT_GE(files.size(), 4u) << cls;
        for (size_t i = 0; i < 4 && i < files.size(); ++i) {
            Image image = read_png_gray(files[i]);
            EXPECT_EQ(image.width, 64);
            EXPECT_EQ(image.height, 64);
            for (uint8_t v : image.pixels) pixels.push_back(float(v) / 255.0f);
        }
    }
    return torch::tensor(pixels).view({-1, 1, 64, 64});
}

// Deterministic reconstruction BCE (decode(mu)) per image, and the same minus the images' own
// entropy: the part a perfect model removes. kkanji images are grey-scale (anti-aliased), so the
// raw BCE cannot reach 0 — its floor is sum_pixels H(x) (~340 nats per image for this batch).
struct Recon {
    double raw = 0;     // BCE, nats per image
    double excess = 0;  // BCE - entropy of x, nats per image
};

Recon measure_recon(ConvVae& model, const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    torch::Tensor logits = model->decode_logits(model->encode(x).first);
    torch::Tensor bce = torch::binary_cross_entropy_with_logits(logits, x, {}, {}, at::Reduction::Sum);
    torch::Tensor xd = x.to(torch::kDouble), p = xd.clamp(1e-12, 1 - 1e-12);
    torch::Tensor entropy = -(xd * p.log() + (1 - xd) * (1 - p).log()).sum();
    const double n = double(x.size(0));
    return {bce.item<double>() / n, (bce.to(torch::kDouble) - entropy).item<double>() / n};
}

// Overfitting one real batch: 16 Kuzushiji-Kanji images, Adam 1e-3, 150 steps, z 32 with the
// default free bits (floor 16 nats: the KL term has no gradient until the codes carry > 16 nats,
// so reconstruction drives training). Pass: final excess reconstruction <= 10% of the initial.
TEST(ConvVae, OverfitsOneRealBatch) {
    K2K_REQUIRE_SHARED_DATA("kkanji2");
    torch::Tensor x = load_kkanji_batch();
    ASSERT_EQ(x.size(0), 16);
    torch::manual_seed(0);
    ConvVae model(ConvVaeOptions().z_size(32));
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
    at::Generator gen = at::detail::createCPUGenerator(0);
    const Recon initial = measure_recon(model, x);
    const auto t0 = std::chrono::steady_clock::now();
    const int steps = 150;
    double last_kl = 0.0;
    for (int step = 0; step < steps; ++step) {
        adam.zero_grad();
        ConvVaeOutput out = model->forward(x, gen);
        ConvVaeLoss loss = model->loss(out, x);
        loss.total.backward();
        adam.step();
        last_kl = loss.kl_raw.item<double>();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Recon final = measure_recon(model, x);
    std::printf("overfit 16 kkanji images, %d steps in %.1f s: BCE %.1f -> %.1f nats/image, excess over "
                "the images' entropy %.1f -> %.1f (%.1f%%), raw KL %.1f\n",
                steps, seconds, initial.raw, final.raw, initial.excess, final.excess,
                100.0 * final.excess / initial.excess, last_kl);
    EXPECT_GT(initial.excess, 1000.0);  // an untrained decoder is far from the images
    EXPECT_LE(final.excess, 0.10 * initial.excess);
}

}  // namespace
}  // namespace k2k
