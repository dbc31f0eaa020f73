import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { describeKernels, parseTrainArgs, UsageError } from '../cli/args.ts';
import { prepareOutputFile, prepareOutputFolder } from '../cli/output.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';
import { KERNEL_CHOICE_HELP, makeTarget } from '../src/gpu/target.ts';
import { kernelsRan } from '../src/train/result.ts';
import { runScript, TSX, type CommandResult } from './support/cli.ts';

/** Runs `npm run train -- args` as a user would (through tsx), returning exit code and output. */
function train(args: string[], env: Record<string, string> = {}, timeout = 170_000): Promise<CommandResult> {
  return runScript('cli/train.ts', args, env, timeout);
}

/**
 * Runs `check` on every item, `CONCURRENT` at a time. Each refusal below is its own `tsx` process that
 * spends its time loading the CLI's modules, not on the GPU, so a few at once overlap their waits.
 */
const CONCURRENT = 3;
async function eachConcurrently<T>(items: readonly T[], check: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await check(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT, items.length) }, worker));
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
  [['--preset', 'mlp-128-64', '--dropout-first', '0.5'], /^--dropout-first has no effect on mlp-128-64: it has no convolutions, and that dropout comes after the first conv block$/],
  [['--kernels', 'fast'], /^--kernels "fast" is not allowed: one of auto, plain, gpu, cpu$/],
];

test.describe('npm run train refuses bad input with exit code 2', () => {
  // One test, every input its own process and its own soft assertions (each names its arguments), so a
  // failure still lists every input that failed.
  test(`each of ${badInputs.length} bad inputs: one line on stderr, no result file`, async () => {
    await eachConcurrently(badInputs, async ([args, message]) => {
      const label = args.join(' ');
      const out = mkdtempSync(join(tmpdir(), 'wgsl-nn-'));
      const r = await train([...args, '--out', join(out, 'r.json')]);
      expect.soft(r.code, `${label}: ${r.stderr}`).toBe(2);
      expect.soft(r.stderr.trim(), label).toMatch(message);
      expect.soft(r.stderr.trim().split('\n'), label).toHaveLength(1);
      expect.soft(existsSync(join(out, 'r.json')), label).toBe(false);
    });
  });

  test('no Chromium', async () => {
    const r = await train(['--epochs', '1'], { CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/no Chromium at \/nonexistent\/chromium: install it .*CHROMIUM_PATH/);
  });
});

test('npm run bench refuses bad options with exit code 2 before starting a browser', async () => {
  const cases = [
    [['--steps', '0'], /--steps "0" is not allowed: a whole number ≥ 1/],
    [['--peers', 'ours,pytorch'], /--peers: "pytorch" is not a peer: one of ours, jax/],
    [['--only', 'rnn'], /--only "rnn" is not allowed: mlp, cnn or cold/],
    [['--rounds', '0'], /--rounds "0" is not allowed: a whole number ≥ 1/],
    [['--epoch-budget', '-1'], /--epoch-budget "-1" is not allowed: a whole number ≥ 0/],
    [['--validation-budget', '-2'], /--validation-budget "-2" is not allowed: a whole number ≥ 0/],
    [['--kernels', 'gpus'], /^--kernels "gpus" is not allowed: one of auto, plain, gpu, cpu$/],
  ] as const;
  await eachConcurrently(cases, async ([args, message]) => {
    const r = await runScript('bench/run.ts', args);
    expect.soft(r.code, args.join(' ')).toBe(2);
    expect.soft(r.stderr.trim(), args.join(' ')).toMatch(message);
  });
});

test('evaluate and reproduce refuse a bad --kernels with exit code 2; every command lists the choices in --help', async () => {
  await eachConcurrently(['cli/evaluate.ts', 'cli/reproduce.ts'], async (script) => {
    const r = await runScript(script, ['--kernels', 'CPU']);
    expect.soft(r.code, script).toBe(2);
    expect.soft(r.stderr.trim(), script).toMatch(/^--kernels "CPU" is not allowed: one of auto, plain, gpu, cpu$/);
  });
  await eachConcurrently(['cli/train.ts', 'cli/evaluate.ts', 'cli/reproduce.ts', 'bench/run.ts'], async (script) => {
    const { stdout } = await runScript(script, ['--help']);
    expect.soft(stdout, script).toMatch(/--kernels/);
    for (const [choice, help] of Object.entries(KERNEL_CHOICE_HELP)) expect.soft(stdout, script).toContain(`${choice.padEnd(6)} ${help}`);
  });
});

test('a run names its kernels in one line: the choice, the shapes and the rungs of each ladder that ran', () => {
  const target = makeTarget({ fallback: true, subgroups: true, quadsAligned: true, cores: 2, maxStorageBufferBindingSize: 1 << 27, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupsPerDimension: 65535 }, 'auto', { conv2d: 1 });
  const rung = (op: 'dense' | 'conv2d', index: number) => ({ rung: { op, index, name: 'r', file: 'f', suits: 'any' as const } }) as unknown as Dispatch;
  const ran = kernelsRan(target, [rung('dense', 4), rung('conv2d', 1), { rung: null } as unknown as Dispatch, rung('dense', 1), rung('dense', 4)]);
  expect(ran).toEqual({ choice: 'auto', shape: 'cpu', subgroups: true, rungCeiling: { conv2d: 1 }, rungs: { dense: [1, 4], conv2d: [1] } });
  expect(describeKernels(ran)).toBe('kernels auto (cpu shapes; dense rungs 1, 4; conv2d rung 1)');
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

test('an option with no effect on the chosen model is refused, naming it and why', () => {
  const refusal = (args: string[]) => {
    try {
      parseTrainArgs(args);
      return null;
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
  };
  expect(refusal(['--preset', 'mlp-128-64', '--conv-activation', 'relu'])).toBe('--conv-activation has no effect on mlp-128-64: it has no convolutions, so no conv block to activate');
  expect(refusal(['--batchnorm'])).toBe('--batchnorm has no effect on the custom model: it has no convolutions, and batchnorm comes after each conv');
  expect(refusal(['--momentum', '0.9'])).toBe('--momentum has no effect on the custom model: momentum is for SGD (--optimizer sgd); Adam keeps its own moments');
  expect(refusal(['--optimizer', 'sgd', '--gamma', '0.5'])).toBe('--gamma has no effect on the custom model: the learning rate decays by gamma only with --step-size N');
  expect(refusal(['--hidden', 'none', '--activation', 'elu'])).toBe('--activation has no effect on the custom model: it has no hidden dense layers for that activation to follow');
  // The same options where they count.
  expect(refusal(['--preset', 'cnn-arch1', '--dropout-first', '0.3', '--batchnorm', '--conv-activation', 'relu'])).toBeNull();
  expect(refusal(['--optimizer', 'sgd', '--momentum', '0.9', '--step-size', '2', '--gamma', '0.5'])).toBeNull();
  expect(refusal(['--preset', 'task1-best', '--gamma', '0.5'])).toBeNull(); // the preset decays every 5 epochs
  expect(refusal(['--preset', 'mlp-192', '--hidden', 'none', '--activation', 'relu'])).toBeNull(); // it drops the study's output sigmoid
});

test('--keep adjusts the --distribution it is given with', () => {
  expect(parseTrainArgs(['--distribution', 'study', '--keep', '3:0.5']).config.keep).toEqual([0.1, 1, 1, 0.5, 0.1, 1, 1, 0.1, 1, 1]);
  expect(parseTrainArgs(['--keep', '3:0.5']).config.keep).toEqual([1, 1, 1, 0.5, 1, 1, 1, 1, 1, 1]);
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
  // 16 steps per epoch: the first chunk (1 step, pipeline compilation) is set-up, and so are the quick
  // start's rung-0 steps and the first chunk after them (src/train/quick-start.ts); the others are timed.
  const speed = json.throughput;
  expect(speed.measuredSteps).toBe(31 - speed.quickSteps);
  expect(speed.measuredSteps).toBeGreaterThan(0);
  expect(speed.compileMs).toBeGreaterThan(0);
  expect(speed.compileMs).toBeLessThan(speed.setupMs);
  expect(speed.samplesPerSecond).toBeCloseTo((100 * 1000) / speed.stepMs, 0);
  // A step of this MLP takes a few ms on SwiftShader; with the compilation counted in, a 1-step chunk read seconds.
  expect(speed.setupMs).toBeGreaterThan(speed.stepMs * 5);
  const quick = speed.quickSteps > 0 ? `; steps 1–${speed.quickSteps} on the textbook kernels while the fast ones compiled \\(ready after [\\d.]+ s\\)` : '';
  const printed = new RegExp(`^step ${speed.stepMs.toFixed(1)} ms, [\\d,]+ samples/s \\(steady, over ${speed.measuredSteps} steps\\); set-up ${(speed.setupMs / 1000).toFixed(1)} s \\(building the model, compiling its pipelines, the first steps\\), ready in ${speed.compileMs.toFixed(0)} ms \\(compiling the first step's kernels\\)${quick}, on `, 'm');
  expect(r.stdout).toMatch(printed);
});

// Node's mkdirSync({ recursive: true }) never returns under /proc: this path hung `npm run train` after its training.
const unwritable = '/proc/no/such/dir/r.json';

test('every output path is checked before any training: exit 2 with one line, in seconds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgsl-nn-out-'));
  writeFileSync(join(dir, 'a-file'), '');
  const cases: Array<[script: string, args: string[], message: RegExp]> = [
    ['cli/train.ts', ['--out', unwritable], /^--out \/proc\/no\/such\/dir\/r\.json: cannot create the folder \/proc\/no \(ENOENT\): give a path in a folder that exists or can be created$/],
    ['cli/train.ts', ['--out', join(dir, 'r.json'), '--save', '/proc/model.safetensors'], /^--save \/proc\/model\.safetensors: cannot write there \(\w+\)/],
    ['cli/train.ts', ['--out', join(dir, 'r.json'), '--checkpoint-every', '1', '--checkpoint', join(dir, 'a-file', 'c.safetensors')], /^--checkpoint .*a-file\/c\.safetensors: .*a-file is a file, not a folder/],
    ['cli/train.ts', ['--out', dir], /^--out .*: is a folder: give a file name$/],
    ['cli/reproduce.ts', ['--out', '/proc/no/results'], /^--out \/proc\/no\/results: cannot create the folder \/proc\/no \(ENOENT\)/],
    ['bench/run.ts', ['--json', unwritable], /^--json \/proc\/no\/such\/dir\/r\.json: cannot create the folder/],
  ];
  await eachConcurrently(cases, async ([script, args, message]) => {
    const label = `${script} ${args.join(' ')}`;
    const started = Date.now();
    const training = script === 'cli/train.ts' ? ['--train-limit', '500', '--batch-size', '50', '--epochs', '1'] : [];
    const r = await runScript(script, [...args, ...training], {}, 60_000);
    expect.soft(r.code, `${label}: ${r.stderr}`).toBe(2);
    expect.soft(r.stderr.trim(), label).toMatch(message);
    expect.soft(r.stderr.trim().split('\n'), label).toHaveLength(1);
    expect.soft(Date.now() - started, `${label}: refused before a browser started`).toBeLessThan(30_000);
  });
});

test('an output folder that does not exist yet is made; one that cannot be is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgsl-nn-out-'));
  prepareOutputFile('out', join(dir, 'new', 'deeper', 'r.json'));
  expect(statSync(join(dir, 'new', 'deeper')).isDirectory()).toBe(true);
  expect(existsSync(join(dir, 'new', 'deeper', 'r.json.tmp'))).toBe(false); // the write check leaves nothing
  prepareOutputFolder('out', join(dir, 'reports'));
  expect(statSync(join(dir, 'reports')).isDirectory()).toBe(true);
  expect(() => prepareOutputFolder('out', join(dir, 'new', 'deeper', 'x', '..', '..', 'deeper'))).not.toThrow();
  writeFileSync(join(dir, 'file'), '');
  expect(() => prepareOutputFolder('out', join(dir, 'file'))).toThrow(new UsageError(`--out ${join(dir, 'file')}: is a file: give a folder`));
  expect(() => prepareOutputFile('save', '/proc/no/m.safetensors')).toThrow(/^--save \/proc\/no\/m\.safetensors: cannot create the folder \/proc\/no \(ENOENT\)/);
});

test('a result that cannot be written at the end is kept elsewhere, and the command says where and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgsl-nn-out-'));
  const out = join(dir, 'results', 'r.json');
  const child = spawn(TSX, ['cli/train.ts', '--hidden', '32', '--batch-size', '100', '--train-limit', '1000', '--epochs', '1', '--out', out], { env: process.env });
  let stdout = '';
  let stderr = '';
  let swapped = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
    // The check passed and training began: now take the folder away (a file where it was), as a full disk or a cleanup job might.
    if (!swapped && stdout.includes('training ')) {
      swapped = true;
      rmSync(join(dir, 'results'), { recursive: true });
      writeFileSync(join(dir, 'results'), 'not a folder');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(swapped, stdout).toBe(true);
  expect(code, stderr).toBe(1);
  const kept = /^could not write .*results\/r\.json \(ENOTDIR\): the result is in (\S+)$/m.exec(stderr);
  expect(kept, stderr).not.toBeNull();
  const json = JSON.parse(readFileSync(kept![1]!, 'utf8'));
  expect(json.test.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10000);
  expect(stdout).toMatch(/^test: loss \d\.\d{4} {2}accuracy/m); // the report is printed all the same
  rmSync(kept![1]!);
});

test('a page that stops answering ends the command with the reason, within the watchdog time', async () => {
  const started = Date.now();
  // The planted fault: after 2 chunks of one step each the page waits forever, as on a hung GPU. The
  // watchdog's time is the test's to set: long enough for this small MLP's first two steps on a busy machine.
  const r = await train(['--hidden', '32', '--batch-size', '100', '--train-limit', '1000', '--epochs', '2', '--log-every', '1', '--out', join(mkdtempSync(join(tmpdir(), 'wgsl-nn-')), 'r.json')],
    { WGSL_NN_TEST_STALL_AFTER_CHUNKS: '2', WGSL_NN_PAGE_TIMEOUT_S: '12' }, 150_000);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^error: the page stopped answering: nothing from it for 12 s \(last heard: epoch 1, step 2 of 8\); WGSL_NN_PAGE_TIMEOUT_S=SECONDS waits longer$/m);
  expect(Date.now() - started).toBeLessThan(120_000);
});
