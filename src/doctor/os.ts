// Which distribution this is (from /etc/os-release) and how things are installed and started on it,
// so that every fix doctor suggests names this machine's own package manager and init system.
// Pure: the probes read the files, this module only interprets their text.

export type PackageManager = 'apt' | 'dnf' | 'zypper' | 'apk';

/** How services are started: what `/run/systemd/system` or `/run/openrc` shows. */
export type InitSystem = 'systemd' | 'openrc' | 'other';

export interface Distribution {
  /** `ID`, or '' when /etc/os-release is missing or has none. */
  id: string;
  /** `ID_LIKE`, split: the distributions this one derives from. */
  like: string[];
  /** `PRETTY_NAME` (or `NAME`), as the user knows the system. */
  name: string;
  packageManager: PackageManager | undefined;
}

/** Parses os-release text (`KEY=value`, values optionally quoted); undefined means the file is missing. */
export function parseOsRelease(text: string | undefined): Distribution {
  const fields: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, key, raw] = match as unknown as [string, string, string];
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    fields[key] = quoted ? (quoted[2] as string).replace(/\\(["'$`\\])/g, '$1') : raw;
  }
  const id = (fields.ID ?? '').toLowerCase();
  const like = (fields.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const name = fields.PRETTY_NAME || fields.NAME || (id ? id : 'an unknown distribution');
  return { id, like, name, packageManager: packageManagerOf([id, ...like]) };
}

function packageManagerOf(ids: string[]): PackageManager | undefined {
  for (const id of ids) {
    if (id === 'debian' || id === 'ubuntu') return 'apt';
    if (id === 'fedora' || id === 'rhel' || id === 'centos') return 'dnf';
    if (id === 'suse' || id === 'sles' || id.startsWith('opensuse')) return 'zypper';
    if (id === 'alpine') return 'apk';
  }
  return undefined;
}

const SAME_NAME_EVERYWHERE = ['runc', 'crun', 'curl', 'jq', 'tar', 'podman', 'sudo'];

/** The package that provides a command here, or undefined when the distribution does not ship it. */
export function packageName(command: string, distro: Distribution): string | undefined {
  const pm = distro.packageManager;
  if (!pm) return undefined;
  if (SAME_NAME_EVERYWHERE.includes(command)) return command;
  if (command === 'docker') {
    if (pm === 'apt') return 'docker.io';
    // Fedora packages Docker as moby-engine; RHEL and its rebuilds leave Docker to Docker's own repository.
    if (pm === 'dnf') return distro.id === 'fedora' ? 'moby-engine' : undefined;
    return 'docker';
  }
  return undefined;
}

/** How to get a command the distribution does not package. */
const BY_HAND: Record<string, string> = {
  crane:
    'get crane with `go install github.com/google/go-containerregistry/cmd/crane@latest`, or unpack it onto your PATH from a release tarball of https://github.com/google/go-containerregistry/releases',
  nerdctl: 'get nerdctl from https://github.com/containerd/nerdctl/releases (the nerdctl-full archive includes containerd)',
  docker: 'install Docker Engine as https://docs.docker.com/engine/install/ describes for this distribution',
  ocilab: 'reinstall ocilab: the bin/ directory of its package, which holds the command lab scripts call, is missing',
};

/** `sudo ` unless the user is root already. */
export const asAdmin = (command: string, root: boolean) => (root ? command : `sudo ${command}`);

/** One command line (or instruction) that installs these commands on this distribution. */
export function installFix(commands: readonly string[], distro: Distribution, root: boolean): string {
  const packaged: string[] = [];
  const byHand: string[] = [];
  for (const command of commands) {
    const name = packageName(command, distro);
    if (name) packaged.push(name);
    else byHand.push(BY_HAND[command] ?? `install ${command} with your distribution's package manager`);
  }
  const parts: string[] = [];
  if (packaged.length > 0) {
    const pm = distro.packageManager as PackageManager;
    const verb = pm === 'apk' ? 'add' : 'install';
    parts.push(`\`${asAdmin(`${pm} ${verb} ${packaged.join(' ')}`, root)}\``);
  }
  parts.push(...byHand);
  return parts.join('; ');
}

/** The command that starts a service now, or what to do without a known init system. */
export function startServiceFix(service: string, init: InitSystem, root: boolean): string {
  if (init === 'systemd') return `\`${asAdmin(`systemctl start ${service}`, root)}\``;
  if (init === 'openrc') return `\`${asAdmin(`rc-service ${service} start`, root)}\``;
  return `start ${service} the way this machine starts services (it runs neither systemd nor OpenRC)`;
}

/** The group whose members may use sudo by default. */
export function sudoGroup(distro: Distribution): string {
  return distro.packageManager === 'apt' ? 'sudo' : 'wheel';
}
