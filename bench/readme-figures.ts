/**
 * The README's "Latest figures" block, rendered from a bench JSON (`npm run bench -- --json FILE`):
 * ms per step and seconds per epoch against the peers, our step against the roof, cold start.
 *
 *   npx tsx bench/readme-figures.ts docs/bench/latest.json --commit 0764330 --command 'npm run bench -- --rounds 3' [--write README.md]
 *
 * prints the block, or with --write replaces it in the README between its markers, so the README's
 * figures are never pasted by hand (tests/readme-figures.spec.ts checks they match docs/bench/latest.json).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readOptions, runMain, UsageError } from '../cli/args.ts';
import { writeAtomically } from '../cli/output.ts';
import { COLD_PEERS, type ColdPeer } from './cold.ts';
import { msText, secondsText, spreadText } from './report.ts';
import { compare } from './rounds.ts';
import type { BenchReport } from './run.ts';
import { PEER_NAMES, type PeerName, type PeerSummary, type Spread, type Workload } from './workloads.ts';

/** The lines around the block in the README: --write replaces what lies between them. */
export const FIGURES_BEGIN = '<!-- From here to the end marker: written by bench/readme-figures.ts --write README.md; regenerate, do not edit. -->';
export const FIGURES_END = '<!-- End of the figures bench/readme-figures.ts writes. -->';

/** The workloads as the README's tables name them, in the tables' order. */
const WORKLOAD_NAMES: Record<Workload, string> = { mlp: 'MLP 784-128-64-10', cnn: 'CNN arch 1' };
const WORKLOADS = Object.keys(WORKLOAD_NAMES) as Workload[];
const PEER_COLUMNS: Record<PeerName, string> = { ours: 'ours', jax: 'jax-js WebGPU', 'tfjs-webgpu': 'tfjs WebGPU', 'tfjs-wasm': 'tfjs wasm' };

const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
const table = (heading: readonly string[], rows: readonly string[][]) => [row(heading), `|${'---|'.repeat(heading.length)}`, ...rows.map(row)];

/** A peer's figure against ours: the ratio of medians in bold where the ranges are apart, ≈ where they overlap. */
function verdict(peer: Spread | undefined, ours: Spread | undefined): string {
  if (!peer || !ours) return '';
  const v = compare(peer, ours);
  return v.kind === 'ratio' ? ` **${v.ratio.toFixed(2)}×**` : ' ≈';
}

/** One peer's cell: ours in bold, a peer with its verdict against ours, then `notes` and *capped*. */
function figureCell(peer: PeerSummary, ours: PeerSummary | undefined, figure: (p: PeerSummary) => Spread | undefined, text: (value: number) => string, notes: string[] = []): string {
  const value = spreadText(figure(peer), text);
  const cell = peer.peer === 'ours' ? `**${value}**` : `${value}${verdict(figure(peer), ours && figure(ours))}`;
  return [cell, ...notes, ...(peer.capped ? ['*capped*'] : [])].join(' ');
}

/** A cell without figures: `unsupported` is tfjs wasm's missing conv backprop (no peer lacks another op), else `otherwise`'s word; — where the peer did not run. */
const noFigure = (peer: PeerSummary | undefined, otherwise: (peer: PeerSummary) => string) =>
  peer?.status === 'unsupported' ? 'no conv backprop' : peer ? otherwise(peer) : '—';

/** The block for `report`, ending in a blank line; `commit` and `command` say what ran, which the JSON does not hold. */
export function readmeFigures(report: BenchReport, run: { commit: string; command: string }): string {
  const key = (peer: PeerName, workload: Workload, batch: number) => `${peer} ${workload} ${batch}`;
  const results = new Map(report.results.map((r) => [key(r.peer, r.workload, r.batch), r]));
  const cases = [...new Map(report.results.map((r) => [`${r.workload} ${r.batch}`, r])).values()]
    .map(({ workload, batch }) => ({ workload, batch, name: `${WORKLOAD_NAMES[workload]}, b${batch}` }))
    .sort((a, b) => WORKLOADS.indexOf(a.workload) - WORKLOADS.indexOf(b.workload) || a.batch - b.batch);
  const heading = ['workload', ...PEER_NAMES.map((p) => PEER_COLUMNS[p])];
  const peerRows = (cell: (peer: PeerSummary | undefined, ours: PeerSummary | undefined) => string) =>
    cases.map(({ workload, batch, name }) => {
      const ours = results.get(key('ours', workload, batch));
      return [name, ...PEER_NAMES.map((p) => cell(results.get(key(p, workload, batch)), ours))];
    });

  const lines = [
    `Latest figures (${report.date.slice(0, 10)}, commit ${run.commit}; SwiftShader \`google/swiftshader\` on 2 CPU cores, Chromium ${report.chromium},`,
    `\`${run.command}\`: ${report.rounds} rounds, the peers in rotated order; \`docs/bench/latest.json\` has every round). Each`,
    'figure is the median (min–max) over the rounds; a ratio (peer ÷ ours, bold, above 1: ours faster) is given only where',
    "the two ranges do not overlap, ≈ where they do. *capped*: the time budget cut that peer's timed steps short.",
    '',
    'ms per training step:',
    '',
    ...table(heading, peerRows((peer, ours) => (peer?.status === 'ok' ? figureCell(peer, ours, (p) => p.msPerStep, msText) : noFigure(peer, (p) => p.status)))),
  ];

  const wasm = [...results.values()]
    .filter((r) => r.peer === 'tfjs-wasm' && r.status === 'ok')
    .map((r) => ({ ...r, threads: r.rounds.flatMap((round) => (round.wasm ? [round.wasm.threads] : [])) }))
    .filter((r) => r.threads.length > 0)
    .sort((a, b) => a.batch - b.batch || WORKLOADS.indexOf(a.workload) - WORKLOADS.indexOf(b.workload));
  if (wasm.length) {
    const counts = (threads: number[]) =>
      [...new Set(threads)].sort((a, b) => a - b).map((n) => `${n} thread(s) in ${threads.filter((t) => t === n).length} round(s)`).join(', ');
    lines.push(
      '',
      'tfjs wasm ran its threaded SIMD binary (the page is cross-origin isolated), timed each round on a thread per core (2) and on one',
      `thread, the faster as the figure: ${wasm.map((r) => `${WORKLOAD_NAMES[r.workload]} b${r.batch}: ${counts(r.threads)}`).join('; ')}.`,
    );
  }

  const epochNotes = (peer: PeerSummary) => [
    ...(peer.epochMeasuredS ? [`[run ${spreadText(peer.epochMeasuredS, secondsText)}]`] : []),
    ...(peer.rounds.some((r) => r.status === 'ok' && r.epoch && r.epoch.validationTimedImages < r.epoch.validationImages) ? ['*validation scaled*'] : []),
  ];
  lines.push(
    '',
    'Seconds per epoch (48,000 shuffled training images + a validation pass over 12,000), projected from the',
    'timed steps and validation pass; in brackets, a whole epoch run end to end where one fitted `--epoch-budget`;',
    '*validation scaled*: the validation pass timed on its first batches and scaled up by images (`--validation-budget`):',
    '',
    ...table(heading, peerRows((peer, ours) => (peer?.status === 'ok' ? figureCell(peer, ours, (p) => p.epochProjectedS, secondsText, epochNotes(peer)) : noFigure(peer, () => '—')))),
    '',
  );

  const roof = report.roof?.fmaKernelGflops;
  if (roof) {
    lines.push(
      `Against the roof (SwiftShader's \`fma()\` throughput on this adapter, ${roof.toFixed(2)} GFLOP/s in this run, not the CPU's SIMD peak),`,
      'useful GFLOP/s of our step by the wall clock (a multiply-add is 2; no input gradient for the first layer):',
      '',
    );
    for (const { workload, batch, kernels } of report.profiles) {
      const flops = kernels.reduce((sum, k) => sum + k.flops, 0);
      const step = results.get(key('ours', workload, batch))!.msPerStep!;
      const gflops = (ms: number) => flops / (ms * 1e6);
      const ofRoof = (ms: number) => ((100 * gflops(ms)) / roof).toFixed(0);
      lines.push(`- ${WORKLOAD_NAMES[workload]}, b${batch}: ${gflops(step.median).toFixed(2)} GFLOP/s = ${ofRoof(step.median)}% of the roof (${ofRoof(step.max)}–${ofRoof(step.min)}% over the rounds)`);
    }
    lines.push('');
  }

  if (report.cold?.length) {
    const rows: string[][] = [];
    for (const workload of WORKLOADS) {
      const peers = new Map(report.cold.filter((c) => c.workload === workload).map((c) => [c.peer, c]));
      if (!peers.size) continue;
      const coldMs = (peer: ColdPeer) => peers.get(peer)?.coldMs ?? undefined;
      const [ours, ...others] = COLD_PEERS.map((p) => spreadText(coldMs(p), (ms) => `${(ms / 1000).toFixed(2)} s`));
      const compile = peers.get('ours')?.compileMs;
      const fastest = COLD_PEERS.filter((p) => p !== 'ours' && coldMs(p)).sort((a, b) => coldMs(a)!.median - coldMs(b)!.median)[0];
      const oursMs = coldMs('ours');
      rows.push([
        WORKLOAD_NAMES[workload],
        `**${ours}**${compile ? `, ready in ${spreadText(compile, (ms) => `${ms.toFixed(0)} ms`)} of compiling` : ''}`,
        ...others,
        oursMs && fastest ? `${(oursMs.median / coldMs(fastest)!.median).toFixed(2)} (${fastest})` : '—',
      ]);
    }
    lines.push(
      'Cold start, a fresh page (new browser context, no pipeline cache) to the end of the first training step, batch 64:',
      '',
      ...table(['workload', ...COLD_PEERS.map((p) => PEER_COLUMNS[p]), 'ours ÷ fastest peer'], rows),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Where the block lies in `readme`: from the line after FIGURES_BEGIN to FIGURES_END; null without both markers. */
function figuresSpan(readme: string): { start: number; end: number } | null {
  const begin = readme.indexOf(`${FIGURES_BEGIN}\n`);
  const end = begin < 0 ? -1 : readme.indexOf(`\n${FIGURES_END}\n`, begin);
  return end < 0 ? null : { start: begin + FIGURES_BEGIN.length + 1, end: end + 1 };
}

/** The block `readme` holds between its markers; null without them. */
export function figuresIn(readme: string): string | null {
  const span = figuresSpan(readme);
  return span && readme.slice(span.start, span.end);
}

/** `readme` with `block` in place of the one between its markers; null without them. */
export function withFigures(readme: string, block: string): string | null {
  const span = figuresSpan(readme);
  return span && readme.slice(0, span.start) + block + readme.slice(span.end);
}

const USAGE = `usage: npx tsx bench/readme-figures.ts BENCH.json --commit HASH --command 'npm run bench -- …' [--write README.md]

Prints the README's "Latest figures" block rendered from BENCH.json (what \`npm run bench -- --json FILE\` wrote);
--commit is the commit the bench ran on and --command its command line, which the JSON does not hold.
--write README.md replaces the block between its marker lines in that file instead.`;

const OPTIONS = { help: { kind: 'flag' }, commit: { kind: 'string' }, command: { kind: 'string' }, write: { kind: 'string' } } as const;

const readText = (what: string, file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${what} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
};

/** The bench report in `file`; anything else is refused with one line. */
function readReport(file: string): BenchReport {
  const text = readText('bench JSON', file);
  let report: Partial<BenchReport> | null = null;
  try {
    report = JSON.parse(text) as Partial<BenchReport> | null;
  } catch {
    // Not JSON: refused below with any other file that is not a report.
  }
  if (!Array.isArray(report?.results) || typeof report?.date !== 'string') throw new UsageError(`bench JSON ${file}: not a bench report (no date and results): npm run bench -- --json FILE writes one`);
  return report as BenchReport;
}

async function main(): Promise<number> {
  const [file, ...rest] = process.argv.slice(2);
  const o = readOptions(file?.startsWith('--') ? [file, ...rest] : rest, OPTIONS);
  if (o.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (file === undefined || file.startsWith('--')) throw new UsageError('the bench JSON is missing: give its file first, e.g. docs/bench/latest.json (see --help)');
  const commit = o.get('commit');
  if (commit === undefined) throw new UsageError('--commit is missing: the commit the bench ran on, e.g. --commit 0764330');
  if (!/^[0-9a-f]{7,40}$/.test(commit)) throw new UsageError(`--commit ${JSON.stringify(commit)} is not allowed: a commit hash, 7 to 40 hex digits`);
  const command = o.get('command');
  if (!command?.trim()) throw new UsageError(`--command is missing or blank: the bench's command line, e.g. --command 'npm run bench -- --rounds 3'`);

  const block = readmeFigures(readReport(file), { commit, command });
  const target = o.get('write');
  if (target === undefined) {
    process.stdout.write(block);
    return 0;
  }
  const updated = withFigures(readText('--write', target), block);
  if (updated === null) throw new UsageError(`--write ${target}: no figures block to replace: the file lacks the two marker lines README.md has around it`);
  writeAtomically(target, updated);
  process.stderr.write(`wrote the figures into ${target}\n`);
  return 0;
}

// Run as a command, not when the test imports the renderer.
if (process.argv[1] === fileURLToPath(import.meta.url)) runMain(main);
