// The class roll-up as JSON, for an instructor's scripts: the matrix `ocilab class` prints, where each
// student is in each lab, and the files left out. Marked and versioned like a report, since scripts read it.
import type { ClassRollUp } from './class.js';

export const CLASS_FORMAT = 'ocilab-class';
export const CLASS_VERSION = 1;

export interface ClassJsonOptions {
  /** Files that were given but are not reports this ocilab reads, and why. */
  unread: readonly { file: string; reason: string }[];
  generatedAt: string;
  ocilab: string;
}

/** `steps` in the roll-up's order (most stuck first); each student's `cells[i]` is their status in `steps[i]`. */
export function classJson(roll: ClassRollUp, options: ClassJsonOptions): string {
  const document = {
    format: CLASS_FORMAT,
    version: CLASS_VERSION,
    generatedAt: options.generatedAt,
    ocilab: options.ocilab,
    steps: roll.steps,
    students: roll.students,
    unread: options.unread,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
