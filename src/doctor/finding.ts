// What one doctor check says about this machine, and the three ways to say it. A finding fails only
// when it stops a lab asked about from running; everything else is at most a warning.

export type Status = 'ok' | 'warn' | 'fail';

export interface Finding {
  /** Stable: `runtime.runc`, `handler.docker`, `lab.tags.registry.registry.k8s.io`. */
  id: string;
  status: Status;
  /** What is true on this machine. */
  found: string;
  /** What to do about it on this distribution; empty when the status is ok. */
  fix: string;
}

/** A finding and the labs it stops (only failures stop labs). */
export interface Draft extends Finding {
  blocks: string[];
}

export const ok = (id: string, found: string): Draft => ({ id, status: 'ok', found, fix: '', blocks: [] });

export const warn = (id: string, found: string, fix: string): Draft => ({ id, status: 'warn', found, fix, blocks: [] });

export const fail = (id: string, found: string, fix: string, blocks: string[]): Draft => ({ id, status: 'fail', found, fix, blocks });
