/**
 * Canonical scenarios. Defaults: 100 Gb/s everywhere, 1 us per link (base RTT ~9.4 us with
 * 4 KiB packets across the spine), 4 MiB per output port (a shared-buffer switch letting
 * one port take that much), ECN ramp between 20% and 80% of NSCC's target queue.
 */
import type { EntropyMode } from '../entropy.js';
import type { CcConfig, DegradedLink, FabricConfig, FlowSpec, SimConfig } from './fabric.js';

export const GBPS = 100;
export const PROP_NS = 1000;
export const MTU = 4096;

export function defaultFabric(
  leaves: number,
  hostsPerLeaf: number,
  spines: number,
  trimming: boolean,
  ecnRamp: [number, number] = [0.2, 0.8],
): FabricConfig {
  const targetBytes = targetQdelayNs(trimming) * (GBPS / 8);
  return {
    leaves,
    hostsPerLeaf,
    spines,
    hostRateGbps: GBPS,
    propNs: PROP_NS,
    mtu: MTU,
    bufferBytes: 4 << 20,
    ecnKminBytes: Math.round(ecnRamp[0] * targetBytes),
    ecnKmaxBytes: Math.round(ecnRamp[1] * targetBytes),
    trimming,
  };
}

/** Unloaded RTT across the spine with the default fabric (data + ACK, store and forward). */
export function nominalRttNs(): number {
  const rate = GBPS / 8;
  return 8 * PROP_NS + 4 * ((MTU + 64) / rate) + 4 * (64 / rate);
}

export function targetQdelayNs(trimming: boolean): number {
  return trimming ? 0.75 * nominalRttNs() : nominalRttNs();
}

export interface ScenarioOptions {
  cc?: Partial<CcConfig>;
  entropy?: EntropyMode;
  trimming?: boolean;
  durationNs?: number;
  warmupNs?: number;
  sampleNs?: number;
  seed?: number;
  flowBytes?: number;
  /**
   * ECN marking ramp (kmin, kmax) as fractions of NSCC's target queue; default [0.2, 0.8].
   * A ramp that ends below the target makes every ACK marked with delay under target at
   * a steady last-hop queue: NSCC's NOOP quadrant, where no window moves.
   */
  ecnRamp?: [number, number];
}

function cc(o: ScenarioOptions): CcConfig {
  return { nscc: true, rccc: false, ...o.cc };
}

/**
 * N senders, one receiver (host 0); the bottleneck is down:h0. By default the senders are
 * hosts 1..N, so 7 of them share the receiver's leaf (2-hop paths, shorter RTT); with
 * `remoteOnly` they all sit on other leaves and see the same RTT.
 */
export function incast(n: number, o: ScenarioOptions & { remoteOnly?: boolean } = {}): SimConfig {
  const hostsPerLeaf = 8;
  const first = o.remoteOnly ? hostsPerLeaf : 1;
  const leaves = Math.ceil((first + n) / hostsPerLeaf);
  const trimming = o.trimming ?? false;
  const flows: FlowSpec[] = [];
  for (let i = 0; i < n; i++) flows.push({ src: first + i, dst: 0, bytes: o.flowBytes ?? Infinity, startNs: 0 });
  return {
    fabric: defaultFabric(leaves, hostsPerLeaf, 8, trimming, o.ecnRamp),
    flows,
    cc: cc(o),
    entropy: { mode: o.entropy ?? 'oblivious', paths: 8 },
    durationNs: o.durationNs ?? 2_000_000,
    warmupNs: o.warmupNs ?? 500_000,
    sampleNs: o.sampleNs ?? 1000,
    seed: o.seed ?? 1,
    watchPorts: ['down:h0'],
  };
}

/**
 * Permutation over `paths` spines between two leaves of `paths` hosts each: host i on leaf 0
 * sends to host i on leaf 1, so the uplinks of leaf 0 are exactly as loaded as the hosts.
 * With `degraded`, the leaf0-spine0 link runs at half rate in both directions.
 */
export function permutation(paths: number, o: ScenarioOptions & { degraded?: boolean } = {}): SimConfig {
  const trimming = o.trimming ?? true;
  const degraded: DegradedLink[] = o.degraded ? [{ leaf: 0, spine: 0, rateFactor: 0.5 }] : [];
  const flows: FlowSpec[] = [];
  for (let i = 0; i < paths; i++) flows.push({ src: i, dst: paths + i, bytes: o.flowBytes ?? Infinity, startNs: 0 });
  return {
    fabric: { ...defaultFabric(2, paths, paths, trimming), degraded },
    flows,
    cc: cc(o),
    entropy: { mode: o.entropy ?? 'reps', paths },
    durationNs: o.durationNs ?? 1_500_000,
    warmupNs: o.warmupNs ?? 300_000,
    sampleNs: o.sampleNs ?? 1000,
    seed: o.seed ?? 1,
    watchPorts: ['up:l0:s0'],
  };
}

/** Ideal aggregate goodput for permutation(): hosts' rate capped by the leaf-0 uplinks. */
export function permutationIdealGbps(paths: number, degraded: boolean): number {
  const up = (paths - (degraded ? 0.5 : 0)) * GBPS;
  const goodput = MTU / (MTU + 64);
  return Math.min(paths * GBPS, up) * goodput;
}

/** Every host sends to every other host on `leaves` x `hostsPerLeaf` hosts. */
export function allToAll(leaves: number, hostsPerLeaf: number, o: ScenarioOptions = {}): SimConfig {
  const trimming = o.trimming ?? true;
  const n = leaves * hostsPerLeaf;
  const flows: FlowSpec[] = [];
  for (let s = 0; s < n; s++) for (let d = 0; d < n; d++) if (s !== d) flows.push({ src: s, dst: d, bytes: o.flowBytes ?? 256 * 1024, startNs: 0 });
  return {
    fabric: defaultFabric(leaves, hostsPerLeaf, hostsPerLeaf, trimming),
    flows,
    cc: cc(o),
    entropy: { mode: o.entropy ?? 'reps', paths: 8 },
    durationNs: o.durationNs ?? 1_000_000,
    warmupNs: o.warmupNs ?? 0,
    sampleNs: o.sampleNs ?? 2000,
    seed: o.seed ?? 1,
    watchPorts: ['down:h0', 'up:l0:s0'],
  };
}
