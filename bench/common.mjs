// Shared by the benchmarks: what to run, how often, and the median.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = process.env.OCILAB_BENCH_CLI ?? join(ROOT, 'dist', 'bin', 'ocilab.js');
export const RUNS = Number(process.env.BENCH_RUNS ?? 15);

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
