// The `runtime.*` and `tool.*` findings: is each command on PATH, which version, and which labs need
// or use it when it is missing.
import { fail, ok, warn, type Draft } from '../finding.js';
import type { Tool } from '../machine.js';
import { labList, type Context } from './context.js';

export function commandFinding(ctx: Context, name: string, id: string): Draft {
  const tool = ctx.machine.commands[name];
  if (tool?.path) return ok(id, describeTool(name, tool));
  const requiredBy = ctx.plans.filter((p) => p.lab.requires.commands.includes(name));
  if (requiredBy.length > 0) {
    return fail(
      id,
      `${name} is not installed; lab ${labList(requiredBy)} needs it`,
      ctx.install(name),
      requiredBy.map((p) => p.lab.id),
    );
  }
  const uses = ctx.wayUses(name);
  if (uses.length > 0) return warn(id, `${name} is not installed; ${uses.join('; ')}`, ctx.install(name));
  return ok(id, `${name} is not installed; no lab asked about uses it`);
}

/** "runc 1.1.5 (OCI runtime spec 1.0.2-dev) at /usr/sbin/runc", from what `--version` printed. */
export function describeTool(name: string, tool: Tool): string {
  const firstLine = tool.versionText?.split('\n')[0] ?? '';
  const version = /\d+(?:\.\d+)+[^\s,)]*/.exec(firstLine)?.[0];
  const spec = /^spec:\s*(\S+)/m.exec(tool.versionText ?? '')?.[1];
  return `${name}${version ? ` ${version}` : ''}${spec ? ` (OCI runtime spec ${spec})` : ''} at ${tool.path}`;
}
