/**
 * The bench's cold-start section (`--only cold`), Node side: for the MLP and CNN arch 1 at batch 64, each
 * peer's time from a fresh page (in a browser launched for it: no pipeline or shader cache) to its first trained step,
 * round by round in the rotating order of the other sections, each figure as median (min–max).
 */
import { loadavg } from 'node:os';
import { COLD_PEERS, type ColdPeer, type ColdResult } from './cold.ts';
import { columns, fixed, spreadText } from './report.ts';
import { compare, rotation, spread } from './rounds.ts';
import { WORKLOAD_TITLES, type PeerName, type Spread, type Workload } from './workloads.ts';

/** bench/run.ts's inFreshBrowser: calls `fn(arg)` of `module` in `page`, in a browser launched for the call. */
type OpenPage = <T>(base: string, page: string, module: string, fn: string, arg: unknown, timeoutS: number, verbose: boolean) => Promise<T>;

export const COLD_BATCH = 64;
const COLD_WORKLOADS: readonly Workload[] = ['mlp', 'cnn'];
/** The issue's goal: ours at most this fraction of the fastest peer's cold start. */
const GOAL = 0.5;

export interface ColdSummary {
  peer: ColdPeer;
  workload: Workload;
  batch: number;
  coldMs: Spread | null;
  dataMs: Spread | null;
  secondStepMs: Spread | null;
  compileMs: Spread | null;
  rounds: ColdResult[];
}

export async function runColdSection(
  base: string,
  o: { peers: readonly PeerName[]; rounds: number; verbose: boolean; open: OpenPage; log: (line: string) => void },
): Promise<ColdSummary[]> {
  const peers = COLD_PEERS.filter((p) => o.peers.includes(p));
  const summaries: ColdSummary[] = [];
  for (const workload of COLD_WORKLOADS) {
    const rounds = new Map(peers.map((p) => [p, [] as ColdResult[]]));
    for (let round = 0; round < o.rounds; round++) {
      for (const [turn, peer] of rotation(peers, round).entries()) {
        const result = await o.open<ColdResult>(base, 'peers.html', 'cold.ts', 'runCold', [peer, workload, COLD_BATCH], 600, o.verbose).catch(
          (error: Error): ColdResult => ({ peer, workload, batch: COLD_BATCH, status: 'error', reason: error.message }),
        );
        const load1 = loadavg()[0]!;
        o.log(`  cold ${peer} ${workload} b${COLD_BATCH}: ${result.coldMs !== undefined ? `${(result.coldMs / 1000).toFixed(2)} s` : `${result.status}: ${result.reason}`} (load ${load1.toFixed(1)})`);
        rounds.get(peer)!.push({ ...result, round, turn, load1 });
      }
    }
    const group = peers.map((peer) => summarizeCold(rounds.get(peer)!));
    summaries.push(...group);
    console.log(`${coldTable(group, o.rounds)}\n`);
  }
  return summaries;
}

function summarizeCold(rounds: ColdResult[]): ColdSummary {
  const ok = rounds.filter((r) => r.status === 'ok');
  const { peer, workload, batch } = rounds[0]!;
  const of = (pick: (r: ColdResult) => number | undefined) => spread(ok.map(pick));
  return { peer, workload, batch, coldMs: of((r) => r.coldMs), dataMs: of((r) => r.dataMs), secondStepMs: of((r) => r.secondStepMs), compileMs: of((r) => r.compileMs), rounds };
}

const seconds = (ms: number) => `${fixed(ms / 1000, 2)} s`;
const millis = (ms: number) => `${fixed(ms, ms >= 100 ? 0 : 1)} ms`;

/** One workload: each peer's cold start, median (min–max) over the rounds, and ours against the fastest peer. */
export function coldTable(summaries: ColdSummary[], rounds: number): string {
  const first = summaries[0]!;
  const rows = [['peer', 'cold start', 'MNIST (apart)', '2nd step', 'note']];
  for (const s of summaries) {
    const failed = s.rounds.filter((r) => r.status !== 'ok');
    const notes = [
      ...(s.compileMs ? [`ready in ${spreadText(s.compileMs, millis)} of compiling`] : []),
      ...[...new Set(s.rounds.map((r) => r.quickSteps).filter((q) => q))].map((q) => `steps 1–${q} on rung 0`),
      ...(failed.length ? [`${failed.length} of ${s.rounds.length} rounds failed: ${failed[0]!.reason ?? failed[0]!.status}`] : []),
    ];
    rows.push([s.peer, spreadText(s.coldMs ?? undefined, seconds), spreadText(s.dataMs ?? undefined, seconds), spreadText(s.secondStepMs ?? undefined, millis), notes.join('; ')]);
  }
  const lines = [`Cold start: fresh page → first trained step done. ${WORKLOAD_TITLES[first.workload]}, batch ${first.batch}, ${rounds} round(s)`, ...columns(rows).map((l) => `  ${l}`)];
  const ours = summaries.find((s) => s.peer === 'ours')?.coldMs;
  const peers = summaries.filter((s) => s.peer !== 'ours' && s.coldMs).sort((a, b) => a.coldMs!.median - b.coldMs!.median);
  const fastest = peers[0];
  if (ours && fastest) {
    const apart = compare(fastest.coldMs!, ours).kind === 'ratio' ? 'ranges apart' : 'ranges overlap';
    lines.push(`  ours ÷ fastest peer (${fastest.peer}): ${fixed(ours.median / fastest.coldMs!.median, 2)} of the medians, ${apart} (the goal: ≤ ${fixed(GOAL, 2)})`);
  }
  return lines.join('\n');
}
