// Minimal pcap / pcapng reader and link/IP/UDP frame parser for uet-dump.

export class CaptureFormatError extends Error {
  override name = 'CaptureFormatError';
  constructor(readonly offset: number, detail: string) {
    super(`capture file at byte ${offset}: ${detail}`);
  }
}

export const LinkType = {
  ETHERNET: 1,
  RAW: 101,
  RAW_12: 12,
  RAW_14: 14,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
  IPV4: 228,
  IPV6: 229,
} as const;

export interface CaptureRecord {
  /** Position of the record in the file, from 1. */
  index: number;
  sec: number;
  nsec: number;
  /** Digits after the second that the file's resolution supports (6 or 9). */
  digits: number;
  linkType: number;
  data: Buffer;
  origLen: number;
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

export function captureFormat(buf: Buffer): 'pcap' | 'pcapng' | undefined {
  if (buf.length < 4) return undefined;
  const be = buf.readUInt32BE(0);
  const le = buf.readUInt32LE(0);
  if (be === PCAPNG_SHB) return 'pcapng';
  if (be === PCAP_US || be === PCAP_NS || le === PCAP_US || le === PCAP_NS) return 'pcap';
  return undefined;
}

/** Iterates the packet records of a pcap or pcapng file held in memory. */
export function* readCapture(buf: Buffer): Generator<CaptureRecord> {
  const fmt = captureFormat(buf);
  if (fmt === 'pcap') yield* readPcap(buf);
  else if (fmt === 'pcapng') yield* readPcapng(buf);
  else throw new CaptureFormatError(0, 'not a pcap or pcapng file');
}

function* readPcap(buf: Buffer): Generator<CaptureRecord> {
  if (buf.length < 24) throw new CaptureFormatError(buf.length, 'pcap file header truncated');
  const le = buf.readUInt32LE(0) === PCAP_US || buf.readUInt32LE(0) === PCAP_NS;
  const magic = le ? buf.readUInt32LE(0) : buf.readUInt32BE(0);
  const ns = magic === PCAP_NS;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20) & 0xffff;
  let o = 24;
  let index = 0;
  while (o < buf.length) {
    if (buf.length - o < 16) throw new CaptureFormatError(o, 'pcap record header truncated');
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    const orig = u32(o + 12);
    if (incl > buf.length - o - 16) throw new CaptureFormatError(o + 8, `record length ${incl} overruns the file`);
    if (frac >= (ns ? 1e9 : 1e6)) throw new CaptureFormatError(o + 4, `fraction ${frac} out of range`);
    yield {
      index: ++index, sec, nsec: ns ? frac : frac * 1000, digits: ns ? 9 : 6, linkType,
      data: buf.subarray(o + 16, o + 16 + incl), origLen: orig,
    };
    o += 16 + incl;
  }
}

interface Iface { linkType: number; tps: bigint; digits: number }

function* readPcapng(buf: Buffer): Generator<CaptureRecord> {
  let le = true;
  let ifaces: Iface[] = [];
  let o = 0;
  let index = 0;
  const u16 = (p: number) => (le ? buf.readUInt16LE(p) : buf.readUInt16BE(p));
  const u32 = (p: number) => (le ? buf.readUInt32LE(p) : buf.readUInt32BE(p));
  while (o < buf.length) {
    if (buf.length - o < 12) throw new CaptureFormatError(o, 'pcapng block header truncated');
    const type = buf.readUInt32LE(o) === PCAPNG_SHB ? PCAPNG_SHB : u32(o);
    if (type === PCAPNG_SHB) {
      const bom = buf.readUInt32LE(o + 8);
      if (bom === PCAPNG_BOM) le = true;
      else if (buf.readUInt32BE(o + 8) === PCAPNG_BOM) le = false;
      else throw new CaptureFormatError(o + 8, 'bad byte-order magic');
      ifaces = [];
    }
    const len = u32(o + 4);
    if (len < 12 || len % 4 !== 0 || len > buf.length - o) throw new CaptureFormatError(o + 4, `bad block length ${len}`);
    if (u32(o + len - 4) !== len) throw new CaptureFormatError(o + len - 4, 'trailing block length differs');
    const body = o + 8;
    const bodyEnd = o + len - 4;
    if (type === 1) {
      if (bodyEnd - body < 8) throw new CaptureFormatError(body, 'interface block truncated');
      const iface: Iface = { linkType: u16(body), tps: 1_000_000n, digits: 6 };
      // options: code(2) len(2) value padded to 4; if_tsresol is code 9
      let p = body + 8;
      while (p + 4 <= bodyEnd) {
        const code = u16(p);
        const olen = u16(p + 2);
        if (code === 0) break;
        if (p + 4 + olen > bodyEnd) throw new CaptureFormatError(p, 'interface option overruns its block');
        if (code === 9 && olen >= 1) {
          const r = buf[p + 4]!;
          iface.tps = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
          iface.digits = iface.tps > 1_000_000n ? 9 : 6;
        }
        p += 4 + ((olen + 3) & ~3);
      }
      ifaces.push(iface);
    } else if (type === 6 || type === 3) {
      let ifId = 0;
      let ts = 0n;
      let cap: number;
      let orig: number;
      let data: number;
      if (type === 6) {
        if (bodyEnd - body < 20) throw new CaptureFormatError(body, 'enhanced packet block truncated');
        ifId = u32(body);
        ts = (BigInt(u32(body + 4)) << 32n) | BigInt(u32(body + 8));
        cap = u32(body + 12);
        orig = u32(body + 16);
        data = body + 20;
      } else {
        if (bodyEnd - body < 4) throw new CaptureFormatError(body, 'simple packet block truncated');
        orig = u32(body);
        data = body + 4;
        cap = Math.min(orig, bodyEnd - data);
      }
      if (cap > bodyEnd - data) throw new CaptureFormatError(body + 12, `captured length ${cap} overruns its block`);
      const iface = ifaces[ifId];
      if (!iface) throw new CaptureFormatError(body, `packet for undeclared interface ${ifId}`);
      const sec = ts / iface.tps;
      const nsec = ((ts % iface.tps) * 1_000_000_000n) / iface.tps;
      yield {
        index: ++index, sec: Number(sec), nsec: Number(nsec), digits: type === 3 ? 0 : iface.digits,
        linkType: iface.linkType, data: buf.subarray(data, data + cap), origLen: orig,
      };
    }
    o += len;
  }
}

// ---------------------------------------------------------------- frames

export interface Frame {
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  /** IP protocol / IPv6 next header of the transport. */
  proto: number;
  sport?: number;
  dport?: number;
  /** The UDP payload (proto 17) or the IP payload. */
  payload: Buffer;
  /** IP addresses (then the UDP header for UDP): what the UET CRC32C covers before the UET bytes. */
  crcPrefix: Buffer;
}

export type FrameResult = { frame: Frame } | { skip: string };

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);

/** Parses link, IP and UDP layers; anything else is reported as a skip reason. */
export function parseFrame(linkType: number, d: Buffer): FrameResult {
  let o: number;
  let ethertype: number;
  switch (linkType) {
    case LinkType.ETHERNET:
      if (d.length < 14) return { skip: 'truncated ethernet header' };
      ethertype = d.readUInt16BE(12);
      o = 14;
      while (VLAN_TAGS.has(ethertype)) {
        if (d.length < o + 4) return { skip: 'truncated VLAN tag' };
        ethertype = d.readUInt16BE(o + 2);
        o += 4;
      }
      break;
    case LinkType.LINUX_SLL:
      if (d.length < 16) return { skip: 'truncated SLL header' };
      ethertype = d.readUInt16BE(14);
      o = 16;
      break;
    case LinkType.LINUX_SLL2:
      if (d.length < 20) return { skip: 'truncated SLL2 header' };
      ethertype = d.readUInt16BE(0);
      o = 20;
      break;
    case LinkType.RAW: case LinkType.RAW_12: case LinkType.RAW_14:
      if (d.length < 1) return { skip: 'empty packet' };
      ethertype = d[0]! >>> 4 === 6 ? ETH_IPV6 : ETH_IPV4;
      o = 0;
      break;
    case LinkType.IPV4: ethertype = ETH_IPV4; o = 0; break;
    case LinkType.IPV6: ethertype = ETH_IPV6; o = 0; break;
    default:
      return { skip: `link type ${linkType} not supported` };
  }
  if (ethertype === ETH_IPV4) return parseIpv4(d, o);
  if (ethertype === ETH_IPV6) return parseIpv6(d, o);
  return { skip: `ethertype 0x${ethertype.toString(16)}` };
}

function parseIpv4(d: Buffer, o: number): FrameResult {
  if (d.length - o < 20) return { skip: 'truncated IPv4 header' };
  if (d[o]! >>> 4 !== 4) return { skip: 'bad IPv4 version' };
  const ihl = (d[o]! & 15) * 4;
  const total = d.readUInt16BE(o + 2);
  if (ihl < 20 || total < ihl) return { skip: 'bad IPv4 header length' };
  if (total > d.length - o) return { skip: 'IPv4 packet truncated in capture' };
  if (d.readUInt16BE(o + 6) & 0x3fff) return { skip: 'IPv4 fragment' };
  const proto = d[o + 9]!;
  const addrs = d.subarray(o + 12, o + 20);
  const src = `${d[o + 12]}.${d[o + 13]}.${d[o + 14]}.${d[o + 15]}`;
  const dst = `${d[o + 16]}.${d[o + 17]}.${d[o + 18]}.${d[o + 19]}`;
  return transport(4, src, dst, proto, addrs, d.subarray(o + ihl, o + total));
}

function v6str(a: Buffer): string {
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push(a.readUInt16BE(i));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function parseIpv6(d: Buffer, o: number): FrameResult {
  if (d.length - o < 40) return { skip: 'truncated IPv6 header' };
  if (d[o]! >>> 4 !== 6) return { skip: 'bad IPv6 version' };
  const plen = d.readUInt16BE(o + 4);
  if (plen > d.length - o - 40) return { skip: 'IPv6 packet truncated in capture' };
  let nh = d[o + 6]!;
  const end = o + 40 + plen;
  let p = o + 40;
  for (;;) {
    if (nh === 0 || nh === 43 || nh === 60) {
      if (end - p < 8) return { skip: 'truncated IPv6 extension header' };
      const n = (d[p + 1]! + 1) * 8;
      nh = d[p]!;
      p += n;
    } else if (nh === 44) {
      if (end - p < 8) return { skip: 'truncated IPv6 fragment header' };
      if (d.readUInt16BE(p + 2) & 0xfff9) return { skip: 'IPv6 fragment' };
      nh = d[p]!;
      p += 8;
    } else break;
    if (p > end) return { skip: 'IPv6 extension headers overrun the packet' };
  }
  return transport(6, v6str(d.subarray(o + 8, o + 24)), v6str(d.subarray(o + 24, o + 40)), nh,
    d.subarray(o + 8, o + 40), d.subarray(p, end));
}

function transport(v: 4 | 6, src: string, dst: string, proto: number, addrs: Buffer, l4: Buffer): FrameResult {
  if (proto !== 17) return { frame: { ipVersion: v, src, dst, proto, payload: l4, crcPrefix: addrs } };
  if (l4.length < 8) return { skip: 'truncated UDP header' };
  const ulen = l4.readUInt16BE(4);
  if (ulen < 8 || ulen > l4.length) return { skip: 'bad UDP length' };
  return {
    frame: {
      ipVersion: v, src, dst, proto, sport: l4.readUInt16BE(0), dport: l4.readUInt16BE(2),
      payload: l4.subarray(8, ulen), crcPrefix: Buffer.concat([addrs, l4.subarray(0, 8)]),
    },
  };
}

// ---------------------------------------------------------------- writers (tests, tools)

/** Writes a classic pcap file (either byte order, µs or ns timestamps). */
export function writePcap(linkType: number, packets: Array<{ sec: number; nsec: number; data: Buffer }>,
  opts: { littleEndian?: boolean; nanos?: boolean } = {}): Buffer {
  const le = opts.littleEndian ?? true;
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const w32 = (b: Buffer, o: number, v: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const w16 = (b: Buffer, o: number, v: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  w32(h, 0, opts.nanos ? PCAP_NS : PCAP_US);
  w16(h, 4, 2);
  w16(h, 6, 4);
  w32(h, 16, 262144);
  w32(h, 20, linkType);
  parts.push(h);
  for (const p of packets) {
    const r = Buffer.alloc(16);
    w32(r, 0, p.sec);
    w32(r, 4, opts.nanos ? p.nsec : Math.floor(p.nsec / 1000));
    w32(r, 8, p.data.length);
    w32(r, 12, p.data.length);
    parts.push(r, p.data);
  }
  return Buffer.concat(parts);
}

/** Writes a pcapng section: SHB, one IDB per link type, then EPBs (or SPBs with simple). */
export function writePcapng(packets: Array<{ linkType: number; sec: number; nsec: number; data: Buffer }>,
  opts: { littleEndian?: boolean; tsresol?: number; simple?: boolean } = {}): Buffer {
  const le = opts.littleEndian ?? true;
  const w32 = (b: Buffer, o: number, v: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const w16 = (b: Buffer, o: number, v: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.alloc((body.length + 3) & ~3);
    body.copy(padded);
    const b = Buffer.alloc(12 + padded.length);
    w32(b, 0, type);
    w32(b, 4, b.length);
    padded.copy(b, 8);
    w32(b, b.length - 4, b.length);
    return b;
  };
  const shb = Buffer.alloc(16);
  w32(shb, 0, PCAPNG_BOM);
  w16(shb, 4, 1);
  w16(shb, 6, 0);
  shb.writeBigInt64LE(-1n, 8);
  const parts = [block(PCAPNG_SHB, shb)];
  const resol = opts.tsresol ?? 6;
  const tps = 10n ** BigInt(resol);
  const ifIndex = new Map<number, number>();
  for (const p of packets) {
    if (ifIndex.has(p.linkType)) continue;
    ifIndex.set(p.linkType, ifIndex.size);
    const idb = Buffer.alloc(8 + 8 + 4);
    w16(idb, 0, p.linkType);
    w32(idb, 4, 262144);
    w16(idb, 8, 9);
    w16(idb, 10, 1);
    idb[12] = resol;
    parts.push(block(1, idb));
  }
  for (const p of packets) {
    if (opts.simple) {
      const spb = Buffer.alloc(4 + p.data.length);
      w32(spb, 0, p.data.length);
      p.data.copy(spb, 4);
      parts.push(block(3, spb));
      continue;
    }
    const ts = BigInt(p.sec) * tps + (BigInt(p.nsec) * tps) / 1_000_000_000n;
    const epb = Buffer.alloc(20 + p.data.length);
    w32(epb, 0, ifIndex.get(p.linkType)!);
    w32(epb, 4, Number(ts >> 32n));
    w32(epb, 8, Number(ts & 0xffffffffn));
    w32(epb, 12, p.data.length);
    w32(epb, 16, p.data.length);
    p.data.copy(epb, 20);
    parts.push(block(6, epb));
  }
  return Buffer.concat(parts);
}
