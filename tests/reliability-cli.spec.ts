/**
 * Reliability as a user of the commands sees it: checkpoints written, loaded, evaluated and resumed
 * through `npm run train` / `npm run evaluate`; a lost device and a NaN exit non-zero with the partial
 * JSON; every bad file or option exits 2 with one line. Plus the Node-side refusals (IDX files, seeds).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { runScript } from './support/cli.ts';
import { epochOrder } from '../src/data/split.ts';
import { loadMnist, MNIST_FILES } from '../src/data/mnist.ts';
import { mnistDataDir, readFromDisk } from '../src/data/mnist-node.ts';
import { CheckpointError, ConfigError, ShapeError } from '../src/errors.ts';
import { checkShapes } from '../src/layers/build.ts';
import { validateConfig } from '../src/train/validate.ts';
import { presetConfig } from '../src/presets/index.ts';
import { encodeCheckpoint } from '../src/train/checkpoint.ts';
import { stepSeed } from '../src/engine/step.ts';

const train = (args: string[], env?: Record<string, string>) => runScript('cli/train.ts', args, env);
const evaluate = (args: string[]) => runScript('cli/evaluate.ts', args);

const dir = mkdtempSync(join(tmpdir(), 'wgsl-nn-rel-'));
const small = ['--hidden', '32', '--batch-size', '100', '--train-limit', '1000', '--lr', '0.003'];
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** Files a user might hand the commands by mistake. */
function badFiles() {
  const config = presetConfig('custom', { hidden: [32] });
  const tensors = new Map([['1.bias', { shape: [32], data: new Float32Array(32) }]]);
  const files = {
    notSafetensors: join(dir, 'notes.txt'),
    truncated: join(dir, 'truncated.safetensors'),
    finishedModel: join(dir, 'finished.safetensors'),
  };
  writeFileSync(files.notSafetensors, 'these are my notes, not a model\n');
  writeFileSync(files.truncated, encodeCheckpoint(tensors, config).subarray(0, 100));
  writeFileSync(files.finishedModel, encodeCheckpoint(tensors, config));
  return files;
}

test.describe('bad options and files exit 2 with one line, before any training', () => {
  const files = badFiles();
  const cases: Array<[command: 'train' | 'evaluate', args: string[], message: RegExp]> = [
    ['train', ['--seed', '-1'], /^seed -1 is not allowed: a whole number from 0 to 4294967295$/],
    ['train', ['--momentum', '1'], /^momentum 1 is not allowed: a number in \[0, 1\)$/],
    ['train', ['--gamma', '2'], /^gamma 2 is not allowed: a number in \(0, 1\]$/],
    ['train', ['--step-size', '0'], /^--step-size 0 is not allowed: a whole number ≥ 1$/],
    ['train', ['--monitor', 'acc'], /^--monitor "acc" is not allowed: one of val_loss, val_acc$/],
    ['train', ['--patience', '3', '--val-fraction', '0'], /^patience 3 is not allowed: early stopping needs a validation set: val fraction > 0$/],
    ['train', ['--checkpoint-every', '0'], /^--checkpoint-every 0 is not allowed: a whole number ≥ 1$/],
    ['train', ['--checkpoint-every', 'often'], /^--checkpoint-every "often" is not a number$/],
    ['train', ['--checkpoint', join(dir, 'c.safetensors')], /^--checkpoint needs --checkpoint-every N/],
    ['train', ['--save', ''], /^--save "" is not allowed: a file name$/],
    ['train', ['--resume', join(dir, 'missing.safetensors')], /^--resume .*missing\.safetensors: could not read it \(ENOENT\)$/],
    ['train', ['--resume', files.notSafetensors], /notes\.txt: header length \d+ is not that of a safetensors file/],
    ['train', ['--resume', files.truncated], /truncated\.safetensors: truncated: the header says \d+ bytes of JSON but the file has only 92/],
    ['train', ['--resume', files.finishedModel], /finished\.safetensors: has no training state .*--checkpoint-every can be resumed$/],
    ['train', ['--resume', files.finishedModel, '--lr', '0.1'], /^--lr cannot be used with --resume: a resumed run keeps the checkpoint's config \(only --epochs may change\)$/],
    ['evaluate', [], /^--load FILE is required/],
    ['evaluate', ['--load'], /^--load needs a value$/],
    ['evaluate', ['--load', join(dir, 'missing.safetensors')], /^--load .*missing\.safetensors: could not read it \(ENOENT\)$/],
    ['evaluate', ['--load', files.notSafetensors], /notes\.txt: header length \d+ is not that of a safetensors file/],
    ['evaluate', ['--load', files.truncated], /truncated\.safetensors: truncated/],
    ['evaluate', ['--load', files.finishedModel, '--lr', '1'], /^unknown option --lr/],
  ];
  for (const [command, args, message] of cases) {
    test(`${command} ${args.join(' ').replaceAll(dir, '…')}`, async () => {
      const out = join(dir, `${command}-${Math.random().toString(36).slice(2)}.json`);
      const r = await (command === 'train' ? train : evaluate)([...args, ...(args.includes('--load') || command === 'train' ? ['--out', out] : [])]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    });
  }

  test("a layer too wide for the adapter's binding limit", async () => {
    const r = await train(['--hidden', '65536', '--batch-size', '48000', '--epochs', '1', '--out', join(dir, 'wide.json')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toMatch(/^layer 1 \(dense\(65536\)\) activations needs 12582912000 bytes \(48000 × 65536 × 4\), more than this adapter's \w+ of \d+ bytes: use a smaller batch size or layer$/);
  });
});

test('--save, --checkpoint-every, evaluate --load and --resume, end to end', async () => {
  const out = join(dir, 'run.json');
  const model = join(dir, 'model.safetensors');
  const checkpoint = join(dir, 'run.checkpoint.safetensors');
  const first = await train([...small, '--epochs', '2', '--checkpoint-every', '1', '--save', model, '--out', out]);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toContain(`checkpoint after epoch 2: ${checkpoint}`);
  expect(first.stdout).toContain(`saved the model to ${model}`);

  const evaluated = await evaluate(['--load', model, '--out', join(dir, 'eval.json')]);
  expect(evaluated.code, evaluated.stderr).toBe(0);
  const trainedJson = json(out);
  const evalJson = json(join(dir, 'eval.json'));
  // The same `test` object, field for field, as the run that saved the model.
  expect(evalJson.test).toEqual(trainedJson.test);
  expect(evalJson.config).toEqual(trainedJson.config);

  const resumed = await train(['--resume', checkpoint, '--epochs', '3', '--out', join(dir, 'resumed.json')]);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stdout).toContain(`resuming ${checkpoint}`);
  const resumedJson = json(join(dir, 'resumed.json'));
  expect(resumedJson.epochs).toHaveLength(3);
  expect(resumedJson.epochs.slice(0, 2)).toEqual(trainedJson.epochs);
  expect(resumedJson.config).toEqual({ ...trainedJson.config, epochs: 3 });
});

test('a device destroyed mid-run: exit 1 with the reason, partial JSON marked interrupted, last checkpoint kept', async () => {
  const out = join(dir, 'lost.json');
  // 800 training images / batch 100 = 8 steps an epoch: destroy the device in epoch 2.
  const r = await train([...small, '--epochs', '3', '--checkpoint-every', '1', '--out', out], { WGSL_NN_TEST_DESTROY_AFTER_STEPS: '12' });
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^interrupted: device destroyed/m);
  const result = json(out);
  expect(result.interrupted).toMatch(/^device destroyed/);
  expect(result.epochs).toHaveLength(1);
  expect(existsSync(join(dir, 'lost.checkpoint.safetensors'))).toBe(true);
  const resumed = await train(['--resume', join(dir, 'lost.checkpoint.safetensors'), '--out', join(dir, 'lost-resumed.json')]);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(json(join(dir, 'lost-resumed.json')).epochs).toHaveLength(3);
});

test('a non-finite loss: exit 1 naming epoch and step, no epochs reported, no model saved', async () => {
  const out = join(dir, 'nan.json');
  const r = await train([...small, '--optimizer', 'sgd', '--lr', '1e30', '--epochs', '2', '--save', join(dir, 'nan.safetensors'), '--out', out]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^interrupted: loss became (NaN|Infinity) at step \d of 8 in epoch 1 \(optimizer step \d\) with lr 1e\+30: the learning rate is probably too high/m);
  expect(r.stderr).toMatch(/not saved to .*nan\.safetensors: no epoch finished with valid weights/);
  expect(json(out)).toMatchObject({ epochs: [], bestEpoch: 0, interrupted: expect.stringMatching(/^loss became/) });
  expect(existsSync(join(dir, 'nan.safetensors'))).toBe(false);
});

test('a corrupt or truncated MNIST file is refused naming the file', async () => {
  const source = mnistDataDir();
  const copy = (damage: (name: string, bytes: Buffer) => Buffer) => {
    const to = mkdtempSync(join(tmpdir(), 'wgsl-nn-mnist-'));
    for (const name of Object.values(MNIST_FILES)) {
      copyFileSync(join(source, name), join(to, name));
      writeFileSync(join(to, name), damage(name, readFileSync(join(source, name))));
    }
    return to;
  };
  const truncated = copy((name, bytes) => (name === MNIST_FILES.testImages ? bytes.subarray(0, 5000) : bytes));
  await expect(loadMnist(readFromDisk(truncated))).rejects.toThrow(CheckpointError);
  await expect(loadMnist(readFromDisk(truncated))).rejects.toThrow(/^t10k-images-idx3-ubyte: 4984 data bytes, but the header's 10000×28×28 needs 7840000$/);
  const corrupt = copy((name, bytes) => (name === MNIST_FILES.trainLabels ? Buffer.concat([Buffer.from([0, 0, 8, 3]), bytes.subarray(4)]) : bytes));
  await expect(loadMnist(readFromDisk(corrupt))).rejects.toThrow(/^train-labels-idx1-ubyte: magic 0x00000803 is not 0x00000801 \(labels\)$/);
  const missing = mkdtempSync(join(tmpdir(), 'wgsl-nn-mnist-'));
  await expect(loadMnist(readFromDisk(missing))).rejects.toThrow(/^train-images-idx3-ubyte: could not read .* \(ENOENT/);
});

test('the API throws typed errors naming the field: layers that do not chain, options out of range', () => {
  const conv = presetConfig('custom', { convs: [{ out: 4, kernel: 29, stride: 1, padding: 0 }] });
  expect(() => checkShapes(conv.inputShape, conv.layers)).toThrow(ShapeError);
  expect(() => checkShapes(conv.inputShape, conv.layers)).toThrow(/conv2d.*29/);
  expect(() => validateConfig(presetConfig('custom', { lr: -1 }))).toThrow(ConfigError);
  expect(() => validateConfig(presetConfig('custom', { lr: -1 }))).toThrow('lr -1 is not allowed: a number > 0');
  expect(() => validateConfig(presetConfig('custom', { batchSize: 0 }))).toThrow('batch size 0 is not allowed: a whole number from 1 to 60000');
});

test('seeds: the same seed gives the same shuffles and dropout seeds, another seed others', () => {
  const train = Uint32Array.from({ length: 100 }, (_, i) => i);
  expect(epochOrder(train, 1, 3)).toEqual(epochOrder(train, 1, 3));
  expect(epochOrder(train, 1, 3)).not.toEqual(epochOrder(train, 2, 3));
  expect(epochOrder(train, 1, 3)).not.toEqual(epochOrder(train, 1, 4));
  const seeds = (run: number) => Array.from({ length: 50 }, (_, t) => stepSeed(run, t + 1));
  expect(seeds(1)).toEqual(seeds(1));
  expect(new Set([...seeds(1), ...seeds(2)]).size).toBe(100);
});
