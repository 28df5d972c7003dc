// The `kernel.*` findings: cgroups (v1 or v2), seccomp with or without filters, and the overlay file system.
import { ok, warn, type Draft } from '../finding.js';
import type { Kernel } from '../machine.js';
import { asAdmin } from '../os.js';
import type { Context } from './context.js';

export function kernelFindings({ machine, root }: Context): Draft[] {
  const { cgroupFs, seccomp, overlay } = machine.kernel;
  return [cgroupsFinding(cgroupFs, root), seccompFinding(seccomp), overlayFinding(overlay, root)];
}

function cgroupsFinding(cgroupFs: string, root: boolean): Draft {
  const id = 'kernel.cgroups';
  switch (cgroupFs) {
    case 'cgroup2fs':
      return ok(id, 'cgroup v2 (/sys/fs/cgroup is cgroup2fs)');
    case 'tmpfs':
      return ok(id, 'cgroup v1 (/sys/fs/cgroup is tmpfs)');
    case 'missing':
      return warn(
        id,
        '/sys/fs/cgroup is missing: runc cannot give containers cgroups',
        `mount cgroup v2: \`${asAdmin('mount -t cgroup2 none /sys/fs/cgroup', root)}\``,
      );
    default:
      return warn(
        id,
        `/sys/fs/cgroup is ${cgroupFs}, neither cgroup v2 (cgroup2fs) nor the tmpfs of cgroup v1`,
        'mount cgroup v2 on /sys/fs/cgroup (most distributions do this at boot)',
      );
  }
}

function seccompFinding(seccomp: Kernel['seccomp']): Draft {
  const id = 'kernel.seccomp';
  if (!seccomp.inStatus) {
    return warn(
      id,
      'the kernel has no seccomp (no Seccomp: line in /proc/self/status): containers run without a system call filter',
      'use a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER',
    );
  }
  if (seccomp.filtersInStatus || seccomp.filterConfig === 'y') {
    return ok(
      id,
      `seccomp with filters (${seccomp.filtersInStatus ? 'Seccomp_filters: in /proc/self/status' : 'CONFIG_SECCOMP_FILTER=y'})`,
    );
  }
  if (seccomp.filterConfig !== undefined) {
    return warn(
      id,
      `seccomp without filters (CONFIG_SECCOMP_FILTER ${seccomp.filterConfig}): container profiles cannot filter system calls`,
      'use a kernel built with CONFIG_SECCOMP_FILTER',
    );
  }
  return ok(id, 'seccomp (Seccomp: in /proc/self/status; the kernel config is not readable to tell about filters)');
}

function overlayFinding(overlay: Kernel['overlay'], root: boolean): Draft {
  const id = 'kernel.overlay';
  if (overlay === 'absent') {
    return warn(
      id,
      'no overlay file system (not in /proc/filesystems, no module): docker and podman need the slower vfs storage driver',
      `load it if it is a module (\`${asAdmin('modprobe overlay', root)}\`), or use a kernel built with CONFIG_OVERLAY_FS`,
    );
  }
  return ok(
    id,
    overlay === 'loaded' ? 'overlay file system (in /proc/filesystems)' : 'overlay file system (a module, loaded on first use)',
  );
}
