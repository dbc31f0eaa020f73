import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { describeKernels, parseTrainArgs } from '../cli/args.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';
import { KERNEL_CHOICE_HELP, makeTarget } from '../src/gpu/target.ts';
import { kernelsRan } from '../src/train/result.ts';
import { medianRound } from '../bench/report.ts';
import type { BenchResult } from '../bench/workloads.ts';

const run = promisify(execFile);

/** Runs `npm run train -- args` as a user would (through tsx), returning exit code and output. */
async function train(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'cli/train.ts', ...args], { env: { ...process.env, ...env }, timeout: 170_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Each bad input: exit 2, one line on stderr naming the option, its value and what is allowed.
const badInputs: Array<[args: string[], message: RegExp]> = [
  [['--bogus', '1'], /unknown option --bogus/],
  [['--preset', 'nope'], /--preset "nope" is not a preset: one of .*mlp-128-64/],
  [['--lr', 'abc'], /--lr "abc" is not a number/],
  [['--lr', '0'], /lr 0 is not allowed: a number > 0/],
  [['--lr', '-1'], /lr -1 is not allowed: a number > 0/],
  [['--batch-size', '0'], /batch size 0 is not allowed: a whole number from 1/],
  [['--batch-size', '2.5'], /--batch-size 2.5 is not allowed: a whole number/],
  [['--val-fraction', '1'], /val fraction 1 is not allowed: a number in \[0, 1\)/],
  [['--val-fraction', '-0.1'], /val fraction -0.1 is not allowed/],
  [['--patience', '0'], /--patience 0 is not allowed: a whole number ≥ 1/],
  [['--keep', '3:1.5'], /--keep: fraction 1.5 for digit 3 is not allowed: a number in \[0, 1\]/],
  [['--keep', '12:0.5'], /--keep: digit "12" is not allowed: a digit from 0 to 9/],
  [['--exclude', '0,1,2,3,4,5,6,7,8,9'], /drop every digit/],
  [['--optimizer', 'rmsprop'], /--optimizer "rmsprop" is not allowed: one of adam, sgd/],
  [['--activation', 'tanh'], /--activation "tanh" is not allowed: one of sigmoid, relu, leaky_relu, elu/],
  [['--epochs'], /--epochs needs a value/],
  [['--dropout-last', '1'], /dropout last 1 is not allowed: a rate in \[0, 1\)/],
  [['--preset', 'cnn-arch4', '--train-limit', '100', '--batch-size', '90'], /batch size 90 is not allowed: at most the 80 training images/],
  [['--kernels', 'fast'], /^--kernels "fast" is not allowed: one of auto, plain, gpu, cpu$/],
];

test.describe('npm run train refuses bad input with exit code 2', () => {
  for (const [args, message] of badInputs) {
    test(args.join(' '), async () => {
      const out = mkdtempSync(join(tmpdir(), 'wgsl-nn-'));
      const r = await train([...args, '--out', join(out, 'r.json')]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(out, 'r.json'))).toBe(false);
    });
  }

  test('no Chromium', async () => {
    const r = await train(['--epochs', '1'], { CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/no Chromium at \/nonexistent\/chromium: install it .*CHROMIUM_PATH/);
  });
});

test('npm run bench refuses bad options with exit code 2 before starting a browser', async () => {
  for (const [args, message] of [
    [['--steps', '0'], /--steps "0" is not allowed: a whole number ≥ 1/],
    [['--peers', 'ours,pytorch'], /--peers: "pytorch" is not a peer: one of ours, jax/],
    [['--only', 'rnn'], /--only "rnn" is not allowed: mlp or cnn/],
    [['--rounds', '0'], /--rounds "0" is not allowed: a whole number ≥ 1/],
    [['--kernels', 'gpus'], /^--kernels "gpus" is not allowed: one of auto, plain, gpu, cpu$/],
  ] as const) {
    const r = await run('npx', ['tsx', 'bench/run.ts', ...args]).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    expect(r.code, args.join(' ')).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
  }
});

test('evaluate and reproduce refuse a bad --kernels with exit code 2; every command lists the choices in --help', async () => {
  const command = (script: string, args: string[]) =>
    run('npx', ['tsx', script, ...args]).then(({ stdout }) => ({ code: 0, stdout, stderr: '' }), (e: { code: number; stdout: string; stderr: string }) => e);
  for (const script of ['cli/evaluate.ts', 'cli/reproduce.ts']) {
    const r = await command(script, ['--kernels', 'CPU']);
    expect(r.code, script).toBe(2);
    expect(r.stderr.trim(), script).toMatch(/^--kernels "CPU" is not allowed: one of auto, plain, gpu, cpu$/);
  }
  for (const script of ['cli/train.ts', 'cli/evaluate.ts', 'cli/reproduce.ts', 'bench/run.ts']) {
    const { stdout } = await command(script, ['--help']);
    expect(stdout, script).toMatch(/--kernels/);
    for (const [choice, help] of Object.entries(KERNEL_CHOICE_HELP)) expect(stdout, script).toContain(`${choice.padEnd(6)} ${help}`);
  }
});

test('a run names its kernels in one line: the choice, the shapes and the rungs of each ladder that ran', () => {
  const target = makeTarget({ fallback: true, subgroups: true, quadsAligned: true, cores: 2, maxStorageBufferBindingSize: 1 << 27, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupsPerDimension: 65535 }, 'auto', { conv2d: 1 });
  const rung = (op: 'dense' | 'conv2d', index: number) => ({ rung: { op, index, name: 'r', file: 'f', suits: 'any' as const } }) as unknown as Dispatch;
  const ran = kernelsRan(target, [rung('dense', 4), rung('conv2d', 1), { rung: null } as unknown as Dispatch, rung('dense', 1), rung('dense', 4)]);
  expect(ran).toEqual({ choice: 'auto', shape: 'cpu', subgroups: true, rungCeiling: { conv2d: 1 }, rungs: { dense: [1, 4], conv2d: [1] } });
  expect(describeKernels(ran)).toBe('kernels auto (cpu shapes; dense rungs 1, 4; conv2d rung 1)');
});

test('bench --rounds reports each peer by its median round, every round kept', () => {
  const round = (msPerStep: number | undefined, status: BenchResult['status'] = 'ok'): BenchResult => ({ peer: 'ours', workload: 'mlp', batch: 64, status, msPerStep });
  const median = medianRound([round(30), round(10), round(undefined, 'error'), round(20)]);
  expect(median.msPerStep).toBe(20);
  expect(median.roundsMs).toEqual([30, 10, NaN, 20]);
  expect(medianRound([round(12)])).toEqual(round(12)); // one round: as measured, no list
  expect(medianRound([round(undefined, 'unsupported')]).status).toBe('unsupported');
});

test("a study preset's output sigmoid follows its activation unless the output is named", () => {
  const output = (args: string[]) => parseTrainArgs(args).config.outputActivation;
  expect(output(['--preset', 'mlp-128-64'])).toBe('sigmoid');
  expect(output(['--preset', 'mlp-128-64', '--activation', 'sigmoid'])).toBe('sigmoid');
  expect(output(['--preset', 'mlp-128-64', '--activation', 'relu'])).toBe('none');
  expect(output(['--preset', 'mlp-128-64', '--activation', 'relu', '--output-activation', 'sigmoid'])).toBe('sigmoid');
  expect(output(['--preset', 'cnn-arch1', '--conv-activation', 'elu'])).toBe('sigmoid');
  expect(output(['--activation', 'elu'])).toBe('none');
});

test('a short run writes a JSON result with every field', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'wgsl-nn-')), 'run.json');
  // --kernels gpu: the shapes a discrete GPU gets, on SwiftShader, recorded in the JSON.
  const r = await train(['--preset', 'mlp-128-64', '--activation', 'relu', '--lr', '0.003', '--batch-size', '100', '--epochs', '2', '--train-limit', '2000', '--kernels', 'gpu', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/epoch 1\/2 {2}loss \d\.\d{3} {2}acc \d\.\d{3} {2}val_loss \d\.\d{3} {2}val_acc \d\.\d{3} {2}lr 0\.003 {2}\d+\.\ds/);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  expect(json.kernels).toMatchObject({ choice: 'gpu', shape: 'gpu', rungCeiling: {} });
  expect(json.kernels.rungs.dense.length).toBeGreaterThan(0);
  expect(r.stdout).toContain(describeKernels(json.kernels));
  expect(r.stdout).toMatch(/kernels gpu \(gpu shapes; dense rungs? [\d, ]+\)/);
  expect(Object.keys(json)).toEqual(expect.arrayContaining(['kernels', 'preset', 'config', 'adapter', 'data', 'epochs', 'stoppedEarly', 'bestEpoch', 'test', 'throughput', 'model', 'filters']));
  expect(json.filters).toBeNull(); // an MLP has no conv layer
  // --activation relu replaces the study's sigmoid-everywhere, so the output gives plain logits.
  expect(json.model.map((l: { kind: string }) => l.kind)).toEqual(['flatten', 'dense', 'relu', 'dense', 'relu', 'dense']);
  expect(r.stdout).toMatch(/training mlp-128-64 \(6 layers, logits\)/);
  expect(json.preset).toBe('mlp-128-64');
  expect(json.config).toMatchObject({ epochs: 2, batchSize: 100, lr: 0.003, activation: 'relu', trainLimit: 2000, optimizer: 'adam' });
  expect(json.adapter).toEqual({ vendor: expect.any(String), architecture: expect.any(String), description: expect.any(String), fallback: true });
  expect(json.data).toMatchObject({ train: 1600, val: 400, test: 10000 });
  for (const set of ['train', 'val', 'test']) expect(json.data.classCounts[set]).toHaveLength(10);
  expect(json.epochs).toHaveLength(2);
  for (const e of json.epochs) expect(Object.keys(e).sort()).toEqual(['epoch', 'lr', 'ms', 'trainAcc', 'trainLoss', 'valAcc', 'valLoss']);
  expect(json.test.confusion).toHaveLength(10);
  expect(json.test.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10000);
  expect(json.test.perClass).toHaveLength(10);
  expect(Object.keys(json.test.perClass[0]).sort()).toEqual(['f1', 'label', 'precision', 'recall', 'support']);
  expect(Object.keys(json.test.macro).sort()).toEqual(['f1', 'precision', 'recall']);
  expect(Object.keys(json.test.weighted).sort()).toEqual(['f1', 'precision', 'recall']);
  expect(json.test.rocAuc).toHaveLength(10);
  expect(json.test.roc).toHaveLength(10); // the curves behind the AUCs, from (0, 0) to (1, 1), at most 200 points
  for (const { fpr, tpr } of json.test.roc as { fpr: number[]; tpr: number[] }[]) {
    expect(fpr.length).toBe(tpr.length);
    expect(fpr.length).toBeLessThanOrEqual(200);
    expect([fpr[0], tpr[0], fpr.at(-1), tpr.at(-1)]).toEqual([0, 0, 1, 1]);
  }
  expect(json.test.accuracy).toBeGreaterThan(0.6); // 32 steps of the study's sigmoid-output MLP: far above chance (0.1)
  expect(json.test.accuracy).toBeLessThanOrEqual(1);
  expect(json.throughput.msPerStep).toBeGreaterThan(0);
  expect(json.throughput.trainSamplesPerSecond).toBeGreaterThan(0);
});
