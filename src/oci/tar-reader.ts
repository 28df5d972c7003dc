// Reads a tar archive (plain or gzip) an entry at a time: each entry is handed to an async function,
// and the next is parsed only once it returns, so the input is read no faster than it is handled.
// Both readers of tarballs use it: the layer unpacker and the cache import.
import { Parser, type ReadEntry } from 'tar';

export interface EntryOptions {
  /** node-tar's strict mode (the default): a damaged header or a cut-off archive is a failure. */
  strict?: boolean;
  /** An entry node-tar leaves out (an extended header over its 1 MiB limit), in its turn; by default a failure. */
  ignored?: (entry: ReadEntry) => void;
  /** Whether a warning of node-tar's may pass, told its code and whether the archive's end was seen. */
  tolerate?: (code: string, sawEnd: boolean) => boolean;
  /** Aborting stops the reading, which rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Calls `handle` with each entry of `input`, in order; `handle` reads the entry's data (what it leaves
 * unread is skipped). A damaged archive rejects with `invalid(node-tar's message)`, as does anything
 * `handle` throws, after which nothing more is read; the entry being read then ends, so `handle` returns.
 */
export async function eachEntry(
  input: AsyncIterable<Buffer | string>,
  handle: (entry: ReadEntry) => Promise<void>,
  invalid: (message: string) => Error,
  options: EntryOptions = {},
): Promise<void> {
  const { strict = true, ignored, tolerate, signal } = options;
  const parser = new Parser({ strict });
  // Boxed: anything may be thrown, undefined included.
  let failure: { error: unknown } | undefined;
  let current: ReadEntry | undefined;
  let wake: (() => void) | undefined;
  const fail = (error: unknown): void => {
    failure ??= { error };
    // An entry waiting for data that will not come now ends, so its handler returns.
    current?.destroy();
    wake?.();
  };
  const until = (event: 'drain' | 'end'): Promise<void> =>
    new Promise((resolve) => {
      if (failure !== undefined) {
        resolve();
        return;
      }
      const done = (): void => {
        parser.off(event, done);
        wake = undefined;
        resolve();
      };
      parser.on(event, done);
      wake = done;
    });

  let handled: Promise<void> = Promise.resolve();
  const inTurn = (step: () => Promise<void> | void): void => {
    handled = handled.then(() => (failure === undefined ? step() : undefined)).catch(fail);
  };
  parser.on('entry', (entry: ReadEntry) => {
    inTurn(async () => {
      current = entry;
      await handle(entry);
      current = undefined;
      entry.resume();
    });
  });
  // Only an extended header too large to be one (node-tar's limit is 1 MiB) is ignored by node-tar.
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    if (ignored) inTurn(() => ignored(entry));
    else fail(invalid(`the entry ${entry.path} has an extended header too large to read`));
  });
  let sawEnd = false;
  parser.on('eof', () => (sawEnd = true));
  parser.on('warn', (code: string, message: string) => {
    if (!tolerate?.(code, sawEnd)) fail(invalid(message));
  });
  parser.on('error', (error: Error) => {
    fail(invalid(error.message));
  });

  const onAbort = (): void => {
    fail(signal?.reason);
  };
  signal?.addEventListener('abort', onAbort);
  try {
    signal?.throwIfAborted();
    for await (const chunk of input) {
      if (failure !== undefined) break;
      if (!parser.write(chunk)) await until('drain');
    }
    if (failure === undefined) {
      const ended = until('end');
      parser.end();
      await ended;
    }
  } catch (error) {
    fail(error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  await handled;
  if (failure !== undefined) throw failure.error;
}
