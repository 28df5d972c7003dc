// The findings on root: `user` (root, sudo with or without a password, or neither) and, per lab,
// `lab.<id>.root` (how its steps that need root, and its container checks, run for this account).
import { fail, ok, warn, type Draft } from '../finding.js';
import { installFix, sudoGroup } from '../os.js';
import type { LabPlan } from '../plan.js';
import { labList, type Context } from './context.js';
import { rootlessPossible } from './rootless.js';

/** A lab with steps or checks that need root (or sudo, or a rootless bundle). */
const needsRoot = (plan: LabPlan) => plan.lab.requires.root || plan.rootSteps.length > 0 || plan.probeSteps.length > 0;

export function userFinding(ctx: Context): Draft {
  const { machine, plans, distro } = ctx;
  const { uid, name, access, sudoSaid } = machine.account;
  const needRoot = plans.filter(needsRoot);
  const id = 'user';
  if (access === 'root') return ok(id, `root (uid ${uid}): steps that need root run directly`);
  const who = `${name} (uid ${uid}), not root`;
  const labs = needRoot.length > 0 ? `lab ${labList(needRoot)}` : undefined;
  if (access === 'sudo-nopasswd') {
    return ok(
      id,
      `${who}; sudo runs commands as root without a password${labs ? `, so ${labs} runs its root steps and container checks with sudo, in a terminal or headless` : ''}`,
    );
  }
  if (access === 'sudo-password') {
    if (!labs) return ok(id, `${who}; sudo asks for a password; no lab asked about needs root`);
    if (machine.account.sudoFresh)
      return ok(id, `${who}; sudo asks for your password, and it accepted your password in this terminal lately`);
    return warn(
      id,
      `${who}; sudo asks for your password, and doctor cannot tell whether it then lets you (a user without sudo rights gets the same answer)`,
      `run \`sudo -v\`: if it accepts your password, ${labs} can run; if it says you may not run sudo, ask for sudo rights (\`usermod -aG ${sudoGroup(distro)} ${name}\`, as root)`,
    );
  }
  const broken = sudoSaid ? `sudo does not work (${sudoSaid})` : 'sudo is not installed';
  if (!labs) return ok(id, `${who}, ${broken}; no lab asked about needs root`);
  const stuck = needRoot.filter((plan) => !rootlessPossible(ctx, plan));
  const group = sudoGroup(distro);
  const found = `${who}, and ${broken}: ${labs} needs root${stuck.length === needRoot.length ? '' : ` (lab ${labList(needRoot.filter((p) => !stuck.includes(p)))} can run rootless)`}`;
  const fix = `as root, install sudo (${installFix(['sudo'], distro, true)}) and add ${name} to the ${group} group (\`usermod -aG ${group} ${name}\`), then log in again`;
  if (stuck.length === 0) return warn(id, found, fix);
  return fail(
    id,
    found,
    fix,
    stuck.map((p) => p.lab.id),
  );
}

export function rootFinding(ctx: Context, plan: LabPlan): Draft {
  const id = `lab.${plan.lab.id}.root`;
  const { access, name } = ctx.machine.account;
  const lab = `lab ${plan.lab.id}`;
  if (!needsRoot(plan)) return ok(id, `${lab} needs no root`);
  const what = [
    ...(plan.rootSteps.length > 0
      ? [`${plan.rootSteps.length === 1 ? 'the step' : 'steps'} ${plan.rootSteps.map((s) => `"${s.title}"`).join(', ')}`]
      : []),
    ...(plan.probeSteps.length > 0 ? ['the container checks'] : []),
  ].join(' and ');
  switch (access) {
    case 'root':
      return ok(id, `root: ${what} of ${lab} run as root`);
    case 'sudo-nopasswd':
      return ok(id, `sudo without a password: ${what} of ${lab} run with sudo, in a terminal or headless`);
    case 'sudo-password':
      return warn(
        id,
        `sudo asking for a password: ${what} of ${lab} run with sudo, which asks on your terminal once (its timestamp spares the rest); a headless run (\`--yes\`, no terminal) cannot type it and stops at the first of them`,
        `do ${lab} with \`ocilab run ${plan.lab.id}\` in a terminal; for headless runs, passwordless sudo (a sudoers rule \`${name} ALL=(ALL) NOPASSWD: ALL\`)`,
      );
    case 'none':
      if (rootlessPossible(ctx, plan)) {
        return ok(
          id,
          `rootless: ${what} of ${lab} run without root, in a user namespace (the steps' rootless ways, and probes of a rootless bundle)`,
        );
      }
      return fail(
        id,
        `none: ${what} of ${lab} need root, and you have neither root nor sudo${plan.rootSteps.every((s) => s.rootlessWay) ? ', and containers without root cannot start here (see rootless.userns, rootless.runc)' : ''}`,
        'get sudo rights (see user)',
        [plan.lab.id],
      );
  }
}
