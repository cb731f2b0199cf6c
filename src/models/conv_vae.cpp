// The World-Models convolutional VAE: encoder, sampling, the native and fast decoders, the loss.
// The fast decoder reuses the ConvTranspose2d weights, so checkpoints do not depend on the path.
#include "models/conv_vae.h"

#include <torch/torch.h>

namespace k2k {

namespace {

constexpr int64_t kImageSize = 64;  // the architecture only maps 64x64 <-> 2x2x256
constexpr int64_t kFlat = 1024;     // 256 channels x 2 x 2 after the encoder; decoder's dense width

// The fast decoder computes each stride-2 transposed convolution without the ConvTranspose2d
// kernel, which on CPU in torch 1.13 has no oneDNN path: it runs one small GEMM and one col2im
// per example; the 1x1 -> 5x5 layer alone took 13x longer than the equivalent matmul, and with
// two threads on a busy 2-core machine the per-example parallel regions made layers up to 250x
// slower than with one. The textbook rewrite, conv2d over a zero-dilated input with the flipped,
// transposed kernel, spends three quarters of its multiply-adds on the inserted zeros and
// measured slower than native here (1.36 s vs 0.70 s CPU time per batch-64 step, 1 thread), so
// this uses two forms without wasted products, each on the layers where it measured fastest.

// Sub-pixel form, for the larger layers (13x13 -> 30x30, 30x30 -> 64x64).
// x is (B,Cin,H,W), weight the ConvTranspose2d weight (Cin,Cout,k,k) with k in {5,6}, bias (Cout);
// returns (B,Cout,2H+k-2,2W+k-2) = conv_transpose2d(x, weight, bias, stride 2).
// Output pixel (2m+p, 2n+q) only sees kernel taps (p+2a, q+2b), a,b in 0..2, applied to input
// pixels (m-a, n-b): a 3x3 conv of the undilated input (padded by 2) with the sub-kernel
// flip(W[:, :, p::2, q::2]). The four parities are one conv with 4*Cout output channels, which
// pixel_shuffle interleaves. A 5x5 kernel is zero-padded to 6x6, which gives the same sums plus
// one more output row and column, cropped. The kernel rearrangement is differentiable, so the
// gradients reach the ConvTranspose2d parameters.
torch::Tensor deconv_stride2_subpixel(const torch::Tensor& x, const torch::Tensor& weight,
                                      const torch::Tensor& bias) {
    const int64_t cin = weight.size(0), cout = weight.size(1), k = weight.size(2);
    TORCH_CHECK(k == 5 || k == 6, "deconv_stride2_subpixel takes kernels of size 5 or 6.");
    torch::Tensor w6 = k == 6 ? weight : torch::constant_pad_nd(weight, {0, 1, 0, 1});
    // w6[ci, co, 2a+p, 2b+q] -> kernel[(co, p, q), ci, 2-a, 2-b]
    torch::Tensor kernel = w6.view({cin, cout, 3, 2, 3, 2})
                               .flip({2, 4})
                               .permute({1, 3, 5, 0, 2, 4})
                               .reshape({cout * 4, cin, 3, 3});
    torch::Tensor y = torch::conv2d(x, kernel, {}, /*stride=*/1, /*padding=*/2);
    y = torch::pixel_shuffle(y, 2);  // (B,Cout,2H+4,2W+4)
    if (k == 5) y = y.slice(2, 0, 2 * x.size(2) + 3).slice(3, 0, 2 * x.size(3) + 3);
    return y + bias.view({1, cout, 1, 1});
}

// GEMM + col2im form, for the small 5x5 -> 13x13 layer, where the sub-pixel form's padding
// (output border and 5->6 kernel) would nearly triple the work. Same arguments and result as
// deconv_stride2_subpixel. Every input pixel's contribution to its kxk output patch is one
// batched matmul; col2im (fold) adds the overlapping patches, stride 2.
torch::Tensor deconv_stride2_gemm(const torch::Tensor& x, const torch::Tensor& weight,
                                  const torch::Tensor& bias) {
    const int64_t b = x.size(0), cin = weight.size(0), cout = weight.size(1), k = weight.size(2);
    const int64_t h = x.size(2), w = x.size(3);
    torch::Tensor cols = torch::matmul(weight.view({cin, cout * k * k}).t(),
                                       x.reshape({b, cin, h * w}));  // (B,Cout*k*k,H*W)
    torch::Tensor y = torch::col2im(cols, {2 * h + k - 2, 2 * w + k - 2}, {k, k}, /*dilation=*/{1, 1},
                                    /*padding=*/{0, 0}, /*stride=*/{2, 2});
    return y + bias.view({1, cout, 1, 1});
}

}  // namespace

torch::Tensor reparameterize(const torch::Tensor& mu, const torch::Tensor& logvar,
                             const torch::Tensor& eps) {
    TORCH_CHECK(mu.sizes() == logvar.sizes() && mu.sizes() == eps.sizes(),
                "reparameterize needs mu, logvar and eps of the same shape.");
    return mu + torch::exp(0.5 * logvar) * eps;
}

ConvVaeLoss conv_vae_loss(const torch::Tensor& logits, const torch::Tensor& x,
                          const torch::Tensor& mu, const torch::Tensor& logvar,
                          double kl_tolerance, const std::string& loss) {
    TORCH_CHECK(logits.dim() == 4 && logits.sizes() == x.sizes(),
                "conv_vae_loss needs logits and x of the same (B,C,H,W) shape.");
    TORCH_CHECK(mu.dim() == 2 && mu.sizes() == logvar.sizes() && mu.size(0) == x.size(0),
                "conv_vae_loss needs mu and logvar of shape (B,z_size) with the batch of x.");
    TORCH_CHECK(loss == "bce" || loss == "l2",
                "conv_vae_loss: loss must be \"bce\" or \"l2\", got \"" + loss + "\".");
    TORCH_CHECK(kl_tolerance >= 0.0, "conv_vae_loss: kl_tolerance must be >= 0.");
    ConvVaeLoss out;
    torch::Tensor per_pixel;
    if (loss == "bce") {
        // max(l,0) - l*x + log(1 + exp(-|l|)): finite for any logit.
        per_pixel = torch::binary_cross_entropy_with_logits(logits, x, {}, {}, at::Reduction::None);
    } else {
        per_pixel = (torch::sigmoid(logits) - x).pow(2);
    }
    out.recon = per_pixel.sum({1, 2, 3}).mean();
    torch::Tensor kl = -0.5 * (1.0 + logvar - mu.pow(2) - torch::exp(logvar)).sum(1);  // (B)
    out.kl_raw = kl.mean();
    out.kl = torch::clamp_min(kl, kl_tolerance * double(mu.size(1))).mean();
    out.total = out.recon + out.kl;
    return out;
}

ConvVaeImpl::ConvVaeImpl(const ConvVaeOptions& options_) : options(options_) { reset(); }

void ConvVaeImpl::reset() {
    TORCH_CHECK(options.z_size() > 0, "ConvVaeOptions.z_size must be positive.");
    TORCH_CHECK(options.in_channels() > 0, "ConvVaeOptions.in_channels must be positive.");
    TORCH_CHECK(options.kl_tolerance() >= 0.0, "ConvVaeOptions.kl_tolerance must be >= 0.");
    TORCH_CHECK(options.loss() == "bce" || options.loss() == "l2",
                "ConvVaeOptions.loss must be \"bce\" or \"l2\", got \"" + options.loss() + "\".");
    TORCH_CHECK(options.decoder_impl() == "auto" || options.decoder_impl() == "native" ||
                    options.decoder_impl() == "fast",
                "ConvVaeOptions.decoder_impl must be \"auto\", \"native\" or \"fast\", got \"" +
                    options.decoder_impl() + "\".");
    namespace nn = torch::nn;
    const int64_t c = options.in_channels(), z = options.z_size();
    // Registration order is the checkpoint layout; tests/golden/gen_conv_vae.py mirrors it.
    enc_conv1 = register_module("enc_conv1", nn::Conv2d(nn::Conv2dOptions(c, 32, 4).stride(2)));
    enc_conv2 = register_module("enc_conv2", nn::Conv2d(nn::Conv2dOptions(32, 64, 4).stride(2)));
    enc_conv3 = register_module("enc_conv3", nn::Conv2d(nn::Conv2dOptions(64, 128, 4).stride(2)));
    enc_conv4 = register_module("enc_conv4", nn::Conv2d(nn::Conv2dOptions(128, 256, 4).stride(2)));
    fc_mu = register_module("fc_mu", nn::Linear(kFlat, z));
    fc_logvar = register_module("fc_logvar", nn::Linear(kFlat, z));
    dec_fc = register_module("dec_fc", nn::Linear(z, kFlat));
    dec_deconv1 = register_module(
        "dec_deconv1", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(kFlat, 128, 5).stride(2)));
    dec_deconv2 = register_module(
        "dec_deconv2", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(128, 64, 5).stride(2)));
    dec_deconv3 = register_module(
        "dec_deconv3", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(64, 32, 6).stride(2)));
    dec_deconv4 = register_module(
        "dec_deconv4", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(32, c, 6).stride(2)));
}

std::pair<torch::Tensor, torch::Tensor> ConvVaeImpl::encode(const torch::Tensor& x) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) == options.in_channels() && x.size(2) == kImageSize &&
                    x.size(3) == kImageSize,
                "ConvVae::encode needs x of shape (B," + std::to_string(options.in_channels()) +
                    ",64,64), got " + c10::str(x.sizes()) + ".");
    torch::Tensor h = torch::relu(enc_conv1->forward(x));  // (B,32,31,31)
    h = torch::relu(enc_conv2->forward(h));                // (B,64,14,14)
    h = torch::relu(enc_conv3->forward(h));                // (B,128,6,6)
    h = torch::relu(enc_conv4->forward(h));                // (B,256,2,2)
    h = h.flatten(1);                                      // (B,1024)
    return {fc_mu->forward(h), fc_logvar->forward(h)};
}

torch::Tensor ConvVaeImpl::sample_z(const torch::Tensor& mu, const torch::Tensor& logvar,
                                    at::Generator gen) {
    torch::Tensor eps =
        torch::randn(mu.sizes(), gen, mu.options().device(gen.device())).to(mu.device());
    return reparameterize(mu, logvar, eps);
}

bool ConvVaeImpl::uses_fast_decoder(const torch::Device& device) const {
    if (options.decoder_impl() == "fast") return true;
    if (options.decoder_impl() == "native") return false;
    return device.is_cpu();
}

torch::Tensor ConvVaeImpl::decode_logits(const torch::Tensor& z) {
    return uses_fast_decoder(z.device()) ? decode_logits_fast(z) : decode_logits_native(z);
}

torch::Tensor ConvVaeImpl::decode_logits_native(const torch::Tensor& z) {
    TORCH_CHECK(z.dim() == 2 && z.size(1) == options.z_size(),
                "ConvVae::decode needs z of shape (B," + std::to_string(options.z_size()) +
                    "), got " + c10::str(z.sizes()) + ".");
    torch::Tensor h = dec_fc->forward(z).view({z.size(0), kFlat, 1, 1});
    h = torch::relu(dec_deconv1->forward(h));  // (B,128,5,5)
    h = torch::relu(dec_deconv2->forward(h));  // (B,64,13,13)
    h = torch::relu(dec_deconv3->forward(h));  // (B,32,30,30)
    return dec_deconv4->forward(h);            // (B,C,64,64)
}

torch::Tensor ConvVaeImpl::decode_logits_fast(const torch::Tensor& z) {
    TORCH_CHECK(z.dim() == 2 && z.size(1) == options.z_size(),
                "ConvVae::decode needs z of shape (B," + std::to_string(options.z_size()) +
                    "), got " + c10::str(z.sizes()) + ".");
    const int64_t b = z.size(0);
    torch::Tensor h = dec_fc->forward(z);  // (B,1024)
    // A transposed conv of a 1x1 input is a matmul: out[b,o,i,j] = sum_c h[b,c] W[c,o,i,j] + bias[o].
    const torch::Tensor& w1 = dec_deconv1->weight;  // (1024,128,5,5)
    h = torch::matmul(h, w1.view({kFlat, -1})).view({b, w1.size(1), w1.size(2), w1.size(3)});
    h = torch::relu(h + dec_deconv1->bias.view({1, -1, 1, 1}));  // (B,128,5,5)
    h = torch::relu(deconv_stride2_gemm(h, dec_deconv2->weight, dec_deconv2->bias));      // (B,64,13,13)
    h = torch::relu(deconv_stride2_subpixel(h, dec_deconv3->weight, dec_deconv3->bias));  // (B,32,30,30)
    return deconv_stride2_subpixel(h, dec_deconv4->weight, dec_deconv4->bias);            // (B,C,64,64)
}

torch::Tensor ConvVaeImpl::decode(const torch::Tensor& z) { return torch::sigmoid(decode_logits(z)); }

torch::Tensor ConvVaeImpl::reconstruct(const torch::Tensor& x) { return decode(encode(x).first); }

torch::Tensor ConvVaeImpl::sample(int64_t n, at::Generator gen) {
    TORCH_CHECK(n > 0, "ConvVae::sample needs n > 0.");
    const torch::Tensor& ref = dec_fc->weight;
    torch::Tensor z = torch::randn({n, options.z_size()}, gen, ref.options().device(gen.device()))
                          .to(ref.device());
    return decode(z);
}

ConvVaeOutput ConvVaeImpl::forward(const torch::Tensor& x, at::Generator gen) {
    ConvVaeOutput out;
    std::tie(out.mu, out.logvar) = encode(x);
    out.z = sample_z(out.mu, out.logvar, gen);
    out.logits = decode_logits(out.z);
    return out;
}

ConvVaeOutput ConvVaeImpl::forward_with_noise(const torch::Tensor& x, const torch::Tensor& eps) {
    ConvVaeOutput out;
    std::tie(out.mu, out.logvar) = encode(x);
    out.z = reparameterize(out.mu, out.logvar, eps.to(out.mu.device()));
    out.logits = decode_logits(out.z);
    return out;
}

ConvVaeLoss ConvVaeImpl::loss(const ConvVaeOutput& out, const torch::Tensor& x) const {
    return conv_vae_loss(out.logits, x, out.mu, out.logvar, options.kl_tolerance(), options.loss());
}

}  // namespace k2k
