// What doctor finds on the machine: the account, the commands and engines, the kernel, what rootless
// containers need, and each lab's ways, registries and disk. Types only; diagnose.ts judges them.
import type { WayOption } from '../runner/prompter.js';
import type { Privilege } from '../sys/privilege.js';
import type { InitSystem } from './os.js';
import type { Engine } from './plan.js';

export interface Account {
  uid: number;
  name: string;
  /** How commands that need root run: as root, through sudo with or without a password, or not at all. */
  access: Privilege;
  /** What sudo said when it did not simply run (it wants a password, or it is broken). */
  sudoSaid?: string;
  /** sudo wants a password, but this terminal typed it lately: sudo does accept this user. */
  sudoFresh?: boolean;
}

export interface Tool {
  /** Where it is on PATH; undefined when it is not installed. */
  path?: string;
  /** What `--version` printed, when it answered. */
  versionText?: string;
}

/** The end of a probe command: did it succeed, and its last line of output (the error, usually). */
export interface ProbeRun {
  ok: boolean;
  said: string;
  timedOut: boolean;
}

export interface EngineState extends Tool {
  /** `<engine> info`: the daemon (or storage) answers. Absent when the engine is not installed. */
  info?: ProbeRun;
  /** docker only, for a user who is not root: may they use the daemon's socket? */
  socket?: { path: string; accessible: boolean };
}

export interface Kernel {
  /** The file system type of /sys/fs/cgroup, as `stat -fc %T` names it: cgroup2fs (v2) or tmpfs (v1). */
  cgroupFs: string;
  seccomp: {
    /** /proc/self/status has a `Seccomp:` line: the kernel has seccomp. */
    inStatus: boolean;
    /** It has `Seccomp_filters:` too (kernels from 5.9 show it when filters are built in). */
    filtersInStatus: boolean;
    /** CONFIG_SECCOMP_FILTER from the kernel config, when that is readable. */
    filterConfig?: string;
  };
  /** overlay is in /proc/filesystems (loaded), or a module that loads on first use, or neither. */
  overlay: 'loaded' | 'module' | 'absent';
}

/** What rootless containers need; probed only for a user who is not root. */
export interface Rootless {
  /** The sysctls that allow or forbid unprivileged user namespaces; absent when the kernel has no such file. */
  userns: { unprivilegedClone?: string; maxUserNamespaces?: string; apparmorRestrict?: string };
  /** This user's line in /etc/subuid, if any. */
  subuid?: string;
  /** cgroup v2 controllers systemd delegates to this user's session (cgroup.controllers of user@UID.service). */
  delegated?: string[];
  /** `runc spec --rootless` in a scratch directory, when runc is installed. */
  runcSpec?: ProbeRun;
}

/** One `GET /v2/` attempt: the HTTP status it got, or why it got none. */
export interface Reach {
  url: string;
  status?: number;
  /** Where redirects led, when they did. */
  finalUrl?: string;
  error?: string;
  /** fetch refuses the port (one browsers block, such as 6000): doctor could not ask, curl and docker would. */
  refusedPort?: boolean;
}

export interface Disk {
  workdir: string;
  /** The directory measured: the workspace, or its nearest ancestor that exists. */
  measured: string;
  freeBytes?: number;
  error?: string;
}

export interface LabState {
  /** assessWays for each step with ways, by step id. */
  ways: Record<string, WayOption[]>;
  /** The attempts for each registry target, by host. */
  registries: Record<string, Reach[]>;
  disk: Disk;
}

export interface Machine {
  /** The text of /etc/os-release; undefined when it is missing. */
  osRelease: string | undefined;
  init: InitSystem;
  account: Account;
  commands: Record<string, Tool>;
  engines: Record<Engine, EngineState>;
  kernel: Kernel;
  rootless?: Rootless;
  /** The proxy lab commands would use (HTTPS_PROXY and the like); doctor's own requests go direct. */
  proxy?: Proxy;
  /** By lab id. */
  labs: Record<string, LabState>;
}

export interface Proxy {
  url: string;
  /** NO_PROXY, split: hosts and domain suffixes that go direct. */
  noProxy: string[];
}
