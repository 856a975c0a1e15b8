#!/usr/bin/env node
import { runDump } from '../lib/uet/dump.js';

runDump(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`uet-dump: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
