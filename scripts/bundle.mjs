// Bundles the tsc output into dist/bin/ocilab.js, the `ocilab` command. One file per lazily loaded
// part (split at each dynamic import) starts much faster than hundreds of small modules, and two
// heavy dependencies of marked-terminal that ocilab does not use are swapped for stand-ins
// (src/render/no-highlight.ts, src/render/no-emoji.ts).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry hashes: clear the last build's, or they pile up.
rmSync('dist/bin', { recursive: true, force: true });

await build({
  entryPoints: { ocilab: 'dist/cli/main.js' },
  outdir: 'dist/bin',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  alias: { 'cli-highlight': './dist/render/no-highlight.js', 'node-emoji': './dist/render/no-emoji.js' },
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as ocilabCreateRequire } from 'node:module'; const require = ocilabCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
