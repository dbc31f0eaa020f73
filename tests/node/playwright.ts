/**
 * What the kernel specs take from `@playwright/test`, for Node (tests/node/run.ts): `test(name, body)`
 * registers a test, `test.skip(condition, reason)` inside a body skips it, `test.setTimeout` is accepted
 * (the runner sets no time limits). The specs' fixtures come from tests/node/fixtures.ts.
 */
import { expect } from './expect.ts';

export { expect };

export interface Registered {
  name: string;
  body: (fixtures: { gpuPage: null }) => Promise<void> | void;
}

export const registered: Registered[] = [];

export class Skipped extends Error {}

export function test(name: string, body: Registered['body']): void {
  registered.push({ name, body });
}
test.skip = (condition: boolean, reason: string): void => {
  if (condition) throw new Skipped(reason);
};
test.setTimeout = (_ms: number): void => {};
