/** Plain-text tables for `npm run bench`: one per workload × batch, ours first, each peer as a ratio of ours. */
import { WORKLOAD_TITLES, type BenchResult, type RoofResult } from './workloads.ts';
import type { KernelProfile } from './ours.ts';

const fixed = (value: number, digits: number) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function msText(ms: number): string {
  return ms >= 100 ? fixed(ms, 0) : ms >= 10 ? fixed(ms, 1) : fixed(ms, 2);
}

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
}

/** What the note column says: why there is no number, or the loss and any caveat. */
function note(r: BenchResult): string {
  if (r.status !== 'ok') return `${r.status}${r.reason ? `: ${r.reason}` : ''}`;
  const parts = [`loss ${fixed(r.lossFirst ?? NaN, 3)}→${fixed(r.lossLast ?? NaN, 3)}`];
  if (r.path) parts.push(r.path);
  if (r.capped) parts.push(`capped at ${r.steps} steps by the time budget`);
  if (r.roundsMs) parts.push(`median of ${r.roundsMs.length} rounds: ${r.roundsMs.map((ms) => msText(ms)).join(', ')} ms`);
  parts.push(...(r.notes ?? []));
  return parts.join('; ');
}

/** The round with the median ms/step (the lower of the middle two), with every round's ms/step beside it. */
export function medianRound(results: BenchResult[]): BenchResult {
  const ok = results.filter((r) => r.status === 'ok').sort((a, b) => a.msPerStep! - b.msPerStep!);
  if (ok.length === 0) return results[0]!;
  const median = ok[Math.floor((ok.length - 1) / 2)]!;
  return results.length === 1 ? median : { ...median, roundsMs: results.map((r) => r.msPerStep ?? NaN) };
}

export function workloadTable(results: BenchResult[]): string {
  const first = results[0]!;
  const ours = results.find((r) => r.peer === 'ours' && r.status === 'ok');
  const widths = [12, 9, 10, 6, 8, 0];
  const lines = [
    `${WORKLOAD_TITLES[first.workload]}, batch ${first.batch}`,
    row(['peer', 'ms/step', 'samples/s', 'steps', 'vs ours', 'note'], widths),
  ];
  for (const r of results) {
    const ok = r.status === 'ok' && r.msPerStep !== undefined;
    const ratio = ok && ours?.msPerStep ? `${fixed(r.msPerStep! / ours.msPerStep, 2)}×` : '—';
    const cells = ok
      ? [r.peer, msText(r.msPerStep!), fixed(r.samplesPerSec!, 0), String(r.steps), r.peer === 'ours' ? '1.00×' : ratio, note(r)]
      : [r.peer, r.status === 'pending' ? 'pending' : '—', '—', '—', '—', note(r)];
    lines.push(row(cells, widths));
  }
  lines.push('vs ours: peer ms/step ÷ ours (above 1: ours is faster)');
  return lines.join('\n');
}

export function roofTable(roof: RoofResult): string {
  return [
    `Roof (${roof.adapter || 'unknown adapter'}; ${roof.timing})`,
    `  FMA ${fixed(roof.fmaGflops, 2)} GFLOP/s · copy ${fixed(roof.copyGBs, 2)} GB/s · ${fixed(roof.dispatchUs, 1)} µs per dispatch`,
    ...roof.details.map((d) => `  ${d}`),
  ].join('\n');
}

/**
 * Our step, kernel by kernel: the rungs of its op's ladder it ran, share of the step, and GFLOP/s against the measured FMA roof; then the
 * whole step against the roof, by the kernels' timestamps and by the wall clock of the timed steps
 * (`wallMs`, the figure issue 7 sets its 40% target on).
 */
export function kernelTable(kernels: KernelProfile[], roof: RoofResult | null, wallMs?: number): string {
  const total = kernels.reduce((sum, k) => sum + k.msPerStep, 0);
  const rows = kernels.map((k) => {
    // A kernel shorter than the timer's resolution reads 0 ms: no rate then, rather than ∞.
    const gflops = k.flops > 0 && k.msPerStep > 0 ? k.flops / (k.msPerStep * 1e6) : null;
    const ofRoof = gflops !== null && roof ? `${((gflops / roof.fmaGflops) * 100).toFixed(0)}%` : '';
    return `  ${k.label.padEnd(26)} ${k.rungs.padEnd(12)} ${String(k.dispatches).padStart(3)}  ${k.msPerStep.toFixed(2).padStart(9)}  ${((k.msPerStep / total) * 100).toFixed(1).padStart(5)}%  ${gflops === null ? '' : gflops.toFixed(2).padStart(7)}  ${ofRoof.padStart(5)}`;
  });
  const flops = kernels.reduce((sum, k) => sum + k.flops, 0);
  const ofRoof = (ms: number) => (roof ? ` = ${((flops / (ms * 1e6) / roof.fmaGflops) * 100).toFixed(0)}% of the ${roof.fmaGflops.toFixed(1)} GFLOP/s roof` : '');
  const summary = [`  step: ${total.toFixed(1)} ms of kernels, ${(flops / 1e9).toFixed(3)} GFLOP → ${(flops / (total * 1e6)).toFixed(2)} GFLOP/s${ofRoof(total)}`];
  if (wallMs) summary.push(`  step by wall clock: ${wallMs.toFixed(1)} ms → ${(flops / (wallMs * 1e6)).toFixed(2)} GFLOP/s${ofRoof(wallMs)}`);
  return [`  ${'kernel'.padEnd(26)} ${'rungs'.padEnd(12)} ${'n'.padStart(3)}  ${'ms/step'.padStart(9)}  ${'share'.padStart(6)}  ${'GFLOP/s'.padStart(7)}  ${'roof'.padStart(5)}`, ...rows, ...summary].join('\n');
}
