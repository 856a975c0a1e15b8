// `npm run bench:p2p`: point-to-point bandwidth and latency on every provider, native C
// (bench/native/fi_bench) beside Node (lib/fabric, one child process per side, as
// fi_bench runs one process per side), the UDP loopback limit, and the ratios.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { binDir, fiBench, PINGPONG_MAX, probe, udpFloor, udpLimit, type Probe } from './native.js';
import { nodeRun } from './node.js';
import { loadBinding } from './node-peer.js';
import {
  floorRatios, formatFloor, formatRatioTable, formatRun, formatScaling, formatUdp, formatUdpFraction, lowerLatency,
  medianOfRounds, OPS, parseSizes, type FloorRatio, type LatencyRow, type Op, type Run, type ScalingPoint, type UdpRow,
} from './report.js';

const USAGE = `usage: node dist/bench/p2p/run.js [options]
  --quick              sizes 8,4k,64k,1m, 0.1 s per size
  --providers LIST     comma list (default: softuet if built, tcp;ofi_rxm, net)
  --sockets            also run the sockets provider
  --ops LIST           write,read,send,tsend,pingpong (default all)
  --sizes LIST         all | lo:hi | 8,4k,1m (default all: 8 B..4 MiB)
  --seconds S          target time per size (default 0.3; --quick 0.1)
  --window N           ops in flight for bandwidth (default 64)
  --reps N             measured runs per size, median reported (default 3; --quick 1)
  --rounds R           measure every provider and op R times in turn and report the
                       per-size median over rounds (default 1)
  --no-node            native only
  --no-batch           skip the Node batch-form runs (write/send/tsend up to 4 KiB)
  --no-udp             skip the loopback limits (UDP and the TCP stream; with
                       pingpong, the ping-pong floor of bare UDP and TCP sockets)
  --scaling            also 1,2,4,8 pairs and 1,16,64 in flight (write at 64k and 1m)
  --json FILE          write every result to FILE
Programs are taken from $NLF_BIN_DIR (default build/native/bin).`;

interface Report {
  date: string; libfabric: string; cpus: number; loadavg: number[]; node: string; binDir: string;
  providers: Record<string, Probe | { error: string }>;
  runs: Run[]; udp: UdpRow[]; udpPingpong: LatencyRow[]; vsFloor: FloorRatio[]; scaling: ScalingPoint[];
  nodeError?: string;
}

const DEFAULT_PROVIDERS = ['softuet', 'tcp;ofi_rxm', 'net'];

function log(s: string): void {
  process.stdout.write(s + '\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      providers: { type: 'string' },
      sockets: { type: 'boolean', default: false },
      ops: { type: 'string' },
      sizes: { type: 'string' },
      seconds: { type: 'string' },
      window: { type: 'string' },
      reps: { type: 'string' },
      rounds: { type: 'string' },
      'no-node': { type: 'boolean', default: false },
      'no-batch': { type: 'boolean', default: false },
      'no-udp': { type: 'boolean', default: false },
      scaling: { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    log(USAGE);
    return 0;
  }
  const sizes = parseSizes(values.sizes ?? (values.quick ? '8,4k,64k,1m' : 'all'));
  const seconds = values.seconds ? Number(values.seconds) : values.quick ? 0.1 : 0.3;
  if (!(seconds > 0 && seconds <= 60)) throw new Error('--seconds must be in (0, 60]');
  const window = values.window ? Number(values.window) : 64;
  if (!Number.isInteger(window) || window < 1 || window > 4096) throw new Error('--window must be an integer in [1, 4096]');
  const reps = values.reps ? Number(values.reps) : values.quick ? 1 : 3;
  if (!Number.isInteger(reps) || reps < 1 || reps > 100) throw new Error('--reps must be an integer in [1, 100]');
  const rounds = values.rounds ? Number(values.rounds) : 1;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new Error('--rounds must be an integer in [1, 50]');
  const ops = (values.ops?.split(',') ?? [...OPS]) as Op[];
  for (const op of ops) if (!OPS.includes(op)) throw new Error(`unknown op '${op}' (${OPS.join(', ')})`);
  const explicit = values.providers !== undefined;
  const wanted = values.providers?.split(',').map((p) => p.trim()) ?? [...DEFAULT_PROVIDERS];
  // 'tcp;ofi_rxm' contains a comma-free ';', so a comma list is unambiguous
  if (values.sockets && !wanted.includes('sockets')) wanted.push('sockets');

  const report: Report = {
    date: new Date().toISOString(), libfabric: '?', cpus: cpus().length, loadavg: loadavg(),
    node: process.version, binDir: binDir(), providers: {}, runs: [], udp: [], udpPingpong: [], vsFloor: [], scaling: [],
  };

  const providers: string[] = [];
  for (const p of wanted) {
    const r = await probe(p);
    report.providers[p] = r;
    if ('error' in r) {
      if (explicit || p !== 'softuet') log(`# provider ${p}: not available (${r.error})`);
      else log(`# provider softuet: not built or not loadable, skipped (${r.error})`);
    } else {
      providers.push(p);
      report.libfabric = r.libfabric;
    }
  }

  let nodeOk = !values['no-node'];
  if (nodeOk) {
    try {
      const b = await loadBinding();
      report.libfabric = b.libfabricVersion();
    } catch (e) {
      nodeOk = false;
      report.nodeError = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
  }

  log(`# node-libfabric p2p bench  ${report.date}`);
  log(`# libfabric ${report.libfabric}  cpus ${report.cpus}  load ${report.loadavg.map((l) => l.toFixed(2)).join(' ')}  node ${report.node}`);
  log(`# providers ${providers.join(', ') || '(none)'}  ops ${ops.join(',')}  sizes ${sizes.length}  ${seconds} s/size x ${reps} (median)${rounds > 1 ? ` x ${rounds} rounds (median)` : ''}  window ${window}`);
  log(`# native: ${report.binDir}/fi_bench (client + server process)  node: ${nodeOk ? 'lib/fabric, one child process per side' : `skipped (${report.nodeError ?? '--no-node'})`}`);
  if (providers.length === 0) {
    log('# nothing to run: no provider available');
    return 1;
  }

  const find = (impl: Run['impl'], provider: string, op: Op): Run | undefined =>
    report.runs.find((r) => r.impl === impl && r.provider === provider && r.op === op && r.pairs === 1 && (op === 'pingpong' || r.window === window));

  // The UDP limit is a ceiling that other load only lowers: it is measured before and
  // after the providers and each row keeps the better of the two, so a busy moment at
  // the end does not flatter the fractions.
  // Only a bandwidth op has a use for the ceiling (the ratio tables read 1 MiB writes).
  const udpOpts = { dgrams: [4096, 9000, 16000, 65000], message: 1 << 20, seconds: Math.max(0.2, seconds * 2), reps, modes: ['mmsg', 'gso', 'tcp'] };
  const wantUdp = !values['no-udp'] && (values.scaling || ops.some((op) => op !== 'pingpong'));
  const udpBefore = wantUdp ? await udpLimit(udpOpts) : undefined;
  // The ping-pong floor is bare sockets at the ping-pong sizes that go in one datagram,
  // bracketing the providers in the same way; the TCP floor only with a TCP provider.
  const floorOpts = {
    sizes: sizes.filter((s) => s <= PINGPONG_MAX), seconds, reps,
    tcp: providers.some((p) => p !== 'softuet'),
  };
  const wantFloor = !values['no-udp'] && ops.includes('pingpong') && floorOpts.sizes.length > 0;
  const floorBefore = wantFloor ? await udpFloor(floorOpts) : undefined;

  // Rounds visit every provider and op in turn, so that a slow stretch of this machine
  // lands on all of them instead of on whichever ran then.
  const measured = new Map<string, Run[]>();
  const keep = (r: Run): void => {
    const key = `${r.impl}|${r.provider}|${r.op}`;
    measured.set(key, [...(measured.get(key) ?? []), r]);
    if (rounds === 1) log('\n' + formatRun(r));
  };
  const small = sizes.filter((s) => s <= 4096);
  for (let round = 1; round <= rounds; round++) {
    for (const provider of providers) {
      for (const op of ops) {
        keep(await fiBench({ provider, op, sizes, window, seconds, reps }));
        if (nodeOk) {
          keep(await nodeRun({ provider, op, sizes, window, seconds, reps, batch: false }));
          if (!values['no-batch'] && small.length > 0 && (op === 'write' || op === 'send' || op === 'tsend')) {
            keep(await nodeRun({ provider, op, sizes: small, window, seconds, reps, batch: true }));
          }
        }
      }
    }
    if (rounds > 1) log(`# round ${round}/${rounds} done  load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  }
  for (const runs of measured.values()) {
    const r = medianOfRounds(runs);
    report.runs.push(r);
    if (rounds > 1) log('\n' + formatRun(r) + `\n   (median of ${runs.length} rounds)`);
  }

  let floorError: string | undefined;
  if (wantFloor) {
    const f = await udpFloor(floorOpts);
    report.udpPingpong = lowerLatency(floorBefore?.rows ?? [], f.rows);
    floorError = f.error ?? floorBefore?.error;
  }
  if (wantUdp) {
    const u = await udpLimit(udpOpts);
    for (const b of udpBefore?.rows ?? []) {
      const i = u.rows.findIndex((r) => r.mode === b.mode && r.dgram === b.dgram);
      if (i < 0) u.rows.push(b);
      else if (b.mb_per_sec > u.rows[i].mb_per_sec) u.rows[i] = { ...b, check: u.rows[i].check === 'ok' ? b.check : u.rows[i].check };
      else if (b.check !== 'ok') u.rows[i] = { ...u.rows[i], check: b.check };
    }
    if (!u.error && udpBefore?.error) u.error = udpBefore.error;
    report.udp = u.rows;
    log('\n' + formatUdp(u.rows, report.udpPingpong) + (u.error ? `\n   failed: ${u.error}` : '') +
      (floorError ? `\n   ping-pong floor failed: ${floorError}` : ''));
  } else if (wantFloor) {
    log('\n' + formatUdp([], report.udpPingpong) + (floorError ? `\n   ping-pong floor failed: ${floorError}` : ''));
  }

  if (values.scaling) {
    for (const provider of providers) {
      for (const bytes of [64 << 10, 1 << 20]) {
        const points: Array<[number, number]> = [[1, 64], [2, 64], [4, 64], [8, 64], [1, 1], [1, 16]];
        for (const [pairs, w] of points) {
          const r = await fiBench({ provider, op: 'write', sizes: [bytes], window: w, pairs, seconds, reps });
          const row = r.rows[0];
          if (row) report.scaling.push({ provider, op: 'write', bytes, pairs, window: w, mbPerSec: row.mb_per_sec });
          else log(`# scaling ${provider} P=${pairs} w=${w}: ${r.error ?? 'no result'}`);
        }
      }
    }
    log('\n' + formatScaling(report.scaling));
  }

  // Ratio tables: per round, then the median (compareRounds).
  const inRounds = (impl: Run['impl'], provider: string, op: Op): Run[] | undefined => measured.get(`${impl}|${provider}|${op}`);
  const perRound = rounds > 1 ? ', median of per-round ratios' : '';
  if (nodeOk) {
    for (const provider of providers) {
      log('\n' + formatRatioTable(`Node/native, ${provider} (MB/s ratio; pingpong: latency ratio and difference${perRound})`,
        ops.map((op) => ({ name: op, a: inRounds('node', provider, op), b: inRounds('native', provider, op) }))));
      const batchOps = ops.filter((op) => op === 'write' || op === 'send' || op === 'tsend');
      if (!values['no-batch'] && batchOps.length > 0) {
        log('\n' + formatRatioTable(`Node batch form/native, ${provider} (message rate ratio${perRound})`,
          batchOps.map((op) => ({ name: op, a: inRounds('node-batch', provider, op), b: inRounds('native', provider, op) }))));
      }
    }
  }
  const lead = providers.includes('softuet') ? 'softuet' : undefined;
  if (lead) {
    const peers = ['tcp;ofi_rxm', 'net'].filter((p) => providers.includes(p));
    for (const peer of peers) {
      log('\n' + formatRatioTable(`softuet/${peer}, native (MB/s ratio; pingpong: latency ratio and difference${perRound})`,
        ops.map((op) => ({ name: op, a: inRounds('native', lead, op), b: inRounds('native', peer, op) }))));
    }
    if (report.udp.length > 0) log('\n' + formatUdpFraction(find('native', lead, 'write'), report.udp));
    // The TCP providers against their own ceiling, a TCP stream: with softuet against
    // UDP above, it shows how much of a ratio between them is the kernel's.
    const tcpRow = report.udp.filter((u) => u.mode === 'tcp');
    if (tcpRow.length > 0) for (const peer of peers) log('\n' + formatUdpFraction(find('native', peer, 'write'), tcpRow));
  } else {
    if (providers.includes('tcp;ofi_rxm') && providers.includes('net')) {
      log('\n' + formatRatioTable(`net/tcp;ofi_rxm, native (softuet not available${perRound})`,
        ops.map((op) => ({ name: op, a: inRounds('native', 'net', op), b: inRounds('native', 'tcp;ofi_rxm', op) }))));
    }
    const best = providers[0];
    if (report.udp.length > 0) log('\n' + formatUdpFraction(find('native', best, 'write'), report.udp));
  }

  if (report.udpPingpong.length > 0) {
    // The floor is the lower of two measurements around all rounds, not one per round,
    // so each run's figure (its median over rounds) is set against it directly.
    const pp = providers.flatMap((p) => (['native', 'node'] as const).map((impl) => find(impl, p, 'pingpong')))
      .filter((r): r is Run => r !== undefined);
    report.vsFloor = floorRatios(pp, report.udpPingpong);
    log('\n' + formatFloor(pp, report.udpPingpong, rounds > 1 ? `; runs: median of ${rounds} rounds` : ''));
  }

  if (values.json) {
    writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
    log(`\n# results written to ${values.json}`);
  }
  const bad = report.runs.filter((r) => r.error || r.rows.some((row) => row.check !== 'ok'));
  for (const r of bad) log(`# FAILED: ${r.impl} ${r.provider} ${r.op}: ${r.error ?? 'data mismatch'}`);
  if (report.udp.some((u) => u.check !== 'ok')) log('# FAILED: udp_limit payload check');
  if (report.udpPingpong.some((u) => u.check !== 'ok')) log('# FAILED: udp_limit ping-pong payload check');
  return bad.length > 0 ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`bench:p2p: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
  process.exitCode = 1;
});
