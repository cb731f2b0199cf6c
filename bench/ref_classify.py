#!/usr/bin/python3
"""Python PyTorch twin of bench_classify.cpp: the same PreActResNet-18 (1-channel 3x3 stem, no
max-pool, blocks [2,2,2,2], global pooling), manifold mixup at block 1, and the Keras simple CNN,
timed per training step on 28x28 batches. Prints '<label>   median X ms' lines like the C++ bench.

Usage: /usr/bin/python3 bench/ref_classify.py [batch=128] [repeats=5] [threads=2]
"""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        pre = F.relu(self.bn1(x))
        skip = self.shortcut(pre) if self.shortcut is not None else x
        return self.conv2(F.relu(self.bn2(self.conv1(pre)))) + skip


class PreActResNet18(nn.Module):
    def __init__(self, classes=10, width=64):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, 1, 1, bias=False)
        stages, cin = [], width
        for s in range(4):
            cout = width << s
            stages.append(nn.Sequential(Block(cin, cout, 2 if s > 0 else 1), Block(cout, cout, 1)))
            cin = cout
        self.stages = nn.ModuleList(stages)
        self.bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x, mix_layer=-1, lam=1.0, perm=None):
        h = x * lam + x[perm] * (1 - lam) if mix_layer == 0 else x
        h = self.stem(h)
        for s, stage in enumerate(self.stages):
            h = stage(h)
            if mix_layer == s + 1:
                h = h * lam + h[perm] * (1 - lam)
        h = F.adaptive_avg_pool2d(F.relu(self.bn(h)), 1).flatten(1)
        return self.fc(h)


class SimpleCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc = nn.Linear(64 * 12 * 12, 128)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        h = F.dropout(F.max_pool2d(h, 2), 0.25, self.training)
        h = F.dropout(F.relu(self.fc(h.flatten(1))), 0.5, self.training)
        return self.out(h)


def time_steps(label, repeats, batch, step):
    ms = []
    for r in range(repeats + 2):
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        if r >= 2:
            ms.append((t1 - t0) * 1000)
    m = statistics.median(ms)
    print("%s   median %.2f ms  (%.0f images/s, %d steps)" % (label, m, 1000 * batch / m, repeats), flush=True)


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    torch.manual_seed(0)
    x = torch.rand(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    perm = torch.randperm(batch)
    net = PreActResNet18().train()
    sgd = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    def resnet_step():
        loss = F.cross_entropy(net(x), y)
        sgd.zero_grad()
        loss.backward()
        sgd.step()

    def manifold_step():
        logits = net(x, 1, 0.3, perm)
        loss = F.cross_entropy(logits, y) * 0.3 + F.cross_entropy(logits, y[perm]) * 0.7
        sgd.zero_grad()
        loss.backward()
        sgd.step()

    time_steps("preact_resnet18 step", repeats, batch, resnet_step)
    time_steps("preact_resnet18 manifold mixup step", repeats, batch, manifold_step)
    cnn = SimpleCnn().train()
    adam = torch.optim.Adam(cnn.parameters(), lr=1e-3)

    def cnn_step():
        loss = F.cross_entropy(cnn(x), y)
        adam.zero_grad()
        loss.backward()
        adam.step()

    time_steps("simple_cnn step", repeats * 4, batch, cnn_step)


if __name__ == "__main__":
    main()
