// Reads a tar archive (plain or gzip) an entry at a time: each entry is handed to an async function,
// and the next is parsed only once it returns, so the input is read no faster than it is handled.
import { Parser, type ReadEntry } from 'tar';

/**
 * Calls `handle` with each entry of `input`, in order; `handle` reads the entry's data (what it leaves
 * unread is skipped). node-tar runs strict: a damaged header or a cut-off archive rejects with
 * `invalid(node-tar's message)`, as does anything `handle` throws, after which nothing more is read.
 */
export async function eachEntry(
  input: AsyncIterable<Buffer>,
  handle: (entry: ReadEntry) => Promise<void>,
  invalid: (message: string) => Error,
): Promise<void> {
  const parser = new Parser({ strict: true });
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
  parser.on('entry', (entry: ReadEntry) => {
    handled = handled
      .then(async () => {
        if (failure !== undefined) return;
        current = entry;
        await handle(entry);
        current = undefined;
        entry.resume();
      })
      .catch(fail);
  });
  // Only an extended header too large to be one (node-tar's limit is 1 MiB) is ignored by node-tar.
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    fail(invalid(`the entry ${entry.path} has an extended header too large to read`));
  });
  parser.on('warn', (_code: string, message: string) => {
    fail(invalid(message));
  });
  parser.on('error', (error: Error) => {
    fail(invalid(error.message));
  });

  try {
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
  }
  await handled;
  if (failure !== undefined) throw failure.error;
}
