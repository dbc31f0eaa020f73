/** The project's commands run as `npm run <name>` runs them, for the tests that drive them as a user would. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * The tsx that `npm run train` (and evaluate, reproduce, bench) runs: package scripts find it in
 * node_modules/.bin. Called directly: `npx tsx` resolves it again in every process, and the tests start dozens.
 */
export const TSX = 'node_modules/.bin/tsx';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tsx script args` with `env` added to this process's: its exit code and output, a failing exit's included. */
export async function runScript(script: string, args: readonly string[], env: Record<string, string> = {}, timeout = 170_000): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await exec(TSX, [script, ...args], { env: { ...process.env, ...env }, timeout });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as CommandResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
