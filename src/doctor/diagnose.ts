// Judges what the probes found against what the labs need: one finding a check, each with the fix for
// this distribution. Pure, so every decision is tested with a fake machine.
// A finding fails only when it stops a lab asked about from running; everything else is at most a warning.
import type { Way } from '../lab/model.js';
import type { WayOption } from '../runner/prompter.js';
import { asAdmin, installFix, parseOsRelease, startServiceFix, sudoGroup, type Distribution } from './os.js';
import {
  commandsToProbe,
  HANDLERS,
  INFO_TIMEOUT_MS,
  isLoopback,
  RUNTIMES,
  type HandlerName,
  type LabPlan,
  type RegistryTarget,
} from './plan.js';
import type { HandlerState, Machine, Proxy, Reach, Tool } from './probes.js';

export type Status = 'ok' | 'warn' | 'fail';

export interface Finding {
  /** Stable: `runtime.runc`, `handler.docker`, `lab.tags.registry.registry.k8s.io`. */
  id: string;
  status: Status;
  /** What is true on this machine. */
  found: string;
  /** What to do about it on this distribution; empty when the status is ok. */
  fix: string;
}

export interface Diagnosis {
  /** Every lab asked about can run here. */
  ok: boolean;
  checks: Finding[];
}

/** Below this much free space a workspace cannot hold a root file system. */
export const MIN_FREE_BYTES = 50 * 2 ** 20;
/** Below this much, a warning. */
export const LOW_FREE_BYTES = 500 * 2 ** 20;

/** A finding and the labs it stops (only failures stop labs). */
interface Draft extends Finding {
  blocks: string[];
}

export function diagnose(plans: readonly LabPlan[], machine: Machine): Diagnosis {
  const ctx = new Context(plans, machine);
  const drafts: Draft[] = [
    osFinding(ctx),
    userFinding(ctx),
    ...rootlessFindings(ctx),
    ...RUNTIMES.map((name) => commandFinding(ctx, name, `runtime.${name}`)),
    ...kernelFindings(ctx),
    ...HANDLERS.map((name) => handlerFinding(ctx, name)),
    ...commandsToProbe(plans)
      .filter((name) => !(RUNTIMES as readonly string[]).includes(name))
      .map((name) => commandFinding(ctx, name, `tool.${name}`)),
  ];
  for (const plan of plans) {
    const labDrafts = [
      rootFinding(ctx, plan),
      ...plan.wayActions.map((action) => wayFinding(ctx, plan, action)),
      ...plan.registries.map((target) => registryFinding(ctx, plan, target)),
      workspaceFinding(ctx, plan),
    ];
    drafts.push(...labDrafts, verdict(plan, [...drafts, ...labDrafts]));
  }
  const checks = drafts.map(({ id, status, found, fix }) => ({ id, status, found, fix: status === 'ok' ? '' : fix }));
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

/** What every finding needs to know: the distribution, the account, and who uses what. */
class Context {
  readonly distro: Distribution;
  readonly root: boolean;

  constructor(
    readonly plans: readonly LabPlan[],
    readonly machine: Machine,
  ) {
    this.distro = parseOsRelease(machine.osRelease);
    this.root = machine.account.uid === 0;
  }

  install(...commands: string[]): string {
    return installFix(commands, this.distro, this.root);
  }

  installed(command: string): boolean {
    const tool: Tool | undefined = (HANDLERS as readonly string[]).includes(command)
      ? this.machine.handlers[command as HandlerName]
      : this.machine.commands[command];
    return tool?.path !== undefined;
  }

  options(plan: LabPlan, stepId: string): WayOption[] {
    return this.machine.labs[plan.lab.id]?.ways[stepId] ?? [];
  }

  /** The steps (of labs asked about) with a way that uses this command, and what each would do without it. */
  wayUses(command: string): string[] {
    const uses: string[] = [];
    for (const plan of this.plans) {
      for (const action of plan.wayActions) {
        if (!action.ways.some((way) => usesCommand(way, command))) continue;
        const picked = this.options(plan, action.stepId).find((o) => o.usable);
        uses.push(
          picked
            ? `lab ${plan.lab.id} uses the ${picked.way.name} way instead`
            : `no other way to "${action.title}" in lab ${plan.lab.id} works either (see lab.${plan.lab.id}.way.${action.stepId})`,
        );
      }
    }
    return uses;
  }
}

const usesCommand = (way: Way, command: string) => way.name === command || way.needs.includes(command);

const labList = (plans: readonly LabPlan[]) => plans.map((p) => p.lab.id).join(', ');

function osFinding({ machine, distro }: Context): Draft {
  const id = 'os';
  if (machine.osRelease === undefined) {
    return {
      id,
      status: 'warn',
      found: 'no /etc/os-release: the distribution is unknown, so fixes name packages rather than commands',
      fix: "install what the fixes name with your distribution's package manager",
      blocks: [],
    };
  }
  if (!distro.packageManager) {
    return {
      id,
      status: 'warn',
      found: `${distro.name} (ID=${distro.id || 'unset'}): ocilab knows no package manager for it, so fixes name packages rather than commands`,
      fix: "install what the fixes name with this distribution's package manager",
      blocks: [],
    };
  }
  return { id, status: 'ok', found: `${distro.name}: fixes use ${distro.packageManager}`, fix: '', blocks: [] };
}

function userFinding(ctx: Context): Draft {
  const { machine, plans, distro } = ctx;
  const { uid, name, access, sudoSaid } = machine.account;
  const needRoot = plans.filter(needsRoot);
  const id = 'user';
  if (access === 'root') return { id, status: 'ok', found: `root (uid ${uid}): steps that need root run directly`, fix: '', blocks: [] };
  const who = `${name} (uid ${uid}), not root`;
  const labs = needRoot.length > 0 ? `lab ${labList(needRoot)}` : undefined;
  if (access === 'sudo-nopasswd') {
    const found = `${who}; sudo runs commands as root without a password${labs ? `, so ${labs} runs its root steps and container checks with sudo, in a terminal or headless` : ''}`;
    return { id, status: 'ok', found, fix: '', blocks: [] };
  }
  if (access === 'sudo-password') {
    const accepted = machine.account.sudoFresh
      ? 'it accepted your password in this terminal lately'
      : 'doctor cannot tell whether it then lets you (a user without sudo rights gets the same answer)';
    if (!labs) return { id, status: 'ok', found: `${who}; sudo asks for a password; no lab asked about needs root`, fix: '', blocks: [] };
    return {
      id,
      status: machine.account.sudoFresh ? 'ok' : 'warn',
      found: `${who}; sudo asks for your password, and ${accepted}`,
      fix: `run \`sudo -v\`: if it accepts your password, ${labs} can run; if it says you may not run sudo, ask for sudo rights (\`usermod -aG ${sudoGroup(distro)} ${name}\`, as root)`,
      blocks: [],
    };
  }
  const broken = sudoSaid ? `sudo does not work (${sudoSaid})` : 'sudo is not installed';
  if (!labs) return { id, status: 'ok', found: `${who}, ${broken}; no lab asked about needs root`, fix: '', blocks: [] };
  const stuck = needRoot.filter((plan) => !rootlessPossible(ctx, plan));
  const group = sudoGroup(distro);
  return {
    id,
    status: stuck.length > 0 ? 'fail' : 'warn',
    found: `${who}, and ${broken}: ${labs} needs root${stuck.length === needRoot.length ? '' : ` (lab ${labList(needRoot.filter((p) => !stuck.includes(p)))} can run rootless)`}`,
    fix: `as root, install sudo (${installFix(['sudo'], distro, true)}) and add ${name} to the ${group} group (\`usermod -aG ${group} ${name}\`), then log in again`,
    blocks: stuck.map((p) => p.lab.id),
  };
}

/** A lab with steps or checks that need root (or sudo, or a rootless bundle). */
const needsRoot = (plan: LabPlan) => plan.lab.requires.root || plan.rootSteps.length > 0 || plan.probeSteps.length > 0;

/** Unprivileged user namespaces work here, and so does `runc spec --rootless`. */
function rootlessAllowed({ machine }: Context): boolean {
  const { rootless } = machine;
  if (!rootless) return false;
  const { unprivilegedClone, maxUserNamespaces, apparmorRestrict } = rootless.userns;
  const userns = unprivilegedClone !== '0' && maxUserNamespaces !== undefined && maxUserNamespaces !== '0' && apparmorRestrict !== '1';
  return userns && rootless.runcSpec?.ok !== false;
}

/** Every step that needs root offers a way that needs none, and user namespaces allow rootless containers. */
function rootlessPossible(ctx: Context, plan: LabPlan): boolean {
  return plan.rootSteps.every((step) => step.rootlessWay) && rootlessAllowed(ctx);
}

/** How the lab's steps that need root, and its container checks, run for this account. */
function rootFinding(ctx: Context, plan: LabPlan): Draft {
  const id = `lab.${plan.lab.id}.root`;
  const { access, name } = ctx.machine.account;
  const lab = `lab ${plan.lab.id}`;
  if (!needsRoot(plan)) return { id, status: 'ok', found: `${lab} needs no root`, fix: '', blocks: [] };
  const what = [
    ...(plan.rootSteps.length > 0
      ? [`${plan.rootSteps.length === 1 ? 'the step' : 'steps'} ${plan.rootSteps.map((s) => `"${s.title}"`).join(', ')}`]
      : []),
    ...(plan.probeSteps.length > 0 ? ['the container checks'] : []),
  ].join(' and ');
  const ok = (found: string): Draft => ({ id, status: 'ok', found, fix: '', blocks: [] });
  switch (access) {
    case 'root':
      return ok(`root: ${what} of ${lab} run as root`);
    case 'sudo-nopasswd':
      return ok(`sudo without a password: ${what} of ${lab} run with sudo, in a terminal or headless`);
    case 'sudo-password':
      return {
        id,
        status: 'warn',
        found: `sudo asking for a password: ${what} of ${lab} run with sudo, which asks on your terminal once (its timestamp spares the rest); a headless run (\`--yes\`, no terminal) cannot type it and stops at the first of them`,
        fix: `do ${lab} with \`ocilab run ${plan.lab.id}\` in a terminal; for headless runs, passwordless sudo (a sudoers rule \`${name} ALL=(ALL) NOPASSWD: ALL\`)`,
        blocks: [],
      };
    case 'none':
      if (rootlessPossible(ctx, plan)) {
        return ok(
          `rootless: ${what} of ${lab} run without root, in a user namespace (the steps' rootless ways, and probes of a rootless bundle)`,
        );
      }
      return {
        id,
        status: 'fail',
        found: `none: ${what} of ${lab} need root, and you have neither root nor sudo${plan.rootSteps.every((s) => s.rootlessWay) ? ', and containers without root cannot start here (see rootless.userns, rootless.runc)' : ''}`,
        fix: 'get sudo rights (see user)',
        blocks: [plan.lab.id],
      };
  }
}

function rootlessFindings(ctx: Context): Draft[] {
  const { rootless, account, kernel } = ctx.machine;
  if (!rootless) return [];
  const drafts: Draft[] = [];
  const warn = (id: string, found: string, fix: string): Draft => ({ id, status: 'warn', found, fix, blocks: [] });
  const ok = (id: string, found: string): Draft => ({ id, status: 'ok', found, fix: '', blocks: [] });
  const keep = 'add the setting to a file in /etc/sysctl.d/ to keep it after a reboot';

  const { unprivilegedClone, maxUserNamespaces, apparmorRestrict } = rootless.userns;
  if (unprivilegedClone === '0') {
    drafts.push(
      warn(
        'rootless.userns',
        'unprivileged user namespaces are off (kernel.unprivileged_userns_clone = 0): containers without root cannot start',
        `\`${asAdmin('sysctl -w kernel.unprivileged_userns_clone=1', ctx.root)}\`; ${keep}`,
      ),
    );
  } else if (maxUserNamespaces === '0') {
    drafts.push(
      warn(
        'rootless.userns',
        'user namespaces are off (user.max_user_namespaces = 0): containers without root cannot start',
        `\`${asAdmin('sysctl -w user.max_user_namespaces=15000', ctx.root)}\`; ${keep}`,
      ),
    );
  } else if (apparmorRestrict === '1') {
    drafts.push(
      warn(
        'rootless.userns',
        'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1): runc without root is refused',
        `give runc an AppArmor profile that allows userns, or \`${asAdmin('sysctl -w kernel.apparmor_restrict_unprivileged_userns=0', ctx.root)}\` (weaker for the whole machine)`,
      ),
    );
  } else if (maxUserNamespaces === undefined) {
    drafts.push(
      warn(
        'rootless.userns',
        'the kernel shows no user namespace settings (/proc/sys/user/max_user_namespaces is missing): it may lack user namespaces',
        'use a kernel built with CONFIG_USER_NS',
      ),
    );
  } else {
    drafts.push(ok('rootless.userns', `unprivileged user namespaces are allowed (user.max_user_namespaces = ${maxUserNamespaces})`));
  }

  drafts.push(
    rootless.subuid
      ? ok('rootless.subuid', `/etc/subuid has ${rootless.subuid}`)
      : warn(
          'rootless.subuid',
          `no /etc/subuid entry for ${account.name}: rootless podman, and runc mapping more than your own uid, need subordinate uids`,
          `\`${asAdmin(`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${account.name}`, ctx.root)}\` (a range no other line of /etc/subuid uses)`,
        ),
  );

  if (kernel.cgroupFs === 'tmpfs') {
    drafts.push(
      warn(
        'rootless.cgroups',
        'cgroup v1: containers run without root get no cgroup of their own, so no resource limits',
        'switch to cgroup v2: boot with `systemd.unified_cgroup_hierarchy=1` on the kernel command line',
      ),
    );
  } else if (kernel.cgroupFs === 'cgroup2fs') {
    const delegated = rootless.delegated;
    const missing = ['cpu', 'memory', 'pids'].filter((c) => !delegated?.includes(c));
    if (delegated === undefined) {
      drafts.push(
        warn(
          'rootless.cgroups',
          `cgroup v2, but no systemd user session of ${account.name} (no user@${account.uid}.service cgroup) to delegate controllers to`,
          `log in through systemd-logind (ssh or a console, not su), or \`${asAdmin(`loginctl enable-linger ${account.name}`, ctx.root)}\``,
        ),
      );
    } else if (missing.length > 0) {
      drafts.push(
        warn(
          'rootless.cgroups',
          `cgroup v2 delegates only ${delegated.join(' ') || 'no controllers'} to ${account.name}: containers without root cannot limit ${missing.join(', ')}`,
          'create /etc/systemd/system/user@.service.d/delegate.conf with `[Service]` and `Delegate=cpu cpuset io memory pids`, run `sudo systemctl daemon-reload`, and log in again',
        ),
      );
    } else {
      drafts.push(
        ok('rootless.cgroups', `cgroup v2 delegates ${delegated.join(' ')} to ${account.name}: rootless containers can have limits`),
      );
    }
  }

  if (rootless.runcSpec) {
    drafts.push(
      rootless.runcSpec.ok
        ? ok(
            'rootless.runc',
            '`runc spec --rootless` writes a spec that maps your uid to root in a user namespace: use it to run runc without root',
          )
        : warn(
            'rootless.runc',
            `\`runc spec --rootless\` fails: ${rootless.runcSpec.said}`,
            'update runc to a release that supports --rootless',
          ),
    );
  }
  return drafts;
}

/** "runc 1.1.5 (OCI runtime spec 1.0.2-dev) at /usr/sbin/runc", from what `--version` printed. */
function describeTool(name: string, tool: Tool): string {
  const firstLine = tool.versionText?.split('\n')[0] ?? '';
  const version = /\d+(?:\.\d+)+[^\s,)]*/.exec(firstLine)?.[0];
  const spec = /^spec:\s*(\S+)/m.exec(tool.versionText ?? '')?.[1];
  return `${name}${version ? ` ${version}` : ''}${spec ? ` (OCI runtime spec ${spec})` : ''} at ${tool.path}`;
}

function commandFinding(ctx: Context, name: string, id: string): Draft {
  const tool = ctx.machine.commands[name];
  if (tool?.path) return { id, status: 'ok', found: describeTool(name, tool), fix: '', blocks: [] };
  const requiredBy = ctx.plans.filter((p) => p.lab.requires.commands.includes(name));
  if (requiredBy.length > 0) {
    return {
      id,
      status: 'fail',
      found: `${name} is not installed; lab ${labList(requiredBy)} needs it`,
      fix: ctx.install(name),
      blocks: requiredBy.map((p) => p.lab.id),
    };
  }
  const uses = ctx.wayUses(name);
  if (uses.length > 0)
    return { id, status: 'warn', found: `${name} is not installed; ${uses.join('; ')}`, fix: ctx.install(name), blocks: [] };
  return { id, status: 'ok', found: `${name} is not installed; no lab asked about uses it`, fix: '', blocks: [] };
}

function kernelFindings({ machine, root }: Context): Draft[] {
  const { cgroupFs, seccomp, overlay } = machine.kernel;
  const finding = (id: string, status: Status, found: string, fix = ''): Draft => ({ id, status, found, fix, blocks: [] });
  const cgroups =
    cgroupFs === 'cgroup2fs'
      ? finding('kernel.cgroups', 'ok', 'cgroup v2 (/sys/fs/cgroup is cgroup2fs)')
      : cgroupFs === 'tmpfs'
        ? finding('kernel.cgroups', 'ok', 'cgroup v1 (/sys/fs/cgroup is tmpfs)')
        : cgroupFs === 'missing'
          ? finding(
              'kernel.cgroups',
              'warn',
              '/sys/fs/cgroup is missing: runc cannot give containers cgroups',
              `mount cgroup v2: \`${asAdmin('mount -t cgroup2 none /sys/fs/cgroup', root)}\``,
            )
          : finding(
              'kernel.cgroups',
              'warn',
              `/sys/fs/cgroup is ${cgroupFs}, neither cgroup v2 (cgroup2fs) nor the tmpfs of cgroup v1`,
              'mount cgroup v2 on /sys/fs/cgroup (most distributions do this at boot)',
            );

  const filters = seccomp.filtersInStatus || seccomp.filterConfig === 'y';
  const seccompFinding = !seccomp.inStatus
    ? finding(
        'kernel.seccomp',
        'warn',
        'the kernel has no seccomp (no Seccomp: line in /proc/self/status): containers run without a system call filter',
        'use a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER',
      )
    : filters
      ? finding(
          'kernel.seccomp',
          'ok',
          `seccomp with filters (${seccomp.filtersInStatus ? 'Seccomp_filters: in /proc/self/status' : 'CONFIG_SECCOMP_FILTER=y'})`,
        )
      : seccomp.filterConfig !== undefined
        ? finding(
            'kernel.seccomp',
            'warn',
            `seccomp without filters (CONFIG_SECCOMP_FILTER ${seccomp.filterConfig}): container profiles cannot filter system calls`,
            'use a kernel built with CONFIG_SECCOMP_FILTER',
          )
        : finding(
            'kernel.seccomp',
            'ok',
            'seccomp (Seccomp: in /proc/self/status; the kernel config is not readable to tell about filters)',
          );

  const overlayFinding =
    overlay === 'absent'
      ? finding(
          'kernel.overlay',
          'warn',
          'no overlay file system (not in /proc/filesystems, no module): docker and podman need the slower vfs storage driver',
          `load it if it is a module (\`${asAdmin('modprobe overlay', root)}\`), or use a kernel built with CONFIG_OVERLAY_FS`,
        )
      : finding(
          'kernel.overlay',
          'ok',
          overlay === 'loaded' ? 'overlay file system (in /proc/filesystems)' : 'overlay file system (a module, loaded on first use)',
        );
  return [cgroups, seccompFinding, overlayFinding];
}

/** What makes a handler that is installed work. */
function handlerFix(ctx: Context, name: HandlerName, state: HandlerState): string {
  const said = state.info?.said ?? '';
  const { init } = ctx.machine;
  const user = ctx.machine.account.name;
  if (name === 'docker') {
    if (state.socket?.accessible === false || /permission denied/i.test(said)) {
      return `let ${user} use the Docker socket: \`sudo usermod -aG docker ${user}\`, then log in again (members of the docker group are root in effect); or use another way`;
    }
    if (state.info?.timedOut || /cannot connect|daemon running|connection refused|no such file/i.test(said)) {
      return `start the Docker daemon: ${startServiceFix('docker', init, ctx.root)}`;
    }
    return 'run `docker info` and fix what it reports';
  }
  if (name === 'podman') {
    return ctx.root
      ? 'run `podman info` and fix what it reports'
      : 'run `podman info` and fix what it reports; rootless podman needs an /etc/subuid entry (see rootless.subuid), then `podman system migrate`';
  }
  return ctx.root
    ? `nerdctl talks to containerd: ${startServiceFix('containerd', init, true)}`
    : 'nerdctl without root needs rootless containerd: `containerd-rootless-setuptool.sh install`';
}

function infoFailure(name: string, state: HandlerState): string {
  const said = state.info?.timedOut ? `no answer within ${INFO_TIMEOUT_MS / 1000} s` : state.info?.said || 'it exits with an error';
  const socket = state.socket && !state.socket.accessible ? `; you may not use ${state.socket.path}` : '';
  return `\`${name} info\` fails: ${said}${socket}`;
}

function handlerFinding(ctx: Context, name: HandlerName): Draft {
  const id = `handler.${name}`;
  const state = ctx.machine.handlers[name];
  const uses = ctx.wayUses(name);
  if (!state.path) {
    return uses.length > 0
      ? { id, status: 'warn', found: `${name} is not installed; ${uses.join('; ')}`, fix: ctx.install(name), blocks: [] }
      : { id, status: 'ok', found: `${name} is not installed; no lab asked about uses it`, fix: '', blocks: [] };
  }
  if (state.info?.ok) return { id, status: 'ok', found: `${describeTool(name, state)}; \`${name} info\` answers`, fix: '', blocks: [] };
  return {
    id,
    status: 'warn',
    found: `${describeTool(name, state)}, but ${infoFailure(name, state)}${uses.length > 0 ? `; ${uses.join('; ')}` : ''}`,
    fix: handlerFix(ctx, name, state),
    blocks: [],
  };
}

/** How to make a way that does not work here work. */
function wayFix(ctx: Context, option: WayOption): string {
  const { way } = option;
  const missing = way.needs.filter((command) => !ctx.installed(command));
  if (missing.length > 0) return ctx.install(...missing);
  if ((HANDLERS as readonly string[]).includes(way.name)) {
    return handlerFix(ctx, way.name as HandlerName, ctx.machine.handlers[way.name as HandlerName]);
  }
  return way.install ?? (way.probe ? `make \`${way.probe}\` succeed` : option.reason);
}

function wayFinding(ctx: Context, plan: LabPlan, action: LabPlan['wayActions'][number]): Draft {
  const id = `lab.${plan.lab.id}.way.${action.stepId}`;
  const options = ctx.options(plan, action.stepId);
  const usable = options.filter((o) => o.usable);
  const unusable = options.filter((o) => !o.usable);
  const picked = usable[0];
  if (!picked) {
    return {
      id,
      status: 'fail',
      found: `no way to "${action.title}" works here: ${options.map((o) => `${o.way.name}: ${o.reason}`).join('; ')}`,
      fix: `make one work: ${options.map((o) => `${o.way.name}: ${wayFix(ctx, o)}`).join('; ')}`,
      blocks: [plan.lab.id],
    };
  }
  const phrase = usable.length > 1 ? 'the first that works here' : 'the only one that works here';
  const handler = (HANDLERS as readonly string[]).includes(picked.way.name)
    ? ctx.machine.handlers[picked.way.name as HandlerName]
    : undefined;
  // A way without a probe counts as working once its commands exist; the handler probe knows better.
  if (handler?.path && handler.info && !handler.info.ok) {
    const others = usable.slice(1).filter((o) => {
      const state = ctx.machine.handlers[o.way.name as HandlerName];
      return !state || state.info?.ok !== false;
    });
    return {
      id,
      status: 'fail',
      found: `ocilab would use ${picked.way.name} for "${action.title}" (${phrase}), but ${infoFailure(picked.way.name, handler)}`,
      fix: `${handlerFix(ctx, picked.way.name as HandlerName, handler)}${others[0] ? `; or run the lab with \`--use ${others[0].way.name}\`` : ''}`,
      blocks: [plan.lab.id],
    };
  }
  const also =
    usable.length > 1
      ? `; also works: ${usable
          .slice(1)
          .map((o) => o.way.name)
          .join(', ')}`
      : '';
  const not = unusable.length > 0 ? `; not usable here: ${unusable.map((o) => o.way.name).join(', ')}` : '';
  return { id, status: 'ok', found: `ocilab uses ${picked.way.name} for "${action.title}" (${phrase})${also}${not}`, fix: '', blocks: [] };
}

const REACHABLE = new Set([200, 401]);

function registryFinding(ctx: Context, plan: LabPlan, target: RegistryTarget): Draft {
  const id = `lab.${plan.lab.id}.registry.${target.host}`;
  const attempts: Reach[] = ctx.machine.labs[plan.lab.id]?.registries[target.host] ?? [];
  const answered = attempts.find((a) => a.status !== undefined);
  const failed = attempts.filter((a) => a.error !== undefined).map((a) => `${a.url}: ${a.error}`);
  const via = answered?.finalUrl ? ` after redirects to ${answered.finalUrl}` : '';
  const what = `${target.host} (${target.source})`;
  if (answered && REACHABLE.has(answered.status as number)) {
    const token = answered.status === 401 ? ', which asks for a token as registries may' : '';
    const before = failed.length > 0 ? ` (first tried ${failed.join('; ')})` : '';
    return {
      id,
      status: 'ok',
      found: `${what} answers: GET ${answered.url} got ${answered.status}${via}${token}${before}`,
      fix: '',
      blocks: [],
    };
  }
  const elsewhere = `to use another registry: \`ocilab run ${plan.lab.id} ${target.variables.map((v) => `--var ${v}=...`).join(' ')}\``;
  if (answered) {
    return {
      id,
      status: 'fail',
      found: `${what} is no registry: GET ${answered.url} got ${answered.status}${via}, not 200 or 401`,
      fix: `check the address; ${elsewhere}`,
      blocks: [plan.lab.id],
    };
  }
  if (attempts.some((a) => a.refusedPort)) {
    return {
      id,
      status: 'warn',
      found: `doctor cannot check ${what}: ${failed.join('; ')}`,
      fix: `check it yourself: \`curl -sI ${target.urls[target.urls.length - 1]}\`; or give the registry another port`,
      blocks: [],
    };
  }
  const proxy = proxyFor(target.host, ctx.machine.proxy);
  if (proxy) {
    return {
      id,
      status: 'warn',
      found: `${what} cannot be reached directly: ${failed.join('; ')}; doctor does not go through the proxy ${proxy}, which lab commands may use`,
      fix: `check that the proxy reaches it: \`curl -sI ${target.urls[0]}\`; ${elsewhere}`,
      blocks: [],
    };
  }
  return {
    id,
    status: 'fail',
    found: `${what} cannot be reached: ${failed.join('; ') || 'no attempt'}`,
    fix: `check the address, this machine's network and firewall; ${elsewhere}`,
    blocks: [plan.lab.id],
  };
}

/** The proxy that lab commands (curl, docker...) would use for this host; loopback always goes direct. */
export function proxyFor(host: string, proxy: Proxy | undefined): string | undefined {
  if (!proxy || isLoopback(host)) return undefined;
  const name = host.replace(/:\d+$/, '');
  const direct = proxy.noProxy.some((entry) => {
    const suffix = entry.replace(/^\*?\./, '');
    return entry === '*' || name === suffix || name.endsWith(`.${suffix}`);
  });
  return direct ? undefined : proxy.url;
}

export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.floor(bytes / 2 ** 20)} MiB`;
}

function workspaceFinding(ctx: Context, plan: LabPlan): Draft {
  const id = `lab.${plan.lab.id}.workspace`;
  const disk = ctx.machine.labs[plan.lab.id]?.disk;
  const elsewhere = `free space there, or give the lab a workspace elsewhere: \`ocilab run ${plan.lab.id} --workdir DIR\``;
  if (!disk || disk.freeBytes === undefined) {
    return {
      id,
      status: 'warn',
      found: `cannot tell the free space for ${plan.workdir}: ${disk?.error ?? 'not measured'}`,
      fix: elsewhere,
      blocks: [],
    };
  }
  const where = disk.measured === disk.workdir ? disk.workdir : `${disk.workdir} (not created yet; measured at ${disk.measured})`;
  const found = `${formatBytes(disk.freeBytes)} free for ${where}`;
  if (disk.freeBytes < MIN_FREE_BYTES) return { id, status: 'fail', found: `only ${found}`, fix: elsewhere, blocks: [plan.lab.id] };
  if (disk.freeBytes < LOW_FREE_BYTES) return { id, status: 'warn', found: `only ${found}`, fix: elsewhere, blocks: [] };
  return { id, status: 'ok', found, fix: '', blocks: [] };
}

function verdict(plan: LabPlan, drafts: readonly Draft[]): Draft {
  const id = `lab.${plan.lab.id}`;
  const blockers = drafts.filter((d) => d.blocks.includes(plan.lab.id)).map((d) => d.id);
  if (blockers.length > 0) {
    return { id, status: 'fail', found: `lab ${plan.lab.id} cannot run here`, fix: `see ${blockers.join(', ')}`, blocks: [plan.lab.id] };
  }
  return { id, status: 'ok', found: `lab ${plan.lab.id} can run here`, fix: '', blocks: [] };
}
