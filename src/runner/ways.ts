// Which way of doing a step works on this machine: it needs no root that is not to be had, its
// commands are on PATH and its probe succeeds.
import type { Way } from '../lab/model.js';
import { runScript } from '../sys/exec.js';
import { which } from '../sys/host.js';
import type { Privilege } from '../sys/privilege.js';
import type { WayOption } from './prompter.js';
import { quietSudo } from './sudo.js';

const PROBE_TIMEOUT_MS = 10_000;

/** Why a way that needs root is not offered to a learner who has none. */
export const WAY_NEEDS_ROOT = 'it needs root, and you are neither root nor can use sudo here.';

/** The first of the ways named with `--use`, in the order given, that the step offers. */
export function wantedWay<T extends Way>(ways: readonly T[], use: readonly string[]): T | undefined {
  for (const name of use) {
    const way = ways.find((w) => w.name === name);
    if (way) return way;
  }
  return undefined;
}

export async function assessWays(ways: readonly Way[], cwd: string, privilege: Privilege): Promise<WayOption[]> {
  return Promise.all(
    ways.map(async (way): Promise<WayOption> => {
      const missing: string[] = [];
      for (const command of way.needs) if (!(await which(command))) missing.push(command);
      if (missing.length > 0) {
        const install = way.install ? ` ${way.install}` : '';
        return { way, usable: false, reason: `${missing.join(', ')} not found.${install}` };
      }
      // Checked before the probe, which may itself call sudo.
      if (way.root && privilege === 'none') return { way, usable: false, reason: WAY_NEEDS_ROOT };
      if (way.probe) {
        const probe = await runScript(way.probe, { cwd, timeoutMs: PROBE_TIMEOUT_MS, sudo: quietSudo(privilege) });
        if (probe.exitCode !== 0) {
          const said = probe.output.trim().split('\n').slice(-1)[0] ?? '';
          return { way, usable: false, reason: `\`${way.probe}\` failed${said ? `: ${said}` : ''}` };
        }
      }
      return { way, usable: true, reason: 'works here' };
    }),
  );
}
