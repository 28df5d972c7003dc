// The `lab.<id>.registry.<host>` findings: does each registry a lab talks to answer `GET /v2/`, and
// when it does not, whether the proxy that lab commands would use may still reach it.
import { fail, ok, warn, type Draft } from '../finding.js';
import type { Proxy, Reach } from '../machine.js';
import { proxyFor as proxySetting } from '../../oci/network.js';
import type { LabPlan, RegistryTarget } from '../plan.js';
import type { Context } from './context.js';

/** A registry answers 200, or 401 when it wants a token first. */
const REACHABLE = new Set([200, 401]);

export function registryFinding(ctx: Context, plan: LabPlan, target: RegistryTarget): Draft {
  const id = `lab.${plan.lab.id}.registry.${target.host}`;
  const attempts: Reach[] = ctx.machine.labs[plan.lab.id]?.registries[target.host] ?? [];
  const answered = attempts.find((a) => a.status !== undefined);
  const failed = attempts.filter((a) => a.error !== undefined).map((a) => `${a.url}: ${a.error}`);
  const via = answered?.finalUrl ? ` after redirects to ${answered.finalUrl}` : '';
  const what = `${target.host} (${target.source})`;
  if (answered?.status !== undefined && REACHABLE.has(answered.status)) {
    const token = answered.status === 401 ? ', which asks for a token as registries may' : '';
    const before = failed.length > 0 ? ` (first tried ${failed.join('; ')})` : '';
    return ok(id, `${what} answers: GET ${answered.url} got ${answered.status}${via}${token}${before}`);
  }
  const elsewhere = `to use another registry: \`ocilab run ${plan.lab.id} ${target.variables.map((v) => `--var ${v}=...`).join(' ')}\``;
  if (answered) {
    return fail(
      id,
      `${what} is no registry: GET ${answered.url} got ${answered.status}${via}, not 200 or 401`,
      `check the address; ${elsewhere}`,
      [plan.lab.id],
    );
  }
  if (attempts.some((a) => a.refusedPort)) {
    return warn(
      id,
      `doctor cannot check ${what}: ${failed.join('; ')}`,
      `check it yourself: \`curl -sI ${target.urls[target.urls.length - 1]}\`; or give the registry another port`,
    );
  }
  const proxy = proxyFor(target.host, ctx.machine.proxy);
  if (proxy) {
    return warn(
      id,
      `${what} cannot be reached directly: ${failed.join('; ')}; doctor does not go through the proxy ${proxy}, which lab commands may use`,
      `check that the proxy reaches it: \`curl -sI ${target.urls[0]}\`; ${elsewhere}`,
    );
  }
  const around = target.variables.length === 1 && target.variables[0] ? ctx.waysAround(plan, target.variables[0]) : undefined;
  if (around) {
    return warn(
      id,
      `${what} cannot be reached: ${failed.join('; ') || 'no attempt'}; the lab does not need it while ocilab uses ${around}`,
      `check the address, this machine's network and firewall before another way needs it; ${elsewhere}`,
    );
  }
  return fail(
    id,
    `${what} cannot be reached: ${failed.join('; ') || 'no attempt'}`,
    `check the address, this machine's network and firewall; ${elsewhere}`,
    [plan.lab.id],
  );
}

/** The proxy that lab commands (curl, docker...) would use for this host; loopback always goes direct. */
function proxyFor(host: string, proxy: Proxy | undefined): string | undefined {
  if (!proxy) return undefined;
  // NO_PROXY is matched as curl matches it, by oci/network's one reading of it.
  return proxySetting(new URL(`https://${host}/`), { https_proxy: proxy.url, no_proxy: proxy.noProxy.join(',') })?.url;
}
