// Whole UET packets: the UDP payload (UDP port 4793) or the native-IP payload (protocol
// 253, starting with the entropy header) -> { entropy?, tss?, pds, ses?, payload, trailer? }.

import { CRC_SIZE, ENTROPY_HEADER_SIZE, ICV_SIZE, NextHeader, PdsType } from './constants.js';
import { crc32c } from './crc32c.js';
import { UetEncodeError, fail } from './errors.js';
import { rd32, room, wr32 } from './bytes.js';
import { decodeEntropy, decodePds, decodeTss, encodeEntropy, encodePds, pdsNextHeader, pdsSize, tssSize, type PdsHeader, type TssHeader } from './pds.js';
import { decodeSes, encodeSes, sesSize, type SesHeader } from './ses.js';

export type Encapsulation = 'udp' | 'ip';

export interface DecodeOptions {
  /** 'udp': bytes are the UDP payload; 'ip': bytes are the IP payload (entropy header first). Default 'udp'. */
  encap?: Encapsulation;
  /** A 4-byte CRC32C trailer ends the packet (configuration: nothing in the packet says so). */
  crc?: boolean;
  /**
   * Bytes the CRC covers before the UET bytes: IP source and destination addresses, then
   * (UDP) the UDP header. Without it the CRC covers the UET bytes only.
   */
  crcPrefix?: Uint8Array;
  /** UDP source port, which carries the entropy value in UDP mode. */
  sourcePort?: number;
}

export interface CrcTrailer { kind: 'crc'; value: number; computed: number; ok: boolean }
export interface IcvTrailer { kind: 'icv'; icv: Buffer }

export interface UetPacket {
  encap: Encapsulation;
  /** Entropy value: from the entropy header (IP) or the UDP source port when given. */
  entropy?: number;
  tss?: TssHeader;
  /** Absent when a TSS header makes the rest ciphertext. */
  pds?: PdsHeader;
  ses?: SesHeader;
  /** A view into the input (ciphertext under TSS), never a copy. */
  payload: Buffer;
  trailer?: CrcTrailer | IcvTrailer;
}

const EMPTY = Buffer.alloc(0);

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function decodePacket(input: Uint8Array, opts: DecodeOptions = {}): UetPacket {
  const buf = asBuffer(input);
  const encap = opts.encap ?? 'udp';
  const pkt: UetPacket = { encap, payload: EMPTY };
  let o = 0;
  if (encap === 'ip') {
    pkt.entropy = decodeEntropy(buf, 0).entropy;
    o = ENTROPY_HEADER_SIZE;
  } else if (opts.sourcePort !== undefined) {
    pkt.entropy = opts.sourcePort;
  }
  let end = buf.length;
  if (end - o >= 1 && buf[o]! >>> 3 === PdsType.TSS) {
    const tss = decodeTss(buf, o);
    pkt.tss = tss;
    o += tssSize(tss);
    if (end - o < ICV_SIZE) fail('length', end, `TSS packet needs a ${ICV_SIZE}-byte ICV`);
    pkt.payload = buf.subarray(o, end - ICV_SIZE);
    pkt.trailer = { kind: 'icv', icv: buf.subarray(end - ICV_SIZE, end) };
    return pkt;
  }
  if (opts.crc) {
    if (end - o < CRC_SIZE) fail('length', end, 'packet too short for its CRC32C trailer');
    end -= CRC_SIZE;
    const seed = opts.crcPrefix ? crc32c(opts.crcPrefix) : 0;
    const computed = crc32c(buf, seed, 0, end);
    const value = rd32(buf, end);
    pkt.trailer = { kind: 'crc', value, computed, ok: value === computed };
  }
  const view = end === buf.length ? buf : buf.subarray(0, end);
  const pds = decodePds(view, o);
  pkt.pds = pds;
  o += pdsSize(pds);
  if (pds.type !== PdsType.CP && pds.nh !== NextHeader.NONE) {
    const sesAt = o;
    const ses = decodeSes(pds.nh, view, o);
    pkt.ses = ses;
    o += sesSize(pds.nh, ses);
    const room = end - o;
    if ('payloadLength' in ses && ses.payloadLength !== undefined && ses.payloadLength > room) {
      const at = pds.nh === NextHeader.REQ_STD ? sesAt + 34 : pds.nh === NextHeader.RSP_DATA ? sesAt + 10 : sesAt + 2;
      fail('payload_length', at, `payload_length ${ses.payloadLength} exceeds the ${room} bytes left`);
    }
  }
  pkt.payload = view.subarray(o, end);
  return pkt;
}

export interface EncodeOptions {
  /** Append a CRC32C trailer computed over crcPrefix and the UET bytes. */
  crc?: boolean;
  crcPrefix?: Uint8Array;
}

export interface PacketToEncode {
  encap?: Encapsulation;
  entropy?: number;
  pds: PdsHeader;
  ses?: SesHeader;
  payload?: Uint8Array;
}

export function packetSize(p: PacketToEncode, opts: EncodeOptions = {}): number {
  return (p.encap === 'ip' ? ENTROPY_HEADER_SIZE : 0) + pdsSize(p.pds) + (p.ses ? sesSize(pdsNextHeader(p.pds), p.ses) : 0) +
    (p.payload?.length ?? 0) + (opts.crc ? CRC_SIZE : 0);
}

/** Writes the packet at `o`; returns the bytes written. TSS packets are not produced. */
export function encodePacket(p: PacketToEncode, b: Uint8Array, o = 0, opts: EncodeOptions = {}): number {
  room(b, o, packetSize(p, opts), 'packet');
  let at = o;
  if (p.encap === 'ip') at += encodeEntropy({ entropy: p.entropy ?? 0 }, b, at);
  at += encodePds(p.pds, b, at);
  if (p.ses) {
    const nh = pdsNextHeader(p.pds);
    if (!nh) throw new UetEncodeError('nh', 'a SES header needs a PDS next-header value');
    at += encodeSes(nh, p.ses, b, at);
  }
  if (p.payload) { b.set(p.payload, at); at += p.payload.length; }
  if (opts.crc) {
    const seed = opts.crcPrefix ? crc32c(opts.crcPrefix) : 0;
    wr32(b, at, crc32c(b, seed, o, at));
    at += CRC_SIZE;
  }
  return at - o;
}

export function encodePacketAlloc(p: PacketToEncode, opts: EncodeOptions = {}): Buffer {
  const out = Buffer.alloc(packetSize(p, opts));
  encodePacket(p, out, 0, opts);
  return out;
}
