// What every finding needs to know: the distribution, the account, the machine, and which labs use what.
import type { Way } from '../../lab/model.js';
import type { WayOption } from '../../runner/prompter.js';
import type { EngineState, Machine, Tool } from '../machine.js';
import { installFix, parseOsRelease, type Distribution } from '../os.js';
import { ENGINES, type Engine, type LabPlan } from '../plan.js';

export class Context {
  readonly distro: Distribution;
  readonly root: boolean;

  constructor(
    readonly plans: readonly LabPlan[],
    readonly machine: Machine,
  ) {
    this.distro = parseOsRelease(machine.osRelease);
    this.root = machine.account.uid === 0;
  }

  install(...commands: string[]): string {
    return installFix(commands, this.distro, this.root);
  }

  /** What doctor found of this engine; undefined when the name is no engine. */
  engine(name: string): EngineState | undefined {
    return isEngine(name) ? this.machine.engines[name] : undefined;
  }

  installed(command: string): boolean {
    const tool: Tool | undefined = isEngine(command) ? this.machine.engines[command] : this.machine.commands[command];
    return tool?.path !== undefined;
  }

  options(plan: LabPlan, stepId: string): WayOption[] {
    return this.machine.labs[plan.lab.id]?.ways[stepId] ?? [];
  }

  /**
   * The ways ocilab would take that make the lab need nothing of this variable, as `lab2 for "Get a
   * rootfs"`; undefined when some command or check the lab would run uses it, or no way names it.
   */
  waysAround(plan: LabPlan, variable: string): string | undefined {
    const uses = (text: string) => new RegExp(`\\$\\{?${variable}\\b`).test(text);
    const around: string[] = [];
    for (const step of plan.lab.steps) {
      if (step.checks.some((check) => check.kind === 'command' && uses(check.run))) return undefined;
      for (const action of step.actions) {
        if (action.kind === 'command' && uses(action.command.script)) return undefined;
        if (action.kind !== 'ways' || !action.ways.some((way) => uses(way.script))) continue;
        const picked = this.options(plan, step.id).find((o) => o.usable);
        if (!picked || uses(picked.way.script)) return undefined;
        around.push(`${picked.way.name} for "${step.title}"`);
      }
    }
    return around.length > 0 ? around.join(', ') : undefined;
  }

  /** The steps (of labs asked about) with a way that uses this command, and what each would do without it. */
  wayUses(command: string): string[] {
    const uses: string[] = [];
    for (const plan of this.plans) {
      for (const action of plan.wayActions) {
        if (!action.ways.some((way) => usesCommand(way, command))) continue;
        const picked = this.options(plan, action.stepId).find((o) => o.usable);
        uses.push(
          picked
            ? `lab ${plan.lab.id} uses the ${picked.way.name} way instead`
            : `no other way to "${action.title}" in lab ${plan.lab.id} works either (see lab.${plan.lab.id}.way.${action.stepId})`,
        );
      }
    }
    return uses;
  }
}

export const isEngine = (name: string): name is Engine => (ENGINES as readonly string[]).includes(name);

const usesCommand = (way: Way, command: string) => way.name === command || way.needs.includes(command);

export const labList = (plans: readonly LabPlan[]) => plans.map((p) => p.lab.id).join(', ');
