// The `handler.*` findings on the container engines (docker, podman, nerdctl): installed is not
// enough, `X info` must answer; and the fix that makes an installed engine work.
import { ok, warn, type Draft } from '../finding.js';
import type { EngineState } from '../machine.js';
import { startServiceFix } from '../os.js';
import { INFO_TIMEOUT_MS, type Engine } from '../plan.js';
import { describeTool } from './commands.js';
import type { Context } from './context.js';

export function engineFinding(ctx: Context, name: Engine): Draft {
  // Ids are stable for the scripts that read `doctor --json` (README), so engines keep the `handler.` prefix.
  const id = `handler.${name}`;
  const state = ctx.machine.engines[name];
  const uses = ctx.wayUses(name);
  if (!state.path) {
    return uses.length > 0
      ? warn(id, `${name} is not installed; ${uses.join('; ')}`, ctx.install(name))
      : ok(id, `${name} is not installed; no lab asked about uses it`);
  }
  if (state.info?.ok) return ok(id, `${describeTool(name, state)}; \`${name} info\` answers`);
  return warn(
    id,
    `${describeTool(name, state)}, but ${infoFailure(name, state)}${uses.length > 0 ? `; ${uses.join('; ')}` : ''}`,
    engineFix(ctx, name, state),
  );
}

/** What makes an engine that is installed work. */
export function engineFix(ctx: Context, name: Engine, state: EngineState): string {
  const said = state.info?.said ?? '';
  const { init } = ctx.machine;
  const user = ctx.machine.account.name;
  if (name === 'docker') {
    if (state.socket?.accessible === false || /permission denied/i.test(said)) {
      return `let ${user} use the Docker socket: \`sudo usermod -aG docker ${user}\`, then log in again (members of the docker group are root in effect); or use another way`;
    }
    if (state.info?.timedOut || /cannot connect|daemon running|connection refused|no such file/i.test(said)) {
      return `start the Docker daemon: ${startServiceFix('docker', init, ctx.root)}`;
    }
    return 'run `docker info` and fix what it reports';
  }
  if (name === 'podman') {
    return ctx.root
      ? 'run `podman info` and fix what it reports'
      : 'run `podman info` and fix what it reports; rootless podman needs an /etc/subuid entry (see rootless.subuid), then `podman system migrate`';
  }
  return ctx.root
    ? `nerdctl talks to containerd: ${startServiceFix('containerd', init, true)}`
    : 'nerdctl without root needs rootless containerd: `containerd-rootless-setuptool.sh install`';
}

export function infoFailure(name: string, state: EngineState): string {
  const said = state.info?.timedOut ? `no answer within ${INFO_TIMEOUT_MS / 1000} s` : state.info?.said || 'it exits with an error';
  const socket = state.socket && !state.socket.accessible ? `; you may not use ${state.socket.path}` : '';
  return `\`${name} info\` fails: ${said}${socket}`;
}
