// What a lab run must not leave behind: runc containers (the lab's own and ocilab's probes), cgroup
// directories named after them (under cgroup v1's controllers or v2's single tree), and mounts.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';

/** A container id for a test: `prefix-` and random hex, never a lab's default, never another run's. */
export const newContainerId = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** The ids root's runc knows. */
export async function runcIds(): Promise<string[]> {
  const listed = await execa('runc', ['list', '--quiet'], { reject: false });
  return listed.stdout.split('\n').filter(Boolean);
}

/** Cgroup directories named after the container, anywhere below v1's controllers or v2's root. */
export function cgroupsNamed(id: string): Promise<string[]> {
  return cgroupsWhere((name) => name === id || name.includes(`-${id}.`));
}

/** Cgroup directories whose name passes `named`, to three levels below /sys/fs/cgroup's controllers. */
async function cgroupsWhere(named: (name: string) => boolean): Promise<string[]> {
  const root = '/sys/fs/cgroup';
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (named(entry.name)) found.push(path);
      else if (depth < 3) await walk(path, depth + 1);
    }
  };
  if (existsSync(root)) await walk(root, 0);
  return found;
}

/** The host's mounts whose line in /proc/self/mountinfo names one of these words. */
async function mountsNaming(words: string[]): Promise<string[]> {
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  return lines.filter((line) => words.some((word) => line.includes(word)));
}

/** No runc container of this id and no probe container, nor a cgroup or a mount of either, are left. */
export async function expectNothingLeft(id: string): Promise<void> {
  const ids = await runcIds();
  expect(ids, 'runc containers').not.toContain(id);
  expect(
    ids.filter((c) => c.startsWith('ocilab-probe-')),
    'probe containers',
  ).toEqual([]);
  expect(await cgroupsNamed(id), 'cgroups named after the container').toEqual([]);
  expect(await cgroupsWhere((name) => name.startsWith('ocilab-probe-')), "probes' cgroups").toEqual([]);
  expect(await mountsNaming([`/${id}/`, `/${id} `, 'ocilab-probe-']), 'mounts of the container or a probe').toEqual([]);
}

/** What `ocilab prove --json` prints, as far as tests read it. */
export interface ProveReport {
  proven: boolean;
  workdir: string;
  steps: { id: string; status: string; checks: { kind: string; label: string; at: string; verdict?: string }[] }[];
}

/** What `ocilab verify --json` prints, as far as tests read it. */
export interface VerifyReport {
  passed: boolean;
  steps: {
    id: string;
    status: string;
    checks: { kind: string; status: string; message: string; expected?: string; actual?: string; hint?: string }[];
  }[];
}

/** The checks of a verify report that neither passed nor were skipped (they do not apply here), each with its step's id. */
export const failedChecks = (report: VerifyReport) =>
  report.steps.flatMap((s) => s.checks.filter((c) => c.status !== 'passed' && c.status !== 'skipped').map((c) => ({ step: s.id, ...c })));
