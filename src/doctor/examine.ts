// What doctor asks the machine for the labs asked about, and the Machine it puts together from the
// answers. The probes themselves are handed in (probes.ts has the live ones), so tests count the questions.
import type { Way } from '../lab/model.js';
import type { WayOption } from '../runner/prompter.js';
import type { Privilege } from '../sys/privilege.js';
import type { Account, Disk, EngineState, Kernel, LabState, Machine, Proxy, Reach, Rootless, Tool } from './machine.js';
import type { InitSystem } from './os.js';
import { commandsToProbe, ENGINES, type Engine, type LabPlan } from './plan.js';

export interface Probes {
  osRelease(): Promise<string | undefined>;
  init(): Promise<InitSystem>;
  account(): Promise<Account>;
  command(name: string): Promise<Tool>;
  engine(name: Engine, account: Account): Promise<EngineState>;
  kernel(): Promise<Kernel>;
  rootless(account: Account): Promise<Rootless>;
  ways(ways: readonly Way[], workdir: string, access: Privilege): Promise<WayOption[]>;
  registry(urls: readonly string[]): Promise<Reach[]>;
  disk(workdir: string): Promise<Disk>;
  proxy(): Promise<Proxy | undefined>;
}

/** Runs every probe the labs call for, at the same time; each registry is asked once. */
export async function examine(probes: Probes, plans: readonly LabPlan[]): Promise<Machine> {
  const account = await probes.account();
  const reaches = new Map<string, Promise<Reach[]>>();
  const reach = (urls: string[]) => {
    const key = urls.join(' ');
    let attempts = reaches.get(key);
    if (!attempts) {
      attempts = probes.registry(urls);
      reaches.set(key, attempts);
    }
    return attempts;
  };

  const labState = async (plan: LabPlan): Promise<[string, LabState]> => {
    const [ways, registries, disk] = await Promise.all([
      byName(
        plan.wayActions.map((a) => a.stepId),
        (stepId) => probes.ways(plan.wayActions.find((a) => a.stepId === stepId)?.ways ?? [], plan.workdir, account.access),
      ),
      byName(
        plan.registries.map((r) => r.host),
        (host) => reach(plan.registries.find((r) => r.host === host)?.urls ?? []),
      ),
      probes.disk(plan.workdir),
    ]);
    return [plan.lab.id, { ways, registries, disk }];
  };

  const [osRelease, init, commands, engines, kernel, rootless, proxy, labs] = await Promise.all([
    probes.osRelease(),
    probes.init(),
    byName(commandsToProbe(plans), (name) => probes.command(name)),
    byName(ENGINES, (name) => probes.engine(name, account)),
    probes.kernel(),
    account.access === 'root' ? undefined : probes.rootless(account),
    probes.proxy(),
    Promise.all(plans.map(labState)),
  ]);
  return {
    osRelease,
    init,
    account,
    commands,
    engines,
    kernel,
    ...(rootless ? { rootless } : {}),
    ...(proxy ? { proxy } : {}),
    labs: Object.fromEntries(labs),
  };
}

/** Asks the probe about every name at once; the answers by name. */
async function byName<N extends string, T>(names: readonly N[], probe: (name: N) => Promise<T>): Promise<Record<N, T>> {
  const answers = await Promise.all(names.map(async (name) => [name, await probe(name)] as const));
  return Object.fromEntries(answers) as Record<N, T>;
}
