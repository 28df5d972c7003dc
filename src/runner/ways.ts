// Which way of doing a step works on this machine: its commands are on PATH and its probe succeeds.
import type { Way } from '../lab/model.js';
import { runScript } from '../sys/exec.js';
import { which } from '../sys/host.js';
import type { WayOption } from './prompter.js';

const PROBE_TIMEOUT_MS = 10_000;

export async function assessWays(ways: readonly Way[], cwd: string, asRoot: boolean): Promise<WayOption[]> {
  return Promise.all(
    ways.map(async (way): Promise<WayOption> => {
      const missing: string[] = [];
      for (const command of way.needs) if (!(await which(command))) missing.push(command);
      if (missing.length > 0) {
        const install = way.install ? ` ${way.install}` : '';
        return { way, usable: false, reason: `${missing.join(', ')} not found.${install}` };
      }
      if (way.probe) {
        const probe = await runScript(way.probe, { cwd, timeoutMs: PROBE_TIMEOUT_MS, sudo: asRoot ? 'as-root' : 'no-prompt' });
        if (probe.exitCode !== 0) {
          const said = probe.output.trim().split('\n').slice(-1)[0] ?? '';
          return { way, usable: false, reason: `\`${way.probe}\` failed${said ? `: ${said}` : ''}` };
        }
      }
      return { way, usable: true, reason: 'works here' };
    }),
  );
}
