import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { runScript } from './support/cli.ts';
import { EXPERIMENTS, experimentConfig } from '../src/presets/experiments.ts';
import { PRESETS } from '../src/presets/index.ts';
import { checkShapes } from '../src/layers/build.ts';
import { validateConfig } from '../src/train/validate.ts';
import { stopEpoch, TABLE_HEADER } from '../cli/study-report.ts';
import type { EpochRecord } from '../src/train/result.ts';

/** Every row of the study (shared/seed-study.md), by our id, with the numbers it reported. */
const STUDY_ROWS: Record<string, [train: number | null, val: number | null, test: number | null]> = {
  't1-1a': [93.9, 92.8, 67.8], 't1-1b': [94.6, 93.4, 68.1], 't1-2a': [95.3, 93.6, 68.4], 't1-2b': [95.2, 94.3, 60.5],
  't1-3a': [null, null, null], 't1-3b': [null, null, null], 't1-4a': [94.9, 94.2, 68.5], 't1-4b': [84.5, 84.4, 62.1],
  't1-5': [90, null, null], 't1-6a': [93.6, 92.6, null], 't1-6b': [95, null, null], 't1-6c': [93.8, null, null],
  't1-7a': [15, null, null], 't1-7b': [90, null, null], 't1-best': [93.3, 91.8, 67.3],
  't2-arch1': [92.1, 93.6, 67.9], 't2-arch2': [95.1, 94.9, 69.0], 't2-arch3': [65.4, 64.4, 47.0], 't2-arch4': [90.3, 90.3, 65.8],
  't2-arch1-50': [93.8, 94.2, 68.4], 't2-arch3-50': [88.5, 88.3, 64.8], 't2-sched-none': [93.8, 94.2, 68.4],
  't2-sched-10': [89.9, 89.1, 64.9], 't2-sched-20': [93.2, 93.1, 67.9], 't2-leaky': [92.2, 92.0, 67.1], 't2-elu': [94.3, 94.1, 68.7],
  't2-bn': [98.1, 97.9, 69.9], 't2-drop-last': [96.7, 96.5, 87.1], 't2-drop-first': [94.9, 94.6, 69.1],
  't2-drop-both': [94.5, 94.1, 68.8], 't2-best': [null, null, 69.2],
};
const STOPPED_AFTER: Record<string, number> = { 't1-6a': 6, 't1-6c': 10, 't2-arch2': 16, 't2-sched-20': 26, 't2-leaky': 15, 't2-elu': 27, 't2-bn': 18 };

test.describe('experiment rows', () => {
  test('ids are unique and every study row is there with its numbers', () => {
    const ids = EXPERIMENTS.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(Object.keys(STUDY_ROWS).sort());
    for (const e of EXPERIMENTS) {
      expect([e.study.train, e.study.val, e.study.test], e.id).toEqual(STUDY_ROWS[e.id]);
      expect(e.study.stoppedAfter, e.id).toBe(STOPPED_AFTER[e.id] ?? null);
      expect(PRESETS[e.preset], `${e.id}: preset ${e.preset}`).toBeDefined();
      expect(e.remark.length, e.id).toBeGreaterThan(10);
      expect(e.task).toBe(e.id.startsWith('t1-') ? 1 : 2);
    }
    // The per-digit reports of both best models sum to the study's 9,999 test images.
    for (const id of ['t1-best', 't2-best']) {
      const perClass = EXPERIMENTS.find((e) => e.id === id)!.study.perClass!;
      expect(perClass.reduce((sum, c) => sum + c.support, 0), id).toBe(9999);
    }
  });

  for (const e of EXPERIMENTS) {
    test(`${e.id} builds a valid configuration`, () => {
      for (const distribution of ['study', 'full'] as const) {
        for (const quick of [null, { trainLimit: 6000, epochs: 3 }]) {
          const c = experimentConfig(e, { distribution, quick });
          validateConfig(c);
          checkShapes(c.inputShape, c.layers);
          expect(c.distribution).toBe(distribution);
          expect(c.keep.filter((k) => k < 1)).toHaveLength(distribution === 'study' ? 3 : 0);
          if (quick) expect(c.epochs).toBeLessThanOrEqual(3);
          else expect(c.trainLimit).toBeNull();
        }
      }
      // Early stopping rows watch validation accuracy (see the file's header).
      const c = experimentConfig(e, { distribution: 'study', quick: null });
      if (c.patience > 0) expect(c.monitor, e.id).toBe('val_acc');
    });
  }

  test('the rows say what the study ran', () => {
    const config = (id: string) => experimentConfig(EXPERIMENTS.find((e) => e.id === id)!, { distribution: 'study', quick: null });
    expect(config('t1-1a')).toMatchObject({ hidden: [192], activation: 'sigmoid', outputActivation: 'sigmoid', lr: 0.01, batchSize: 1000, epochs: 10, patience: 0 });
    expect(config('t1-7a')).toMatchObject({ optimizer: 'sgd', lr: 0.1, stepSize: 10, gamma: 0.2, patience: 5, epochs: 20 });
    expect(config('t1-best')).toMatchObject({ hidden: [128, 64], lr: 0.01, epochs: 20, patience: 5, stepSize: 5, gamma: 0.1 });
    expect(config('t2-sched-20')).toMatchObject({ epochs: 70, stepSize: 20, gamma: 0.5, lr: 0.001 });
    expect(config('t2-drop-both')).toMatchObject({ convActivation: 'elu', batchnorm: true, dropoutFirst: 0.1, dropoutLast: 0.1, epochs: 50 });
    expect(config('t2-best')).toMatchObject({ convActivation: 'elu', batchnorm: false, epochs: 50, stepSize: 0 });
    // Rows the study reports identical numbers for are one run: same config, same seed.
    expect(config('t2-arch1-50')).toEqual(config('t2-sched-none'));
  });
});

test('stopEpoch follows the trainer: strict improvement, stop after `patience` epochs without', () => {
  const records = [0.5, 0.7, 0.8, 0.8, 0.79, 0.81, 0.7, 0.7, 0.7].map(
    (valAcc, i): EpochRecord => ({ epoch: i + 1, lr: 0.01, trainLoss: 1, trainAcc: valAcc, valLoss: 2 - i * 0.01, valAcc, ms: 1 }),
  );
  expect(stopEpoch(records, 'val_acc', 2)).toBe(5);
  expect(stopEpoch(records, 'val_acc', 3)).toBe(9);
  expect(stopEpoch(records, 'val_loss', 2)).toBeNull();
});

/** `npm run reproduce -- args` as a user runs it (through tsx). */
const reproduce = (args: string[]) => runScript('cli/reproduce.ts', args);

test('bad input exits 2 with one line', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--task', '3'], /--task 3 is not allowed: 1 or 2/],
    [['--only', 't1-1a,nope'], /--only: no experiment nope: one of t1-1a/],
    [['--distribution', 'skewed'], /--distribution "skewed" is not allowed: study or full/],
    [['--bogus'], /unknown option --bogus/],
  ];
  // Each is refused before a browser starts, so they can run side by side.
  const results = await Promise.all(cases.map(([args]) => reproduce([...args, '--out', mkdtempSync(join(tmpdir(), 'wgsl-nn-repro-'))])));
  results.forEach((r, i) => {
    expect(r.code, cases[i]![0].join(' ')).toBe(2);
    expect(r.stderr.trim()).toMatch(cases[i]![1]);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

test('a quick run writes per-row results and the report; a second run skips them; --force reruns', async () => {
  test.setTimeout(300_000);
  const out = mkdtempSync(join(tmpdir(), 'wgsl-nn-repro-'));
  // The GPU's kernel shapes: SwiftShader compiles them far sooner than its own, for every batch size a row has.
  const args = ['--quick', '--quick-limit', '2000', '--quick-epochs', '1', '--only', 't1-1a,t1-4b', '--kernels', 'gpu', '--out', out];

  const first = await reproduce(args);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toMatch(/\[1\/2\] t1-1a: 784-192-10 — preset mlp-192, 1 epochs, batch 100, adam lr 0\.01, study, quick \(2000 images\)/);
  expect(first.stdout).toMatch(/ {2}t1-1a epoch 1\/1 {2}loss \d\.\d{3} {2}acc \d\.\d{3} {2}val_loss/);
  expect(first.stdout).toMatch(/\[2\/2\] t1-4b: done in \d+ s — train \d+\.\d val \d+\.\d test \d+\.\d, 1 epochs; study 84\.5\/84\.4\/62\.1/);

  for (const id of ['t1-1a', 't1-4b']) {
    const file = JSON.parse(readFileSync(join(out, `${id}.json`), 'utf8'));
    expect(file).toMatchObject({ id, task: 1, quick: true, distribution: 'study' });
    expect(file.result.config).toMatchObject({ trainLimit: 2000, epochs: 1, batchSize: 100, distribution: 'study' });
    expect(Object.keys(file.summary)).toEqual(expect.arrayContaining(['train', 'val', 'test', 'epochsRun', 'bestEpoch', 'stoppedEarly', 'rareRecall']));
    expect(file.summary.epochsRun).toBe(1);
    expect(file.summary.test).toBeGreaterThan(0);
    expect(file.summary.test).toBeLessThanOrEqual(100);
  }

  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  expect(report.distributions).toEqual(['study']);
  expect(report.adapters).toHaveLength(1);
  expect(report.quickRows.sort()).toEqual(['t1-1a', 't1-4b']);
  expect(report.rows).toHaveLength(EXPERIMENTS.length);
  const row = report.rows.find((r: { id: string }) => r.id === 't1-1a');
  expect(row).toMatchObject({ id: 't1-1a', quick: true, study: { train: 93.9, val: 92.8, test: 67.8 } });
  expect(Object.keys(row.ours)).toEqual(expect.arrayContaining(['train', 'val', 'test', 'epochsRun', 'bestEpoch']));
  expect(report.rows.find((r: { id: string }) => r.id === 't1-2a').ours).toBeNull();

  const md = readFileSync(join(out, 'report.md'), 'utf8');
  expect(md).toContain(`| ${TABLE_HEADER.join(' | ')} |`);
  expect(md).toMatch(/^## Task 1 — MLP$/m);
  expect(md).toMatch(/^## Task 2 — CNN$/m);
  expect(md).toMatch(/^- Distribution: study \(digits 0, 4, 7 kept at 10%/m);
  expect(md).toMatch(/^- Adapter: \S+/m);
  expect(md).toMatch(/^- Quick rows \(first 2000 training images, at most 1 epoch, .*\): t1-1a, t1-4b; every other row ran at full size$/m);
  expect(md).toMatch(/^- Convention: Train and validation accuracy are the maximum over epochs/m);
  expect(md).toMatch(/^\| t1-1a \| 784-192-10 \| 93\.9 \| \d+\.\d \| 92\.8 \| \d+\.\d \| 67\.8 \| \d+\.\d \| – \| 1 \(1\) \| quick \|/m);
  expect(md).toMatch(/^\| t1-2a \| .* \| not run \|/m);
  expect(md).toMatch(/^\| t2-drop-last \| .*study test 87\.1% > 70\.1%/m);

  const mtime = statSync(join(out, 't1-1a.json')).mtimeMs;
  const second = await reproduce(args);
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout).toMatch(/\[1\/2\] t1-1a: skipped, .*t1-1a\.json exists \(quick run on study, .*\); --force reruns/);
  expect(second.stdout).toMatch(/\[2\/2\] t1-4b: skipped/);
  expect(second.stdout).not.toMatch(/epoch 1\/1/);
  expect(statSync(join(out, 't1-1a.json')).mtimeMs).toBe(mtime);

  const forced = await reproduce([...args, '--only', 't1-1a', '--force']);
  expect(forced.code, forced.stderr).toBe(0);
  expect(forced.stdout).toMatch(/\[1\/1\] t1-1a: done in/);
  expect(statSync(join(out, 't1-1a.json')).mtimeMs).toBeGreaterThan(mtime);
  // The report still covers both rows: it is rebuilt from every result file in the folder.
  expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).quickRows.sort()).toEqual(['t1-1a', 't1-4b']);
});
