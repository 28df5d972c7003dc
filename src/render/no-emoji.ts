// Stands in for node-emoji in the bundled ocilab (scripts/bundle.mjs aliases it here). ocilab turns
// marked-terminal's emoji option off, because `:name:` shortcodes would mangle text like host:port:
// lines, so the 300 KB emoji table need not load at all.
export function get(): undefined {
  return undefined;
}
