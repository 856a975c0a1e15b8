// Where the time of one allreduce goes: per-op timestamps on every rank.
//
//   node dist/bench/collectives/timeline.js [-n 2] [-s 1M] [--iters 20] [--provider P] [--algorithm A]
//        [--segment BYTES] [--node-args '--single-threaded ...']
//
// --segment fixes the ring's segment size (the Communicator's segmentBytes) instead of
// letting it follow the message, to weigh pipelining against fewer, larger posts.
//
// Runs `iters` timed allreduces (float sum, out of place) and records, on each rank, when
// every RMA put and tagged send was posted and how long the post held the JS thread, when
// it completed, when each incoming put was reported landed and each receive done, and the JS-thread time between
// consecutive events (folds, copies, the loop turn), and the process's CPU time per
// operation over all its threads (steadier than wall time on a shared host). Rank 0 prints the median over the
// iterations of each phase, the mean, 90th percentile and maximum of the totals with the
// resends softuet's RMA endpoint made meanwhile, then one iteration's event list for
// every rank. Every iteration, and separately those slower than twice the median, is
// broken down as well: how long the JS thread was on a CPU and how long it waited for one
// (Linux schedstat), the CPU time of the process's other threads, garbage-collection
// pauses and softuet's progress thread, which tells a slow or busy host from a stall in
// the transport; nccl-tests' time is a mean, so the slow iterations weigh in it.

import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Communicator, FabricTransport, placementFromEnv } from '../../lib/collectives/index.js';
import { launch } from '../../lib/collectives/launch.js';
import type { Algorithm } from '../../lib/collectives/communicator.js';
import { parseSize } from './format.js';

interface Ev { t: number; what: string; dur?: number }

const now = () => Number(process.hrtime.bigint()) / 1e3;

/** The calling thread's [ns on a CPU, ns waiting for one] (zeros where schedstat is missing). */
function schedstat(): [number, number] {
  try {
    const f = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return [Number(f[0]), Number(f[1])];
  } catch {
    return [0, 0];
  }
}

function median(a: number[]): number {
  if (!a.length) return NaN;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

async function rank(size: number, iters: number, provider: string | undefined, algorithm: Algorithm,
                    segmentBytes: number | undefined): Promise<void> {
  const comm = await Communicator.init({ provider, segmentBytes });
  const rma = comm.transport.rma;
  let evs: Ev[] = [];
  // Tagged messages too: small collectives (and the offers of large ones) travel as them.
  const tr = comm.transport;
  const tsend = tr.send.bind(tr), trecv = tr.recv.bind(tr);
  tr.send = (peer, tag, data) => {
    const t0 = now();
    const p = tsend(peer, tag, data);
    evs.push({ t: t0, what: `send ${data.byteLength} B to ${peer}`, dur: now() - t0 });
    void p.then(() => evs.push({ t: now(), what: `send to ${peer} done` }), () => undefined);
    return p;
  };
  tr.recv = (peer, tag, into) => {
    const p = trecv(peer, tag, into);
    void p.then(() => evs.push({ t: now(), what: `recv from ${peer} done` }), () => undefined);
    return p;
  };
  if (rma) {
    const put = rma.put.bind(rma), landed = rma.landed.bind(rma);
    rma.put = (peer, tag, data, handle, off) => {
      const t0 = now();
      const p = put(peer, tag, data, handle, off);
      const t1 = now();
      evs.push({ t: t0, what: `post ${data.byteLength >> 10}K to ${peer} (tag ${tag & 0xffffffff})`, dur: t1 - t0 });
      void p.then(() => evs.push({ t: now(), what: `put done tag ${tag & 0xffffffff}` }), () => undefined);
      return p;
    };
    rma.landed = (peer, tag) => {
      const p = landed(peer, tag);
      void p.then(() => evs.push({ t: now(), what: `landed from ${peer} tag ${tag & 0xffffffff}` }), () => undefined);
      return p;
    };
  }
  const count = size / 4;
  const send = new Float32Array(count).fill(comm.rank + 1), recv = new Float32Array(count);
  for (let i = 0; i < 5; i++) await comm.allreduce(send, recv, { algorithm });
  // `window`: the iteration in performance.now() ms, where the GC entries are timed.
  const runs: { total: number; evs: Ev[]; start: number; window: [number, number]; onCpu: number; waitCpu: number;
    others: number; gc: number; thread: number; handoffs: number }[] = [];
  // GC pauses by their start time, matched to the iterations they fall in afterwards.
  const pauses: { start: number; dur: number }[] = [];  // start: ms, as window; dur: us
  const gcObs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) pauses.push({ start: e.startTime, dur: e.duration * 1e3 });
  });
  gcObs.observe({ entryTypes: ['gc'] });
  const t = comm.transport;
  const stats = () => (t instanceof FabricTransport ? t.rmaEndpointStats() : undefined) ?? {};
  const stats0 = stats();
  const cpu0 = process.cpuUsage();
  // The provider's counters are read right after each barrier, when no rank is inside a
  // timed collective (reading all of them costs tens of microseconds of CPU, which at
  // small sizes would slow a rank still running); each iteration gets the difference
  // across it and the next barrier.
  const counters = () => { const x = stats(); return [Number(x.thread_us ?? 0), Number(x.handoffs ?? 0)]; };
  let x0 = [0, 0];
  for (let i = 0; i <= iters; i++) {
    await comm.barrier();
    const x1 = counters();
    if (i > 0) {
      runs[i - 1]!.thread = x1[0]! - x0[0]!;
      runs[i - 1]!.handoffs = x1[1]! - x0[1]!;
    }
    x0 = x1;
    if (i === iters) break;
    evs = [];
    // The process's CPU time (all threads) less the JS thread's is what its other threads used.
    const s0 = schedstat(), c0 = process.cpuUsage(), p0 = performance.now();
    const start = now();
    await comm.allreduce(send, recv, { algorithm });
    const end = now();
    const s1 = schedstat(), c1 = process.cpuUsage(c0), p1 = performance.now();
    runs.push({ total: end - start, evs, start, window: [p0, p1], onCpu: (s1[0] - s0[0]) / 1e3,
      waitCpu: (s1[1] - s0[1]) / 1e3, others: Math.max(0, c1.user + c1.system - (s1[0] - s0[0]) / 1e3), gc: 0,
      thread: 0, handoffs: 0 });
  }
  await new Promise((r) => setImmediate(r));  // the observer's last entries
  gcObs.disconnect();
  for (const r of runs) {
    r.gc = pauses.filter((g) => g.start >= r.window[0] && g.start < r.window[1]).reduce((x, g) => x + g.dur, 0);
  }
  const cpuUsed = process.cpuUsage(cpu0);
  // Loss recovery on the RMA endpoint during the timed loop: a resend after an RTO costs
  // one iteration milliseconds, which the median hides and the mean (nccl-tests' time) shows.
  const stats1 = stats();
  const resends = Object.fromEntries(['retx_gap', 'retx_rto', 'probes_tx'].filter((k) => k in stats1)
    .map((k) => [k, Number(stats1[k]) - Number(stats0[k] ?? 0)]));
  const cpuPerOp = (cpuUsed.user + cpuUsed.system) / iters;
  const want = (comm.size * (comm.size + 1)) / 2;
  if (recv.some((v) => v !== want)) throw new Error(`rank ${comm.rank}: wrong result`);
  // Phase figures per iteration: JS-thread time inside posts, first post to last landing.
  const summary = runs.map((r) => {
    const posts = r.evs.filter((e) => e.dur !== undefined);
    const lands = r.evs.filter((e) => e.what.startsWith('landed'));
    const postSum = posts.reduce((s, e) => s + e.dur!, 0);
    const lastLand = lands.length ? Math.max(...lands.map((e) => e.t)) - r.start : NaN;
    const firstLand = lands.length ? Math.min(...lands.map((e) => e.t)) - r.start : NaN;
    return { total: r.total, postSum, firstLand, lastLand, afterLast: r.total - lastLand };
  });
  const mine = {
    rank: comm.rank,
    cpu: cpuPerOp,
    total: median(summary.map((s) => s.total)),
    mean: summary.reduce((a, s) => a + s.total, 0) / summary.length,
    p90: [...summary.map((s) => s.total)].sort((a, b) => a - b)[Math.floor(summary.length * 0.9)]!,
    max: Math.max(...summary.map((s) => s.total)),
    resends,
    postSum: median(summary.map((s) => s.postSum)),
    firstLand: median(summary.map((s) => s.firstLand)),
    lastLand: median(summary.map((s) => s.lastLand)),
    afterLast: median(summary.map((s) => s.afterLast)),
    // Every iteration, and those slower than twice the median, broken down (means, us).
    parts: (() => {
      const cut = 2 * median(runs.map((r) => r.total));
      const all = runs.reduce((a, r) => a + r.total, 0);
      const breakdown = (set: typeof runs) => {
        const mean = (f: (r: (typeof runs)[number]) => number) => (set.length ? set.reduce((a, r) => a + f(r), 0) / set.length : 0);
        return { count: set.length, share: set.reduce((a, r) => a + r.total, 0) / all, total: mean((r) => r.total),
          onCpu: mean((r) => r.onCpu), waitCpu: mean((r) => r.waitCpu), others: mean((r) => r.others), gc: mean((r) => r.gc),
          thread: mean((r) => r.thread), handoffs: mean((r) => r.handoffs) };
      };
      return { all: breakdown(runs), slow: breakdown(runs.filter((r) => r.total > cut)) };
    })(),
    sample: (() => {
      const m = median(runs.map((r) => r.total));
      const r = runs.find((x) => x.total === m)!;
      // Events after the end belong to the barrier that follows.
      return r.evs.filter((e) => e.t - r.start <= r.total).sort((a, b) => a.t - b.t).map((e) => `${(e.t - r.start).toFixed(0).padStart(6)} us  ${e.what}` +
        (e.dur !== undefined ? ` (held the JS thread ${e.dur.toFixed(0)} us)` : '')).concat([`${r.total.toFixed(0).padStart(6)} us  done`]);
    })(),
  };
  // Gather every rank's summary at rank 0 over the communicator itself, as JSON bytes.
  const text = new TextEncoder().encode(JSON.stringify(mine));
  const lenAll = new Float64Array(comm.size);
  lenAll[comm.rank] = text.byteLength;
  await comm.allreduce(lenAll, null, { op: 'max' });
  const slot = Math.max(...lenAll);
  const mineBuf = new Uint8Array(slot).fill(32);
  mineBuf.set(text);
  const all = new Uint8Array(slot * comm.size);
  await comm.allgather(mineBuf, all);
  if (comm.rank === 0) {
    const dec = new TextDecoder();
    const per = Array.from({ length: comm.size }, (_, r) => JSON.parse(dec.decode(all.subarray(r * slot, (r + 1) * slot)).trim()) as typeof mine);
    const softuet = t instanceof FabricTransport && t.softuetMtu ? ` (MTU ${t.softuetMtu}, CC ${t.softuetCc ?? 'default'})` : '';
    const out = [`# allreduce ${size} B float sum out of place, ${comm.size} ranks over ${t.name}${softuet}, ` +
      `algorithm ${algorithm}${segmentBytes ? `, segments of ${segmentBytes} B` : ''}, median of ${iters} (us)`,
    '# rank   total  posts(JS held)  first landing  last landing  after last landing  CPU/op (all threads, mean)'];
    for (const p of per) {
      // Phases without an RMA put (small messages travel as tagged ones) went through JSON as null.
      const us = (v: number | null, w: number) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(0)).padStart(w);
      out.push(`${String(p.rank).padStart(6)}  ${us(p.total, 6)}  ${us(p.postSum, 14)}  ` +
        `${us(p.firstLand, 13)}  ${us(p.lastLand, 12)}  ${us(p.afterLast, 18)}  ${us(p.cpu, 26)}`);
    }
    out.push('# rank  total: mean     p90     max  (us)  resends on the RMA endpoint');
    for (const p of per) {
      out.push(`${String(p.rank).padStart(6)}  ${p.mean.toFixed(0).padStart(12)}  ${p.p90.toFixed(0).padStart(6)}  ` +
        `${p.max.toFixed(0).padStart(6)}        ${Object.entries(p.resends).map(([k, v]) => `${k}=${v}`).join(' ') || '-'}`);
    }
    out.push('# per iteration (us, means) of all iterations and of those slower than twice the median: the total, the JS',
      '# thread on a CPU and waiting for one, the process\'s other threads on a CPU (the provider\'s, V8\'s), GC pauses,',
      '# softuet\'s progress thread in the data path and hand-offs to it');
    out.push('# rank  iters   count   share    total   on CPU  waiting   others       GC  prov.thread  hand-offs');
    for (const p of per) {
      for (const [which, x] of [['all', p.parts.all], ['slow', p.parts.slow]] as const) {
        out.push(`${String(p.rank).padStart(6)}  ${which.padStart(5)}  ${String(x.count).padStart(6)}  ${(100 * x.share).toFixed(0).padStart(5)}%  ` +
          `${x.total.toFixed(0).padStart(7)}  ${x.onCpu.toFixed(0).padStart(7)}  ${x.waitCpu.toFixed(0).padStart(7)}  ` +
          `${x.others.toFixed(0).padStart(7)}  ${x.gc.toFixed(0).padStart(7)}  ${x.thread.toFixed(0).padStart(11)}  ` +
          `${x.handoffs.toFixed(1).padStart(9)}`);
      }
    }
    for (const p of per) out.push(`# rank ${p.rank}, the median iteration:`, ...p.sample);
    process.stdout.write(out.join('\n') + '\n');
  }
  await comm.close();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let n = 2, size = 1 << 20, iters = 20, provider: string | undefined, algorithm: Algorithm = 'auto';
  let nodeArgs: string[] = [];
  let segmentBytes: number | undefined;
  for (let i = 0; i < argv.length; i += 2) {
    const a = argv[i]!, v = argv[i + 1];
    if (v === undefined) throw new RangeError(`${a} needs a value`);
    if (a === '-n') n = Number(v);
    else if (a === '-s') size = parseSize(v);
    else if (a === '--iters') iters = Number(v);
    else if (a === '--provider') provider = v;
    else if (a === '--algorithm') algorithm = v as Algorithm;
    else if (a === '--segment') segmentBytes = parseSize(v);
    else if (a === '--node-args') nodeArgs = v.split(' ').filter(Boolean);  // for the ranks' node, e.g. V8 flags
    else throw new RangeError(`unknown option ${a}`);
  }
  if (placementFromEnv().source === 'none') {
    const job = await launch({
      ranks: n, script: fileURLToPath(import.meta.url), args: argv, nodeArgs, provider, transport: 'fabric', stdio: 'inherit',
      env: { FI_TCP_IFACE: 'lo', FI_SOCKETS_IFACE: 'lo' },
    });
    process.exit((await job.done).code);
  }
  await rank(size, iters, provider, algorithm, segmentBytes);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
