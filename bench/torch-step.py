"""
PyTorch (CPU) training steps of the bench's workloads, the reference for what this machine's cores do
natively: ms per step (wall and CPU) and useful GFLOP/s, counted as the bench's kernel profile counts ours
(a multiply-add is 2 FLOPs; forward, weight gradients, input gradients except the first layer's). The
networks are the bench's (bench/nets.ts, bench/ours.ts): ReLU, logits into softmax cross-entropy, Adam.

    python3 bench/torch-step.py [--threads N] [--steps N]

Debian's python3-torch. Its Linear layers call whatever libblas.so.3 the system points at: with only
libblas3 (the reference BLAS) the MLP runs several times slower than with libopenblas0, the figure a
user of PyTorch would see; its convolutions use oneDNN either way. Random inputs and labels: a step's
time does not depend on the values.
"""
import argparse
import os
import sys
import time

# OpenBLAS sizes its own thread pool when loaded: give it the threads PyTorch gets.
if '--threads' in sys.argv:
    os.environ['OPENBLAS_NUM_THREADS'] = sys.argv[sys.argv.index('--threads') + 1]

import torch  # noqa: E402 (after the thread count is set)
from torch import nn  # noqa: E402

# Useful FLOPs per sample (issue 19; the sum of the bench profile's kernel FLOPs over the batch).
FLOPS = {'mlp': 454_400, 'cnn': 969_600}


def network(kind: str) -> nn.Module:
    if kind == 'mlp':
        return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2), nn.ReLU(), nn.Conv2d(16, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(800, 10)
    )


def measure(kind: str, batch: int, steps: int) -> tuple[float, float]:
    torch.manual_seed(1)
    model = network(kind)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    shape = (batch, 784) if kind == 'mlp' else (batch, 1, 28, 28)
    x, y = torch.rand(shape), torch.randint(0, 10, (batch,))
    # The first layer's input gradient is not wanted (x does not require grad), as in ours.
    def step() -> None:
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    for _ in range(max(3, steps // 10)):
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return (time.perf_counter() - wall) * 1000 / steps, (time.process_time() - cpu) * 1000 / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--steps', type=int, default=50, help='timed steps at batch 1000 (×8 at batch 64)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {args.threads} thread(s)')
    print('workload      wall ms/step  CPU ms/step  GFLOP/s (wall)  GFLOP per CPU-second')
    for kind in ('mlp', 'cnn'):
        for batch in (64, 1000):
            wall, cpu = measure(kind, batch, args.steps * (8 if batch == 64 else 1))
            flops = FLOPS[kind] * batch
            print(f'{kind} b{batch:<5} {wall:12.2f} {cpu:12.2f} {flops / wall / 1e6:15.2f} {flops / cpu / 1e6:21.2f}')


if __name__ == '__main__':
    main()
