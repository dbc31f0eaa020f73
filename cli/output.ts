/**
 * The commands' output files: checked before any training (a run's result must not be lost to a path
 * that was never writable), written atomically, and kept somewhere else when a write still fails.
 */
import { existsSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './args.ts';

const reason = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/**
 * Makes the folders `dir` lacks, one at a time: Node's mkdirSync({ recursive: true }) never returns
 * for a path under /proc (ENOENT on a child of a folder that exists makes it retry the parent forever).
 * Throws a UsageError naming the option and the folder it cannot create.
 */
function makeFolders(option: string, given: string, dir: string): void {
  const missing: string[] = [];
  let existing = resolve(dir);
  while (!existsSync(existing)) {
    missing.unshift(existing);
    existing = dirname(existing);
  }
  if (!statSync(existing).isDirectory()) throw new UsageError(`--${option} ${given}: ${existing} is a file, not a folder: give a path in a folder that exists or can be created`);
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (error) {
      throw new UsageError(`--${option} ${given}: cannot create the folder ${folder} (${reason(error)}): give a path in a folder that exists or can be created`);
    }
  }
}

/** Before any work: `file`'s folder exists (made if need be) and a file can be written there, as writeAtomically will. */
export function prepareOutputFile(option: string, file: string): void {
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`--${option} ${file}: is a folder: give a file name`);
  makeFolders(option, file, dirname(file));
  const probe = `${file}.tmp`;
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    throw new UsageError(`--${option} ${file}: cannot write there (${reason(error)}): give a path in a folder you can write to`);
  }
}

/** Before any work: folder `dir` exists (made if need be) and files can be written in it. */
export function prepareOutputFolder(option: string, dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--${option} ${dir}: is a file: give a folder`);
  makeFolders(option, dir, dir);
  const probe = join(dir, `.wgsl-nn-write-check-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    throw new UsageError(`--${option} ${dir}: cannot write there (${reason(error)}): give a folder you can write to`);
  }
}

/** Writes to FILE.tmp then renames, so an interrupted write never leaves half a file behind. */
export function writeAtomically(file: string, data: string | Uint8Array): void {
  writeFileSync(`${file}.tmp`, data);
  renameSync(`${file}.tmp`, file);
}

/**
 * Writes `file`; when that fails (the folder went away meanwhile, the disk filled up), writes the same
 * bytes under the system's temporary folder or the working folder. Returns where they went and, on a
 * fallback, why `file` was not written; throws only when no place would take them.
 */
export function writeOrKeep(file: string, data: string | Uint8Array): { written: string; failure?: string } {
  try {
    writeAtomically(file, data);
    return { written: file };
  } catch (error) {
    const failure = `could not write ${file} (${reason(error)})`;
    const name = `wgsl-nn-${Date.now()}-${basename(file)}`;
    for (const fallback of [join(tmpdir(), name), resolve(name)]) {
      try {
        writeAtomically(fallback, data);
        return { written: fallback, failure };
      } catch {
        // Try the next place.
      }
    }
    throw new Error(`${failure}, nor in ${tmpdir()} or the working folder`);
  }
}
