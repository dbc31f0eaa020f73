/**
 * What `npm test` needs from the system, checked before Playwright starts (package.json's `pretest`):
 * a newcomer without them learns the install line in a second rather than from a failure 12 minutes in.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumPath } from '../../cli/chromium.ts';

export interface Missing {
  /** What is missing and which tests need it. */
  what: string;
  /** The Debian package that provides it. */
  debianPackage: string;
}

export interface SystemProbe {
  platform: NodeJS.Platform;
  chromium: string;
  fileExists(path: string): boolean;
  hasSharedLibrary(name: string): boolean;
}

/** The Vulkan loader Dawn (the `webgpu` package, tests/dawn.spec.ts) opens on Linux. */
const VULKAN_LOADER = 'libvulkan.so.1';

export function missingPrerequisites(probe: SystemProbe = systemProbe()): Missing[] {
  const missing: Missing[] = [];
  if (!probe.fileExists(probe.chromium)) {
    missing.push({ what: `Chromium, the browser every GPU test drives: nothing at ${probe.chromium}${process.env.CHROMIUM_PATH ? ' (CHROMIUM_PATH; unset it to use /usr/bin/chromium)' : ''}`, debianPackage: 'chromium' });
  }
  if (probe.platform === 'linux' && !probe.hasSharedLibrary(VULKAN_LOADER)) {
    missing.push({ what: `the Vulkan loader ${VULKAN_LOADER}, which Dawn needs in tests/dawn.spec.ts`, debianPackage: 'libvulkan1' });
  }
  return missing;
}

/** The message for what is missing: each item, then one install line for all of them. */
export function preflightMessage(missing: readonly Missing[]): string {
  return [
    'npm test cannot run: this machine lacks',
    ...missing.map((m) => `  - ${m.what}`),
    `Install (Debian/Ubuntu, as root): apt-get install -y ${missing.map((m) => m.debianPackage).join(' ')}`,
  ].join('\n');
}

function systemProbe(): SystemProbe {
  return { platform: process.platform, chromium: chromiumPath(), fileExists: existsSync, hasSharedLibrary };
}

/** Where the dynamic linker would find `name`: LD_LIBRARY_PATH, then its cache (ldconfig), then the usual folders. */
function hasSharedLibrary(name: string): boolean {
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (dirs.some((dir) => existsSync(join(dir, name)))) return true;
  try {
    // ldconfig lives in /sbin, which a normal user's PATH often lacks.
    const cache = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/sbin:/usr/sbin` } });
    return cache.split('\n').some((line) => line.trim().startsWith(`${name} `));
  } catch {
    const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
    return [`/usr/lib/${arch}-linux-gnu`, `/lib/${arch}-linux-gnu`, '/usr/lib64', '/usr/lib'].some((dir) => existsSync(join(dir, name)));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    console.error(preflightMessage(missing));
    process.exit(1);
  }
}
