// The `lab.<id>.workspace` findings: is there room for a root file system where the lab's workspace goes.
import { fail, ok, warn, type Draft } from '../finding.js';
import type { LabPlan } from '../plan.js';
import type { Context } from './context.js';

/** Below this much free space a workspace cannot hold a root file system. */
const MIN_FREE_BYTES = 50 * 2 ** 20;
/** Below this much, a warning. */
const LOW_FREE_BYTES = 500 * 2 ** 20;

export function workspaceFinding(ctx: Context, plan: LabPlan): Draft {
  const id = `lab.${plan.lab.id}.workspace`;
  const disk = ctx.machine.labs[plan.lab.id]?.disk;
  const elsewhere = `free space there, or give the lab a workspace elsewhere: \`ocilab run ${plan.lab.id} --workdir DIR\``;
  if (disk?.freeBytes === undefined)
    return warn(id, `cannot tell the free space for ${plan.workdir}: ${disk?.error ?? 'not measured'}`, elsewhere);
  const where = disk.measured === disk.workdir ? disk.workdir : `${disk.workdir} (not created yet; measured at ${disk.measured})`;
  const found = `${formatBytes(disk.freeBytes)} free for ${where}`;
  if (disk.freeBytes < MIN_FREE_BYTES) return fail(id, `only ${found}`, elsewhere, [plan.lab.id]);
  if (disk.freeBytes < LOW_FREE_BYTES) return warn(id, `only ${found}`, elsewhere);
  return ok(id, found);
}

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.floor(bytes / 2 ** 20)} MiB`;
}
