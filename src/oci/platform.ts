// Platforms as images name them (`linux/arm64/v8`): read, written, normalised and matched the way
// containerd does, and the platform of this machine.
import { arch, endianness } from 'node:os';
import { InvalidPlatformError } from './errors.js';

export interface Platform {
  os: string;
  architecture: string;
  /** '' when there is none (after normalisation: arm64 is v8 and amd64 v1 by default). */
  variant: string;
}

/** `linux/amd64`, `linux/arm64/v8` (variants as the user wrote them are normalised: `linux/arm64/v8` is `linux/arm64`). */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-zA-Z0-9_.-]+$/.test(p))) {
    throw new InvalidPlatformError(`'${text}' is not a platform: write os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8.`);
  }
  const [os = '', architecture = '', variant = ''] = parts;
  return normalizePlatform({ os, architecture, variant });
}

/** `linux/arm64/v8`: an arm64 or amd64 platform is written with its default variant, as docker shows them. */
export function formatPlatform(platform: Platform): string {
  const variant = platform.variant || (platform.architecture === 'arm64' ? 'v8' : '');
  return [platform.os, platform.architecture, variant].filter(Boolean).join('/');
}

/** The platform of this machine, as images name it: linux and Node's architecture in Go's words. */
export function hostPlatform(): Platform {
  const nodeArch = arch();
  const GO_ARCH: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    mipsel: 'mipsle',
    ppc64: endianness() === 'LE' ? 'ppc64le' : 'ppc64',
  };
  // Node built for 32-bit arm records which arm it targets.
  const armVersion = (process.config.variables as { arm_version?: string }).arm_version;
  return normalizePlatform({
    os: 'linux',
    architecture: GO_ARCH[nodeArch] ?? nodeArch,
    variant: nodeArch === 'arm' ? `v${armVersion ?? '7'}` : '',
  });
}

/**
 * containerd's normalisation (platforms.Normalize): lower case, `x86_64` → amd64, `aarch64` → arm64
 * whose v8 is the default (written ''), amd64's v1 likewise, `armhf` → arm/v7, bare arm → arm/v7.
 */
export function normalizePlatform({ os, architecture, variant }: Platform): Platform {
  let a = architecture.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      a = '386';
      v = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      a = 'amd64';
      if (v === 'v1') v = '';
      break;
    case 'aarch64':
    case 'arm64':
      a = 'arm64';
      if (v === '8' || v === 'v8' || v === 'v8.0') v = '';
      else if (v === '9' || v === '9.0' || v === 'v9.0') v = 'v9';
      break;
    case 'armhf':
      a = 'arm';
      v = 'v7';
      break;
    case 'armel':
      a = 'arm';
      v = 'v6';
      break;
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (v === '5' || v === '6' || v === '8') v = `v${v}`;
      break;
  }
  const o = os.toLowerCase();
  return { os: o === 'macos' ? 'darwin' : o, architecture: a, variant: v };
}

/**
 * The platforms an image for `wanted` may be, best first, as containerd's `platforms.Only` has them:
 * amd64/v3 also takes v2, v1 and 386; arm/v7 also v6 and v5; arm64 (v8.x, v9.x) also earlier arm64
 * variants and 32-bit arm.
 */
export function compatiblePlatforms(wanted: Platform): Platform[] {
  const p = normalizePlatform(wanted);
  const same = (architecture: string, variant: string): Platform => ({ os: p.os, architecture, variant });
  const level = (variant: string) => Number(/^v(\d+)$/.exec(variant)?.[1] ?? NaN);
  switch (p.architecture) {
    case 'amd64': {
      const vector = [p];
      for (let n = level(p.variant) - 1; n >= 1; n--) vector.push(same('amd64', n === 1 ? '' : `v${n}`));
      return [...vector, same('386', '')];
    }
    case 'arm': {
      const vector = [p];
      for (let n = level(p.variant) - 1; n >= 5; n--) vector.push(same('arm', `v${n}`));
      return vector;
    }
    case 'arm64': {
      const [, major = '8', minor = '0'] = /^v(\d+)(?:\.(\d+))?$/.exec(p.variant) ?? [];
      if (p.variant !== '' && !/^v[89](\.\d)?$/.test(p.variant)) return [p];
      const vector: Platform[] = [];
      // arm64 v9.x runs what v8.(x+5) runs; every arm64 runs 32-bit arm up to v8.
      const ranges =
        major === '9' ? [[9, Number(minor)] as const, [8, Math.min(9, Number(minor) + 5)] as const] : [[8, Number(minor)] as const];
      for (const [m, top] of ranges) {
        for (let n = top; n >= 0; n--) vector.push(same('arm64', n === 0 ? (m === 8 ? '' : `v${m}`) : `v${m}.${n}`));
      }
      return [...vector, ...compatiblePlatforms(same('arm', 'v8'))];
    }
    default:
      return [p];
  }
}

/** Whether two normalised platforms are one. */
export function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
}

/** Whether an image for `image` runs where `wanted` does. */
export function runsOn(image: Platform, wanted: Platform): boolean {
  return compatiblePlatforms(wanted).some((p) => samePlatform(p, normalizePlatform(image)));
}
