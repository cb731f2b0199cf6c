#!/usr/bin/python3
# Writes tests/fixtures/golden/conv_vae.json: the conv VAE's mu/logvar, logits, loss terms and gradients
# computed by PyTorch (Debian python3-torch, same libtorch 1.13) for tests/models/conv_vae_test.cpp.
# Run: /usr/bin/python3 tests/golden/gen_conv_vae.py
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

Z_SIZE = 8
BATCH = 2
LOGIT_STRIDE = 97  # every 97th logit is stored by value; the rest are covered by checksums
GRAD_HEAD = 16     # first entries of each parameter gradient stored by value


def hash_unit(i, j):
    """A uint32 integer hash of (i, j) mapped to [-1, 1); exact in any language."""
    h = (i * 2654435761 + j * 40503 + 12345) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 1274126177) & 0xFFFFFFFF
    h ^= h >> 16
    return 2.0 * (h / 4294967296.0) - 1.0


def fill_value(j, i, shape):
    """Parameter j (named_parameters order), flat element i: the same closed form as conv_vae_test.cpp.
    Uniform weights of variance 2 / (numel / shape[0]) (He init) so activations stay O(1)."""
    scale = math.sqrt(6.0 / math.prod(shape[1:])) if len(shape) > 1 else 0.1
    return scale * hash_unit(i, j)


def input_value(i):
    """Pixel i of the (2,1,64,64) input, flat: values in [0,1] with exact 0s and 1s, like ink;
    the second image has another frequency and less ink so the two encode differently."""
    b = i // 4096
    return min(1.0, max(0.0, 1.5 * math.sin(0.37 * i * (1.0 + 0.5 * b)) - 0.4 * b))


def noise_value(i):
    return math.sin(1.3 * i + 0.5)


class ConvVaeRef(nn.Module):
    """Independent re-statement of src/models/conv_vae.cpp (same parameter names and order)."""

    def __init__(self, z_size, in_channels=1):
        super().__init__()
        self.enc_conv1 = nn.Conv2d(in_channels, 32, 4, stride=2)
        self.enc_conv2 = nn.Conv2d(32, 64, 4, stride=2)
        self.enc_conv3 = nn.Conv2d(64, 128, 4, stride=2)
        self.enc_conv4 = nn.Conv2d(128, 256, 4, stride=2)
        self.fc_mu = nn.Linear(1024, z_size)
        self.fc_logvar = nn.Linear(1024, z_size)
        self.dec_fc = nn.Linear(z_size, 1024)
        self.dec_deconv1 = nn.ConvTranspose2d(1024, 128, 5, stride=2)
        self.dec_deconv2 = nn.ConvTranspose2d(128, 64, 5, stride=2)
        self.dec_deconv3 = nn.ConvTranspose2d(64, 32, 6, stride=2)
        self.dec_deconv4 = nn.ConvTranspose2d(32, in_channels, 6, stride=2)

    def forward(self, x, eps):
        h = F.relu(self.enc_conv1(x))
        h = F.relu(self.enc_conv2(h))
        h = F.relu(self.enc_conv3(h))
        h = F.relu(self.enc_conv4(h)).flatten(1)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        h = self.dec_fc(z).view(-1, 1024, 1, 1)
        h = F.relu(self.dec_deconv1(h))
        h = F.relu(self.dec_deconv2(h))
        h = F.relu(self.dec_deconv3(h))
        return self.dec_deconv4(h), mu, logvar, z


def vae_loss(logits, x, mu, logvar, kl_tolerance, loss):
    if loss == "bce":
        per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        per_pixel = (torch.sigmoid(logits) - x) ** 2
    recon = per_pixel.sum((1, 2, 3)).mean()
    kl = -0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar)).sum(1)
    kl_floored = torch.clamp(kl, min=kl_tolerance * mu.shape[1]).mean()
    return {"total": recon + kl_floored, "recon": recon, "kl": kl_floored, "kl_raw": kl.mean()}, kl


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def main():
    torch.set_num_threads(1)
    model = ConvVaeRef(Z_SIZE)
    names = []
    with torch.no_grad():
        for j, (name, p) in enumerate(model.named_parameters()):
            names.append(name)
            shape = list(p.shape)
            vals = [fill_value(j, i, shape) for i in range(p.numel())]
            p.copy_(torch.tensor(vals, dtype=torch.float64).float().view_as(p))
    n_pix = BATCH * 64 * 64
    x = torch.tensor([input_value(i) for i in range(n_pix)], dtype=torch.float64).float()
    x = x.view(BATCH, 1, 64, 64)
    eps = torch.tensor([noise_value(i) for i in range(BATCH * Z_SIZE)], dtype=torch.float64)
    eps = eps.float().view(BATCH, Z_SIZE)

    logits, mu, logvar, z = model(x, eps)
    # kl_tolerance halfway between the two examples' KL, so one is floored and one is not.
    _, kl_each = vae_loss(logits, x, mu, logvar, 0.0, "bce")
    lo, hi = sorted(float(v) for v in kl_each)
    assert hi - lo > 0.5, "pick another fill: the two examples' KL are too close to split"
    kl_tolerance = round((lo + hi) / 2 / Z_SIZE, 3)

    out = {
        "note": "written by tests/golden/gen_conv_vae.py; float32 forward/backward in PyTorch "
                + torch.__version__,
        "z_size": Z_SIZE,
        "batch": BATCH,
        "kl_tolerance": kl_tolerance,
        "param_names": names,
        "eps": flat(eps),
        "mu": flat(mu),
        "logvar": flat(logvar),
        "z": flat(z),
        "kl_each": flat(kl_each),
        "logits_abs_sum": float(logits.abs().sum()),
        "logits_sq_sum": float((logits.double() ** 2).sum()),
        "logit_stride": LOGIT_STRIDE,
        "logits_strided": flat(logits.reshape(-1)[::LOGIT_STRIDE]),
        "losses": {},
        "grads": {},
    }
    for loss in ("bce", "l2"):
        terms, _ = vae_loss(logits, x, mu, logvar, kl_tolerance, loss)
        out["losses"][loss] = {k: float(v) for k, v in terms.items()}
        model.zero_grad()
        terms["total"].backward(retain_graph=True)
        grads = {}
        for name, p in model.named_parameters():
            g = p.grad.detach()
            grads[name] = {"abs_sum": float(g.double().abs().sum()),
                           "max_abs": float(g.abs().max()),
                           "head": flat(g.reshape(-1)[:GRAD_HEAD])}
        out["grads"][loss] = grads

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "golden",
                        "conv_vae.json")
    text = json.dumps(out, indent=1)
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(path + ".tmp", path)
    print("wrote %s (%d bytes), kl_tolerance %.3f, kl_each %s, losses %s"
          % (os.path.normpath(path), len(text), kl_tolerance, flat(kl_each), out["losses"]))


if __name__ == "__main__":
    main()
