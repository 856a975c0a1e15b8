/**
 * Writes test/vectors/cms-*.json from the TypeScript reference.
 * Run: npx vite-node test/cms/gen-vectors.ts
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFiles } from './vectors.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors');
for (const [name, doc] of Object.entries(buildFiles())) {
  writeFileSync(join(dir, name), JSON.stringify(doc, null, 1) + '\n');
  console.log(`wrote ${join(dir, name)}`);
}
