#!/usr/bin/env node
// node-libfabric-run -n N [--provider P] [--transport fabric|socket|auto] script.js [args...]

import { launch } from '../lib/collectives/launch.js';

const USAGE = `usage: node-libfabric-run -n N [--provider P] [--transport fabric|socket|auto]
                          [--grace SECONDS] [--timeout SECONDS] script.js [args...]

Spawns N local ranks of script.js with NLF_RANK, NLF_SIZE and NLF_BOOTSTRAP set;
Communicator.init() in the script joins the job. When a rank exits abnormally the
others are told to abort, and are signalled after the grace period (default 10 s).`;

function fail(msg: string): never {
  process.stderr.write(`node-libfabric-run: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv: string[]) {
  const o = { ranks: 1, provider: undefined as string | undefined, transport: undefined as string | undefined,
              graceMs: 10_000, timeoutMs: 0, script: '', args: [] as string[] };
  let i = 0;
  const value = (flag: string) => {
    const v = argv[++i];
    if (v === undefined) fail(`${flag} needs a value`);
    return v;
  };
  const seconds = (flag: string) => {
    const v = Number(value(flag));
    if (!(v >= 0)) fail(`${flag} takes a number of seconds`);
    return v * 1000;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-n' || a === '--np' || a === '-np') {
      const n = Number(value(a));
      if (!Number.isInteger(n) || n < 1) fail(`-n takes a positive integer, got '${argv[i]}'`);
      o.ranks = n;
    } else if (a === '--provider' || a === '-p') o.provider = value(a);
    else if (a === '--transport') {
      o.transport = value(a);
      if (!['fabric', 'socket', 'auto'].includes(o.transport)) fail(`--transport must be fabric, socket or auto`);
    } else if (a === '--grace') o.graceMs = seconds(a);
    else if (a === '--timeout') o.timeoutMs = seconds(a);
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE + '\n'); process.exit(0); }
    else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else { o.script = a; o.args = argv.slice(i + 1); break; }
  }
  if (!o.script) fail('no script given');
  return o;
}

const o = parse(process.argv.slice(2));
const job = await launch({ ...o, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    job.abort(`launcher received ${sig}`);
    for (const c of job.children) if (c.exitCode === null && c.pid) c.kill(sig);
  });
}
const result = await job.done;
if (result.abortReason) process.stderr.write(`node-libfabric-run: job aborted: ${result.abortReason}\n`);
process.exit(result.code);
