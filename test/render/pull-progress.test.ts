import { describe, expect, it, vi } from 'vitest';
import type { PullEvent, PullLayer } from '../../src/oci/pull.js';
import { createPullProgress, formatSize } from '../../src/render/pull-progress.js';

const LAYERS: PullLayer[] = [
  { digest: `sha256:${'a'.repeat(64)}`, size: 2_000_000, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', cached: false },
  { digest: `sha256:${'b'.repeat(64)}`, size: 500, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', cached: true },
];
const STATS = { entries: 12, bytes: 100, whiteouts: 0, skipped: 0 };

const EVENTS: PullEvent[] = [
  { type: 'image', reference: 'example.com/x/y:1.0', digest: `sha256:${'c'.repeat(64)}`, platform: 'linux/amd64', layers: LAYERS },
  { type: 'layer-download', layer: 0, received: 0 },
  { type: 'layer-download', layer: 0, received: 1_000_000 },
  { type: 'layer-unpack', layer: 1, read: 500 },
  { type: 'layer-unpacked', layer: 1, stats: STATS, seconds: 0.01 },
  { type: 'layer-downloaded', layer: 0, seconds: 0.5 },
  { type: 'layer-unpack', layer: 0, read: 2_000_000 },
  { type: 'layer-unpacked', layer: 0, stats: STATS, seconds: 0.7 },
];

function render(tty: boolean) {
  const written: string[] = [];
  const progress = createPullProgress({ write: (t) => written.push(t), tty, width: 100 });
  for (const event of EVENTS) progress.onEvent(event);
  progress.note('The tag 1.0 has moved.');
  progress.finish();
  return written.join('');
}

describe('pull progress', () => {
  it.each([
    [999, '999 B'],
    [1_500, '1.50 kB'],
    [12_345_678, '12.3 MB'],
    [1_020_000_000, '1.02 GB'],
  ])('writes %d bytes as %s', (bytes, text) => expect(formatSize(bytes)).toBe(text));

  it('prints a header and one line per layer as it is unpacked when stderr is not a terminal', () => {
    expect(render(false)).toBe(
      `Pulling example.com/x/y:1.0 (sha256:${'c'.repeat(64)}, linux/amd64): 2 layers, 2.00 MB (1 in the cache)\n` +
        'layer 2/2 sha256:bbbbbbbbbbbb  500 B  from the cache, 12 entries unpacked in 0.0 s\n' +
        'layer 1/2 sha256:aaaaaaaaaaaa  2.00 MB  downloaded in 0.5 s (4.00 MB/s), 12 entries unpacked in 0.7 s\n' +
        'The tag 1.0 has moved.\n',
    );
  });

  it('draws a bar per layer on a terminal, redrawn in place, and puts notes above the bars', () => {
    vi.useFakeTimers();
    try {
      const out = render(true);
      const frames = out.split('\x1b[2F');
      const last = frames.at(-1) ?? '';
      expect(last).toContain(`1/2 aaaaaaaaaaaa [${'#'.repeat(20)}] 2.00 MB / 2.00 MB  4.00 MB/s  done`);
      expect(last).toContain(`2/2 bbbbbbbbbbbb [${'#'.repeat(20)}] 500 B / 500 B  from cache, unpacked`);
      for (const line of last.split('\n')) expect(line.length).toBeLessThan(80);
      // The bars are cleared, the note printed, and the bars drawn again below it.
      expect(out).toContain('\x1b[2F\x1b[JThe tag 1.0 has moved.\n\x1b[2K1/2');
    } finally {
      vi.useRealTimers();
    }
  });
});
