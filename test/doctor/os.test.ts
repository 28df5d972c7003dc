import { describe, expect, it } from 'vitest';
import { installFix, parseOsRelease, startServiceFix, sudoGroup } from '../../src/doctor/os.js';

const OS_RELEASE = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  ubuntu: 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n',
  fedora: 'NAME="Fedora Linux"\nVERSION="40 (Server Edition)"\nID=fedora\nPRETTY_NAME="Fedora Linux 40 (Server Edition)"\n',
  rocky: 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n',
  opensuse: 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\nPRETTY_NAME="openSUSE Tumbleweed"\n',
  alpine: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n',
  arch: 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\n',
};

describe('reading /etc/os-release', () => {
  it.each([
    ['debian', 'Debian GNU/Linux 12 (bookworm)', 'apt'],
    ['ubuntu', 'Ubuntu 24.04.1 LTS', 'apt'],
    ['fedora', 'Fedora Linux 40 (Server Edition)', 'dnf'],
    ['rocky', 'Rocky Linux 9.4 (Blue Onyx)', 'dnf'],
    ['opensuse', 'openSUSE Tumbleweed', 'zypper'],
    ['alpine', 'Alpine Linux v3.20', 'apk'],
    ['arch', 'Arch Linux', undefined],
  ] as const)('knows %s by its ID or ID_LIKE', (key, name, packageManager) => {
    const distro = parseOsRelease(OS_RELEASE[key]);
    expect(distro.name).toBe(name);
    expect(distro.packageManager).toBe(packageManager);
  });

  it('treats a missing file as an unknown distribution', () => {
    expect(parseOsRelease(undefined)).toEqual({ id: '', like: [], name: 'an unknown distribution', packageManager: undefined });
  });
});

describe('install commands for this distribution', () => {
  it.each([
    ['debian', ['runc', 'jq'], true, '`apt install runc jq`'],
    ['debian', ['docker'], false, '`sudo apt install docker.io`'],
    ['ubuntu', ['podman'], false, '`sudo apt install podman`'],
    ['fedora', ['runc', 'curl'], false, '`sudo dnf install runc curl`'],
    ['fedora', ['docker'], false, '`sudo dnf install moby-engine`'],
    ['rocky', ['docker'], false, 'install Docker Engine as https://docs.docker.com/engine/install/ describes for this distribution'],
    ['opensuse', ['runc', 'docker'], false, '`sudo zypper install runc docker`'],
    ['alpine', ['runc', 'tar'], true, '`apk add runc tar`'],
    ['alpine', ['docker'], false, '`sudo apk add docker`'],
    ['arch', ['runc'], false, "install runc with your distribution's package manager"],
  ] as const)('on %s, %j (root: %s) installs with %s', (key, commands, root, fix) => {
    expect(installFix(commands, parseOsRelease(OS_RELEASE[key]), root)).toBe(fix);
  });

  it('sends commands no distribution packages to their releases, after the packaged ones', () => {
    const fix = installFix(['crane', 'jq'], parseOsRelease(OS_RELEASE.debian), false);
    expect(fix).toMatch(/^`sudo apt install jq`; get crane with `go install github.com\/google\/go-containerregistry\/cmd\/crane@latest`/);
  });

  it('starts services with the init system the machine runs', () => {
    expect(startServiceFix('docker', 'systemd', false)).toBe('`sudo systemctl start docker`');
    expect(startServiceFix('docker', 'openrc', true)).toBe('`rc-service docker start`');
    expect(startServiceFix('docker', 'other', true)).toMatch(/neither systemd nor OpenRC/);
  });

  it('names the sudo group of the distribution', () => {
    expect(sudoGroup(parseOsRelease(OS_RELEASE.debian))).toBe('sudo');
    expect(sudoGroup(parseOsRelease(OS_RELEASE.fedora))).toBe('wheel');
  });
});
