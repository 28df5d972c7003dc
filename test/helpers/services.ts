// What the machine offers the end-to-end tests (dockerd, podman, root, the registry tools), and the
// rule for what is missing: skip with a stated reason on a developer's machine, fail loudly in CI.
import { access, constants } from 'node:fs/promises';
import { execa } from 'execa';

const PROBE_TIMEOUT_MS = 20_000;

async function succeeds(file: string, args: string[]): Promise<boolean> {
  const result = await execa(file, args, { reject: false, timeout: PROBE_TIMEOUT_MS, stdin: 'ignore' });
  return result.exitCode === 0;
}

/** dockerd answers (`docker info` succeeds). */
export function dockerUsable(): Promise<boolean> {
  return succeeds('docker', ['info']);
}

/** podman is installed and can reach its storage (`podman info` succeeds). */
export function podmanUsable(): Promise<boolean> {
  return succeeds('podman', ['info']);
}

/** CI sets `CI` (to `true`); `CI=false` or `CI=0` is a developer saying it is not CI. */
export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

export function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** Every program the registry and image helpers start. */
export const REGISTRY_TOOLS = ['/usr/bin/docker-registry', '/bin/busybox'] as const;
export const IMAGE_TOOLS = ['umoci', 'skopeo'] as const;

/** The registry binary, busybox, umoci and skopeo are all there. */
export async function registryToolsUsable(): Promise<boolean> {
  for (const file of REGISTRY_TOOLS) {
    try {
      await access(file, constants.X_OK);
    } catch {
      return false;
    }
  }
  for (const tool of IMAGE_TOOLS) {
    if (!(await succeeds(tool, ['--version']))) return false;
  }
  return true;
}

/**
 * Whether to skip tests that need something this machine lacks. Outside CI the reason is printed and
 * the tests are skipped; in CI (`CI` set) a missing service is a broken CI machine, so this throws:
 * a test must never pass there by not running.
 */
export function skipUnless(usable: boolean, reason: string): boolean {
  if (usable) return false;
  if (inCi()) {
    throw new Error(`${reason}. CI must run every end-to-end test: .ci/run installs and starts what they need.`);
  }
  console.warn(`skipping: ${reason}`);
  return true;
}
