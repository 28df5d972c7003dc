// What doctor looks at for the labs asked about: the commands they use, their ways, and the
// registries their variables point to. Pure: derived from the lab model and the variable values.
import type { Lab, Way } from '../lab/model.js';
import { expand, references } from '../lab/variables.js';
import { registryOf } from '../oci/reference.js';
import { isLoopback } from '../oci/scheme.js';

/** The OCI runtimes doctor reports on, whether a lab needs them or not. */
export const RUNTIMES = ['runc', 'crun'] as const;
/** The container engines a lab's ways use to get images; doctor checks that they work, not only that they exist. */
export const ENGINES = ['docker', 'podman', 'nerdctl'] as const;
export type Engine = (typeof ENGINES)[number];
/** How long `X info` may take: as long as the ways' probes (runner/ways.ts), so doctor and `ocilab run` agree on a slow daemon. */
export const INFO_TIMEOUT_MS = 10_000;
/** The tools the shipped labs use. */
export const TOOLS = ['curl', 'jq', 'crane', 'tar'] as const;

/** Variables holding an image reference; the registry the image comes from must be reachable. */
const IMAGE_VARIABLES = ['img', 'image'];

export interface LabPlan {
  lab: Lab;
  vars: Record<string, string>;
  /** Where the lab's workspace is (or will be). */
  workdir: string;
  /** Each step that offers several ways, with its ways in the lab's order. */
  wayActions: { stepId: string; title: string; ways: Way[] }[];
  registries: RegistryTarget[];
  /** Each step with a command that needs root, and whether it offers a way that needs none. */
  rootSteps: { stepId: string; title: string; rootlessWay: boolean }[];
  /** The steps whose checks start a container (probes): they need root, sudo, or a rootless bundle. */
  probeSteps: { stepId: string; title: string }[];
}

export interface RegistryTarget {
  /** As it goes in an image reference: `registry.k8s.io`, `127.0.0.1:5000`. */
  host: string;
  /** The `/v2/` URLs to try, in order; the first that answers decides. */
  urls: string[];
  /** Where the lab takes it from, in the user's words: "the lab's scheme and host", "the registry of the image busybox". */
  source: string;
  /** The variables that set it, for the fix (`--var host=...`). */
  variables: string[];
}

export function planLab(lab: Lab, vars: Record<string, string>, workdir: string): LabPlan {
  const wayActions = lab.steps.flatMap((step) =>
    step.actions.flatMap((action) => (action.kind === 'ways' ? [{ stepId: step.id, title: step.title, ways: action.ways }] : [])),
  );
  // Steps where root is used at all: `step.root` says only whether root is unavoidable.
  const rootSteps = lab.steps
    .filter((step) => step.actions.some((a) => (a.kind === 'command' ? a.command.root : a.kind === 'ways' && a.ways.some((w) => w.root))))
    .map((step) => ({
      stepId: step.id,
      title: step.title,
      // Root is avoidable only where the step's every root command is one way among others that need none.
      rootlessWay: step.actions.every((action) =>
        action.kind === 'command' ? !action.command.root : action.kind === 'ways' ? action.ways.some((way) => !way.root) : true,
      ),
    }));
  const probeSteps = lab.steps.filter((step) => step.checks.some((c) => c.kind === 'probe')).map((s) => ({ stepId: s.id, title: s.title }));
  return { lab, vars, workdir, wayActions, registries: registriesOf(lab, vars), rootSteps, probeSteps };
}

/**
 * The registries a lab talks to: those its `tags` checks ask (with the scheme they give), then the
 * registry of each image variable whose host is not among them yet.
 */
export function registriesOf(lab: Lab, vars: Record<string, string>): RegistryTarget[] {
  const targets: RegistryTarget[] = [];
  const known = new Set<string>();
  for (const check of lab.steps.flatMap((step) => step.checks)) {
    if (check.kind !== 'tags') continue;
    const base = expand(check.registry, vars).replace(/\/+$/, '');
    const host = /^[a-z]+:\/\/([^/]+)/i.exec(base)?.[1] ?? base;
    if (known.has(host)) continue;
    known.add(host);
    const variables = references(check.registry);
    targets.push({
      host,
      urls: [`${base}/v2/`],
      source: variables.length > 0 ? `the lab's ${variables.join(' and ')}` : check.registry,
      variables,
    });
  }
  for (const name of IMAGE_VARIABLES) {
    const reference = vars[name];
    if (!reference || !lab.variables.some((v) => v.name === name)) continue;
    const { host, apiHost } = imageRegistry(reference);
    if (known.has(host) || known.has(apiHost)) continue;
    known.add(host);
    // docker (and podman with an insecure registries.conf entry) fall back to plain HTTP on loopback.
    const urls = isLoopback(apiHost) ? [`https://${apiHost}/v2/`, `http://${apiHost}/v2/`] : [`https://${apiHost}/v2/`];
    targets.push({ host: apiHost, urls, source: `the registry of the image ${reference}`, variables: [name] });
  }
  return targets;
}

/** The registry of an image reference as it goes in the reference (`host`) and where its API is (`apiHost`). */
export function imageRegistry(reference: string): { host: string; apiHost: string } {
  const { registry, host } = registryOf(reference);
  return { host: registry, apiHost: host };
}

/** Every command doctor looks up for these labs: runtimes, the usual tools, and whatever the labs name. */
export function commandsToProbe(plans: readonly LabPlan[]): string[] {
  const names = new Set<string>([...RUNTIMES, ...TOOLS]);
  for (const { lab, wayActions } of plans) {
    for (const command of lab.requires.commands) names.add(command);
    for (const way of wayActions.flatMap((a) => a.ways)) for (const command of way.needs) names.add(command);
  }
  for (const engine of ENGINES) names.delete(engine);
  return [...names];
}
