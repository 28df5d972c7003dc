// The `os` finding: which distribution this is, so the fixes can name its package manager's commands.
import { ok, warn, type Draft } from '../finding.js';
import type { Context } from './context.js';

export function distroFinding({ machine, distro }: Context): Draft {
  const id = 'os';
  if (machine.osRelease === undefined) {
    return warn(
      id,
      'no /etc/os-release: the distribution is unknown, so fixes name packages rather than commands',
      "install what the fixes name with your distribution's package manager",
    );
  }
  if (!distro.packageManager) {
    return warn(
      id,
      `${distro.name} (ID=${distro.id || 'unset'}): ocilab knows no package manager for it, so fixes name packages rather than commands`,
      "install what the fixes name with this distribution's package manager",
    );
  }
  return ok(id, `${distro.name}: fixes use ${distro.packageManager}`);
}
