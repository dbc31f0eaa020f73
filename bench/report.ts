/** Plain-text tables for `npm run bench`: one per workload × batch, ours first, each peer as a ratio of ours. */
import { WORKLOAD_TITLES, type BenchResult, type RoofResult } from './workloads.ts';

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
  parts.push(...(r.notes ?? []));
  return parts.join('; ');
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
