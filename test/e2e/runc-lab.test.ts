// Lab 2 (busybox under bare runc) run headless as root against a real registry, with podman and with
// docker; `verify` on a workspace where the learner forgot one edit; and lab variables that try to
// inject shell. config.json is judged independently with the OCI runtime-spec JSON Schema.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pushBusybox, removeLocalCopies, type Engine } from '../helpers/image.js';
import { startRegistry, writeRegistriesConf, type Registry } from '../helpers/registry.js';
import { configValidator } from '../helpers/runtime-schema.js';
import { dockerUsable, isRoot, podmanUsable, registryToolsUsable, skipUnless } from '../helpers/services.js';

const noLab = skipUnless(
  isRoot() && (await registryToolsUsable()),
  'lab 2 needs root (runc probes) and docker-registry, busybox-static, umoci and skopeo',
);
const noPodman = noLab || skipUnless(await podmanUsable(), 'podman is not usable here (`podman info` fails)');
const noDocker = noLab || skipUnless(await dockerUsable(), 'dockerd is not reachable (`docker info` fails)');

interface RuntimeConfig {
  hostname?: string;
  process?: { args?: string[]; terminal?: boolean };
  root?: { path?: string; readonly?: boolean };
}

async function readConfig(workdir: string): Promise<RuntimeConfig> {
  return JSON.parse(await readFile(join(workdir, 'config.json'), 'utf8')) as RuntimeConfig;
}

/** Ids of the containers runc knows about (its default state directory, where the lab and probes run). */
async function runcContainers(): Promise<string[]> {
  const listed = await execa('runc', ['list', '--format', 'json'], { reject: false });
  expect(listed.exitCode, listed.stderr).toBe(0);
  const containers = JSON.parse(listed.stdout || 'null') as { id: string }[] | null;
  return (containers ?? []).map((c) => c.id);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** `ocilab verify --json` output, as the README documents it. */
const VERIFY_REPORT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['lab', 'passed', 'steps'],
  properties: {
    lab: { type: 'string', pattern: '^[a-z0-9-]+$' },
    passed: { type: 'boolean' },
    steps: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'title', 'status', 'checks'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9-]+$' },
          title: { type: 'string', minLength: 1 },
          status: { enum: ['passed', 'failed', 'skipped', 'error'] },
          checks: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['kind', 'status', 'message'],
              properties: {
                kind: { enum: ['command', 'output', 'file', 'json', 'probe', 'tags'] },
                status: { enum: ['passed', 'failed', 'error'] },
                message: { type: 'string', minLength: 1 },
                label: { type: 'string' },
                expected: { type: 'string' },
                actual: { type: 'string' },
                hint: { type: 'string' },
              },
              if: { properties: { status: { const: 'failed' } } },
              then: { required: ['expected', 'actual'] },
            },
          },
        },
      },
    },
  },
} as const;

interface VerifyReport {
  lab: string;
  passed: boolean;
  steps: {
    id: string;
    title: string;
    status: string;
    checks: { kind: string; status: string; message: string; expected?: string; actual?: string; hint?: string }[];
  }[];
}

describe.skipIf(noLab)('lab 2: run busybox with bare runc', () => {
  let registry: Registry;
  let dir: string;
  let image: string;
  /** Lets podman pull from the plain-HTTP test registry; handed to ocilab, which hands it on. */
  let registriesConf: string;
  let validateConfig: (config: unknown) => string[];

  beforeAll(async () => {
    registry = await startRegistry();
    image = await pushBusybox(registry.host);
    dir = await mkdtemp(join(tmpdir(), 'ocilab-runc-lab-'));
    registriesConf = await writeRegistriesConf(registry.host, dir);
    validateConfig = await configValidator();
  });

  afterAll(async () => {
    if (!noPodman) await removeLocalCopies('podman', image);
    if (!noDocker) await removeLocalCopies('docker', image);
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const workspace = () => mkdtemp(join(dir, 'work-'));
  const env = () => ({ CONTAINERS_REGISTRIES_CONF: registriesConf });

  /** Runs the whole lab headless with one way of getting the rootfs, then judges the workspace. */
  async function runsTheLab(engine: Engine) {
    const workdir = await workspace();
    const stateHome = await mkdtemp(join(dir, 'state-'));
    const cliEnv = { ...env(), XDG_STATE_HOME: stateHome };
    const result = await runCli(['run', '2', '--yes', '--use', engine, '--workdir', workdir, '--var', `img=${image}`], { env: cliEnv });
    expect(result.exitCode, result.all).toBe(0);

    expect(await isFile(join(workdir, 'rootfs', 'bin', 'busybox')), 'rootfs/bin/busybox').toBe(true);
    const config = await readConfig(workdir);
    expect(config.hostname).toBe('runc-demo');
    expect(config.process?.args).toEqual(['sh']);
    expect(validateConfig(config), 'config.json against the OCI runtime-spec schema').toEqual([]);

    // The interactive `sudo runc run demo` is skipped headless; the probes ran instead and passed.
    expect(result.stdout).toMatch(/✓/);
    expect(result.stdout).not.toMatch(/✗/);
    const verified = await runCli(['verify', '2', '--json', '--use', engine, '--workdir', workdir, '--var', `img=${image}`], {
      env: cliEnv,
    });
    expect(verified.exitCode, verified.all).toBe(0);
    const report = JSON.parse(verified.stdout) as VerifyReport;
    expect(report.passed).toBe(true);
    const probes = report.steps.flatMap((s) => s.checks).filter((c) => c.kind === 'probe');
    expect(probes.length, 'the lab has probe checks').toBeGreaterThan(0);
    for (const probe of probes) expect(probe.status, probe.message).toBe('passed');

    const left = await runcContainers();
    expect(left).not.toContain('demo');
    expect(left.filter((id) => id.startsWith('ocilab'))).toEqual([]);

    const leftovers = await removeLocalCopies(engine, image);
    if (leftovers.length > 0) console.info(`lab 2 with ${engine} left ${leftovers.length} created container(s) of ${image}; removed`);
  }

  describe.skipIf(noPodman)('with podman', () => {
    it('builds the rootfs, writes config.json, and its probes see hostname runc-demo', () => runsTheLab('podman'));

    it('passes a variable that contains shell to commands as a value, never as shell', async () => {
      const marker = `/tmp/pwned-${randomBytes(6).toString('hex')}`;
      const workdir = await workspace();
      const hostile = `busybox; touch ${marker}-a; $(touch ${marker}-b) \`touch ${marker}-c\``;
      const result = await runCli(['run', '2', '--yes', '--use', 'podman', '--workdir', workdir, '--var', `img=${hostile}`], {
        env: env(),
      });
      expect(result.exitCode, result.all).not.toBe(0);
      // The whole value reached podman as one image name.
      expect(result.all).toContain('invalid reference format');
      for (const suffix of ['a', 'b', 'c']) expect(await isFile(`${marker}-${suffix}`), `${marker}-${suffix}`).toBe(false);
    });

    it('verify fails the step whose hostname was left unchanged, and says what it expected', async () => {
      // What a learner who did every step by hand but forgot the hostname leaves behind.
      const workdir = await workspace();
      await mkdir(join(workdir, 'rootfs'));
      const prepared = await execa(
        'bash',
        ['-c', 'set -euo pipefail; podman export "$(podman create "$img")" | tar -C rootfs -xf -; runc spec'],
        { cwd: workdir, env: { ...env(), img: image }, reject: false },
      );
      expect(prepared.exitCode, prepared.stderr).toBe(0);
      const config = await readConfig(workdir);
      expect(config.hostname, 'runc spec writes this hostname').toBe('runc');
      config.process = { ...config.process, args: ['sh'] };
      config.root = { ...config.root, readonly: false };
      await writeFile(join(workdir, 'config.json'), JSON.stringify(config, null, 2));

      const result = await runCli(['verify', '2', '--json', '--workdir', workdir, '--var', `img=${image}`], { env: env() });
      expect(result.exitCode, result.all).toBe(1);
      const report = JSON.parse(result.stdout) as unknown;
      const validateReport = new Ajv({ strict: false, allErrors: true }).compile(VERIFY_REPORT_SCHEMA);
      expect(validateReport(report) ? [] : validateReport.errors, 'verify --json output shape').toEqual([]);

      const { lab, passed, steps } = report as VerifyReport;
      expect(lab).toBe('runc');
      expect(passed).toBe(false);
      const step = steps.find((s) => s.checks.some((c) => c.kind === 'json' && c.expected?.includes('runc-demo')));
      expect(step, 'a step with a json check expecting runc-demo').toBeDefined();
      expect(step?.status).toBe('failed');
      const check = step?.checks.find((c) => c.kind === 'json' && c.expected?.includes('runc-demo'));
      expect(check?.status).toBe('failed');
      expect(check?.actual).toContain('runc');
      expect(check?.actual).not.toContain('runc-demo');
      // Everything else the learner did is recognised: the hostname is the only thing found wrong.
      for (const c of steps.flatMap((s) => s.checks).filter((c) => c.status !== 'passed')) {
        expect(c.expected ?? `${c.status}: ${c.message}`, c.message).toContain('runc-demo');
      }

      await removeLocalCopies('podman', image);
    });
  });

  describe.skipIf(noDocker)('with docker', () => {
    it('builds the rootfs, writes config.json, and its probes see hostname runc-demo', () => runsTheLab('docker'));
  });
});
