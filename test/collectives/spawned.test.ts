// Real multi-process jobs: ranks are spawned Node processes running the compiled
// rank self-check (dist/bench/collectives/check.js), joined through the bootstrap.

import { existsSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism } from 'node:os';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launch, type Job } from '../../lib/collectives/launch.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const check = `${root}dist/bench/collectives/check.js`;
const runner = `${root}dist/bin/node-libfabric-run.js`;
if (!existsSync(check) || !existsSync(runner)) {
  throw new Error('dist/ is missing the collectives programs: run `npx tsc -p tsconfig.json` (scripts/setup does)');
}

function collect(job: Job) {
  const out: string[] = Array(job.children.length).fill('');
  const err: string[] = Array(job.children.length).fill('');
  job.children.forEach((c, r) => {
    c.stdout!.on('data', (d: Buffer) => { out[r] += d.toString(); });
    c.stderr!.on('data', (d: Buffer) => { err[r] += d.toString(); });
  });
  return { out, err };
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

// The fabric runs need the native addon and the compiled binding; when both are built the
// test runs (and must pass), so a broken binding cannot hide behind a skip.
const bindingBuilt = existsSync(`${root}build/Release/node_libfabric.node`) && existsSync(`${root}dist/lib/index.js`);
const fabricProvider = bindingBuilt ? 'tcp;ofi_rxm' : undefined;

// softuet (UET over UDP) is built beside the binding and found by pickInfo when present.
const softuetBuilt = bindingBuilt && existsSync(`${root}build/native/prov/libsoftuet-fi.so`);
const matrixProviders = [...(fabricProvider ? [fabricProvider] : []), ...(softuetBuilt ? ['softuet'] : [])];

/** A port nobody listens on right now, for a bootstrap hosted by rank 0. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Starts `size` ranks of check.js the way mpirun or srun would: no node-libfabric-run involved. */
async function externalJob(size: number, vars: (rank: number) => NodeJS.ProcessEnv, args: string[]) {
  const port = await freePort();
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(NLF_|OMPI_COMM_WORLD|PMI_|SLURM_)/.test(k)) base[k] = v;
  const runs = Array.from({ length: size }, (_, rank) => {
    const child = spawn(process.execPath, [check, ...args], {
      env: { ...base, ...vars(rank), NLF_BOOTSTRAP: `127.0.0.1:${port}`, NLF_TRANSPORT: 'socket', NLF_TIMEOUT_MS: '20000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    return new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    }));
  });
  return Promise.all(runs);
}

describe('jobs of spawned ranks', () => {
  it('node-libfabric-run runs 3 ranks that check every collective (TCP socket transport)', async () => {
    const child = spawn(process.execPath, [runner, '-n', '3', '--transport', 'socket', check, '--counts', '0,1,7,3001'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, err).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { rank: number; failures: string[]; checks: number });
    expect(lines.map((l) => l.rank).sort()).toEqual([0, 1, 2]);
    for (const l of lines) {
      expect(l.failures).toEqual([]);
      expect(l.checks).toBeGreaterThan(100);
    }
  });

  it('a rank killed mid-collective makes the others fail quickly with a clear error', async () => {
    const job = await launch({ ranks: 4, script: check, args: ['--counts', '1', '--loop'], transport: 'socket',
                               stdio: 'pipe', graceMs: 5000, env: { NLF_TIMEOUT_MS: '30000' } });
    const { out, err } = collect(job);
    await waitFor(() => out.every((o) => o.includes('looping')), 30_000);
    const t0 = Date.now();
    job.children[2]!.kill('SIGKILL');
    const res = await job.done;
    // Well under the 30 s collective timeout: the failure is detected, not waited out.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(res.code).toBe(128 + 9);
    expect(res.abortReason).toBe('rank 2 was killed by SIGKILL');
    for (const r of [0, 1, 3]) {
      expect(res.exits[r]!.code).toBe(3);
      expect(err[r]).toMatch(/rank 2 was killed by SIGKILL|connection to rank 2 lost/);
    }
  });

  it('a stopped rank makes the others time out, and the launcher reaps it', async () => {
    const job = await launch({ ranks: 3, script: check, args: ['--counts', '1', '--loop'], transport: 'socket',
                               stdio: 'pipe', graceMs: 300, env: { NLF_TIMEOUT_MS: '1500' } });
    const { out, err } = collect(job);
    await waitFor(() => out.every((o) => o.includes('looping')), 30_000);
    const t0 = Date.now();
    job.children[1]!.kill('SIGSTOP');
    const res = await job.done;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(res.code).not.toBe(0);
    expect(res.exits[1]!.signal).toMatch(/SIGTERM|SIGKILL/);
    expect(err[0]! + err[2]!).toMatch(/did not complete within 1500 ms|job aborted/);
  });

  it('ranks started by mpirun (OMPI_COMM_WORLD_*) join through the bootstrap rank 0 hosts', async () => {
    const res = await externalJob(3, (r) => ({ OMPI_COMM_WORLD_RANK: String(r), OMPI_COMM_WORLD_SIZE: '3' }), ['--counts', '0,5,301']);
    for (const [r, x] of res.entries()) {
      expect(x.code, x.err).toBe(0);
      const l = JSON.parse(x.out.trim()) as { rank: number; size: number; failures: string[] };
      expect([l.rank, l.size]).toEqual([r, 3]);
      expect(l.failures).toEqual([]);
    }
  });

  it('ranks started by Slurm (SLURM_PROCID/SLURM_NTASKS) join the same way; a missing NLF_BOOTSTRAP is a clear error', async () => {
    const res = await externalJob(2, (r) => ({ SLURM_PROCID: String(r), SLURM_NTASKS: '2' }), ['--counts', '3']);
    for (const [r, x] of res.entries()) {
      expect(x.code, x.err).toBe(0);
      expect((JSON.parse(x.out.trim()) as { rank: number }).rank).toBe(r);
    }
    const lone = spawn(process.execPath, [check], {
      env: { PATH: process.env.PATH, SLURM_PROCID: '1', SLURM_NTASKS: '2' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    lone.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((r) => lone.on('exit', r));
    expect(code).not.toBe(0);
    expect(err).toMatch(/NLF_BOOTSTRAP/);
  });

  it.runIf(fabricProvider)('3 ranks check every collective over libfabric tcp;ofi_rxm', async () => {
    const job = await launch({ ranks: 3, script: check, args: ['--counts', '0,1,7,3001', '--large', '300001'],
                               transport: 'fabric', provider: fabricProvider, stdio: 'pipe', timeoutMs: 60_000 });
    const { out, err } = collect(job);
    const res = await job.done;
    expect(res.code, err.join('\n')).toBe(0);
    for (const o of out) {
      const l = JSON.parse(o.trim()) as { transport: string; failures: string[] };
      expect(l.transport).toBe('fabric:tcp;ofi_rxm');
      expect(l.failures).toEqual([]);
    }
  });

  // 'tcp': RMA writes over tcp;ofi_rxm beside softuet (the loop's 1 MiB allreduce uses them).
  const killRows = [[fabricProvider, '0'], ...(softuetBuilt ? [['softuet', '1']] : []),
                    ...(softuetBuilt && fabricProvider ? [['softuet', 'tcp']] : [])] as const;
  for (const [provider, bulk] of killRows) {
    const how = bulk === '1' ? ' (RMA completions on a thread)' : bulk === 'tcp' ? ' (RMA over tcp;ofi_rxm)' : '';
    it.runIf(provider)(`over libfabric ${provider}${how}, a rank killed mid-collective fails the others quickly`, async () => {
      const job = await launch({ ranks: 3, script: check, args: ['--counts', '1', '--loop'], transport: 'fabric',
                                 provider, stdio: 'pipe', graceMs: 5000,
                                 env: { NLF_TIMEOUT_MS: '30000', NLF_BULK_THREAD: bulk === '1' ? '1' : '0',
                                        NLF_BULK_PROVIDER: bulk === 'tcp' ? 'tcp;ofi_rxm' : 'none' } });
      const { out, err } = collect(job);
      await waitFor(() => out.every((o) => o.includes('looping')), 30_000);
      const t0 = Date.now();
      job.children[1]!.kill('SIGKILL');
      const res = await job.done;
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(res.abortReason).toBe('rank 1 was killed by SIGKILL');
      for (const r of [0, 2]) {
        expect(res.exits[r]!.code).toBe(3);
        expect(err[r]).toMatch(/rank 1 was killed by SIGKILL/);
      }
    });
  }

  // Small allreduce and allgather over each provider, by rank count and data path:
  // counts that take the latency algorithms, and one large enough for pipelined RMA rings.
  // 'tcp': RMA writes on a second fabric over tcp;ofi_rxm (two ranks: pair exchange and
  // ring; three: pairwise), softuet only, as tcp;ofi_rxm beside itself is one fabric.
  const bulkRows = [[2, true, '0'], [4, true, '0'], [4, true, '1'], [3, false, '0'], [2, true, 'tcp'], [3, true, 'tcp']] as const;
  for (const provider of matrixProviders) {
    for (const [ranks, rma, bulk] of bulkRows.filter((b) => b[2] !== 'tcp' || (provider === 'softuet' && fabricProvider))) {
      const how = bulk === '1' ? ', RMA completions on a thread where the provider allows' : bulk === 'tcp' ? ', RMA over tcp;ofi_rxm' : '';
      it(`${ranks} ranks run allreduce and allgather over ${provider}${rma ? '' : ' without RMA'}${how}`, async () => {
        const job = await launch({
          ranks, script: check, transport: 'fabric', provider, stdio: 'pipe', timeoutMs: 60_000,
          // 60001 elements take the two-rank pair exchange (RMA) for every dtype.
          args: ['--colls', 'allreduce,allgather', '--counts', bulk === 'tcp' ? '1,7,3001,60001' : '1,7,3001', '--large', '200003'],
          env: { FI_TCP_IFACE: 'lo', FI_SOCKETS_IFACE: 'lo', NLF_TIMEOUT_MS: '30000', NLF_BULK_THREAD: bulk === '1' ? '1' : '0',
                 NLF_BULK_PROVIDER: bulk === 'tcp' ? 'tcp;ofi_rxm' : 'none', ...(rma ? {} : { NLF_RMA: '0' }) },
        });
        const { out, err } = collect(job);
        const res = await job.done;
        expect(res.code, err.join('\n')).toBe(0);
        const lines = out.map((o) => JSON.parse(o.trim()) as { rank: number; transport: string; rma: boolean; bulkThread: boolean;
                                                              bulkProvider: string | null; progress: string | null; checks: number; failures: string[] });
        expect(lines.map((l) => l.rank).sort()).toEqual(Array.from({ length: ranks }, (_, r) => r));
        for (const l of lines) {
          expect(l.transport).toBe(`fabric:${provider}`);
          if (!rma) expect(l.rma).toBe(false);
          // Only softuet (automatic progress, thread-safe domain) takes the bulk endpoint.
          expect(l.bulkThread).toBe(bulk === '1' && provider === 'softuet');
          expect(l.bulkProvider).toBe(bulk === 'tcp' ? 'tcp;ofi_rxm' : null);
          // More ranks than cores: softuet without its progress thread, unless a completion thread needs it.
          if (provider === 'softuet') expect(l.progress).toBe(bulk !== '1' && ranks > availableParallelism() ? 'manual' : 'auto');
          if (bulk === 'tcp') expect(l.rma).toBe(true);
          expect(l.failures).toEqual([]);
          // 7 dtypes x 4 ops x the counts, an allgather per count, and the two large ones.
          const counts = bulk === 'tcp' ? 4 : 3;
          expect(l.checks).toBe(7 * 4 * counts + counts + 2);
        }
      }, 90_000);
    }
  }
});

describe('bulk endpoint policy', () => {
  it('manual progress when this host runs more ranks than it has cores, unless told or a completion thread needs auto', async () => {
    const { wantProgress, localSizeFromEnv } = await import('../../lib/collectives/init.js');
    const cores = availableParallelism();
    expect(localSizeFromEnv({ NLF_LOCAL_SIZE: '3' })).toBe(3);
    expect(localSizeFromEnv({ OMPI_COMM_WORLD_LOCAL_SIZE: '5' })).toBe(5);
    expect(localSizeFromEnv({})).toBeUndefined();
    expect(wantProgress({}, { NLF_LOCAL_SIZE: String(cores + 1) })).toBe('manual');
    expect(wantProgress({}, { NLF_LOCAL_SIZE: String(cores) })).toBeUndefined();
    expect(wantProgress({}, {})).toBeUndefined();
    expect(wantProgress({}, { NLF_LOCAL_SIZE: String(cores + 1), NLF_PROGRESS: 'auto' })).toBe('auto');
    expect(wantProgress({}, { NLF_PROGRESS: 'manual' })).toBe('manual');
    expect(wantProgress({}, { NLF_LOCAL_SIZE: String(cores + 1), NLF_BULK_THREAD: '1' })).toBeUndefined();
    expect(wantProgress({ progress: 'auto' }, { NLF_PROGRESS: 'manual' })).toBe('auto');
  });

  it('a completion thread only when asked for', async () => {
    const { wantBulkThread } = await import('../../lib/collectives/init.js');
    const cores = availableParallelism();
    // more ranks than cores no longer turn it on by themselves
    expect(wantBulkThread({}, { NLF_LOCAL_SIZE: String(cores + 1) })).toBe(false);
    expect(wantBulkThread({}, {})).toBe(false);
    expect(wantBulkThread({}, { NLF_BULK_THREAD: '0' })).toBe(false);
    expect(wantBulkThread({}, { NLF_BULK_THREAD: '1' })).toBe(true);
    expect(wantBulkThread({ bulkThread: true }, {})).toBe(true);
    expect(wantBulkThread({ bulkThread: false }, { NLF_BULK_THREAD: '1' })).toBe(false);
  });

  it('RMA over a second provider only when asked', async () => {
    const { wantBulkProvider } = await import('../../lib/collectives/init.js');
    expect(wantBulkProvider({}, { NLF_LOCAL_SIZE: '2' })).toBeUndefined();       // not for a one-host job by itself
    expect(wantBulkProvider({}, { NLF_BULK_PROVIDER: 'none' })).toBeUndefined();
    expect(wantBulkProvider({}, { NLF_BULK_PROVIDER: 'tcp;ofi_rxm' })).toBe('tcp;ofi_rxm');
    expect(wantBulkProvider({ bulkProvider: 'tcp;ofi_rxm' }, {})).toBe('tcp;ofi_rxm');
    expect(wantBulkProvider({ bulkProvider: null }, { NLF_BULK_PROVIDER: 'tcp;ofi_rxm' })).toBeUndefined();
  });
});
