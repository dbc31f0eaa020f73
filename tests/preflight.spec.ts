/** `npm test` on a machine that lacks what the README lists: it stops at once with the install line. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { missingPrerequisites, preflightMessage, type SystemProbe } from './support/preflight.ts';

const exec = promisify(execFile);

const bareLinux: SystemProbe = { platform: 'linux', chromium: '/usr/bin/chromium', fileExists: () => false, hasSharedLibrary: () => false };

test('npm test without Chromium fails within seconds, naming the package to install', async () => {
  const started = Date.now();
  // A spec that does not exist: were the preflight skipped, Playwright would end quickly too, but without the line.
  const run = await exec('npm', ['test', '--', 'tests/no-such.spec.ts'], { env: { ...process.env, CHROMIUM_PATH: '/nonexistent/chromium' }, timeout: 60_000 }).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => error,
  );
  expect(run.code).toBe(1);
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(run.stderr).toMatch(/^ {2}- Chromium, the browser every GPU test drives: nothing at \/nonexistent\/chromium \(CHROMIUM_PATH/m);
  expect(run.stderr).toMatch(/^Install \(Debian\/Ubuntu, as root\): apt-get install -y chromium( libvulkan1)?$/m);
});

test('the preflight names the Vulkan loader on Linux only, and nothing when all is there', () => {
  expect(missingPrerequisites(bareLinux).map((m) => m.debianPackage)).toEqual(['chromium', 'libvulkan1']);
  expect(preflightMessage(missingPrerequisites(bareLinux))).toMatch(/libvulkan\.so\.1, which Dawn needs in tests\/dawn\.spec\.ts\nInstall \(Debian\/Ubuntu, as root\): apt-get install -y chromium libvulkan1$/);
  expect(missingPrerequisites({ ...bareLinux, hasSharedLibrary: () => true }).map((m) => m.debianPackage)).toEqual(['chromium']);
  expect(missingPrerequisites({ ...bareLinux, platform: 'darwin' }).map((m) => m.debianPackage)).toEqual(['chromium']);
  expect(missingPrerequisites({ ...bareLinux, fileExists: () => true, hasSharedLibrary: () => true })).toEqual([]);
});

test("the README's install line has every package the preflight checks, and npm test runs the preflight", () => {
  const packages = missingPrerequisites(bareLinux).map((m) => m.debianPackage);
  expect(readFileSync('README.md', 'utf8')).toContain(`apt-get install -y ${packages.join(' ')}`);
  expect(JSON.parse(readFileSync('package.json', 'utf8')).scripts.pretest).toBe('tsx tests/support/preflight.ts');
});
