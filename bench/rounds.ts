/**
 * How `--rounds N` is run and read, as pure functions: the peers take turns in an order that rotates
 * from round to round (so no peer always runs first, on a cold page cache, or last, after the others
 * heated the machine), every figure is its median with its min–max over the rounds, and a ratio to
 * ours is claimed only where the two ranges do not overlap.
 */
import type { BenchResult, PeerSummary, Spread } from './workloads.ts';

/** The order of round `round`: the same cycle of `peers`, starting at peer `round mod count`. */
export function rotation<T>(peers: readonly T[], round: number): T[] {
  const start = ((round % peers.length) + peers.length) % peers.length;
  return [...peers.slice(start), ...peers.slice(0, start)];
}

/** Median (the mean of the middle two for an even count), min and max of the finite values; null if none. */
export function spread(values: readonly (number | undefined)[]): Spread | null {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return null;
  const mid = finite.length >> 1;
  const median = finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
  return { median, min: finite[0]!, max: finite[finite.length - 1]!, rounds: finite.length };
}

/** What may be said of a peer's time against ours. */
export type Verdict =
  /** The ranges are apart: the peer takes `ratio` times ours (median ÷ median); above 1 ours is faster. */
  | { kind: 'ratio'; ratio: number }
  /** The ranges overlap: no ratio is claimed. */
  | { kind: 'overlap' };

/** Peer time against ours (both times: lower is better); a ratio only when one range lies wholly above the other. */
export function compare(peer: Spread, ours: Spread): Verdict {
  const apart = peer.min > ours.max || peer.max < ours.min;
  return apart ? { kind: 'ratio', ratio: peer.median / ours.median } : { kind: 'overlap' };
}

/** A peer's rounds as one summary: each figure's spread over the rounds that measured it, every round kept. */
export function summarize(rounds: BenchResult[]): PeerSummary {
  const first = rounds[0]!;
  const ok = rounds.filter((r) => r.status === 'ok');
  const failed = ok.length === 0 ? { status: first.status, ...(first.reason ? { reason: first.reason } : {}) } : { status: 'ok' as const };
  const figures = {
    msPerStep: spread(ok.map((r) => r.msPerStep)),
    samplesPerSec: spread(ok.map((r) => r.samplesPerSec)),
    epochProjectedS: spread(ok.map((r) => r.epoch?.projectedS)),
    epochMeasuredS: spread(ok.map((r) => r.epoch?.measuredS)),
  };
  const present = Object.fromEntries(Object.entries(figures).filter(([, s]) => s !== null));
  return { peer: first.peer, workload: first.workload, batch: first.batch, ...failed, ...present, capped: ok.some((r) => r.capped === true), rounds };
}
