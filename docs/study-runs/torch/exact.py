"""Replays wgsl-nn's exact arch-4 run in PyTorch: same Rng (init, study keep, split, epoch order), batch, per-step
loss; with a .safetensors from `npm run train -- --preset cnn-arch4 ... --save F`, prints how far its weights are.
usage: python3 docs/study-runs/torch/exact.py SEED LIMIT BATCH EPOCHS [OURS.safetensors]"""
import json, math, pathlib, struct, sys
import numpy as np, torch, torch.nn as nn
sys.argv, args = sys.argv[:1], sys.argv[1:]
src = (pathlib.Path(__file__).parent / 'task2.py').read_text().replace('\nmain()\n', '\n')
a4 = {'__file__': str(pathlib.Path(__file__).parent / 'task2.py')}; exec(compile(src, 'arch4', 'exec'), a4)
Rng, idx, model, ours_init, stats = a4['Rng'], a4['idx'], a4['model'], a4['ours_init'], a4['stats']
torch.set_num_threads(1)
seed, limit, B, epochs = map(int, args[:4])
ours_path = args[4] if len(args) > 4 else None
M32 = 0xffffffff
def fork(r, salt): return Rng((r.u32() ^ (((salt + 1) * 0x27d4eb2d) & M32)) & M32)
def rint(r, n): return math.floor(r.u32() / 4294967296 * n)
def shuffle(r, a):
    for i in range(len(a) - 1, 0, -1):
        j = rint(r, i + 1); a[i], a[j] = a[j], a[i]
    return a
D = a4['D']
X = idx(D + 'train-images-idx3-ubyte'); Y = idx(D + 'train-labels-idx1-ubyte').astype(np.int64)
labels = Y[:limit]; keep = [0.1, 1, 1, 1, 0.1, 1, 1, 0.1, 1, 1]
rk = fork(Rng(seed), 1); kept = []
for d in range(10):
    ind = [int(i) for i in np.flatnonzero(labels == d)]; dr = fork(rk, d)
    c = math.floor(keep[d] * len(ind) + 0.5)
    if c < len(ind): shuffle(dr, ind)
    kept += ind[:c]
pool = sorted(kept); shuffle(fork(Rng(seed), 2), pool)
nv = math.floor(len(pool) * 0.2); train = pool[:len(pool) - nv]
print('train', len(train), 'counts', np.bincount(Y[train], minlength=10).tolist())
x = torch.from_numpy(X.astype(np.float32) / 255).unsqueeze(1); y = torch.from_numpy(Y)
m = model(4); ours_init(m, seed)
opt = torch.optim.Adam(m.parameters(), lr=1e-3); lf = nn.CrossEntropyLoss()
print('init', stats(m, x[train[:2000]]))
for ep in range(1, epochs + 1):
    order = shuffle(fork(fork(Rng(seed), 3), ep), list(train))
    losses, tot, cor = [], 0.0, 0
    for s in range(0, len(order), B):
        b = torch.tensor(order[s:s + B]); out = m(x[b]); loss = lf(out, y[b])
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(loss.item()); tot += loss.item() * len(b); cor += (out.argmax(1) == y[b]).sum().item()
    print(f'epoch {ep} loss {tot/len(order):.5f} acc {cor/len(order):.4f}; step losses', ' '.join(f'{l:.4f}' for l in losses))
    print('  stats', stats(m, x[train[:2000]]))
if ours_path:
    raw = open(ours_path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    for name, t in m.state_dict().items():
        a, b = header[name]['data_offsets']
        ours = np.frombuffer(raw[8 + n + a:8 + n + b], np.float32).reshape(t.shape)
        print(f'{name}: max |ours - torch| {np.abs(ours - t.numpy()).max():.2e}')
