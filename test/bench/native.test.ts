// The C bench programs (bench/native) run, print their columns and pass their own data
// checks. No speed is asserted: speed is what bench/p2p measures.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binDir, benchEnv } from '../../bench/p2p/native.js';

interface Result { code: number; stdout: string; stderr: string }

function runBin(name: string, args: string[], timeoutMs = 20_000): Promise<Result> {
  const file = join(binDir(), name);
  if (!existsSync(file)) throw new Error(`${file} is missing: build bench/native (scripts/setup, or set NLF_BIN_DIR)`);
  return new Promise((resolve) => {
    execFile(file, args, { env: benchEnv(), timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const COLUMNS = ['bytes', 'iters', 'total', 'time', 'MB/sec', 'usec/xfer', 'Mxfers/sec'];

describe('fi_bench on tcp;ofi_rxm', () => {
  for (const op of ['write', 'send']) {
    it(`${op}: prints fabtests columns and one checked row per size`, async () => {
      const r = await runBin('fi_bench', ['-p', 'tcp;ofi_rxm', '-e', 'rdm', '-t', op, '-S', '4k,256k', '-I', '20', '-w', '8']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^# fi_bench .*provider tcp;ofi_rxm .*op ${op} `));
      expect(lines[1].split(/\s+/)).toEqual(COLUMNS);
      const rows = lines.slice(2).map((l) => l.trim().split(/\s+/));
      expect(rows.map((c) => c[0])).toEqual(['4k', '256k']);
      for (const c of rows) {
        expect(c).toHaveLength(7); // a mismatch would add a DATA MISMATCH marker
        expect(c[1]).toBe('20');
        for (const v of c.slice(4)) expect(Number(v)).toBeGreaterThan(0);
      }
    });
  }

  it('--json reports every size with the data check passed', async () => {
    const r = await runBin('fi_bench', ['-p', 'tcp;ofi_rxm', '-t', 'read', '-S', '8,64k', '-I', '10', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { op: string; check: string; rows: Array<Record<string, number | string>> };
    expect(j.op).toBe('read');
    expect(j.check).toBe('ok');
    expect(j.rows.map((x) => x.bytes)).toEqual([8, 65536]);
    for (const row of j.rows) {
      expect(row.check).toBe('ok');
      expect(row.iters).toBe(10);
      expect(row.total).toBe((row.bytes as number) * 10);
      expect(Number.isFinite(row.mb_per_sec) && (row.mb_per_sec as number) > 0).toBe(true);
    }
  });

  it('tsend and pingpong with two pairs complete and check their data', async () => {
    for (const op of ['tsend', 'pingpong']) {
      const r = await runBin('fi_bench', ['-p', 'tcp;ofi_rxm', '-t', op, '-S', '8,128k', '-I', '10', '-P', '2', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { pairs: number; check: string; rows: Array<{ total: number; bytes: number }> };
      expect(j.pairs).toBe(2);
      expect(j.check).toBe('ok');
      // ping-pong counts both directions, as fabtests does
      const per = op === 'pingpong' ? 2 : 1;
      for (const row of j.rows) expect(row.total).toBe(row.bytes * 10 * 2 * per);
    }
  });

  it('fails with status 3 when the received bytes differ from what was sent', async () => {
    for (const op of ['write', 'read', 'send', 'pingpong']) {
      const r = await runBin('fi_bench', ['-p', 'tcp;ofi_rxm', '-t', op, '-S', '4k', '-I', '5', '--corrupt', '--json']);
      expect(r.code, op).toBe(3);
      expect(r.stderr).toMatch(/data mismatch at 4096 bytes, offset 2048/);
      expect((JSON.parse(r.stdout) as { check: string }).check).toBe('mismatch');
    }
  });

  it('refuses bad input with a clear message', async () => {
    const badOp = await runBin('fi_bench', ['-t', 'scatter']);
    expect(badOp.code).toBe(2);
    expect(badOp.stderr).toMatch(/unknown op 'scatter'/);
    const badSize = await runBin('fi_bench', ['-S', '12q']);
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toMatch(/bad size '12q'/);
    const noProv = await runBin('fi_bench', ['-p', 'no_such_provider', '-S', '8', '-I', '1']);
    expect(noProv.code).toBe(2);
    expect(noProv.stderr).toMatch(/no provider 'no_such_provider'/);
  });
});

describe('udp_limit', () => {
  it('measures sendmmsg and GSO on loopback and checks the payload', async () => {
    const r = await runBin('udp_limit', ['-s', '4096,9000', '-m', '256k', '-M', 'mmsg,gso', '-T', '0.1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { check: string; rows: Array<{ mode: string; dgram: number; mb_per_sec: number; check: string }> };
    expect(j.check).toBe('ok');
    expect(j.rows.map((x) => `${x.mode}/${x.dgram}`)).toEqual(['mmsg/4096', 'mmsg/9000', 'gso/4096', 'gso/9000']);
    for (const row of j.rows) {
      expect(row.check).toBe('ok');
      expect(row.mb_per_sec).toBeGreaterThan(0);
    }
  });

  it('streams the same pattern over one TCP connection as the peer row, every byte counted', async () => {
    const r = await runBin('udp_limit', ['-s', '4096,9000', '-m', '256k', '-M', 'gso,tcp', '-T', '0.1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { rows: Array<{ mode: string; dgram: number; mb_per_sec: number; tx_mb_per_sec: number; loss: number; check: string }> };
    // one tcp row whatever the datagram sizes, its unit the -m write size
    expect(j.rows.map((x) => `${x.mode}/${x.dgram}`)).toEqual(['gso/4096', 'gso/9000', 'tcp/262144']);
    const tcp = j.rows[2];
    expect(tcp.check).toBe('ok');
    expect(tcp.loss).toBe(0);
    expect(tcp.mb_per_sec).toBeGreaterThan(0);
    const bad = await runBin('udp_limit', ['-M', 'quic']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown mode 'quic' \(mmsg, gso, tcp, pingpong, pingpong-tcp\)/);
  });

  it('bounces one message of each size over UDP and TCP and reports one-way latency', async () => {
    const r = await runBin('udp_limit', ['-s', '8,4k,65000', '-M', 'pingpong,pingpong-tcp', '-T', '0.05', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { check: string; rows: Array<{ mode: string; dgram: number; iters: number; time: number; usec_per_xfer: number; check: string }> };
    expect(j.check).toBe('ok');
    expect(j.rows.map((x) => `${x.mode}/${x.dgram}`)).toEqual(
      ['pingpong/8', 'pingpong/4096', 'pingpong/65000', 'pingpong-tcp/8', 'pingpong-tcp/4096', 'pingpong-tcp/65000']);
    for (const row of j.rows) {
      expect(row.check).toBe('ok');
      expect(row.iters).toBeGreaterThan(0);
      // one-way: half of a round trip
      expect(row.usec_per_xfer).toBeCloseTo((row.time * 1e6) / row.iters / 2, 1);
    }
    // below the streaming modes' smallest datagram: ping-pong only
    const small = await runBin('udp_limit', ['-s', '8', '-M', 'mmsg', '-T', '0.05']);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/datagram size must be in \[64, 65000\] for mmsg and gso/);
  });

  it('prints its table and refuses a datagram larger than UDP allows', async () => {
    const r = await runBin('udp_limit', ['-s', '9000', '-M', 'mmsg', '-T', '0.05']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[1].trim().split(/\s{2,}/)).toEqual(['mode  dgram', 'tx MB/sec', 'MB/sec', 'loss  check'].flatMap((s) => s.split(/\s{2,}/)));
    expect(lines[2]).toMatch(/^mmsg\s+9000\s+[\d.]+\s+[\d.]+\s+[\d.]+%\s+ok$/);
    const bad = await runBin('udp_limit', ['-s', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/datagram size must be in/);
  });
});

describe('softuet counters and data-path cost', () => {
  it('fi_bench --stats prints both sides\' softuet counters, and the packets add up', async () => {
    const r = await runBin('fi_bench', ['-p', 'softuet', '-t', 'write', '-S', '256k', '-I', '8', '--stats']);
    expect(r.code, r.stderr).toBe(0);
    const stat = (role: string) => {
      const line = r.stderr.split('\n').find((l) => l.startsWith(`# stats ${role} pair 0:`));
      expect(line, r.stderr).toBeDefined();
      return Object.fromEntries([...line!.matchAll(/ (\S+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    };
    const client = stat('client');
    const server = stat('server');
    // 8 x 256 KiB in packets of at most 16000 bytes, at least (the handshake adds a few).
    expect(client.tx_pkts).toBeGreaterThanOrEqual(8 * Math.ceil(262144 / 16000));
    expect(server.rx_pkts).toBeGreaterThanOrEqual(8 * Math.ceil(262144 / 16000));
    expect(client.acks_rx).toBeGreaterThan(0);
  });

  it('engine_cost moves checked data on one thread and on two', async () => {
    const runs: Array<[string[], number, number]> = [
      [['-t', 'write', '-s', '256k', '-n', '20'], 262144, 20],
      [['-t', 'tsend', '-s', '64k', '-n', '40'], 65536, 40],
      [['-2', '-t', 'write', '-s', '1m', '-n', '8'], 1048576, 8],
    ];
    for (const [args, bytes, count] of runs) {
      const r = await runBin('engine_cost', args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`size ${bytes} .*cpu [\\d.]+ ms/MiB .*check ok$`, 'm'));
      // every payload packet at the MTU it reports, and retransmissions on top
      const mtu = Number(/ mtu (\d+)/.exec(r.stdout)![1]);
      expect(Number(/pkts (\d+)/.exec(r.stdout)![1])).toBeGreaterThanOrEqual(count * Math.ceil(bytes / mtu));
    }
    for (const bad of [['-t', 'scatter'], ['-s', '12q']]) expect((await runBin('engine_cost', bad)).code).toBe(1);
  });
});
