// Reliability under the provider's own seeded fault injection: the C API test program
// (1 MiB send/recv, tagged, write/read, writedata, atomics, protection, 2000 small
// messages) must pass byte-exact with every completion exactly once, in bounded time,
// also on ordered (ROD) PDCs and with PDCs closing and reopening between operations.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, run, testsDir } from './helpers.js';

const program = join(testsDir, 'softuet_ops_test');

const cases: Array<[string, Record<string, string>]> = [
  ['drop 1%', { FI_SOFTUET_FAULT_DROP: '1' }],
  ['drop 5%', { FI_SOFTUET_FAULT_DROP: '5' }],
  ['drop 20%', { FI_SOFTUET_FAULT_DROP: '20' }],
  ['reorder 20% + duplicate 10%', { FI_SOFTUET_FAULT_REORDER: '20', FI_SOFTUET_FAULT_DUP: '10' }],
  ['corrupt 5%', { FI_SOFTUET_FAULT_CORRUPT: '5' }],
  ['drop 5% with NSCC and RCCC credit', { FI_SOFTUET_FAULT_DROP: '5', FI_SOFTUET_CC: 'nscc+rccc' }],
  ['drop 20% with congestion management off', { FI_SOFTUET_FAULT_DROP: '20', FI_SOFTUET_CC: 'off' }],
  ['drop 5% + reorder 5% with a REPS entropy value per packet', { FI_SOFTUET_FAULT_DROP: '5', FI_SOFTUET_FAULT_REORDER: '5', FI_SOFTUET_EV: 'reps', FI_SOFTUET_EV_TRAIN: '1' }],
  ['drop 5% + reorder 5% without entropy (one source port)', { FI_SOFTUET_FAULT_DROP: '5', FI_SOFTUET_FAULT_REORDER: '5', FI_SOFTUET_EV: 'off' }],
  ['all at once', { FI_SOFTUET_FAULT_DROP: '5', FI_SOFTUET_FAULT_DUP: '5', FI_SOFTUET_FAULT_REORDER: '5', FI_SOFTUET_FAULT_CORRUPT: '2' }],
  ['ROD PDCs, drop 5% + reorder 10% + duplicate 5%', { FI_SOFTUET_PDC_MODE: 'rod', FI_SOFTUET_FAULT_DROP: '5', FI_SOFTUET_FAULT_REORDER: '10', FI_SOFTUET_FAULT_DUP: '5' }],
  ['PDCs closed after 15 ms idle and reopened, drop 5%', { FI_SOFTUET_PDC_IDLE_MS: '15', FI_SOFTUET_FAULT_DROP: '5' }],
];

describe('softuet under injected faults', () => {
  for (const [name, faults] of cases) {
    it(name, async () => {
      const env = baseEnv({ ...faults, FI_SOFTUET_FAULT_SEED: '12345', SUET_MANY: '2000' });
      const r = await run(program, [], { env, timeoutMs: 90_000 });
      expect(r.code, r.out.slice(-4000)).toBe(0);
      expect(r.out).toMatch(/0 failure\(s\)/);
      expect(r.out).not.toMatch(/FAILED/);
    }, 100_000);
  }
});
