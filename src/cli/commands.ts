// Every `ocilab` command: its line in the main help, and how to load it (only when it runs).
// Only main.ts imports this list; a command never does, so commands form no circle with it.
import type { AnyCommand } from './command.js';

export interface CommandEntry {
  /** How it is called, after `ocilab`: `pull <image> --rootfs DIR`. */
  usage: string;
  summary: string;
  load: () => Promise<{ default: AnyCommand }>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  list: { usage: 'list', summary: 'list the labs and your progress', load: () => import('./commands/list.js') },
  run: { usage: 'run <lab>', summary: 'do a lab, step by step', load: () => import('./commands/run.js') },
  shell: { usage: 'shell [<lab>]', summary: "type a step yourself in ocilab's shell", load: () => import('./commands/shell.js') },
  check: { usage: 'check', summary: "in ocilab's shell: check the step now", load: () => import('./commands/check.js') },
  verify: { usage: 'verify <lab>', summary: 'check the workspace without running anything', load: () => import('./commands/verify.js') },
  reset: {
    usage: 'reset <lab>|--all',
    summary: 'forget your progress in a lab, or in every lab',
    load: () => import('./commands/reset.js'),
  },
  prove: { usage: 'prove <lab>', summary: "show that a lab's checks can fail and do pass", load: () => import('./commands/prove.js') },
  lint: { usage: 'lint <file>...', summary: 'check lab and workshop files for mistakes', load: () => import('./commands/lint.js') },
  new: { usage: 'new <lab.md>', summary: 'write a new lab to start authoring from', load: () => import('./commands/new.js') },
  doctor: { usage: 'doctor [<lab>...]', summary: 'check that this machine can do the labs', load: () => import('./commands/doctor.js') },
  tags: { usage: 'tags <repository>', summary: 'list every tag of an image repository', load: () => import('./commands/tags.js') },
  pull: {
    usage: 'pull <image> --rootfs DIR',
    summary: 'unpack an image into a directory, or into an OCI layout (--layout)',
    load: () => import('./commands/pull.js'),
  },
  cache: {
    usage: 'cache export|import <file>',
    summary: 'carry the image cache to machines without the network',
    load: () => import('./commands/cache.js'),
  },
  report: {
    usage: 'report',
    summary: 'summarise your progress (--json, --junit FILE, --html FILE)',
    load: () => import('./commands/report.js'),
  },
  class: {
    usage: 'class <report.json|dir>...',
    summary: "roll up students' reports into one matrix",
    load: () => import('./commands/class.js'),
  },
};
