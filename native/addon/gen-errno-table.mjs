// Generates the FI_E* name table from the installed fi_errno.h so that the code names
// FabricError reports are exactly the header's, never a hand-kept copy.
//   node gen-errno-table.mjs <fi_errno.h> <output.h>
import { readFileSync, writeFileSync } from 'node:fs';

const [header, out] = process.argv.slice(2);
const text = readFileSync(header, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
const names = new Set();
for (const m of text.matchAll(/^\s*#\s*define\s+(FI_E[A-Z0-9_]+)\s+\S/gm)) names.add(m[1]);
for (const m of text.matchAll(/^\s*(FI_E[A-Z0-9_]+)\s*=/gm)) names.add(m[1]);
for (const skip of ['FI_ERRNO_OFFSET', 'FI_ERRNO_MAX', 'FI_ERRNO_H']) names.delete(skip);
const lines = [...names].map((n) => `NLF_ERRNO(${n})`);
writeFileSync(out, `// Generated from ${header}; do not edit.\n${lines.join('\n')}\n`);
