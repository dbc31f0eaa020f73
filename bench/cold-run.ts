/**
 * The bench's cold-start section, Node side: for the MLP and CNN arch 1 at batch 64, each peer's time
 * from a fresh page (a new browser context: no pipeline cache) to its first trained step, the peers
 * taking turns round by round; then our first step split per kernel.
 */
import { loadavg } from 'node:os';
import type { Browser } from 'playwright-core';
import { coldKernelTable, coldTable, medianCold } from './cold-report.ts';
import type { ColdKernelSplit } from './ours.ts';
import { COLD_PEERS, type ColdResult } from './cold.ts';
import type { PeerName, Workload } from './workloads.ts';

/** bench/run.ts's inFreshPage: calls `fn(arg)` of `module` in `page` of a fresh browser context. */
type OpenPage = <T>(browser: Browser, base: string, page: string, module: string, fn: string, arg: unknown, timeoutS: number, verbose: boolean) => Promise<T>;

export const COLD_BATCH = 64;
const COLD_WORKLOADS: readonly Workload[] = ['mlp', 'cnn'];

export interface ColdSection {
  batch: number;
  results: ColdResult[];
  kernels: { workload: Workload; split: ColdKernelSplit }[];
}

export async function runColdSection(
  browser: Browser,
  base: string,
  o: { peers: readonly PeerName[]; rounds: number; verbose: boolean; open: OpenPage; log: (line: string) => void },
): Promise<ColdSection> {
  const peers = COLD_PEERS.filter((p) => o.peers.includes(p));
  const section: ColdSection = { batch: COLD_BATCH, results: [], kernels: [] };
  for (const workload of COLD_WORKLOADS) {
    const rounds = new Map(peers.map((p) => [p, [] as ColdResult[]]));
    for (let round = 0; round < o.rounds; round++) {
      // Turns rotate, so no peer always runs first on a machine that is warming up.
      const order = peers.map((_, i) => peers[(i + round) % peers.length]!);
      for (const peer of order) {
        const result = await o.open<ColdResult>(browser, base, 'peers.html', 'cold.ts', 'runCold', [peer, workload, COLD_BATCH], 600, o.verbose).catch(
          (error: Error): ColdResult => ({ peer, workload, batch: COLD_BATCH, status: 'error', reason: error.message }),
        );
        result.load1 = loadavg()[0];
        o.log(`  cold ${peer} ${workload} b${COLD_BATCH}: ${result.coldMs !== undefined ? `${(result.coldMs / 1000).toFixed(2)} s` : `${result.status}: ${result.reason}`} (load ${result.load1!.toFixed(1)})`);
        rounds.get(peer)!.push(result);
      }
    }
    const group = peers.map((p) => medianCold(rounds.get(p)!));
    section.results.push(...group);
    console.log(`${coldTable(group)}\n`);
    if (peers.includes('ours')) {
      const split = await o.open<ColdKernelSplit>(browser, base, 'peers.html', 'ours.ts', 'coldKernels', [workload, COLD_BATCH], 600, o.verbose);
      section.kernels.push({ workload, split });
      console.log(`Our first ${workload} step, kernel by kernel (fresh page)\n${coldKernelTable(split)}\n`);
    }
  }
  return section;
}
