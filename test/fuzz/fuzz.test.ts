// Short, bounded libFuzzer runs of the softuet receive path (scripts/fuzz): the wire
// codecs alone, then together with the protocol core's receive entry point. Each run
// must end with no finding (exit 0) after a meaningful number of executions; the
// checked-in regression inputs of test/native/fuzz/corpus are replayed every time.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(root, 'scripts/fuzz');

interface FuzzRun {
  code: number | string;
  out: string;
}

function runFuzz(env: Record<string, string>, timeoutMs: number): Promise<FuzzRun> {
  return new Promise((done) => {
    execFile(
      'bash',
      [script],
      { cwd: root, env: { ...process.env, ...env }, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as NodeJS.ErrnoException & { code?: number | string }).code ?? err.message) : 0;
        done({ code: code as number | string, out: `${stdout}\n${stderr}` });
      },
    );
  });
}

/** Executions reported by libFuzzer (final stats, or the "Done N runs" line). */
export function executedRuns(out: string): number {
  const stat = /stat::number_of_executed_units:\s*(\d+)/.exec(out);
  if (stat) return Number(stat[1]);
  const done = /Done (\d+) runs in/.exec(out);
  return done ? Number(done[1]) : 0;
}

/** The part of the output worth showing when a run fails: the sanitizer report. */
function finding(out: string): string {
  const i = out.search(/==\d+==ERROR|roundtrip mismatch|runtime error|deadly signal/);
  return (i >= 0 ? out.slice(i, i + 6000) : out.slice(-4000));
}

describe('executedRuns', () => {
  it('reads the final stats, else the Done line, else 0', () => {
    expect(executedRuns('x\nstat::number_of_executed_units: 12345\n')).toBe(12345);
    expect(executedRuns('Done 777 runs in 15 second(s)\n')).toBe(777);
    expect(executedRuns('nothing here')).toBe(0);
  });
});

describe('scripts/fuzz', () => {
  it('exists', () => {
    expect(existsSync(script)).toBe(true);
  });

  it('fuzzes the wire codecs for 15 s without a finding', async () => {
    const r = await runFuzz({ FUZZ_SECONDS: '15', FUZZ_CORE: '0' }, 280_000);
    expect(r.out).toContain('fuzz: target covers the wire codecs only');
    expect(r.code, finding(r.out)).toBe(0);
    expect(executedRuns(r.out)).toBeGreaterThan(1000);
  }, 300_000);

  it('fuzzes the protocol core receive path for 15 s without a finding', async () => {
    const r = await runFuzz({ FUZZ_SECONDS: '15', FUZZ_CORE: '1' }, 280_000);
    expect(r.out).toContain('fuzz: target includes the protocol core');
    expect(r.code, finding(r.out)).toBe(0);
    expect(executedRuns(r.out)).toBeGreaterThan(1000);
  }, 300_000);
});
