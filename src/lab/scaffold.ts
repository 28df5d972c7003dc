// The lab `ocilab new` writes: the smallest lab with each part an author starts from (front matter, a
// reading step, a step with a command and its checks, a hint), which lints and proves as it is.

const FENCE = '```';

export interface ScaffoldNames {
  id: string;
  title: string;
}

/** The id and title a lab file's name suggests: `03-our-registry.md` → `our-registry`, "Our registry". */
export function namesFromFile(fileName: string): ScaffoldNames {
  const stem = fileName.replace(/\.md$/i, '').replace(/^\d+[-_ ]*/, '');
  const id =
    stem
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'my-lab';
  const words = id.replace(/-/g, ' ');
  return { id, title: words.charAt(0).toUpperCase() + words.slice(1) };
}

export function labScaffold({ id, title }: ScaffoldNames): string {
  return `---
ocilab: 1
id: ${id}
title: ${title}
summary: One sentence on what the learner does, shown in \`ocilab list\` and the menu.
duration: 10 min
requires:
  commands: []
  root: false
variables:
  greeting:
    default: hello
    description: What the learner writes into the file (a workshop can set it, e.g. lab-variables of ${id})
---

# ${title}

A paragraph or two on what this lab is for and what the learner can do at its end. ocilab shows it
before the first step. docs/lab-format.md describes everything a lab can hold.

## What you will do

A reading step: prose only, no commands and no checks. ocilab shows it and moves on. Reading steps
explain an idea just before the learner needs it.

## Write a file

Every \`##\` heading starts a step. This one has a command and checks. The learner lets ocilab run
the command, or types it in ocilab's shell, or does it elsewhere: the checks decide whether the step
is done. Lab variables reach commands as environment variables: \`$greeting\` is the shell's own.

${FENCE}sh {"run": true}
echo "$greeting" > greeting.txt
${FENCE}

${FENCE}yaml {"checks": true}
- file: greeting.txt
  type: file
  notEmpty: true
  title: greeting.txt is there
- command: grep -qx "$greeting" greeting.txt
  title: greeting.txt holds the greeting
${FENCE}

> [!TIP]
> \`echo "$greeting" > greeting.txt\` writes it; \`cat greeting.txt\` shows what is in it.
`;
}
