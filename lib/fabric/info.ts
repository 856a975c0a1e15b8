// fi_getinfo with names instead of bit masks, and provider choice with fallback.
import { FabricError, fabricError } from './errors.js';
import { constant, constant64, native, type NativeInfo, type NativeInfoDescription } from './native.js';

export type EndpointType = 'rdm' | 'msg' | 'dgram';
export type Capability =
  | 'msg' | 'tagged' | 'rma' | 'atomic' | 'read' | 'write' | 'send' | 'recv' | 'remote-read'
  | 'remote-write' | 'directed-recv' | 'source' | 'rma-event' | 'multi-recv' | 'local-comm'
  | 'remote-comm' | 'fence' | 'trigger' | 'shared-av' | 'rma-pmem' | 'named-rx-ctx';
export type ModeBit = 'context' | 'context2' | 'msg-prefix' | 'async-iov' | 'rx-cq-data' | 'local-mr' | 'buffered-recv';
export type MrModeBit = 'local' | 'raw' | 'virt-addr' | 'allocated' | 'prov-key' | 'mmu-notify' | 'rma-event'
  | 'endpoint' | 'hmem' | 'collective';
export type Progress = 'auto' | 'manual' | 'unspec';
/** Message orderings (fi_tx_attr/fi_rx_attr msg_order): 'raw' = read after write, etc. */
export type MsgOrder =
  | 'rar' | 'raw' | 'ras' | 'war' | 'waw' | 'was' | 'sar' | 'saw' | 'sas' | 'rma-rar' | 'rma-raw' | 'rma-war'
  | 'rma-waw' | 'atomic-rar' | 'atomic-raw' | 'atomic-war' | 'atomic-waw' | 'data';
/** A traffic class label, or a DSCP value (0..63). */
export type TrafficClass =
  | 'unspec' | 'best-effort' | 'low-latency' | 'dedicated-access' | 'bulk-data' | 'scavenger' | 'network-ctrl'
  | { dscp: number };
export type Threading = 'domain' | 'safe' | 'completion' | 'endpoint' | 'fid' | 'unspec';

const CAPS: Array<[Capability, string]> = [
  ['msg', 'FI_MSG'], ['tagged', 'FI_TAGGED'], ['rma', 'FI_RMA'], ['atomic', 'FI_ATOMIC'],
  ['read', 'FI_READ'], ['write', 'FI_WRITE'], ['send', 'FI_SEND'], ['recv', 'FI_RECV'],
  ['remote-read', 'FI_REMOTE_READ'], ['remote-write', 'FI_REMOTE_WRITE'],
  ['directed-recv', 'FI_DIRECTED_RECV'], ['source', 'FI_SOURCE'], ['rma-event', 'FI_RMA_EVENT'],
  ['multi-recv', 'FI_MULTI_RECV'], ['local-comm', 'FI_LOCAL_COMM'], ['remote-comm', 'FI_REMOTE_COMM'],
  ['fence', 'FI_FENCE'], ['trigger', 'FI_TRIGGER'], ['shared-av', 'FI_SHARED_AV'],
  ['rma-pmem', 'FI_RMA_PMEM'], ['named-rx-ctx', 'FI_NAMED_RX_CTX'],
];
const MODES: Array<[ModeBit, string]> = [
  ['context', 'FI_CONTEXT'], ['context2', 'FI_CONTEXT2'], ['msg-prefix', 'FI_MSG_PREFIX'],
  ['async-iov', 'FI_ASYNC_IOV'], ['rx-cq-data', 'FI_RX_CQ_DATA'], ['local-mr', 'FI_LOCAL_MR'],
  ['buffered-recv', 'FI_BUFFERED_RECV'],
];
const MR_MODES: Array<[MrModeBit, string]> = [
  ['local', 'FI_MR_LOCAL'], ['raw', 'FI_MR_RAW'], ['virt-addr', 'FI_MR_VIRT_ADDR'],
  ['allocated', 'FI_MR_ALLOCATED'], ['prov-key', 'FI_MR_PROV_KEY'], ['mmu-notify', 'FI_MR_MMU_NOTIFY'],
  ['rma-event', 'FI_MR_RMA_EVENT'], ['endpoint', 'FI_MR_ENDPOINT'], ['hmem', 'FI_MR_HMEM'],
  ['collective', 'FI_MR_COLLECTIVE'],
];
const ORDERS: Array<[MsgOrder, string]> = [
  ['rar', 'FI_ORDER_RAR'], ['raw', 'FI_ORDER_RAW'], ['ras', 'FI_ORDER_RAS'], ['war', 'FI_ORDER_WAR'],
  ['waw', 'FI_ORDER_WAW'], ['was', 'FI_ORDER_WAS'], ['sar', 'FI_ORDER_SAR'], ['saw', 'FI_ORDER_SAW'],
  ['sas', 'FI_ORDER_SAS'], ['rma-rar', 'FI_ORDER_RMA_RAR'], ['rma-raw', 'FI_ORDER_RMA_RAW'],
  ['rma-war', 'FI_ORDER_RMA_WAR'], ['rma-waw', 'FI_ORDER_RMA_WAW'], ['atomic-rar', 'FI_ORDER_ATOMIC_RAR'],
  ['atomic-raw', 'FI_ORDER_ATOMIC_RAW'], ['atomic-war', 'FI_ORDER_ATOMIC_WAR'],
  ['atomic-waw', 'FI_ORDER_ATOMIC_WAW'], ['data', 'FI_ORDER_DATA'],
];
const TCLASSES: Array<[Exclude<TrafficClass, { dscp: number }>, string]> = [
  ['unspec', 'FI_TC_UNSPEC'], ['best-effort', 'FI_TC_BEST_EFFORT'], ['low-latency', 'FI_TC_LOW_LATENCY'],
  ['dedicated-access', 'FI_TC_DEDICATED_ACCESS'], ['bulk-data', 'FI_TC_BULK_DATA'],
  ['scavenger', 'FI_TC_SCAVENGER'], ['network-ctrl', 'FI_TC_NETWORK_CTRL'],
];

function tclassToNative(t: TrafficClass): number {
  if (typeof t === 'object' && t !== null) {
    if (!Number.isInteger(t.dscp) || t.dscp < 0 || t.dscp > 63) throw new RangeError('trafficClass.dscp must be 0..63');
    return constant('FI_TC_DSCP') | t.dscp;
  }
  return byName(t, TCLASSES, 'trafficClass');
}

function tclassFromNative(v: number | undefined): TrafficClass {
  if (!v) return 'unspec';
  const dscp = constant('FI_TC_DSCP');
  if ((v & ~0xff) === dscp) return { dscp: v & 0xff };
  return TCLASSES.find(([, c]) => constant(c) === v)?.[0] ?? 'unspec';
}

const EP_TYPES: Array<[EndpointType, string]> = [['rdm', 'FI_EP_RDM'], ['msg', 'FI_EP_MSG'], ['dgram', 'FI_EP_DGRAM']];
const PROGRESS: Array<[Progress, string]> = [['auto', 'FI_PROGRESS_AUTO'], ['manual', 'FI_PROGRESS_MANUAL'], ['unspec', 'FI_PROGRESS_UNSPEC']];
const THREADING: Array<[Threading, string]> = [
  ['domain', 'FI_THREAD_DOMAIN'], ['safe', 'FI_THREAD_SAFE'], ['completion', 'FI_THREAD_COMPLETION'],
  ['endpoint', 'FI_THREAD_ENDPOINT'], ['fid', 'FI_THREAD_FID'], ['unspec', 'FI_THREAD_UNSPEC'],
];
const ADDR_FORMATS: Array<[string, string]> = [
  ['sockaddr', 'FI_SOCKADDR'], ['sockaddr_in', 'FI_SOCKADDR_IN'], ['sockaddr_in6', 'FI_SOCKADDR_IN6'],
  ['sockaddr_ib', 'FI_SOCKADDR_IB'], ['psmx', 'FI_ADDR_PSMX'], ['psmx2', 'FI_ADDR_PSMX2'], ['str', 'FI_ADDR_STR'],
  ['unspec', 'FI_FORMAT_UNSPEC'],
];

function bitsToNames<T extends string>(v: bigint, table: Array<[T, string]>): T[] {
  return table.filter(([, c]) => (v & constant64(c)) !== 0n).map(([n]) => n);
}

function namesToBits<T extends string>(names: readonly string[], table: Array<[T, string]>, what: string): bigint {
  if (!Array.isArray(names)) throw new TypeError(`${what} must be an array of names`);
  let v = 0n;
  for (const n of names) {
    const hit = table.find(([name]) => name === n);
    if (!hit) throw new RangeError(`unknown ${what} '${String(n)}' (known: ${table.map(([x]) => x).join(', ')})`);
    v |= constant64(hit[1]);
  }
  return v;
}

function lookup<T extends string>(v: number | undefined, table: Array<[T, string]>, dflt: T): T {
  if (v === undefined) return dflt;
  return table.find(([, c]) => constant(c) === v)?.[0] ?? dflt;
}

function byName<T extends string>(n: string, table: Array<[T, string]>, what: string): number {
  const hit = table.find(([name]) => name === n);
  if (!hit) throw new RangeError(`unknown ${what} '${n}' (known: ${table.map(([x]) => x).join(', ')})`);
  return constant(hit[1]);
}

export interface Limits {
  maxMsgSize: number; injectSize: number; txSize: number; rxSize: number; mrKeySize: number; cqDataSize: number;
}

/** One fi_info: a provider/fabric/domain/endpoint combination libfabric offers. */
export class Info {
  readonly provider: string;
  readonly fabric: string;
  readonly domain: string;
  readonly endpointType: EndpointType;
  readonly caps: Capability[];
  readonly mode: ModeBit[];
  readonly mrMode: MrModeBit[];
  readonly addrFormat: string;
  readonly progress: Progress;
  readonly threading: Threading;
  readonly limits: Limits;
  /** Orderings the provider keeps between operations of one endpoint (tx_attr msg_order). */
  readonly msgOrder: MsgOrder[];
  readonly trafficClass: TrafficClass;
  /** Local address the provider will bind (FI_SOURCE), raw bytes. */
  readonly srcAddr?: Buffer;
  /** @internal */
  declare readonly handle: NativeInfo;

  /** @internal */
  constructor(d: Omit<NativeInfoDescription, 'handle'>, handle: NativeInfo) {
    this.provider = d.provider;
    this.fabric = d.fabric;
    this.domain = d.domain;
    this.endpointType = lookup(d.epType, EP_TYPES, 'rdm');
    this.caps = bitsToNames(BigInt(d.caps), CAPS);
    this.mode = bitsToNames(BigInt(d.mode), MODES);
    this.mrMode = bitsToNames(BigInt(d.mrMode ?? 0), MR_MODES);
    this.addrFormat = lookup(d.addrFormat, ADDR_FORMATS, 'unspec');
    this.progress = lookup(d.progress, PROGRESS, 'unspec');
    this.threading = lookup(d.threading, THREADING, 'unspec');
    this.limits = {
      maxMsgSize: d.maxMsgSize ?? 0, injectSize: d.injectSize ?? 0, txSize: d.txSize ?? 0,
      rxSize: d.rxSize ?? 0, mrKeySize: d.mrKeySize ?? 0, cqDataSize: d.cqDataSize ?? 0,
    };
    this.msgOrder = bitsToNames(BigInt(d.msgOrder ?? 0n), ORDERS);
    this.trafficClass = tclassFromNative(d.tclass);
    if (d.srcAddr) this.srcAddr = d.srcAddr;
    Object.defineProperty(this, 'handle', { value: handle, enumerable: false });
  }

  has(cap: Capability): boolean { return this.caps.includes(cap); }
}

export interface Hints {
  /** Provider name as fi_info prints it, e.g. 'tcp;ofi_rxm', 'net', 'sockets', 'softuet'. */
  provider?: string;
  endpointType?: EndpointType;
  caps?: Capability[];
  /** Address: the local one to bind with `src: true` (FI_SOURCE), else the peer's. */
  node?: string;
  service?: string;
  src?: boolean;
  /** Alias of `src`. */
  source?: boolean;
  /** Memory-registration modes the application accepts (default: the binding's set). */
  mrMode?: MrModeBit[];
  threading?: Threading;
  progress?: Progress;
  txSize?: number;
  rxSize?: number;
  /** Orderings the application needs; on softuet anything beyond 'sas' selects ordered (ROD) PDCs. */
  msgOrder?: MsgOrder[];
  /** Traffic class of the endpoint's transmissions (softuet: the DSCP of its packets). */
  trafficClass?: TrafficClass;
  fabricName?: string;
  domainName?: string;
}

function toNativeHints(h: Hints): Record<string, unknown> {
  if (h === null || typeof h !== 'object') throw new TypeError('hints must be an object');
  const out: Record<string, unknown> = {};
  for (const k of ['provider', 'node', 'service', 'fabricName', 'domainName'] as const) {
    const v = h[k];
    if (v !== undefined) {
      if (typeof v !== 'string') throw new TypeError(`hints.${k} must be a string`);
      out[k] = v;
    }
  }
  const type = h.endpointType ?? 'rdm';
  out.epType = byName(type, EP_TYPES, 'endpointType');
  const defaultCaps: Capability[] = type === 'dgram' ? ['msg'] : ['msg', 'tagged', 'rma'];
  out.caps = namesToBits(h.caps ?? defaultCaps, CAPS, 'capability');
  if (h.mrMode !== undefined) out.mrMode = Number(namesToBits(h.mrMode, MR_MODES, 'mrMode'));
  if (h.threading !== undefined) out.threading = byName(h.threading, THREADING, 'threading');
  if (h.progress !== undefined) out.progress = byName(h.progress, PROGRESS, 'progress');
  for (const k of ['txSize', 'rxSize'] as const) {
    const v = h[k];
    if (v !== undefined) {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`hints.${k} must be a non-negative integer`);
      out[k] = v;
    }
  }
  if (h.msgOrder !== undefined) out.msgOrder = namesToBits(h.msgOrder, ORDERS, 'msgOrder');
  if (h.trafficClass !== undefined) out.tclass = tclassToNative(h.trafficClass);
  if (h.src ?? h.source) out.source = true;
  return out;
}

/** fi_getinfo: every Info libfabric offers for the hints (empty when none). */
export function getInfo(hints: Hints = {}): Info[] {
  const list = native().getInfo(toNativeHints(hints));
  return list.map(({ handle, ...d }) => new Info(d, handle));
}

/** Providers tried, in order, when none is named. */
export const PROVIDER_ORDER = ['softuet', 'tcp;ofi_rxm', 'net', 'sockets'] as const;

function providerList(hints: Hints): string[] {
  const env = process.env.NODE_LIBFABRIC_PROVIDER;
  if (hints.provider) return [hints.provider];
  if (env) return [env];
  return [...PROVIDER_ORDER];
}

/**
 * The first Info satisfying the hints, trying softuet, tcp;ofi_rxm, net, sockets in order
 * (or only the provider named by hints.provider / NODE_LIBFABRIC_PROVIDER). The address
 * defaults to 127.0.0.1 (bound locally).
 */
export function pickInfo(hints: Hints = {}): Info {
  const tried: string[] = [];
  const base: Hints = { ...hints };
  if (base.node === undefined) {
    base.node = '127.0.0.1';
    base.src = true;
  }
  for (const provider of providerList(hints)) {
    let infos: Info[] = [];
    try {
      infos = getInfo({ ...base, provider });
    } catch (e) {
      if (!(e instanceof FabricError)) throw e;
      tried.push(`${provider} (${e.code})`);
      continue;
    }
    // A layered name like 'tcp' may also match 'tcp;ofi_rxm': take the exact one first.
    const hit = infos.find((i) => i.provider === provider) ?? infos[0];
    if (hit) return hit;
    tried.push(`${provider} (no match)`);
  }
  throw fabricError('FI_ENODATA', `no provider satisfies the hints; tried ${tried.join(', ')}`);
}

/** Which of the default providers this libfabric offers an RDM endpoint on 127.0.0.1 with. */
export function availableProviders(): string[] {
  const out: string[] = [];
  for (const p of PROVIDER_ORDER) {
    try {
      if (getInfo({ provider: p, endpointType: 'rdm', caps: ['msg'], node: '127.0.0.1', src: true }).length > 0) out.push(p);
    } catch { /* not available */ }
  }
  return out;
}
