// Writes docs/lab-format.schema.json and docs/workshop.schema.json from the zod schemas in src/lab/schema.ts
// and src/lab/workshop-schema.ts (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { labFormatJsonSchema } from '../dist/lab/schema.js';
import { workshopFormatJsonSchema } from '../dist/lab/workshop-schema.js';

for (const [name, schema] of [
  ['lab-format.schema.json', labFormatJsonSchema()],
  ['workshop.schema.json', workshopFormatJsonSchema()],
]) {
  const file = new URL(`../docs/${name}`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${file.pathname}`);
}
