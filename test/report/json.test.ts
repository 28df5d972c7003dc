import { describe, expect, it } from 'vitest';
import { readReport, reportJson } from '../../src/report/json.js';
import { demoReport } from './fixtures.js';

describe('report JSON', () => {
  it('reads back what it writes', () => {
    const report = demoReport();
    expect(readReport(reportJson(report))).toEqual({ ok: true, report });
  });

  it('reads a report with fields it does not know (a later ocilab may add some), and drops them', () => {
    const report = demoReport();
    const read = readReport(JSON.stringify({ ...report, school: 'x', labs: report.labs.map((l) => ({ ...l, extra: 1 })) }));
    expect(read).toEqual({ ok: true, report });
  });

  const good = () => demoReport() as unknown as Record<string, unknown>;

  it.each([
    ['text that is not JSON', '{"format": "ocilab-report",', /^not valid JSON \(/],
    ['a JSON array', '[]', /^not an ocilab report: it has no "format": "ocilab-report"/],
    ["another tool's JSON", '{"name": "ocilab", "version": "0.1.0"}', /^not an ocilab report/],
    [
      'a report of a newer version',
      JSON.stringify({ ...good(), version: 2 }),
      /^a report of version 2, newer than this ocilab reads \(1\): upgrade ocilab/,
    ],
    ['a report without a user', JSON.stringify({ ...good(), user: undefined }), /^not a valid ocilab report: user: /],
    [
      'a report with an unknown step status',
      JSON.stringify({ ...good(), labs: [{ ...demoReport().labs[0], steps: [{ ...demoReport().labs[0]?.steps[0], status: 'done' }] }] }),
      /^not a valid ocilab report: labs\.0\.steps\.0\.status: /,
    ],
  ])('refuses %s, saying why', (_, text, reason) => {
    const read = readReport(text);
    expect(read.ok).toBe(false);
    expect(read.ok ? '' : read.reason).toMatch(reason);
  });

  it('names at most three problems of a broken report, and counts the rest', () => {
    const read = readReport(JSON.stringify({ format: 'ocilab-report', version: 1 }));
    expect(read.ok ? '' : read.reason).toMatch(/^not a valid ocilab report: (\S+: [^;]+; ){2}\S+: .+ \(and \d+ more\)$/);
  });
});
