// Shows a pull as it goes, on stderr: on a terminal, one bar per layer (bytes and speed), redrawn in
// place; otherwise one line per layer as it is unpacked. Nothing goes to stdout, which scripts read.
import type { PullEvent, PullLayer } from '../oci/pull.js';

export interface PullProgressOptions {
  write: (text: string) => void;
  /** Draw bars redrawn in place; otherwise print one line per layer. */
  tty: boolean;
  /** Columns of the terminal. */
  width: number;
}

export interface PullProgress {
  onEvent: (event: PullEvent) => void;
  /** Something the user should know (an entry skipped, a tag that moved), on a line of its own. */
  note: (message: string) => void;
  /** Draws the last state; call once the pull ended, however it ended. */
  finish: () => void;
}

/** Bars are redrawn at most this often. */
const REDRAW_MS = 100;
const BAR_WIDTH = 20;

type Phase = 'waiting' | 'downloading' | 'downloaded' | 'unpacking' | 'done';

interface LayerState {
  layer: PullLayer;
  phase: Phase;
  received: number;
  read: number;
  downloadStarted?: number;
  downloadSeconds?: number;
  entries?: number;
  unpackSeconds?: number;
}

/** 1.5 kB, 12.3 MB, 1.02 GB: decimal units, as registries and docker show sizes. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

export function createPullProgress(options: PullProgressOptions): PullProgress {
  const layers: LayerState[] = [];
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  let lastDraw = 0;

  const label = (index: number) => `${index + 1}/${layers.length} ${layers[index]?.layer.digest.slice(0, 19) ?? ''}`;
  // On a terminal line the digest goes without its algorithm, so the bar and the figures fit in 80 columns.
  const shortLabel = (index: number) => `${index + 1}/${layers.length} ${layers[index]?.layer.digest.split(':')[1]?.slice(0, 12) ?? ''}`;

  const speed = (bytes: number, seconds: number) => (seconds > 0 ? `${formatSize(bytes / seconds)}/s` : '');

  const barLine = (state: LayerState, index: number): string => {
    const { layer, phase } = state;
    const shown = phase === 'unpacking' || phase === 'done' ? state.read : state.received;
    const filled = layer.size > 0 ? Math.min(BAR_WIDTH, Math.round((shown / layer.size) * BAR_WIDTH)) : BAR_WIDTH;
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    const seconds = state.downloadSeconds ?? (state.downloadStarted ? (performance.now() - state.downloadStarted) / 1000 : 0);
    const rate = layer.cached ? '' : speed(state.received, seconds);
    const what = layer.cached
      ? phase === 'done'
        ? 'from cache, unpacked'
        : phase === 'unpacking'
          ? 'from cache, unpacking'
          : 'in cache'
      : phase;
    const line = `${shortLabel(index)} ${bar} ${formatSize(shown)} / ${formatSize(layer.size)}${rate ? `  ${rate}` : ''}  ${what}`;
    return line.length > options.width - 1 ? line.slice(0, options.width - 1) : line;
  };

  const draw = (): void => {
    lastDraw = performance.now();
    const up = drawn > 0 ? `\x1b[${drawn}F` : '';
    options.write(`${up}${layers.map((s, i) => `\x1b[2K${barLine(s, i)}\n`).join('')}`);
    drawn = layers.length;
  };

  const redrawSoon = (): void => {
    if (!options.tty || timer) return;
    const wait = Math.max(0, REDRAW_MS - (performance.now() - lastDraw));
    timer = setTimeout(() => {
      timer = undefined;
      draw();
    }, wait);
  };

  const doneLine = (state: LayerState, index: number): string => {
    const { layer } = state;
    const fetched = layer.cached
      ? 'from the cache'
      : `downloaded in ${(state.downloadSeconds ?? 0).toFixed(1)} s${state.downloadSeconds ? ` (${speed(layer.size, state.downloadSeconds)})` : ''}`;
    return `layer ${label(index)}  ${formatSize(layer.size)}  ${fetched}, ${state.entries ?? 0} entries unpacked in ${(state.unpackSeconds ?? 0).toFixed(1)} s\n`;
  };

  return {
    onEvent(event) {
      if (event.type === 'image') {
        layers.push(...event.layers.map((layer): LayerState => ({ layer, phase: 'waiting', received: 0, read: 0 })));
        const total = event.layers.reduce((sum, l) => sum + l.size, 0);
        const cached = event.layers.filter((l) => l.cached).length;
        const platform = event.platform ? `, ${event.platform}` : '';
        const fromCache = cached > 0 ? ` (${cached} in the cache)` : '';
        const count = `${event.layers.length} layer${event.layers.length === 1 ? '' : 's'}`;
        options.write(`Pulling ${event.reference} (${event.digest}${platform}): ${count}, ${formatSize(total)}${fromCache}\n`);
        if (options.tty) draw();
        return;
      }
      const state = layers[event.layer];
      if (!state) return;
      switch (event.type) {
        case 'layer-download':
          state.downloadStarted ??= performance.now();
          state.received = event.received;
          if (state.phase === 'waiting') state.phase = 'downloading';
          break;
        case 'layer-downloaded':
          state.received = state.layer.size;
          state.downloadSeconds = event.seconds;
          if (state.phase !== 'unpacking') state.phase = 'downloaded';
          break;
        case 'layer-unpack':
          state.read = event.read;
          state.phase = 'unpacking';
          break;
        case 'layer-unpacked':
          state.read = state.layer.size;
          state.phase = 'done';
          state.entries = event.stats.entries;
          state.unpackSeconds = event.seconds;
          if (!options.tty) options.write(doneLine(state, event.layer));
          break;
      }
      redrawSoon();
    },
    note(message) {
      if (options.tty && drawn > 0) {
        // Above the bars: clear them, print the note, draw them again below it.
        options.write(`\x1b[${drawn}F\x1b[J${message}\n`);
        drawn = 0;
        draw();
      } else options.write(`${message}\n`);
    },
    finish() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (options.tty && layers.length > 0) draw();
    },
  };
}
