// The report as JSON, and reading one back: `ocilab class` must tell a student's report from a foreign
// or newer file and say which it is, so reading is a value (a report, or the reason it is not one).
import * as z from 'zod';
import { REPORT_FORMAT, REPORT_VERSION, type Report } from './model.js';

export function reportJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const stepStatus = z.enum(['passed', 'read', 'skipped', 'failed', 'error', 'started', 'pending']);

// Unknown fields are allowed and dropped: a later ocilab may add some without a new version.
const reportSchema = z.object({
  format: z.literal(REPORT_FORMAT),
  version: z.literal(REPORT_VERSION),
  generatedAt: z.string(),
  ocilab: z.string(),
  user: z.string(),
  host: z.string(),
  machine: z.object({ platform: z.string(), release: z.string(), arch: z.string() }),
  // Version 1 reports from before workshops have no workshop nor lab files: both are optional.
  workshop: z.object({ title: z.string(), file: z.string() }).optional(),
  labs: z.array(
    z.object({
      id: z.string().min(1),
      number: z.number().int(),
      file: z.string().optional(),
      title: z.string(),
      summary: z.string(),
      duration: z.string().optional(),
      state: z.enum(['not-started', 'in-progress', 'failed', 'finished']),
      current: z.string().optional(),
      seconds: z.number().nonnegative(),
      lastActivity: z.string().optional(),
      steps: z.array(
        z.object({
          id: z.string().min(1),
          number: z.number().int(),
          title: z.string(),
          kind: z.enum(['reading', 'task']),
          status: stepStatus,
          attempts: z.number().int().nonnegative(),
          hints: z.number().int().nonnegative(),
          hintsAvailable: z.number().int().nonnegative(),
          seconds: z.number().nonnegative(),
          at: z.string().optional(),
          way: z.string().optional(),
          how: z.enum(['run', 'shell', 'self']).optional(),
          commands: z.array(z.object({ line: z.string(), exit: z.number().int(), at: z.string() })).optional(),
          checks: z.array(
            z.object({
              kind: z.string(),
              label: z.string(),
              status: z.enum(['passed', 'failed', 'error', 'skipped', 'not-run']),
              message: z.string().optional(),
              expected: z.string().optional(),
              actual: z.string().optional(),
            }),
          ),
        }),
      ),
    }),
  ),
}) satisfies z.ZodType<Report>;

export type ReadReport = { ok: true; report: Report } | { ok: false; reason: string };

const MAX_ISSUES_NAMED = 3;

/** Reads the text of a report file: the report, or why this file is not one this ocilab can read. */
export function readReport(text: string): ReadReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not valid JSON (${(error as Error).message})` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data) || (data as { format?: unknown }).format !== REPORT_FORMAT) {
    return { ok: false, reason: `not an ocilab report: it has no "format": "${REPORT_FORMAT}" (make one with \`ocilab report --json\`)` };
  }
  const version = (data as { version?: unknown }).version;
  if (typeof version === 'number' && version > REPORT_VERSION) {
    return {
      ok: false,
      reason: `a report of version ${version}, newer than this ocilab reads (${REPORT_VERSION}): upgrade ocilab to read it`,
    };
  }
  const parsed = reportSchema.safeParse(data);
  if (parsed.success) return { ok: true, report: parsed.data };
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
  const more = issues.length > MAX_ISSUES_NAMED ? ` (and ${issues.length - MAX_ISSUES_NAMED} more)` : '';
  return { ok: false, reason: `not a valid ocilab report: ${issues.slice(0, MAX_ISSUES_NAMED).join('; ')}${more}` };
}
