import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figuresIn, FIGURES_BEGIN, FIGURES_END, readmeFigures, withFigures } from '../bench/readme-figures.ts';
import type { BenchReport } from '../bench/run.ts';
import type { PeerName, PeerSummary, Spread } from '../bench/workloads.ts';
import { runScript } from './support/cli.ts';

// The README's "Latest figures" block, in Node without a browser: it is what bench/readme-figures.ts renders
// from docs/bench/latest.json, so the README and the JSON cannot drift apart, and the renderer claims a
// ratio only where the ranges allow and marks a capped peer.

const readme = () => readFileSync('README.md', 'utf8');
const latest = () => JSON.parse(readFileSync('docs/bench/latest.json', 'utf8')) as BenchReport;

/** The commit and command the README's block names: the JSON holds neither, so only they are taken from the README. */
function runOf(block: string): { commit: string; command: string } {
  const match = /^Latest figures \(\d{4}-\d\d-\d\d, commit ([0-9a-f]+);.*\n`(.+)`: \d+ rounds/.exec(block);
  if (!match) throw new Error(`the README's block does not start as readme-figures.ts writes it: ${block.split('\n')[0]}`);
  return { commit: match[1]!, command: match[2]! };
}

test("the README's figures are those docs/bench/latest.json renders to", () => {
  const block = figuresIn(readme());
  expect(block, `README.md lacks the lines ${FIGURES_BEGIN} and ${FIGURES_END}`).not.toBeNull();
  expect(block).toBe(readmeFigures(latest(), runOf(block!)));
});

const range = (min: number, median: number, max: number): Spread => ({ min, median, max, rounds: 3 });
const peer = (name: PeerName, msPerStep: Spread, capped = false): PeerSummary => ({
  peer: name, workload: 'mlp', batch: 64, status: 'ok', msPerStep, epochProjectedS: range(msPerStep.min * 0.8, msPerStep.median * 0.8, msPerStep.max * 0.8), capped, rounds: [],
});
const report = (results: PeerSummary[]): BenchReport => ({
  date: '2026-12-04T10:00:00.000Z', chromium: '156.0.0.0', kernels: 'auto', options: { warmup: 3, steps: 20, budgetS: 60, validationBudgetS: 20, epochBudgetS: 60 },
  rounds: 3, peerOrder: [], roof: null, cold: null, results, profiles: [],
});
const tableRow = (block: string, heading: string) => block.split(`${heading}\n\n`)[1]!.split('\n')[2];

test('a ratio to ours is printed only where the ranges do not overlap', () => {
  const block = readmeFigures(
    report([peer('ours', range(9, 10, 12)), peer('jax', range(40, 50, 60)), peer('tfjs-webgpu', range(11, 13, 20)), peer('tfjs-wasm', range(5, 8, 9))]),
    { commit: 'abc1234', command: 'npm run bench -- --rounds 3' },
  );
  expect(tableRow(block, 'ms per training step:')).toBe('| MLP 784-128-64-10, b64 | **10.0 (9.00–12.0)** | 50.0 (40.0–60.0) **5.00×** | 13.0 (11.0–20.0) ≈ | 8.00 (5.00–9.00) ≈ |');
  expect(block).toMatch(/^Latest figures \(2026-12-04, commit abc1234; .*Chromium 156\.0\.0\.0,\n`npm run bench -- --rounds 3`: 3 rounds/);
});

test('a peer whose time budget cut its timed steps short is marked capped in both tables', () => {
  const block = readmeFigures(report([peer('ours', range(9, 10, 12)), peer('jax', range(40, 50, 60), true)]), { commit: 'abc1234', command: 'npm run bench' });
  expect(tableRow(block, 'ms per training step:')).toBe('| MLP 784-128-64-10, b64 | **10.0 (9.00–12.0)** | 50.0 (40.0–60.0) **5.00×** *capped* | — | — |');
  expect(block.match(/\*capped\*/g)).toHaveLength(3); // the jax cell of both tables, and the legend
});

test('--write replaces the block between its markers; bad options are refused with one line naming them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-figures-'));
  const stale = join(dir, 'README.md');
  const current = readme();
  writeFileSync(stale, withFigures(current, 'Latest figures (stale)\n\n')!);
  const { commit, command } = runOf(figuresIn(current)!);
  const wrote = await runScript('bench/readme-figures.ts', ['docs/bench/latest.json', '--commit', commit, '--command', command, '--write', stale]);
  expect(wrote.code, wrote.stderr).toBe(0);
  expect(readFileSync(stale, 'utf8')).toBe(current);

  const plain = join(dir, 'plain.md');
  writeFileSync(plain, '# no markers\n');
  for (const [args, named] of [
    [['docs/bench/latest.json', '--command', 'npm run bench'], '--commit'],
    [['docs/bench/latest.json', '--commit', 'HEAD', '--command', 'npm run bench'], '--commit'],
    [['docs/bench/latest.json', '--commit', commit, '--command', 'npm run bench', '--write', plain], '--write'],
  ] as const) {
    const r = await runScript('bench/readme-figures.ts', args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(named);
  }
  expect(readFileSync(plain, 'utf8')).toBe('# no markers\n');
});
