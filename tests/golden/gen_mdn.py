#!/usr/bin/python3
# Writes tests/fixtures/golden/mdn.json: the MDN's outputs, NLL and gradients computed by PyTorch
# (Debian python3-torch, libtorch 1.13) for tests/models/mdn_test.cpp. Run with /usr/bin/python3.
import json
import math
import os

import torch

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def fill_value(j, i):
    """Parameter j (named_parameters order), flat element i: same closed form as mdn_test.cpp."""
    return 0.5 * math.sin(0.731 * i + 1.37 * j + 0.3)


class MdnRef(torch.nn.Module):
    """Independent re-statement of src/models/mdn.cpp (same parameter names and head layout)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        width = c["in_size"]
        self.fcs = []
        for i, h in enumerate(c["hidden"]):
            layer = torch.nn.Linear(width, h)
            self.add_module("fc%d" % i, layer)
            self.fcs.append(layer)
            width = h
        d, k = c["out_size"], c["num_mixtures"]
        self.head = torch.nn.Linear(width, 3 * d * k if c["mode"] == "per_dim" else k + 2 * k * d)

    def forward(self, x):
        c = self.c
        h = x
        for layer in self.fcs:
            h = torch.nn.functional.leaky_relu(layer(h), c["leaky_slope"])
        raw = self.head(h)
        b, d, k = x.shape[0], c["out_size"], c["num_mixtures"]
        if c["mode"] == "per_dim":
            parts = raw.view(b, 3, d, k)
            logit_pi, mu, raw_ls = parts[:, 0], parts[:, 1], parts[:, 2]
        else:
            logit_pi = raw[:, :k]
            mu = raw[:, k:k + k * d].reshape(b, k, d)
            raw_ls = raw[:, k + k * d:].reshape(b, k, d)
        lo, hi = c["log_sigma_min"], c["log_sigma_max"]
        mid, half = 0.5 * (hi + lo), 0.5 * (hi - lo)
        log_sigma = mid + half * torch.tanh((raw_ls - mid) / half)
        return logit_pi, mu, log_sigma


def log_prob(mode, logit_pi, mu, log_sigma, y):
    if mode == "per_dim":  # (B,D,K)
        z = (y.unsqueeze(2) - mu) / torch.exp(log_sigma)
        log_n = -0.5 * z * z - log_sigma - HALF_LOG_2PI
        return torch.logsumexp(torch.log_softmax(logit_pi, 2) + log_n, 2).sum(1)
    z = (y.unsqueeze(1) - mu) / torch.exp(log_sigma)  # (B,K,D)
    log_n = (-0.5 * z * z - log_sigma - HALF_LOG_2PI).sum(2)
    return torch.logsumexp(torch.log_softmax(logit_pi, 1) + log_n, 1)


def expected_value(mode, logit_pi, mu):
    if mode == "per_dim":
        return (torch.softmax(logit_pi, 2) * mu).sum(2)
    return (torch.softmax(logit_pi, 1).unsqueeze(2) * mu).sum(1)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make_case(c, seed):
    torch.manual_seed(seed)
    x = torch.randn(c["batch"], c["in_size"], dtype=torch.float64) * 1.5
    y = torch.randn(c["batch"], c["out_size"], dtype=torch.float64)
    model = MdnRef(c).double()
    names = []
    with torch.no_grad():
        for j, (name, p) in enumerate(model.named_parameters()):
            names.append(name)
            vals = [fill_value(j, i) for i in range(p.numel())]
            p.copy_(torch.tensor(vals, dtype=torch.float64).view_as(p))
    xg = x.clone().requires_grad_(True)
    logit_pi, mu, log_sigma = model(xg)
    lp = log_prob(c["mode"], logit_pi, mu, log_sigma, y)
    nll = -lp.mean()
    nll.backward()
    ev = expected_value(c["mode"], logit_pi, mu)

    model32 = MdnRef(c)
    model32.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    out32 = model32(x.float())
    nll32 = -log_prob(c["mode"], *out32, y.float()).mean()

    case = dict(c)
    case.update({
        "x": flat(x), "target": flat(y), "param_names": names,
        "logit_pi_shape": list(logit_pi.shape), "mu_shape": list(mu.shape),
        "logit_pi": flat(logit_pi), "mu": flat(mu), "log_sigma": flat(log_sigma),
        "log_prob": flat(lp), "nll": float(nll), "nll_float32": float(nll32),
        "expected_value": flat(ev), "grad_x": flat(xg.grad),
        "grad_params": {n: flat(p.grad) for n, p in model.named_parameters()},
    })
    return case


def main():
    base = {"batch": 5, "in_size": 3, "out_size": 4, "hidden": [5, 6], "leaky_slope": 0.1,
            "num_mixtures": 3, "log_sigma_min": -3.0, "log_sigma_max": 2.0}
    cases = [make_case(dict(base, mode="per_dim"), 1), make_case(dict(base, mode="diag"), 2)]
    doc = {
        "about": "MDN golden values from tests/golden/gen_mdn.py (python3-torch 1.13, float64); "
                 "parameter j element i = 0.5*sin(0.731*i + 1.37*j + 0.3)",
        "cases": cases,
    }
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "fixtures", "golden", "mdn.json")
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
