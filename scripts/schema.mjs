// Writes docs/lab-format.schema.json from the zod schemas in src/lab/schema.ts (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { labFormatJsonSchema } from '../dist/lab/schema.js';

const file = new URL('../docs/lab-format.schema.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(labFormatJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file.pathname}`);
