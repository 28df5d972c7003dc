// The `rootless.*` findings, for a user who is not root: user namespaces, /etc/subuid, cgroup
// delegation and `runc spec --rootless`, and whether containers without root can start at all.
import { ok, warn, type Draft } from '../finding.js';
import type { Rootless } from '../machine.js';
import { asAdmin } from '../os.js';
import type { LabPlan } from '../plan.js';
import type { Context } from './context.js';

/** Every step that needs root offers a way that needs none, and user namespaces allow rootless containers. */
export function rootlessPossible(ctx: Context, plan: LabPlan): boolean {
  return plan.rootSteps.every((step) => step.rootlessWay) && rootlessAllowed(ctx);
}

/** Unprivileged user namespaces work here, and so does `runc spec --rootless`. */
function rootlessAllowed({ machine }: Context): boolean {
  const { rootless } = machine;
  if (!rootless) return false;
  const { unprivilegedClone, maxUserNamespaces, apparmorRestrict } = rootless.userns;
  const userns = unprivilegedClone !== '0' && maxUserNamespaces !== undefined && maxUserNamespaces !== '0' && apparmorRestrict !== '1';
  return userns && rootless.runcSpec?.ok !== false;
}

export function rootlessFindings(ctx: Context): Draft[] {
  const { rootless } = ctx.machine;
  if (!rootless) return [];
  const runc = rootless.runcSpec;
  return [
    usernsFinding(ctx, rootless),
    subuidFinding(ctx, rootless),
    ...cgroupsFindings(ctx, rootless),
    ...(runc
      ? [
          runc.ok
            ? ok(
                'rootless.runc',
                '`runc spec --rootless` writes a spec that maps your uid to root in a user namespace: use it to run runc without root',
              )
            : warn('rootless.runc', `\`runc spec --rootless\` fails: ${runc.said}`, 'update runc to a release that supports --rootless'),
        ]
      : []),
  ];
}

const KEEP = 'add the setting to a file in /etc/sysctl.d/ to keep it after a reboot';

function usernsFinding({ root }: Context, { userns }: Rootless): Draft {
  const id = 'rootless.userns';
  const { unprivilegedClone, maxUserNamespaces, apparmorRestrict } = userns;
  if (unprivilegedClone === '0') {
    return warn(
      id,
      'unprivileged user namespaces are off (kernel.unprivileged_userns_clone = 0): containers without root cannot start',
      `\`${asAdmin('sysctl -w kernel.unprivileged_userns_clone=1', root)}\`; ${KEEP}`,
    );
  }
  if (maxUserNamespaces === '0') {
    return warn(
      id,
      'user namespaces are off (user.max_user_namespaces = 0): containers without root cannot start',
      `\`${asAdmin('sysctl -w user.max_user_namespaces=15000', root)}\`; ${KEEP}`,
    );
  }
  if (apparmorRestrict === '1') {
    return warn(
      id,
      'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1): runc without root is refused',
      `give runc an AppArmor profile that allows userns, or \`${asAdmin('sysctl -w kernel.apparmor_restrict_unprivileged_userns=0', root)}\` (weaker for the whole machine)`,
    );
  }
  if (maxUserNamespaces === undefined) {
    return warn(
      id,
      'the kernel shows no user namespace settings (/proc/sys/user/max_user_namespaces is missing): it may lack user namespaces',
      'use a kernel built with CONFIG_USER_NS',
    );
  }
  return ok(id, `unprivileged user namespaces are allowed (user.max_user_namespaces = ${maxUserNamespaces})`);
}

function subuidFinding({ machine, root }: Context, { subuid }: Rootless): Draft {
  const { account } = machine;
  return subuid
    ? ok('rootless.subuid', `/etc/subuid has ${subuid}`)
    : warn(
        'rootless.subuid',
        `no /etc/subuid entry for ${account.name}: rootless podman, and runc mapping more than your own uid, need subordinate uids`,
        `\`${asAdmin(`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${account.name}`, root)}\` (a range no other line of /etc/subuid uses)`,
      );
}

/** None when the cgroup file system is neither v1 nor v2: kernel.cgroups says what is wrong with it. */
function cgroupsFindings({ machine, root }: Context, { delegated }: Rootless): Draft[] {
  const id = 'rootless.cgroups';
  const { account, kernel } = machine;
  if (kernel.cgroupFs === 'tmpfs') {
    return [
      warn(
        id,
        'cgroup v1: containers run without root get no cgroup of their own, so no resource limits',
        'switch to cgroup v2: boot with `systemd.unified_cgroup_hierarchy=1` on the kernel command line',
      ),
    ];
  }
  if (kernel.cgroupFs !== 'cgroup2fs') return [];
  if (delegated === undefined) {
    return [
      warn(
        id,
        `cgroup v2, but no systemd user session of ${account.name} (no user@${account.uid}.service cgroup) to delegate controllers to`,
        `log in through systemd-logind (ssh or a console, not su), or \`${asAdmin(`loginctl enable-linger ${account.name}`, root)}\``,
      ),
    ];
  }
  const missing = ['cpu', 'memory', 'pids'].filter((c) => !delegated.includes(c));
  if (missing.length > 0) {
    return [
      warn(
        id,
        `cgroup v2 delegates only ${delegated.join(' ') || 'no controllers'} to ${account.name}: containers without root cannot limit ${missing.join(', ')}`,
        'create /etc/systemd/system/user@.service.d/delegate.conf with `[Service]` and `Delegate=cpu cpuset io memory pids`, run `sudo systemctl daemon-reload`, and log in again',
      ),
    ];
  }
  return [ok(id, `cgroup v2 delegates ${delegated.join(' ')} to ${account.name}: rootless containers can have limits`)];
}
