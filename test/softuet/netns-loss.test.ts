// Real kernel packet loss: a network namespace of our own whose loopback drops a share
// of UDP packets with nftables (numgen random), and two softuet processes
// (fi_pingpong server and client, RDM, data checked) plus the C API test program run
// inside it. Needs root (ip netns, nft); fails with a clear message when that is not
// available, instead of skipping.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, run, start, testsDir, waitListening } from './helpers.js';

const ns = `suetloss${process.pid}${Math.floor(Math.random() * 1e6)}`;
const dropPct = 10;
let setupError = '';

async function sh(cmd: string, args: string[], timeoutMs = 20_000) {
  return run(cmd, args, { timeoutMs, env: baseEnv() });
}

beforeAll(async () => {
  const add = await sh('ip', ['netns', 'add', ns]);
  if (add.code !== 0) {
    setupError = `cannot create network namespace ${ns} (need root and iproute2): ${add.out.trim()}`;
    return;
  }
  const up = await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  if (up.code !== 0) {
    setupError = `cannot bring lo up in ${ns}: ${up.out.trim()}`;
    return;
  }
  const rules = `table inet suetloss {
  chain out {
    type filter hook output priority 0; policy accept;
    meta l4proto udp numgen random mod 100 < ${dropPct} counter drop
  }
}`;
  const nft = await run('ip', ['netns', 'exec', ns, 'sh', '-c', `printf '%s\\n' '${rules}' | nft -f -`], { timeoutMs: 20_000 });
  if (nft.code !== 0) setupError = `cannot install the nftables drop rule in ${ns}: ${nft.out.trim()}`;
}, 60_000);

afterAll(async () => {
  await sh('ip', ['netns', 'del', ns]);
});

function inNs(cmd: string, args: string[]) {
  return ['netns', 'exec', ns, 'env', `FI_PROVIDER_PATH=${baseEnv().FI_PROVIDER_PATH}`, cmd, ...args];
}

async function droppedPackets(): Promise<number> {
  const r = await sh('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'suetloss']);
  const m = /counter packets (\d+)/.exec(r.out);
  return m ? Number(m[1]) : -1;
}

describe(`softuet over a lossy kernel loopback (${dropPct}% UDP dropped by nftables)`, () => {
  it('namespace and drop rule are in place', () => {
    expect(setupError, setupError).toBe('');
  });

  it('fi_pingpong RDM between two processes, 1 MiB messages, data checked', async () => {
    expect(setupError, setupError).toBe('');
    const before = await droppedPackets();
    const port = '47592';
    const common = ['-p', 'softuet', '-e', 'rdm', '-I', '5', '-S', '1048576', '-c'];
    const server = start('ip', inNs('fi_pingpong', [...common, '-B', port]), baseEnv(), 120_000);
    expect(await waitListening(server.child.pid!, Number(port)), server.output()).toBe(true);
    const client = await run('ip', inNs('fi_pingpong', [...common, '-P', port, '127.0.0.1']), { env: baseEnv(), timeoutMs: 120_000 });
    const srv = await server.done;
    expect(client.code, client.out).toBe(0);
    expect(srv.code, srv.out).toBe(0);
    expect(client.out).toMatch(/5\s+=5/);
    const after = await droppedPackets();
    expect(after, 'the kernel must actually have dropped softuet packets').toBeGreaterThan(before);
  }, 150_000);

  it('C API program: every op family byte-exact under kernel loss', async () => {
    expect(setupError, setupError).toBe('');
    const before = await droppedPackets();
    const r = await run('ip', inNs('env', ['SUET_MANY=1000', join(testsDir, 'softuet_ops_test')]), { env: baseEnv(), timeoutMs: 120_000 });
    expect(r.code, r.out.slice(-4000)).toBe(0);
    expect(r.out).toMatch(/0 failure\(s\)/);
    expect(await droppedPackets()).toBeGreaterThan(before);
  }, 150_000);
});
