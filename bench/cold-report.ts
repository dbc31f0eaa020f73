/** Plain-text tables of the bench's cold-start section (bench/cold.ts): each peer's time to its first trained step. */
import type { ColdResult } from './cold.ts';
import type { ColdKernelSplit } from './ours.ts';
import { WORKLOAD_TITLES } from './workloads.ts';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The round with the median cold start (the lower of the middle two), with every round's figure beside it. */
export function medianCold(results: ColdResult[]): ColdResult {
  const ok = results.filter((r) => r.status === 'ok').sort((a, b) => a.coldMs! - b.coldMs!);
  if (ok.length === 0) return results[0]!;
  const median = ok[Math.floor((ok.length - 1) / 2)]!;
  return results.length === 1 ? median : { ...median, roundsMs: results.map((r) => r.coldMs ?? NaN) };
}

export function coldTable(results: ColdResult[]): string {
  const first = results[0]!;
  const ok = results.filter((r) => r.status === 'ok');
  const fastestPeer = Math.min(...ok.filter((r) => r.peer !== 'ours').map((r) => r.coldMs!));
  const lines = [
    `Cold start: fresh page → first trained step done. ${WORKLOAD_TITLES[first.workload]}, batch ${first.batch}`,
    `  ${'peer'.padEnd(12)} ${'cold'.padStart(8)}  ${'of it data'.padStart(10)}  ${'2nd step'.padStart(9)}  note`,
  ];
  for (const r of results) {
    if (r.status !== 'ok') {
      lines.push(`  ${r.peer.padEnd(12)} ${'—'.padStart(8)}  ${''.padStart(10)}  ${''.padStart(9)}  ${r.status}: ${r.reason ?? ''}`);
      continue;
    }
    const notes: string[] = [];
    if (r.phases) notes.push(Object.entries(r.phases).map(([name, ms]) => `${name} ${ms.toFixed(0)}`).join(', ') + ' ms');
    if (r.roundsMs) notes.push(`median of ${r.roundsMs.length} rounds: ${r.roundsMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`);
    lines.push(`  ${r.peer.padEnd(12)} ${seconds(r.coldMs!).padStart(8)}  ${seconds(r.dataMs!).padStart(10)}  ${`${r.secondStepMs!.toFixed(1)} ms`.padStart(9)}  ${notes.join('; ')}`);
  }
  const ours = ok.find((r) => r.peer === 'ours');
  if (ours && Number.isFinite(fastestPeer)) lines.push(`  ours ÷ fastest peer: ${(ours.coldMs! / fastestPeer).toFixed(2)} (the goal: ≤ 0.50)`);
  return lines.join('\n');
}

/** Our first step kernel by kernel: each pipeline created alone, then each dispatch alone, first run and second. */
export function coldKernelTable(split: ColdKernelSplit): string {
  const lines = [
    `  recording the step ${split.recordMs.toFixed(0)} ms; then each pipeline created alone, and each dispatch run alone twice (ms):`,
    `  ${'kernel'.padEnd(30)} ${'rung'.padEnd(9)} ${'compile'.padStart(9)} ${'1st run'.padStart(9)} ${'2nd run'.padStart(9)}`,
  ];
  const f = (ms: number) => ms.toFixed(1).padStart(9);
  for (const k of split.kernels) lines.push(`  ${k.label.padEnd(30)} ${k.rung.padEnd(9)} ${f(k.compileMs)} ${f(k.firstMs)} ${f(k.againMs)}`);
  const sum = (pick: (k: ColdKernelSplit['kernels'][number]) => number) => split.kernels.reduce((s, k) => s + pick(k), 0);
  lines.push(`  ${'all'.padEnd(30)} ${''.padEnd(9)} ${f(sum((k) => k.compileMs))} ${f(sum((k) => k.firstMs))} ${f(sum((k) => k.againMs))}`);
  return lines.join('\n');
}
