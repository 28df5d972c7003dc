// ocilab doctor [<lab>...]: can this machine do the labs, and how to fix what it lacks.
import { EXIT, UsageError } from '../../errors.js';
import { diagnose } from '../../doctor/diagnose.js';
import { examine } from '../../doctor/examine.js';
import { planLab } from '../../doctor/plan.js';
import { machineProbes } from '../../doctor/probes.js';
import { renderJson, renderTable } from '../../doctor/render.js';
import type { Lab } from '../../lab/model.js';
import { defineCommand } from '../command.js';
import { openCatalog } from '../workshop.js';
import { parseVarFlags } from '../vars.js';
import { openSession, out, useColor, WORKSHOP_OPTION, WORKSPACE_OPTIONS } from './shared.js';

export default defineCommand({
  about: `Checks this machine against what the labs need (every shipped lab when none is named) and says how
to fix each gap on this distribution: runc and crun, root (or what containers without root need),
cgroups, seccomp and overlay, docker, podman and nerdctl and which one each lab would use, the tools
the labs run, whether their registries answer, and free space for their workspaces.`,
  more: `Exit status: 0 when every lab asked about can run here, 1 when one cannot.`,
  options: {
    var: {
      ...WORKSPACE_OPTIONS.var,
      help: 'set a lab variable (repeatable) for the labs that have it, e.g. --var scheme=http --var host=127.0.0.1:5000',
    },
    json: { type: 'boolean', help: 'print {"ok", "checks": [{"id", "status", "found", "fix"}]}' },
    workshop: WORKSHOP_OPTION,
  },
  args: { min: 0, max: Number.POSITIVE_INFINITY, usage: '' },
  async run(references, flags) {
    const catalog = await openCatalog(flags.workshop);
    const found = references.length > 0 ? await Promise.all(references.map((r) => catalog.find(r))) : await catalog.labs();
    const labs = found.filter((lab, i) => found.findIndex((other) => other.id === lab.id) === i);
    const varFlags = flags.var ?? [];
    const declares = (lab: Lab, name: string) => lab.variables.some((v) => v.name === name);
    const unknown = Object.keys(parseVarFlags(varFlags)).filter((name) => !labs.some((lab) => declares(lab, name)));
    if (unknown.length > 0) {
      const known = labs.map((lab) => `${lab.id}: ${lab.variables.map((v) => v.name).join(', ') || 'none'}`).join('; ');
      throw new UsageError(`No lab asked about has a variable ${unknown.map((n) => `'${n}'`).join(', ')}. Their variables: ${known}.`);
    }

    const plans = await Promise.all(
      labs.map(async (lab) => {
        // Each lab takes the --var values it declares, the way `ocilab run` would.
        const own = varFlags.filter((flag) => declares(lab, flag.slice(0, flag.indexOf('='))));
        const { workdir, vars } = await openSession(lab, { var: own }, catalog.presets(lab));
        return planLab(lab, vars, workdir);
      }),
    );
    const diagnosis = diagnose(plans, await examine(machineProbes, plans));
    out(
      flags.json
        ? renderJson(diagnosis)
        : renderTable(diagnosis, { color: useColor(), ...(process.stdout.isTTY ? { width: process.stdout.columns } : {}) }),
    );
    return diagnosis.ok ? EXIT.ok : EXIT.failed;
  },
});
