// Stands in for cli-highlight in the bundled ocilab (scripts/bundle.mjs aliases it here).
// cli-highlight registers every highlight.js language when it loads, which cost most of a second
// before the first step could be shown. Throwing makes marked-terminal fall back to its plain code
// colour, which is all a lab's short shell and JSON blocks need.
export function highlight(): string {
  throw new Error('syntax highlighting is left out of ocilab');
}
