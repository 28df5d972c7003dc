// What every lab's root end-to-end tests share: a registry and a directory, prove with a way, a finished
// workspace to verify and to make mistakes in, and a run stopped by Ctrl-C that leaves nothing behind.
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { runCli, type CliResult } from './cli.js';
import { removeLocalCopies, servedBusybox } from './image.js';
import { expectNothingLeft, failedChecks, newContainerId, type ProveReport, type VerifyReport } from './leftovers.js';
import { writeRegistriesConf, type Registry } from './registry.js';
import { isRoot, podmanUsable, registryToolsUsable, skipUnless } from './services.js';

/**
 * Whether to skip a lab's root tests (they need root and the registry tools; `runc` too where
 * `containers`) and those of its podman way.
 */
export async function rootLabSkips(lab: number, containers = true): Promise<{ noLab: boolean; noPodman: boolean }> {
  const noLab = skipUnless(
    isRoot() && (await registryToolsUsable()),
    `lab ${lab} needs root${containers ? ' (runc)' : ''} and docker-registry, busybox-static, umoci and skopeo`,
  );
  const noPodman = noLab || skipUnless(await podmanUsable(), 'podman is not usable here (`podman info` fails)');
  return { noLab, noPodman };
}

export interface RootLabOptions {
  /** The lab's number, as `ocilab run N` takes it. */
  lab: number;
  /** The tests' short name for the lab: in the temporary directory's name and, with `containers`, the start of each container id. */
  short: string;
  /** The lab starts containers: every run gets a `ctr` of its own, and nothing of it may be left afterwards. */
  containers: boolean;
  /** podman is usable here, so a podman way may have pulled the image: its copies are removed afterwards. */
  podman: boolean;
  /** `--var` values beside `img` and `ctr`, as `name=value`. */
  vars?: string[];
  /** Hand podman and skopeo a registries.conf that trusts the loopback registry (default true). */
  registriesConf?: boolean;
  /** Environment for every ocilab command beside XDG_STATE_HOME, made from the tests' directory. */
  env?: (dir: string) => Record<string, string>;
  /** The mode of the tests' directory, for a lab whose containers' root is another uid on the host. */
  dirMode?: number;
  /** How long `run` and `prove`, and `verify` and an interrupted run, may take (default 300 s and 200 s). */
  timeouts?: { run: number; verify: number };
}

/** What a proof expects of one check: ok, unless the test says why it may be skipped here. */
export type ExpectedVerdict = (check: ProveReport['steps'][number]['checks'][number], step: ProveReport['steps'][number]) => string;

export interface RootLab {
  readonly registry: Registry;
  readonly image: string;
  /** The tests' own directory, removed afterwards. */
  readonly dir: string;
  /**
   * `ocilab prove N --use WAY --json` with a container id of its own: every check has the verdict
   * `verdict` gives it (ok by default: it fails before its step and passes after), the lab is proven,
   * the throwaway workspace is removed and nothing of the container is left. Returns the report.
   */
  proves(way: string, options?: { image?: string; verdict?: ExpectedVerdict }): Promise<ProveReport>;
  /** A workspace `ocilab run N --yes --use builtin` finished in a beforeAll of the describe block this is called in. */
  finishedWorkspace(options?: { alsoExpect?: (run: CliResult) => void }): FinishedWorkspace;
}

export interface FinishedWorkspace {
  readonly workdir: string;
  /** The container id its run was given (only for a lab that starts containers). */
  readonly id: string;
  /** `ocilab verify N --json` on it, with `env` added to the tests' environment. */
  verify(env?: Record<string, string>): Promise<{ result: CliResult; report: VerifyReport }>;
  /** Verify passes on it, with nothing of the container left before or after. Returns the report. */
  expectVerifyPasses(): Promise<VerifyReport>;
  /** Applies a learner's change to a file of the workspace (it must change it) for the duration of `test`, then puts the file back. */
  withMistake(file: string, change: (text: string) => string, test: () => Promise<void>): Promise<void>;
  /**
   * Runs the lab in a new workspace with the same container id and sends Ctrl-C once its output shows
   * `until`, which says the container is in `state`: ocilab exits with 130 and leaves nothing behind.
   */
  interruptedRun(until: string | RegExp, state?: string): Promise<void>;
}

/** Sets up a lab's root tests in the describe block this is called in (its hooks are that block's). */
export function rootLabTests(options: RootLabOptions): RootLab {
  const { lab, timeouts = { run: 300_000, verify: 200_000 } } = options;
  const served = servedBusybox();
  let dir = '';
  let registriesConf: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `ocilab-${options.short}-lab-`));
    if (options.dirMode !== undefined) await chmod(dir, options.dirMode);
    if (options.registriesConf !== false) registriesConf = await writeRegistriesConf(served.registry.host, dir);
  });

  afterAll(async () => {
    if (options.podman && served.image) await removeLocalCopies('podman', served.image);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({
    ...(registriesConf ? { CONTAINERS_REGISTRIES_CONF: registriesConf } : {}),
    XDG_STATE_HOME: join(dir, 'state'),
    ...options.env?.(dir),
  });
  const vars = (id: string | undefined, image = served.image) => [
    ...['--var', `img=${image}`],
    ...(id ? ['--var', `ctr=${id}`] : []),
    ...(options.vars ?? []).flatMap((v) => ['--var', v]),
  ];
  /** A container id of these tests: never the lab's default, never another test run's. */
  const newId = () => (options.containers ? newContainerId(options.short) : undefined);

  async function proves(way: string, { image, verdict = () => 'ok' }: { image?: string; verdict?: ExpectedVerdict } = {}) {
    const id = newId();
    const result = await runCli(['prove', String(lab), '--use', way, ...vars(id, image), '--json'], {
      env: env(),
      timeoutMs: timeouts.run,
    });
    const report = JSON.parse(result.stdout) as ProveReport;
    for (const step of report.steps) {
      for (const check of step.checks) expect(check.verdict, `${check.at} ${check.label}`).toBe(verdict(check, step));
    }
    expect(result.exitCode, result.all).toBe(0);
    expect(report.proven).toBe(true);
    expect(existsSync(report.workdir), 'the throwaway workspace is removed').toBe(false);
    if (id) await expectNothingLeft(id);
    return report;
  }

  function finishedWorkspace({ alsoExpect }: { alsoExpect?: (run: CliResult) => void } = {}): FinishedWorkspace {
    let workdir = '';
    let id: string | undefined;

    beforeAll(async () => {
      id = newId();
      workdir = await mkdtemp(join(dir, 'work-'));
      const result = await runCli(['run', String(lab), '--yes', '--use', 'builtin', '--workdir', workdir, ...vars(id)], {
        env: env(),
        timeoutMs: timeouts.run,
      });
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stdout).not.toMatch(/✗/);
      alsoExpect?.(result);
    }, timeouts.run + 20_000);

    const nothingLeft = async () => {
      if (id) await expectNothingLeft(id);
    };

    const verify = async (extraEnv: Record<string, string> = {}) => {
      const result = await runCli(['verify', String(lab), '--json', '--workdir', workdir, ...vars(id)], {
        env: { ...env(), ...extraEnv },
        timeoutMs: timeouts.verify,
      });
      return { result, report: JSON.parse(result.stdout) as VerifyReport };
    };

    return {
      get workdir() {
        return workdir;
      },
      get id() {
        if (!id) throw new Error(`lab ${lab}'s tests give it no container id`);
        return id;
      },
      verify,

      async expectVerifyPasses() {
        await nothingLeft();
        const { result, report } = await verify();
        expect(failedChecks(report)).toEqual([]);
        expect(result.exitCode, result.all).toBe(0);
        await nothingLeft();
        return report;
      },

      async withMistake(file, change, test) {
        const path = join(workdir, file);
        const original = await readFile(path, 'utf8');
        const changed = change(original);
        expect(changed, `the mistake changes ${file}`).not.toBe(original);
        await writeFile(path, changed);
        try {
          await test();
        } finally {
          await writeFile(path, original);
        }
        await nothingLeft();
      },

      async interruptedRun(until, state = 'running') {
        const work = await mkdtemp(join(dir, 'work-'));
        const ctrlC = new AbortController();
        let seen = '';
        const shown = () => (typeof until === 'string' ? seen.includes(until) : until.test(seen));
        const result = await runCli(['run', String(lab), '--yes', '--use', 'builtin', '--workdir', work, ...vars(id)], {
          env: env(),
          signal: ctrlC.signal,
          timeoutMs: timeouts.verify,
          onStdout: (chunk) => {
            seen += chunk;
            if (shown()) ctrlC.abort();
          },
        });
        expect(seen, `the container was ${state} when Ctrl-C came`).toMatch(until);
        expect(result.exitCode, result.all).toBe(130);
        await nothingLeft();
      },
    };
  }

  return {
    get registry() {
      return served.registry;
    },
    get image() {
      return served.image;
    },
    get dir() {
      return dir;
    },
    proves,
    finishedWorkspace,
  };
}
