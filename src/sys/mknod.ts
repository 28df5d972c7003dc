// Device nodes and FIFOs: Node has no mknod(2), so mknod(1) makes them.
import { dirname } from 'node:path';
import { runProcess } from './exec.js';

const MKNOD_TIMEOUT_MS = 10_000;

export interface SpecialNode {
  path: string;
  kind: 'character device' | 'block device' | 'fifo';
  /** Permission bits; anything above 0o777 is left to the caller's chmod. */
  mode: number;
  major: number;
  minor: number;
}

/** Makes the node; resolves to undefined when it was made, else to what went wrong, in mknod's words. */
export async function mknod(node: SpecialNode, signal?: AbortSignal): Promise<string | undefined> {
  const type = { 'character device': 'c', 'block device': 'b', fifo: 'p' }[node.kind];
  const numbers = node.kind === 'fifo' ? [] : [String(node.major), String(node.minor)];
  const result = await runProcess('mknod', ['-m', (node.mode & 0o777).toString(8), node.path, type, ...numbers], {
    cwd: dirname(node.path),
    timeoutMs: MKNOD_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode === 0) return undefined;
  const said = result.startError ?? result.output.trim();
  if (said !== '') return said;
  return result.exitCode === undefined ? 'it was ended by a signal' : `exit status ${result.exitCode}`;
}
