// The World-Models convolutional VAE (64x64 images <-> z), as used by kanji2kanji: encoder,
// reparameterised sampling, decoder (native ConvTranspose2d or a faster equivalent), and its loss.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace k2k {

struct ConvVaeOptions {
    /// Size of the latent vector z (default 64).
    TORCH_ARG(int64_t, z_size) = 64;
    /// Image channels: 1 for kanji, 3 in World Models (default 1).
    TORCH_ARG(int64_t, in_channels) = 1;
    /// Free bits: the KL of each example is floored at kl_tolerance * z_size nats (default 0.5).
    TORCH_ARG(double, kl_tolerance) = 0.5;
    /// Reconstruction loss: "bce" (kanji2kanji, default) or "l2" (World Models).
    TORCH_ARG(std::string, loss) = "bce";
    /// Decoder: "auto" (fast on CPU, native elsewhere, default), "native" or "fast".
    TORCH_ARG(std::string, decoder_impl) = "auto";
};

// What forward() returns. B = batch, C = in_channels.
struct ConvVaeOutput {
    torch::Tensor logits;  // (B,C,64,64) decoder output before the sigmoid
    torch::Tensor mu;      // (B,z_size)
    torch::Tensor logvar;  // (B,z_size)
    torch::Tensor z;       // (B,z_size) reparameterised sample mu + exp(logvar/2) * eps
};

// The loss terms; every field is a 0-dim tensor (batch means).
struct ConvVaeLoss {
    torch::Tensor total;   // recon + kl
    torch::Tensor recon;   // reconstruction, summed over pixels
    torch::Tensor kl;      // KL floored per example at kl_tolerance * z_size (the term in total)
    torch::Tensor kl_raw;  // KL without the floor, for logging
};

// The VAE loss as a pure function (World Models / kanji2kanji):
//   recon_i = sum_pixels BCE(sigmoid(logits), x)        loss "bce" (computed from the logits in
//                                                        log-sigmoid form, finite for any logit)
//   recon_i = sum_pixels (sigmoid(logits) - x)^2        loss "l2"
//   KL_i    = sum_j -0.5 (1 + logvar_ij - mu_ij^2 - exp(logvar_ij))  (Kingma & Welling 2014, app. B)
//   total   = mean_i recon_i + mean_i max(KL_i, kl_tolerance * z_size)  ("free bits")
// An example whose KL is below the floor contributes no KL gradient.
// logits and x are (B,C,H,W) with x in [0,1]; mu and logvar are (B,z_size).
ConvVaeLoss conv_vae_loss(const torch::Tensor& logits, const torch::Tensor& x,
                          const torch::Tensor& mu, const torch::Tensor& logvar,
                          double kl_tolerance, const std::string& loss);

// z = mu + exp(logvar / 2) * eps; all three are (B,z_size).
torch::Tensor reparameterize(const torch::Tensor& mu, const torch::Tensor& logvar,
                             const torch::Tensor& eps);

class ConvVaeImpl : public torch::nn::Module {
public:
    explicit ConvVaeImpl(const ConvVaeOptions& options = ConvVaeOptions());

    void reset();

    // x is (B,C,64,64) in [0,1]; returns {mu, logvar}, each (B,z_size).
    std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x);
    // mu, logvar are (B,z_size); eps ~ N(0,1) is drawn from `gen` on the generator's device and
    // moved to mu's device, so a CPU generator gives the same z on every device.
    torch::Tensor sample_z(const torch::Tensor& mu, const torch::Tensor& logvar, at::Generator gen);
    // z is (B,z_size); returns logits (B,C,64,64) using the decoder chosen by options.decoder_impl.
    torch::Tensor decode_logits(const torch::Tensor& z);
    // sigmoid(decode_logits(z)): images (B,C,64,64) in [0,1].
    torch::Tensor decode(const torch::Tensor& z);
    // Deterministic reconstruction decode(mu(x)); x is (B,C,64,64), so is the result.
    torch::Tensor reconstruct(const torch::Tensor& x);
    // n images (n,C,64,64) decoded from z ~ N(0,1) drawn from `gen` (see sample_z).
    torch::Tensor sample(int64_t n, at::Generator gen);
    // Encode, sample z with eps from `gen`, decode to logits. x is (B,C,64,64).
    ConvVaeOutput forward(const torch::Tensor& x, at::Generator gen);
    // Same with the noise given: eps is (B,z_size).
    ConvVaeOutput forward_with_noise(const torch::Tensor& x, const torch::Tensor& eps);
    // conv_vae_loss(out.logits, x, out.mu, out.logvar) with this model's kl_tolerance and loss.
    ConvVaeLoss loss(const ConvVaeOutput& out, const torch::Tensor& x) const;

    // The two decoders over the same parameters (decode_logits picks one); z is (B,z_size),
    // the result (B,C,64,64) logits. Native runs the ConvTranspose2d modules; fast computes the
    // same sums as matmul / GEMM + col2im / sub-pixel conv2d (about 2x faster per CPU training
    // step, equal to native within float32 rounding, ~2e-6 relative). Public for tests and benches.
    torch::Tensor decode_logits_native(const torch::Tensor& z);
    torch::Tensor decode_logits_fast(const torch::Tensor& z);
    // Whether decode_logits uses the fast path for a tensor on `device`.
    bool uses_fast_decoder(const torch::Device& device) const;

    ConvVaeOptions options;

private:
    torch::nn::Conv2d enc_conv1{nullptr}, enc_conv2{nullptr}, enc_conv3{nullptr}, enc_conv4{nullptr};
    torch::nn::Linear fc_mu{nullptr}, fc_logvar{nullptr}, dec_fc{nullptr};
    torch::nn::ConvTranspose2d dec_deconv1{nullptr}, dec_deconv2{nullptr}, dec_deconv3{nullptr},
        dec_deconv4{nullptr};
};

TORCH_MODULE(ConvVae);

}  // namespace k2k
