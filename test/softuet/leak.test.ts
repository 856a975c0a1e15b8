// No definite leaks in softuet: valgrind over an open/close cycle of every object kind
// (with ops left pending at close), over a 10,000-message run, over PDCs closed when
// idle and reopened, and over the vector operations (multi-segment RMA, multi-receive).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, run, testsDir } from './helpers.js';

const program = join(testsDir, 'softuet_ops_test');
const pdcProgram = join(testsDir, 'softuet_pdc_test');

async function valgrind(filter: string, extra: Record<string, string>, prog = program) {
  const args = ['--leak-check=full', '--errors-for-leak-kinds=definite', '--error-exitcode=99', '-q', prog, filter];
  return run('valgrind', args, { env: baseEnv(extra), timeoutMs: 240_000 });
}

describe('softuet under valgrind', () => {
  it('open/close cycles leak nothing', async () => {
    const r = await valgrind('open_close_cycle', {});
    expect(r.code, r.out.slice(-6000)).toBe(0);
    expect(r.out).toMatch(/1 case\(s\), \d+ check\(s\), 0 failure\(s\)/);
    expect(r.out).not.toMatch(/definitely lost/);
  }, 250_000);

  it('10,000 messages leak nothing', async () => {
    const r = await valgrind('many_messages', { SUET_MANY: '10000' });
    expect(r.code, r.out.slice(-6000)).toBe(0);
    expect(r.out).toMatch(/0 failure\(s\)/);
    expect(r.out).not.toMatch(/definitely lost/);
  }, 250_000);

  it('PDCs closed when idle and reopened leak nothing', async () => {
    const r = await valgrind('idle_close_and_reopen', {}, pdcProgram);
    expect(r.code, r.out.slice(-6000)).toBe(0);
    expect(r.out).toMatch(/1 case\(s\), \d+ check\(s\), 0 failure\(s\)/);
    expect(r.out).not.toMatch(/definitely lost/);
  }, 250_000);

  it('multi-segment RMA and multi-receive buffers leak nothing', async () => {
    const r = await valgrind('multi', {}, pdcProgram);
    expect(r.code, r.out.slice(-6000)).toBe(0);
    expect(r.out).toMatch(/3 case\(s\), \d+ check\(s\), 0 failure\(s\)/);
    expect(r.out).not.toMatch(/definitely lost/);
  }, 250_000);
});
