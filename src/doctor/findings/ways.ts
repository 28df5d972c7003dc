// The `lab.<id>.way.<step>` findings: which way ocilab would use for each step with ways, decided
// as `ocilab run` decides it, and how to make one work when none does.
import type { WayOption } from '../../runner/prompter.js';
import { fail, ok, type Draft } from '../finding.js';
import type { LabPlan } from '../plan.js';
import { isEngine, type Context } from './context.js';
import { engineFix, infoFailure } from './engines.js';

export function wayFinding(ctx: Context, plan: LabPlan, action: LabPlan['wayActions'][number]): Draft {
  const id = `lab.${plan.lab.id}.way.${action.stepId}`;
  const options = ctx.options(plan, action.stepId);
  const usable = options.filter((o) => o.usable);
  const unusable = options.filter((o) => !o.usable);
  const picked = usable[0];
  if (!picked) {
    return fail(
      id,
      `no way to "${action.title}" works here: ${options.map((o) => `${o.way.name}: ${o.reason}`).join('; ')}`,
      `make one work: ${options.map((o) => `${o.way.name}: ${wayFix(ctx, o)}`).join('; ')}`,
      [plan.lab.id],
    );
  }
  const phrase = usable.length > 1 ? 'the first that works here' : 'the only one that works here';
  const name = picked.way.name;
  const engine = ctx.engine(name);
  // A way without a probe counts as working once its commands exist; the engine's `info` knows better.
  if (isEngine(name) && engine?.path && engine.info && !engine.info.ok) {
    const others = usable.slice(1).filter((o) => ctx.engine(o.way.name)?.info?.ok !== false);
    return fail(
      id,
      `ocilab would use ${name} for "${action.title}" (${phrase}), but ${infoFailure(name, engine)}`,
      `${engineFix(ctx, name, engine)}${others[0] ? `; or run the lab with \`--use ${others[0].way.name}\`` : ''}`,
      [plan.lab.id],
    );
  }
  const also =
    usable.length > 1
      ? `; also works: ${usable
          .slice(1)
          .map((o) => o.way.name)
          .join(', ')}`
      : '';
  const not = unusable.length > 0 ? `; not usable here: ${unusable.map((o) => o.way.name).join(', ')}` : '';
  return ok(id, `ocilab uses ${name} for "${action.title}" (${phrase})${also}${not}`);
}

/** How to make a way that does not work here work. */
function wayFix(ctx: Context, option: WayOption): string {
  const { way } = option;
  const missing = way.needs.filter((command) => !ctx.installed(command));
  if (missing.length > 0) return ctx.install(...missing);
  if (isEngine(way.name)) return engineFix(ctx, way.name, ctx.machine.engines[way.name]);
  return way.install ?? (way.probe ? `make \`${way.probe}\` succeed` : option.reason);
}
