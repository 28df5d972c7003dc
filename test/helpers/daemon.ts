// A real daemon for a test (the registry, an sshd) on a loopback port free when picked: started again
// on another port when it exits early because the port was taken in between, and stopped TERM then KILL.
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { closedPort } from './fake-registries.js';

const START_ATTEMPTS = 3;
const STOP_TIMEOUT_MS = 5_000;
/** Enough of the daemon's own log to explain why it did not start. */
const LOG_TAIL_CHARS = 4_000;

export interface DaemonSpec {
  /** The program, as the error names it. */
  file: string;
  /** Its arguments for a port, after writing whatever configuration that port needs. */
  argsFor: (port: number) => Promise<string[]>;
  /** Whether it answers on the port yet. */
  answers: (port: number) => Promise<boolean>;
  /** What `answers` asks, for the error: `GET http://127.0.0.1:PORT/v2/`. */
  asked: (port: number) => string;
  readyTimeoutMs: number;
}

/** Starts the daemon and resolves once it answers; throws with its log after three tries. */
export async function startDaemon(spec: DaemonSpec): Promise<{ port: number; child: ResultPromise }> {
  let lastError = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await closedPort();
    const child = execa(spec.file, await spec.argsFor(port), {
      reject: false,
      stdin: 'ignore',
      stdout: 'ignore',
      buffer: false,
      cleanup: true,
    });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-LOG_TAIL_CHARS);
    });
    let exited = false;
    void child.then(() => {
      exited = true;
    });
    const deadline = Date.now() + spec.readyTimeoutMs;
    while (!exited && Date.now() < deadline) {
      if (await spec.answers(port)) return { port, child };
      await sleep(100);
    }
    await stopProcess(child);
    const started = await child;
    lastError = exited
      ? `${spec.file} exited (${started.exitCode ?? started.signal}) on port ${port}:\n${log}`
      : `${spec.file} did not answer ${spec.asked(port)} within ${spec.readyTimeoutMs} ms:\n${log}`;
  }
  throw new Error(lastError);
}

/** TERM, then KILL if it has not ended within five seconds. */
export async function stopProcess(child: ResultPromise): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const exited = await Promise.race([child.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
  if (!exited) {
    child.kill('SIGKILL');
    await child;
  }
}
