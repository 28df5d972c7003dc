import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandsToProbe, imageRegistry, planLab, registriesOf } from '../../src/doctor/plan.js';
import type { Lab } from '../../src/lab/model.js';
import { parseLab } from '../../src/lab/parse.js';
import { resolveVariables } from '../../src/lab/variables.js';

function shipped(file: string): Lab {
  const result = parseLab(readFileSync(join(import.meta.dirname, '..', '..', 'labs', file), 'utf8'), file);
  if (!result.ok) throw new Error(`${file} does not parse`);
  return result.lab;
}
const tags = shipped('01-tags.md');
const runc = shipped('02-runc.md');

describe('the registry of an image reference', () => {
  it.each([
    ['busybox', 'docker.io', 'registry-1.docker.io'],
    ['library/busybox:1.36', 'docker.io', 'registry-1.docker.io'],
    ['docker.io/library/busybox', 'docker.io', 'registry-1.docker.io'],
    ['ghcr.io/org/tool:v1', 'ghcr.io', 'ghcr.io'],
    ['localhost/busybox', 'localhost', 'localhost'],
    ['127.0.0.1:5000/library/busybox:1.36', '127.0.0.1:5000', '127.0.0.1:5000'],
  ])('%s comes from %s (API at %s)', (reference, host, apiHost) => {
    expect(imageRegistry(reference)).toEqual({ host, apiHost });
  });
});

describe("the registries a lab's variables point to", () => {
  it("takes lab 1's registry from its tags check, with the lab's scheme", () => {
    expect(registriesOf(tags, resolveVariables(tags, {}))).toEqual([
      {
        host: 'registry.k8s.io',
        urls: ['https://registry.k8s.io/v2/'],
        source: "the lab's scheme and host",
        variables: ['scheme', 'host'],
      },
    ]);
    const local = resolveVariables(tags, { scheme: 'http', host: '127.0.0.1:5000' });
    expect(registriesOf(tags, local).map((r) => r.urls)).toEqual([['http://127.0.0.1:5000/v2/']]);
  });

  it("derives lab 2's registry from its image, and tries plain HTTP only on loopback", () => {
    expect(registriesOf(runc, resolveVariables(runc, {}))).toEqual([
      {
        host: 'registry-1.docker.io',
        urls: ['https://registry-1.docker.io/v2/'],
        source: 'the registry of the image busybox',
        variables: ['img'],
      },
    ]);
    const local = resolveVariables(runc, { img: '127.0.0.1:5000/library/busybox:1.36' });
    expect(registriesOf(runc, local).map((r) => r.urls)).toEqual([['https://127.0.0.1:5000/v2/', 'http://127.0.0.1:5000/v2/']]);
  });

  it('knows loopback by its name in any case', () => {
    const local = resolveVariables(runc, { img: 'LOCALHOST:5000/library/busybox:1.36' });
    expect(registriesOf(runc, local).map((r) => r.urls)).toEqual([['https://LOCALHOST:5000/v2/', 'http://LOCALHOST:5000/v2/']]);
  });
});

describe('what doctor looks at for the labs', () => {
  it('collects the ways of each step that offers several', () => {
    const plan = planLab(runc, resolveVariables(runc, {}), '/w');
    expect(plan.wayActions.map((a) => [a.stepId, a.ways.map((w) => w.name)])).toEqual([
      ['build-the-root-filesystem', ['docker', 'podman', 'nerdctl', 'builtin']],
      ['generate-the-runtime-spec', ['root', 'rootless']],
      ['run-the-container', ['root', 'rootless']],
    ]);
  });

  it('probes the runtimes, the usual tools and what the labs name, but not the handlers', () => {
    const plans = [planLab(tags, resolveVariables(tags, {}), '/a'), planLab(runc, resolveVariables(runc, {}), '/b')];
    expect(commandsToProbe(plans).sort()).toEqual(['crane', 'crun', 'curl', 'jq', 'ocilab', 'runc', 'tar', 'unshare']);
  });
});
