import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { labFormatJsonSchema } from '../../src/lab/schema.js';

describe('docs/lab-format.schema.json', () => {
  it('matches the schemas the parser uses (regenerate with `npm run schema`)', () => {
    const committed: unknown = JSON.parse(readFileSync('docs/lab-format.schema.json', 'utf8'));
    expect(committed).toEqual(labFormatJsonSchema());
  });
});
