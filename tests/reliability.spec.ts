/**
 * Reliability of training on the GPU (browser): checkpoints and resume, device loss, the NaN guard,
 * determinism, no buffer growth or leaks, and refusals of what the adapter cannot hold.
 */
import { expect, inPage, test } from './support/fixtures.ts';
import { KERNEL_RUNS } from './support/kernel-runs.ts';

const module = 'tests/browser/reliability.ts';
const call = <T>(page: Parameters<typeof inPage>[0], fn: string, ...args: unknown[]) => inPage<T>(page, module, fn, ...args);

test('save → load restores every tensor; evaluate gives the run its own test report; damaged files are refused and change nothing', async ({ gpuPage }) => {
  const r = await call<{
    names: string[]; shapes: Record<string, number[]>; metadataKeys: string[]; metadataConfig: { hidden: number[]; epochs: number };
    loadedEqualsTrained: boolean; freshDiffered: boolean; unchangedAfterRefusals: boolean; refusals: Record<string, string>; sameTest: boolean;
  }>(gpuPage, 'checkpointRoundTrip');
  // PyTorch-style names from Sequential: flatten is layer 0, the dense layers are 1 and 3.
  expect(r.names).toEqual(['1.bias', '1.weight', '3.bias', '3.weight']);
  expect(r.shapes).toEqual({ '1.weight': [32, 784], '1.bias': [32], '3.weight': [10, 32], '3.bias': [10] });
  expect(r.metadataKeys).toEqual(['architecture', 'config', 'format', 'preset']);
  expect(r.metadataConfig).toMatchObject({ hidden: [32], epochs: 1 });
  expect(r.freshDiffered).toBe(true);
  expect(r.loadedEqualsTrained).toBe(true);
  expect(r.sameTest).toBe(true);
  expect(r.unchangedAfterRefusals).toBe(true);
  expect(r.refusals['not-safetensors']).toMatch(/^CheckpointError: not-safetensors\.safetensors: header length \d+ is not that of a safetensors file/);
  expect(r.refusals.truncated).toMatch(/^CheckpointError: truncated\.safetensors: truncated: the tensors need \d+ data bytes but the file has \d+/);
  expect(r.refusals['header-truncated']).toMatch(/^CheckpointError: header-truncated\.safetensors: truncated: the header says \d+ bytes of JSON/);
  expect(r.refusals['wrong-shape']).toBe('CheckpointError: wrong-shape.safetensors: tensor 1.weight has shape [16, 784] but the model needs [32, 784]');
  expect(r.refusals.missing).toBe('CheckpointError: missing.safetensors: tensor 3.bias is missing (the model needs shape [10])');
  expect(r.refusals.architecture).toMatch(/^CheckpointError: architecture\.safetensors: architecture does not match: layer 1 is dense\(64\) in the file and dense\(32\) in the model/);
});

for (const kernels of KERNEL_RUNS) {
  test(`a CNN with batchnorm and dropout: 4 epochs straight = 2 epochs, checkpoint, stop, resume to 4: identical history, weights and test report (kernels ${kernels})`, async ({ gpuPage }) => {
    type Side = { history: unknown[]; weights: Record<string, number[]>; test: unknown; bestEpoch: number };
    const r = await call<{
      straight: Side; resumed: Side; interrupted: string | null; firstEpochs: number; checkpointEpoch: number; checkpointStep: number;
      trainingTensors: string[]; resumedInterrupted: string | null;
    }>(gpuPage, 'resumeMatchesUninterrupted', kernels);
    expect(r.interrupted).toBe('stopped by the user');
    expect(r.firstEpochs).toBe(2);
    expect(r.checkpointEpoch).toBe(2);
    expect(r.checkpointStep).toBe(16); // 800 training images / batch 100 × 2 epochs: Adam's t
    expect(r.trainingTensors).toEqual(expect.arrayContaining(['optimizer.exp_avg.0.weight', 'optimizer.exp_avg_sq.7.bias', 'best.1.running_mean', 'best.4.weight']));
    expect(r.resumedInterrupted).toBeNull();
    expect(r.resumed.history).toHaveLength(4);
    expect(r.resumed.history).toEqual(r.straight.history);
    expect(r.resumed.bestEpoch).toBe(r.straight.bestEpoch);
    for (const name of Object.keys(r.straight.weights)) expect(r.resumed.weights[name], name).toEqual(r.straight.weights[name]);
    expect(r.resumed.test).toEqual(r.straight.test);
  });
}

test('resuming refuses a finished model and a changed config, and leaks nothing', async ({ gpuPage }) => {
  const r = await call<{ finishedModel: string; changedLr: string; leakedBuffers: number }>(gpuPage, 'resumeRefusals');
  expect(r.finishedModel).toMatch(/^CheckpointError: ck\.safetensors: has no training state .*--checkpoint-every/);
  expect(r.changedLr).toBe('ConfigError: lr 0.1 is not allowed when resuming ck.safetensors: a resumed run keeps the checkpoint\'s 0.003 (only epochs may change)');
  expect(r.leakedBuffers).toBe(0);
});

for (const kernels of KERNEL_RUNS) {
  test(`same seed → bit-identical history, weights and test; another seed → other initial weights, shuffles and history (kernels ${kernels})`, async ({ gpuPage }) => {
    const r = await call<Record<string, boolean>>(gpuPage, 'determinism', kernels);
    expect(r).toMatchObject({ sameHistory: true, sameWeights: true, sameTest: true, otherSeedHistory: true, otherSeedWeights: true, sameInitial: true, otherInitial: true });
  });
}

test('a loss that overflows stops the run at that epoch, naming the step and the likely cause; nothing after is reported', async ({ gpuPage }) => {
  // (lr 1e6 is not enough here: the max-subtracted softmax keeps such a loss huge but finite.)
  const r = await call<{ interrupted: string | null; epochs: number; perClass: number }>(gpuPage, 'nonFiniteLoss', { optimizer: 'sgd', lr: 1e30 });
  expect(r.interrupted).toMatch(/^loss became (NaN|Infinity) at step [1-8] of 8 in epoch 1 \(optimizer step [1-8]\) with lr 1e\+30: the learning rate is probably too high/);
  expect(r.interrupted).toMatch(/no epoch finished with a finite loss, so there are no valid weights or test results$/);
  expect(r.epochs).toBe(0);
  expect(r.perClass).toBe(0);
});

test('a NaN after a good epoch names epoch 2 step 1, reports only epoch 1, and tests the kept best weights', async ({ gpuPage }) => {
  const r = await call<{ interrupted: string | null; epochs: number; bestEpoch: number; sameTestAsEpoch1: boolean; finiteWeights: boolean }>(gpuPage, 'nonFiniteAfterGoodEpoch');
  expect(r.interrupted).toMatch(/^loss became (NaN|Infinity) at step 1 of 8 in epoch 2 \(optimizer step 9\) with lr 0\.003: .*epoch 2 and later are not reported, and the weights of epoch 1 \(the best before it\) are kept$/);
  expect(r.epochs).toBe(1);
  expect(r.bestEpoch).toBe(1);
  expect(r.finiteWeights).toBe(true);
  expect(r.sameTestAsEpoch1).toBe(true);
});

test('destroying the device mid-epoch stops the run with the reason, keeping the history and the last checkpoint', async ({ gpuPage }) => {
  const r = await call<{ interrupted: string | null; epochs: number; lost: string; checkpoints: number[]; checkpointEpoch: number | null; testPerClass: number }>(gpuPage, 'deviceLoss');
  expect(r.lost).toMatch(/^device destroyed/);
  expect(r.interrupted).toMatch(/^device destroyed/);
  expect(r.epochs).toBe(1);
  expect(r.checkpoints).toEqual([1]);
  expect(r.checkpointEpoch).toBe(1);
  expect(r.testPerClass).toBe(0);
});

test('30 epochs keep live GPU buffers and bytes flat after the first; release() returns to the count before the run', async ({ gpuPage }) => {
  type Stats = { buffers: number; bytes: number };
  const r = await call<{ before: Stats; perEpoch: Stats[]; during: Stats; after: Stats; epochs: number }>(gpuPage, 'memory');
  expect(r.epochs).toBe(30);
  expect(r.perEpoch).toHaveLength(30);
  for (const [i, s] of r.perEpoch.entries()) expect(s, `epoch ${i + 1}`).toEqual(r.perEpoch[0]);
  expect(r.during).toEqual(r.perEpoch[0]);
  expect(r.perEpoch[0]!.buffers).toBeGreaterThan(r.before.buffers);
  expect(r.after).toEqual(r.before);
});

test('Gpu.destroy() frees every buffer', async ({ gpuPage }) => {
  const r = await call<{ live: { buffers: number }; after: { buffers: number; bytes: number } }>(gpuPage, 'destroyReleasesEverything');
  expect(r.live.buffers).toBeGreaterThan(10);
  expect(r.after).toEqual({ buffers: 0, bytes: 0 });
});

test("a model, batch or dispatch beyond the adapter's limits is refused up front with the sizes", async ({ gpuPage }) => {
  const r = await call<{ wideLayer: string; batchSize: number; dispatch: string; buffer: string; leaked: number; maxStorageBufferBindingSize: number }>(gpuPage, 'limits');
  // The activations of dense(65536) for a batch one row past the binding limit (or its weights, if those are already too big).
  const bytes = r.batchSize * 65536 * 4;
  expect(r.wideLayer).toMatch(new RegExp(
    `^DeviceError: (layer 1 \\(dense\\(65536\\)\\) activations needs ${bytes} bytes \\(${r.batchSize} × 65536 × 4\\)|the parameter arena needs \\d+ bytes \\(\\d+ floats × 4\\)), ` +
      `more than this adapter's (maxStorageBufferBindingSize|maxBufferSize) of \\d+ bytes`,
  ));
  expect(r.dispatch).toMatch(/^DeviceError: kernel matmul\.forward needs \d+ × 1 × 1 workgroups, more than this adapter's maxComputeWorkgroupsPerDimension of \d+ in x/);
  expect(r.buffer).toMatch(/^DeviceError: buffer huge needs \d+ bytes, more than this adapter's maxBufferSize of \d+ bytes$/);
  expect(r.leaked).toBe(0);
});
