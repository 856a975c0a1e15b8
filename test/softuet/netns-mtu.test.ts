// softuet's default payload per packet comes from the interface of the endpoint's
// address: a network namespace of our own holds a veth pair with a 1500-byte and a
// 9000-byte end, and fi_info reports inject_size (softuet's MTU) for each, as well as
// for its loopback. Nothing is sent outside the namespace. Needs root (ip netns); fails
// with a clear message when that is not available, instead of skipping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, binDir, run } from './helpers.js';

const ns = `suetmtu${process.pid}${Math.floor(Math.random() * 1e6)}`;
// Loopback-range addresses held by the veth ends themselves (each /32, inside the
// namespace), so traffic to them stays local. lo's 127.0.0.0/8 covers them too: the
// interface holding the exact address is the one whose MTU counts.
const addrs = { narrow: '127.251.7.1', jumbo: '127.251.7.2' };
let setupError = '';

async function inNs(cmd: string, args: string[], env: Record<string, string> = {}) {
  const vars = Object.entries({ FI_PROVIDER_PATH: baseEnv().FI_PROVIDER_PATH!, ...env }).map(([k, v]) => `${k}=${v}`);
  return run('ip', ['netns', 'exec', ns, 'env', ...vars, cmd, ...args], { env: baseEnv(), timeoutMs: 60_000 });
}

beforeAll(async () => {
  const steps: string[][] = [
    ['netns', 'add', ns],
    ['-n', ns, 'link', 'set', 'lo', 'up'],
    ['-n', ns, 'link', 'add', 'vnarrow', 'type', 'veth', 'peer', 'name', 'vjumbo'],
    ['-n', ns, 'link', 'set', 'vjumbo', 'mtu', '9000'],
    ['-n', ns, 'addr', 'add', `${addrs.narrow}/32`, 'dev', 'vnarrow'],
    ['-n', ns, 'addr', 'add', `${addrs.jumbo}/32`, 'dev', 'vjumbo'],
    ['-n', ns, 'link', 'set', 'vnarrow', 'up'],
    ['-n', ns, 'link', 'set', 'vjumbo', 'up'],
  ];
  for (const s of steps) {
    const r = await run('ip', s, { env: baseEnv(), timeoutMs: 20_000 });
    if (r.code !== 0) {
      setupError = `ip ${s.join(' ')} failed (need root and iproute2): ${r.out.trim()}`;
      return;
    }
  }
}, 60_000);

afterAll(async () => {
  await run('ip', ['netns', 'del', ns], { env: baseEnv(), timeoutMs: 20_000 });
});

async function injectSize(src: string, env: Record<string, string> = {}): Promise<number> {
  const r = await inNs('fi_info', ['-p', 'softuet', '-t', 'FI_EP_RDM', '-s', src, '-v'], env);
  expect(r.code, r.out).toBe(0);
  const m = /inject_size: (\d+)/.exec(r.out);
  expect(m, r.out).not.toBeNull();
  return Number(m![1]);
}

describe('softuet MTU from the bound interface', () => {
  it('a 1500-byte link gets the largest 64-byte multiple that fits one frame, jumbo and loopback more', async () => {
    expect(setupError, setupError).toBe('');
    // 1500 - IPv4 20 - UDP 8 - (RUD_CC request 16 + SES 44 + compare-swap extension 36) - CRC 4 = 1372.
    expect(await injectSize(addrs.narrow)).toBe(1344);
    expect(await injectSize(addrs.jumbo)).toBe(8832);
    expect(await injectSize('127.0.0.1')).toBe(16000);
    expect(await injectSize(addrs.narrow, { FI_SOFTUET_MTU: '4096' })).toBe(4096);
  }, 90_000);

  it('endpoints bound to the narrow link move checked data in its packets', async () => {
    expect(setupError, setupError).toBe('');
    for (const op of ['write', 'read', 'tsend']) {
      const r = await inNs(`${binDir}/fi_bench`, ['-p', 'softuet', '-n', addrs.narrow, '-t', op, '-S', '1m', '-I', '8', '--stats']);
      expect(r.code, r.out).toBe(0);
      const stats = (role: string) => {
        const line = r.out.split('\n').find((l) => l.startsWith(`# stats ${role} pair 0:`));
        expect(line, r.out).toBeDefined();
        return Object.fromEntries([...line!.matchAll(/ (\S+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
      };
      // A read's data comes from the server (the target) in its answers.
      const sent = stats(op === 'read' ? 'server' : 'client').tx_pkts;
      // 8 MiB in 1344-byte payloads: at least 6242 data packets from the side that sends data.
      expect(sent, r.out).toBeGreaterThanOrEqual(Math.ceil((8 << 20) / 1344));
    }
  }, 120_000);
});
