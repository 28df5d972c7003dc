// Judges what the probes found against what the labs need: one finding a check (findings/ has them by
// area), then a verdict per lab. Pure, so every decision is tested with a fake machine.
import { fail, ok, type Draft, type Finding } from './finding.js';
import { userFinding, rootFinding } from './findings/account.js';
import { commandFinding } from './findings/commands.js';
import { Context } from './findings/context.js';
import { distroFinding } from './findings/distro.js';
import { engineFinding } from './findings/engines.js';
import { kernelFindings } from './findings/kernel.js';
import { registryFinding } from './findings/registries.js';
import { rootlessFindings } from './findings/rootless.js';
import { wayFinding } from './findings/ways.js';
import { workspaceFinding } from './findings/workspace.js';
import type { Machine } from './machine.js';
import { commandsToProbe, ENGINES, RUNTIMES, type LabPlan } from './plan.js';

export interface Diagnosis {
  /** Every lab asked about can run here. */
  ok: boolean;
  checks: Finding[];
}

export function diagnose(plans: readonly LabPlan[], machine: Machine): Diagnosis {
  const ctx = new Context(plans, machine);
  const drafts: Draft[] = [
    distroFinding(ctx),
    userFinding(ctx),
    ...rootlessFindings(ctx),
    ...RUNTIMES.map((name) => commandFinding(ctx, name, `runtime.${name}`)),
    ...kernelFindings(ctx),
    ...ENGINES.map((name) => engineFinding(ctx, name)),
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
  const checks = drafts.map(({ id, status, found, fix }) => ({ id, status, found, fix }));
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

/** `lab.<id>`: the lab can run here unless a finding blocks it. */
function verdict(plan: LabPlan, drafts: readonly Draft[]): Draft {
  const id = `lab.${plan.lab.id}`;
  const blockers = drafts.filter((d) => d.blocks.includes(plan.lab.id)).map((d) => d.id);
  if (blockers.length > 0) return fail(id, `lab ${plan.lab.id} cannot run here`, `see ${blockers.join(', ')}`, [plan.lab.id]);
  return ok(id, `lab ${plan.lab.id} can run here`);
}
