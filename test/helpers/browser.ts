// A real headless Chromium (Debian's `chromium`, driven by playwright-core) for pages ocilab writes.
// Every request other than the page itself is failed and recorded, so a test can prove a page needs
// nothing from the network. Screenshots go to test-output/, which git ignores.
import { access, constants, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { repoRoot } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';

/** What Chromium needs to start as root on a machine without a display or internet (see issue 4). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const TEST_OUTPUT = join(repoRoot, 'test-output');

export async function chromiumUsable(): Promise<boolean> {
  return access(CHROMIUM, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** A directory under test-output/ for one test file's screenshots, created if need be. */
export async function outputDir(name: string): Promise<string> {
  const dir = join(TEST_OUTPUT, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

export interface PageVisit<T> {
  result: T;
  /** Every URL the page asked for other than its own file; all of them were failed. */
  requested: string[];
  /** Console errors and uncaught exceptions, a Content-Security-Policy violation among them. */
  errors: string[];
}

/** Opens a local HTML file in a fresh Chromium profile, lets `visit` look at it, and closes everything. */
export async function openPage<T>(file: string, visit: (page: Page) => Promise<T>): Promise<PageVisit<T>> {
  const profile = await mkdtemp(join(tmpdir(), 'ocilab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 900 },
    colorScheme: 'light',
  });
  const own = pathToFileURL(file).href;
  const requested: string[] = [];
  const errors: string[] = [];
  try {
    await context.route('**', async (route) => {
      const url = route.request().url();
      if (url === own) return route.continue();
      requested.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    // Requests the router does not see (other file: URLs, say) are recorded here.
    page.on('request', (request) => {
      if (request.url() !== own && !requested.includes(request.url())) requested.push(request.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(own, { waitUntil: 'load' });
    const result = await visit(page);
    return { result, requested, errors };
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}
