/**
 * The few matchers the kernel specs use, for running them in Node against Dawn (tests/node/run.ts):
 * Playwright's expect does not bundle. Each throws with both values in its message, like Playwright's.
 */
import { isDeepStrictEqual, inspect } from 'node:util';

type ErrorClass = abstract new (...args: never[]) => Error;

function check(pass: boolean, negated: boolean, what: string, label?: string): void {
  if (pass === negated) throw new Error(`${label ? `${label}: ` : ''}expected ${negated ? 'not ' : ''}${what}`);
}

function throwsLike(fn: () => unknown, want?: ErrorClass | RegExp | string): { pass: boolean; got: string } {
  try {
    fn();
    return { pass: false, got: 'no error' };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const pass = want === undefined || (typeof want === 'string' ? message.includes(want) : want instanceof RegExp ? want.test(message) : error instanceof want);
    return { pass, got: inspect(error) };
  }
}

function matchers(actual: unknown, label: string | undefined, negated: boolean) {
  const show = (v: unknown) => inspect(v, { depth: 4, maxArrayLength: 20 });
  return {
    toBe: (want: unknown) => check(Object.is(actual, want), negated, `${show(actual)} to be ${show(want)}`, label),
    toEqual: (want: unknown) => check(isDeepStrictEqual(actual, want), negated, `${show(actual)} to equal ${show(want)}`, label),
    toBeGreaterThan: (n: number) => check((actual as number) > n, negated, `${show(actual)} > ${n}`, label),
    toBeLessThan: (n: number) => check((actual as number) < n, negated, `${show(actual)} < ${n}`, label),
    toBeLessThanOrEqual: (n: number) => check((actual as number) <= n, negated, `${show(actual)} ≤ ${n}`, label),
    toThrow: (want?: ErrorClass | RegExp | string) => {
      const { pass, got } = throwsLike(actual as () => unknown, want);
      check(pass, negated, `to throw ${want === undefined ? 'an error' : show(want)}, got ${got}`, label);
    },
  };
}

export function expect(actual: unknown, label?: string) {
  return { ...matchers(actual, label, false), not: matchers(actual, label, true) };
}
