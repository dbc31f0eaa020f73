/** Plain-text tables for `npm run bench`: one per workload × batch, ours first, each peer against ours where the rounds allow. */
import type { KernelProfile } from './ours.ts';
import { compare, spread } from './rounds.ts';
import { WORKLOAD_TITLES, type PeerSummary, type RoofResult, type Spread } from './workloads.ts';

export const fixed = (value: number, digits: number) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function msText(ms: number): string {
  return ms >= 100 ? fixed(ms, 0) : ms >= 10 ? fixed(ms, 1) : fixed(ms, 2);
}

/** `median (min–max)`, or the median alone when every round read the same (one round). */
export function spreadText(s: Spread | undefined, text: (value: number) => string): string {
  if (!s) return '—';
  return s.min === s.max ? text(s.median) : `${text(s.median)} (${text(s.min)}–${text(s.max)})`;
}

export const secondsText = (s: number) => (s >= 100 ? fixed(s, 0) : fixed(s, 1));

/** A peer's time against ours: the ratio of medians where the ranges are apart, else no claim. */
function verdictText(peer: Spread | undefined, ours: Spread | undefined): string {
  if (!peer || !ours) return '—';
  const verdict = compare(peer, ours);
  return verdict.kind === 'ratio' ? `${fixed(verdict.ratio, 2)}×` : '≈ (ranges overlap)';
}

/** What the note column says: why there is no number, or what was timed and any caveat. */
function note(p: PeerSummary): string {
  const wasm = p.rounds.find((r) => r.wasm)?.wasm;
  const threads = wasm ? [`wasm ${wasm.binary} on ${wasm.threads} thread(s)${wasm.whyNotThreaded ? `: ${wasm.whyNotThreaded}` : ''}`] : [];
  if (p.status !== 'ok') return [`${p.status}${p.reason ? `: ${p.reason}` : ''}`, ...threads].join('; ');
  const ok = p.rounds.filter((r) => r.status === 'ok');
  const first = ok[0]!;
  const steps = [...new Set(ok.map((r) => r.steps))].join('/');
  const parts = [`${steps} timed steps a round`];
  if (p.capped) parts.push(`capped: the time budget (--budget) cut the timed steps short`);
  const paths = [...new Set(ok.map((r) => r.path).filter(Boolean))];
  if (paths.length) parts.push(paths.join('/'));
  parts.push(`loss ${fixed(first.lossFirst ?? NaN, 3)}→${fixed(first.lossLast ?? NaN, 3)}`);
  const accuracy = spread(ok.map((r) => r.epoch?.validationAccuracy));
  if (accuracy) parts.push(`val acc ${fixed(accuracy.median, 3)}`);
  const sampled = ok.flatMap((r) => (r.epoch && r.epoch.validationTimedImages < r.epoch.validationImages ? [r.epoch] : []));
  if (sampled.length) {
    const images = [...new Set(sampled.map((e) => e.validationTimedImages.toLocaleString('en-US')))].join('/');
    parts.push(`validation pass timed on its first ${images} of ${sampled[0]!.validationImages.toLocaleString('en-US')} images and scaled up (--validation-budget) in ${sampled.length} of ${ok.length} rounds`);
  }
  const notRun = ok.find((r) => r.epoch?.notRun)?.epoch?.notRun;
  if (notRun && !p.epochMeasuredS) parts.push(`no whole epoch run: ${notRun}`);
  else if (notRun) parts.push(`a whole epoch run in ${p.epochMeasuredS!.rounds} of ${ok.length} rounds (${notRun} in the others)`);
  parts.push(...threads, ...new Set(ok.flatMap((r) => r.notes ?? [])));
  return parts.join('; ');
}

/** Pads each column to its widest cell: the name and the note to the left, figures to the right. */
export function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const last = widths.length - 1;
  return rows.map((cells) => cells.map((cell, i) => (i === 0 || i === last ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

/**
 * One workload × batch: each peer's ms/step and seconds per epoch as median (min–max) over the rounds,
 * and against ours where the ranges allow a claim.
 */
export function workloadTable(summaries: PeerSummary[], rounds: number): string {
  const first = summaries[0]!;
  const ours = summaries.find((p) => p.peer === 'ours' && p.status === 'ok');
  const steps = first.rounds.find((r) => r.epoch)?.epoch?.stepsPerEpoch;
  const rows = [['peer', 'ms/step', 'vs ours', 's/epoch projected', 'vs ours', 's/epoch run', 'note']];
  for (const p of summaries) {
    const isOurs = p.peer === 'ours';
    rows.push([
      p.peer,
      spreadText(p.msPerStep, msText),
      isOurs ? '' : verdictText(p.msPerStep, ours?.msPerStep),
      spreadText(p.epochProjectedS, secondsText),
      isOurs ? '' : verdictText(p.epochProjectedS, ours?.epochProjectedS),
      spreadText(p.epochMeasuredS, secondsText),
      note(p),
    ]);
  }
  return [
    `${WORKLOAD_TITLES[first.workload]}, batch ${first.batch}: ${rounds} round${rounds > 1 ? 's, the peers taking turns in rotated order' : ''}; each figure median (min–max) over the rounds`,
    ...columns(rows),
    `ms/step: median over groups of timed steps, each step gathering its batch from the epoch's shuffled order by the engine's own input path.`,
    `s/epoch projected: ${steps ?? 'floor(48,000 / batch)'} steps × ms/step (projected from the timed steps) + a timed validation pass over 12,000 images (where the note says so, its first batches timed and scaled up by images).`,
    `s/epoch run: one whole shuffled epoch of 48,000 images and its validation pass, timed end to end (where the projection fits --epoch-budget).`,
    `vs ours: peer ÷ ours of the medians (above 1: ours is faster), claimed only where the two min–max ranges do not overlap${rounds === 1 ? '; with one round a range is one measurement: use --rounds 3 for ranges' : ''}.`,
  ].join('\n');
}

export function roofTable(roof: RoofResult): string {
  return [
    `Roof of WGSL kernels on this adapter (${roof.adapter || 'unknown adapter'}; ${roof.timing}): what they reach here, not the CPU's SIMD peak`,
    `  fma() loop ${fixed(roof.fmaKernelGflops, 2)} GFLOP/s · copy ${fixed(roof.copyGBs, 2)} GB/s · ${fixed(roof.dispatchUs, 1)} µs per dispatch`,
    ...roof.details.map((d) => `  ${d}`),
  ].join('\n');
}

/**
 * Our step, kernel by kernel: the rungs of its op's ladder it ran, share of the step, and GFLOP/s against the fma() loop's roof; then the
 * whole step against the roof, by the kernels' timestamps and by the wall clock of the timed steps
 * (`wallMs`, the figure issue 7 sets its 40% target on).
 */
export function kernelTable(kernels: KernelProfile[], roof: RoofResult | null, wallMs?: number): string {
  const total = kernels.reduce((sum, k) => sum + k.msPerStep, 0);
  const rows = kernels.map((k) => {
    // A kernel shorter than the timer's resolution reads 0 ms: no rate then, rather than ∞.
    const gflops = k.flops > 0 && k.msPerStep > 0 ? k.flops / (k.msPerStep * 1e6) : null;
    const ofRoof = gflops !== null && roof ? `${((gflops / roof.fmaKernelGflops) * 100).toFixed(0)}%` : '';
    return `  ${k.label.padEnd(26)} ${k.rungs.padEnd(12)} ${String(k.dispatches).padStart(3)}  ${k.msPerStep.toFixed(2).padStart(9)}  ${((k.msPerStep / total) * 100).toFixed(1).padStart(5)}%  ${gflops === null ? '' : gflops.toFixed(2).padStart(7)}  ${ofRoof.padStart(5)}`;
  });
  const flops = kernels.reduce((sum, k) => sum + k.flops, 0);
  const ofRoof = (ms: number) => (roof ? ` = ${((flops / (ms * 1e6) / roof.fmaKernelGflops) * 100).toFixed(0)}% of the ${roof.fmaKernelGflops.toFixed(1)} GFLOP/s fma() roof` : '');
  const summary = [`  step: ${total.toFixed(1)} ms of kernels, ${(flops / 1e9).toFixed(3)} GFLOP → ${(flops / (total * 1e6)).toFixed(2)} GFLOP/s${ofRoof(total)}`];
  if (wallMs) summary.push(`  step by wall clock: ${wallMs.toFixed(1)} ms → ${(flops / (wallMs * 1e6)).toFixed(2)} GFLOP/s${ofRoof(wallMs)}`);
  return [`  ${'kernel'.padEnd(26)} ${'rungs'.padEnd(12)} ${'n'.padStart(3)}  ${'ms/step'.padStart(9)}  ${'share'.padStart(6)}  ${'GFLOP/s'.padStart(7)}  ${'roof'.padStart(5)}`, ...rows, ...summary].join('\n');
}
