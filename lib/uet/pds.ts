// PDS headers (digest section 2), the entropy header and the TSS header (layout only: the
// payload behind a TSS header stays ciphertext here).
// Decoders take (bytes, offset) and report errors with absolute offsets into `bytes`.

import {
  AckFlag, CP_CTL_VALID, CpCtlType, CpFlag, ENTROPY_HEADER_SIZE, NACK_CODE_VALID, NackFlag,
  PDS_HEADER_SIZE, PDS_SIZE_BY_TYPE, PDS_NH_BY_TYPE, PDS_FLAGS_BY_TYPE, PdsType, ReqFlag, RudiFlag, ACK_EPSN_EXTRA, TSS_SSI_EXTRA, CcType,
} from './constants.js';
import { fail, short, UetEncodeError } from './errors.js';
import { rd16, rd24, rd32, rd64, rdS16, room, sint16, uint, wide, wr16, wr24, wr32, wr64 } from './bytes.js';

export interface EntropyHeader { entropy: number }

export interface TssHeader {
  type: 1; sp: boolean; an: boolean; sdi: number; ssi?: number; epoch: number; counter: bigint;
}

interface Prologue { nh: number; flags: number }

/** RUD/ROD request (types 2/3); with SYN, dpdcid is replaced by useRsvPdc/psnOffset. */
export interface RudRodReq extends Prologue {
  type: 2 | 3;
  retx: boolean; ar: boolean; syn: boolean;
  clearPsnOffset: number; psn: number; spdcid: number;
  dpdcid?: number; useRsvPdc?: number; psnOffset?: number;
}
export interface RudRodCcReq extends Omit<RudRodReq, 'type'> {
  type: 13 | 14; cccId: number; creditTarget: number;
}

interface AckCommon extends Prologue {
  m: boolean; retx: boolean; p: boolean; req: number;
  /** ACK_PSN = cackPsn + ackPsnOffset; absent on probe ACKs, which carry probeOpaque. */
  ackPsnOffset?: number; probeOpaque?: number;
  cackPsn: number; spdcid: number; dpdcid: number;
}
export interface Ack extends AckCommon { type: 7; epsn: boolean; expectedPsn?: number }
interface SackPart { ccType: number; ccFlags: number; mpr: number; sackPsnOffset: number; sackBitmap: bigint }
export interface AckCc extends AckCommon, SackPart {
  type: 8;
  serviceTime?: number; rc?: boolean; rcvCwndPend?: number; rcvdBytes?: number; credit?: number; oooCount: number;
}
export interface AckCcx extends AckCommon, SackPart {
  type: 9; ccxType: number; ccxStateHi: bigint; ccxStateLo: bigint;
}

interface NackCommon extends Prologue {
  m: boolean; retx: boolean; nt: boolean;
  nackCode: number; vendorCode: number; nackPsn: number; spdcid: number; dpdcid: number; payload: number;
}
export interface Nack extends NackCommon { type: 10 }
export interface NackCcx extends NackCommon { type: 12; nccxType: number; nackCcxState1: bigint; nackCcxState2: bigint }

export interface Cp {
  type: 11; ctlType: number; flags: number;
  isrod: boolean; retx: boolean; ar: boolean; syn: boolean;
  probeOpaque?: number; psn: number; spdcid: number;
  dpdcid?: number; useRsvPdc?: number; psnOffset?: number;
  payload: number;
}
export interface Rudi extends Prologue { type: 4 | 5; m: boolean; retx: boolean; pktId: number }
export interface Uud extends Prologue { type: 6 }

export type PdsHeader = RudRodReq | RudRodCcReq | Ack | AckCc | AckCcx | Nack | NackCcx | Cp | Rudi | Uud;

const TYPE_NAME_FOR_ERR = 'PDS header';

type NackBuild = Omit<Nack, 'type'> & Omit<NackCcx, 'type'> & { type: number };

/** The next-header value of a PDS header (CP carries none: its nibble is ctl_type). */
export function pdsNextHeader(h: PdsHeader): number {
  return h.type === PdsType.CP ? 0 : h.nh;
}

// ---------------------------------------------------------------- entropy, TSS

export function decodeEntropy(b: Uint8Array, o = 0): EntropyHeader {
  if (b.length - o < ENTROPY_HEADER_SIZE) short(b, o + 4, 'entropy header');
  if (b[o + 2]! | b[o + 3]!) fail('rsvd', o + 2, 'entropy header reserved bits set');
  return { entropy: rd16(b, o) };
}
export function encodeEntropy(h: EntropyHeader, b: Uint8Array, o = 0): number {
  room(b, o, 4, 'entropy header');
  wr16(b, o, uint(h.entropy, 16, 'entropy'));
  b[o + 2] = 0;
  b[o + 3] = 0;
  return 4;
}

export function tssSize(h: TssHeader): number {
  return PDS_HEADER_SIZE[PdsType.TSS]! + (h.sp ? TSS_SSI_EXTRA : 0);
}
export function decodeTss(b: Uint8Array, o = 0): TssHeader {
  if (b.length - o < 1) short(b, o + 1, 'TSS header');
  const b0 = b[o]!;
  if (b0 >>> 3 !== PdsType.TSS) fail('type', o, `type ${b0 >>> 3} is not TSS`);
  if (b0 & 0x02) fail('rsvd', o, 'TSS reserved bit set');
  const sp = (b0 & 0x04) !== 0;
  const need = sp ? 16 : 12;
  if (b.length - o < need) short(b, o + need, 'TSS header');
  const h: TssHeader = { type: 1, sp, an: (b0 & 0x01) !== 0, sdi: rd24(b, o + 1), epoch: 0, counter: 0n };
  let p = o + 4;
  if (sp) { h.ssi = rd32(b, p); p += 4; }
  h.epoch = rd16(b, p);
  h.counter = (BigInt(rd16(b, p + 2)) << 32n) | BigInt(rd32(b, p + 4));
  return h;
}
export function encodeTss(h: TssHeader, b: Uint8Array, o = 0): number {
  const n = tssSize(h);
  room(b, o, n, 'TSS header');
  b[o] = (PdsType.TSS << 3) | (h.sp ? 0x04 : 0) | (h.an ? 0x01 : 0);
  wr24(b, o + 1, uint(h.sdi, 24, 'sdi'));
  let p = o + 4;
  if (h.sp) { wr32(b, p, uint(h.ssi ?? 0, 32, 'ssi')); p += 4; }
  wr16(b, p, uint(h.epoch, 16, 'epoch'));
  const c = wide(h.counter, 48, 'counter');
  wr16(b, p + 2, Number(c >> 32n));
  wr32(b, p + 4, Number(c & 0xffffffffn));
  return n;
}

// ---------------------------------------------------------------- sizes

export function pdsSize(h: PdsHeader): number {
  const n = PDS_HEADER_SIZE[h.type]!;
  return h.type === PdsType.ACK && h.flags & AckFlag.EPSN ? n + ACK_EPSN_EXTRA : n;
}

// ---------------------------------------------------------------- decode

/** Decodes the PDS header at `o`, dispatching on the prologue type. */
export function decodePds(b: Uint8Array, o = 0): PdsHeader {
  if (b.length - o < 2) short(b, o + 2, 'PDS prologue');
  const type = b[o]! >>> 3;
  switch (type) {
    case PdsType.RUD_REQ: case PdsType.ROD_REQ: case PdsType.RUD_CC_REQ: case PdsType.ROD_CC_REQ:
      return decodeRudRodReq(b, o);
    case PdsType.ACK: case PdsType.ACK_CC: case PdsType.ACK_CCX:
      return decodeAck(b, o);
    case PdsType.NACK: case PdsType.NACK_CCX:
      return decodeNack(b, o);
    case PdsType.CP:
      return decodeCp(b, o);
    case PdsType.RUDI_REQ: case PdsType.RUDI_RESP:
      return decodeRudi(b, o);
    case PdsType.UUD_REQ:
      return decodeUud(b, o);
    default:
      return fail('type', o, type === PdsType.TSS ? 'TSS header where a PDS header was expected' : `unknown PDS type ${type}`);
  }
}

/** Validates the prologue's length, nh and flags for `type`; returns the 16-bit word. */
function prologue(b: Uint8Array, o: number, type: number, extra: number): number {
  const need = PDS_SIZE_BY_TYPE[type]! + extra;
  if (b.length - o < need) short(b, o + need, TYPE_NAME_FOR_ERR);
  const w = (b[o]! << 8) | b[o + 1]!;
  if (type !== PdsType.CP) {
    const nh = (w >>> 7) & 15;
    if (((PDS_NH_BY_TYPE[type]! >>> nh) & 1) === 0) fail('nh', o, `next header ${nh} not valid for PDS type ${type}`);
  }
  if (w & 0x7f & ~PDS_FLAGS_BY_TYPE[type]!) fail('flags', o + 1, `reserved flag bits 0x${(w & 0x7f).toString(16)} for PDS type ${type}`);
  return w;
}

function typeAt(b: Uint8Array, o: number): number {
  if (b.length - o < 2) short(b, o + 2, 'PDS prologue');
  return b[o]! >>> 3;
}
function wrongType(o: number, t: number, what: string): never {
  return fail('type', o, `PDS type ${t} is not ${what}`);
}

export function decodeRudRodReq(b: Uint8Array, o = 0): RudRodReq | RudRodCcReq {
  const type = typeAt(b, o);
  if (type !== 2 && type !== 3 && type !== 13 && type !== 14) wrongType(o, type, 'a RUD/ROD request');
  const w = prologue(b, o, type, 0);
  const flags = w & 0x7f;
  const syn = (flags & ReqFlag.SYN) !== 0;
  let h: RudRodReq | RudRodCcReq;
  if (syn) {
    const x = b[o + 10]!;
    if (x & 0x70) fail('rsvd', o + 10, 'SYN psn_offset word reserved bits set');
    h = {
      type: type as 2, nh: (w >>> 7) & 15, flags,
      retx: (flags & ReqFlag.RETX) !== 0, ar: (flags & ReqFlag.AR) !== 0, syn,
      clearPsnOffset: rdS16(b, o + 2), psn: rd32(b, o + 4), spdcid: rd16(b, o + 8),
      useRsvPdc: x >>> 7, psnOffset: ((x & 15) << 8) | b[o + 11]!,
    };
  } else {
    h = {
      type: type as 2, nh: (w >>> 7) & 15, flags,
      retx: (flags & ReqFlag.RETX) !== 0, ar: (flags & ReqFlag.AR) !== 0, syn,
      clearPsnOffset: rdS16(b, o + 2), psn: rd32(b, o + 4), spdcid: rd16(b, o + 8), dpdcid: rd16(b, o + 10),
    };
  }
  if (type >= PdsType.RUD_CC_REQ) {
    const c = h as unknown as RudRodCcReq;
    c.cccId = b[o + 12]!;
    c.creditTarget = rd24(b, o + 13);
  }
  return h;
}

export function decodeAck(b: Uint8Array, o = 0): Ack | AckCc | AckCcx {
  const type = typeAt(b, o);
  if (type !== 7 && type !== 8 && type !== 9) wrongType(o, type, 'an ACK');
  const w = prologue(b, o, type, type === PdsType.ACK && b[o + 1]! & AckFlag.EPSN ? ACK_EPSN_EXTRA : 0);
  const flags = w & 0x7f;
  const req = (flags & AckFlag.REQ_MASK) >>> AckFlag.REQ_SHIFT;
  if (req === 3) fail('req', o + 1, 'ACK REQ value 3 is reserved');
  const nh = (w >>> 7) & 15;
  const m = (flags & AckFlag.M) !== 0;
  const retx = (flags & AckFlag.RETX) !== 0;
  const p = (flags & AckFlag.P) !== 0;
  const off = p ? rd16(b, o + 2) : rdS16(b, o + 2);
  if (type === PdsType.ACK) {
    const epsn = (flags & AckFlag.EPSN) !== 0;
    const a: Ack = p
      ? { type: 7, nh, flags, m, retx, p, req, epsn, probeOpaque: off, cackPsn: rd32(b, o + 4), spdcid: rd16(b, o + 8), dpdcid: rd16(b, o + 10) }
      : { type: 7, nh, flags, m, retx, p, req, epsn, ackPsnOffset: off, cackPsn: rd32(b, o + 4), spdcid: rd16(b, o + 8), dpdcid: rd16(b, o + 10) };
    if (epsn) a.expectedPsn = rd32(b, o + 12);
    return a;
  }
  const c = b[o + 12]!;
  const ccType = c >>> 4;
  if (type === PdsType.ACK_CC) {
    let a: AckCc;
    if (ccType === CcType.NSCC) {
      const x = b[o + 26]!;
      a = {
        type: 8, nh, flags, m, retx, p, req, ackPsnOffset: 0,
        cackPsn: rd32(b, o + 4), spdcid: rd16(b, o + 8), dpdcid: rd16(b, o + 10),
        ccType, ccFlags: c & 15, mpr: b[o + 13]!, sackPsnOffset: rdS16(b, o + 14), sackBitmap: rd64(b, o + 16),
        serviceTime: rd16(b, o + 24), rc: (x & 0x80) !== 0, rcvCwndPend: x & 0x7f, rcvdBytes: rd24(b, o + 27),
        oooCount: rd16(b, o + 30),
      };
    } else if (ccType === CcType.CREDIT) {
      if (b[o + 27]! | b[o + 28]! | b[o + 29]!) fail('rsvd', o + 27, 'CREDIT state reserved bits set');
      a = {
        type: 8, nh, flags, m, retx, p, req, ackPsnOffset: 0,
        cackPsn: rd32(b, o + 4), spdcid: rd16(b, o + 8), dpdcid: rd16(b, o + 10),
        ccType, ccFlags: c & 15, mpr: b[o + 13]!, sackPsnOffset: rdS16(b, o + 14), sackBitmap: rd64(b, o + 16),
        credit: rd24(b, o + 24), oooCount: rd16(b, o + 30),
      };
    } else {
      return fail('cc_type', o + 12, `unknown ACK_CC cc_type ${ccType}`);
    }
    if (p) { delete a.ackPsnOffset; a.probeOpaque = off; } else a.ackPsnOffset = off;
    return a;
  }
  const x: AckCcx = {
    type: 9, nh, flags, m, retx, p, req, ackPsnOffset: 0,
    cackPsn: rd32(b, o + 4), spdcid: rd16(b, o + 8), dpdcid: rd16(b, o + 10),
    ccType, ccFlags: c & 15, mpr: b[o + 13]!, sackPsnOffset: rdS16(b, o + 14), sackBitmap: rd64(b, o + 16),
    ccxType: b[o + 24]! >>> 4, ccxStateHi: rd64(b, o + 24), ccxStateLo: rd64(b, o + 32),
  };
  if (p) { delete x.ackPsnOffset; x.probeOpaque = off; } else x.ackPsnOffset = off;
  return x;
}

export function decodeNack(b: Uint8Array, o = 0): Nack | NackCcx {
  const type = typeAt(b, o);
  if (type !== 10 && type !== 12) wrongType(o, type, 'a NACK');
  const w = prologue(b, o, type, 0);
  const flags = w & 0x7f;
  const code = b[o + 2]!;
  if (!NACK_CODE_VALID[code]) fail('nack_code', o + 2, `unknown NACK code 0x${code.toString(16)}`);
  const h = {
    type, nh: (w >>> 7) & 15, flags,
    m: (flags & NackFlag.M) !== 0, retx: (flags & NackFlag.RETX) !== 0, nt: (flags & NackFlag.NT) !== 0,
    nackCode: code, vendorCode: b[o + 3]!, nackPsn: rd32(b, o + 4), spdcid: rd16(b, o + 8), dpdcid: rd16(b, o + 10),
    payload: rd32(b, o + 12),
  } as NackBuild;
  if (type === PdsType.NACK_CCX) {
    h.nccxType = b[o + 16]! >>> 4;
    h.nackCcxState1 = rd64(b, o + 16) & 0x0fffffffffffffffn;
    h.nackCcxState2 = rd64(b, o + 24);
  }
  return h as unknown as Nack | NackCcx;
}

export function decodeCp(b: Uint8Array, o = 0): Cp {
  const type = typeAt(b, o);
  if (type !== PdsType.CP) wrongType(o, type, 'a CP');
  const w = prologue(b, o, PdsType.CP, 0);
  const ctlType = (w >>> 7) & 15;
  if (!CP_CTL_VALID[ctlType]) fail('ctl_type', o, `unknown CP ctl_type ${ctlType}`);
  const flags = w & 0x7f;
  const syn = (flags & CpFlag.SYN) !== 0;
  const h: Cp = {
    type: 11, ctlType, flags,
    isrod: (flags & CpFlag.ISROD) !== 0, retx: (flags & CpFlag.RETX) !== 0, ar: (flags & CpFlag.AR) !== 0, syn,
    psn: 0, spdcid: 0, payload: 0,
  };
  if (ctlType === CpCtlType.PROBE) h.probeOpaque = rd16(b, o + 2);
  else if (b[o + 2]! | b[o + 3]!) fail('rsvd', o + 2, 'CP bytes 2-3 are reserved unless PROBE');
  h.psn = rd32(b, o + 4);
  h.spdcid = rd16(b, o + 8);
  if (syn) {
    const x = b[o + 10]!;
    if (x & 0x70) fail('rsvd', o + 10, 'SYN psn_offset word reserved bits set');
    h.useRsvPdc = x >>> 7;
    h.psnOffset = ((x & 15) << 8) | b[o + 11]!;
  } else {
    h.dpdcid = rd16(b, o + 10);
  }
  h.payload = rd32(b, o + 12);
  return h;
}

export function decodeRudi(b: Uint8Array, o = 0): Rudi {
  const type = typeAt(b, o);
  if (type !== 4 && type !== 5) wrongType(o, type, 'a RUDI request/response');
  const w = prologue(b, o, type, 0);
  if (b[o + 2]! | b[o + 3]!) fail('rsvd', o + 2, 'RUDI reserved bits set');
  const flags = w & 0x7f;
  return {
    type: type as 4 | 5, nh: (w >>> 7) & 15, flags,
    m: (flags & RudiFlag.M) !== 0, retx: (flags & RudiFlag.RETX) !== 0, pktId: rd32(b, o + 4),
  };
}

export function decodeUud(b: Uint8Array, o = 0): Uud {
  const type = typeAt(b, o);
  if (type !== PdsType.UUD_REQ) wrongType(o, type, 'UUD');
  const w = prologue(b, o, PdsType.UUD_REQ, 0);
  if (b[o + 2]! | b[o + 3]!) fail('rsvd', o + 2, 'UUD reserved bits set');
  return { type: 6, nh: (w >>> 7) & 15, flags: w & 0x7f };
}

// ---------------------------------------------------------------- encode

function flagsOf(h: { flags?: number }, named: number): number {
  return uint(h.flags ?? 0, 7, 'flags') | named;
}

function writePrologue(b: Uint8Array, o: number, type: number, nh: number, flags: number): void {
  if (flags & ~PDS_FLAGS_BY_TYPE[type]!) throw new UetEncodeError('flags', `reserved bits in 0x${flags.toString(16)} for PDS type ${type}`);
  wr16(b, o, (type << 11) | (uint(nh, 4, type === PdsType.CP ? 'ctl_type' : 'nh') << 7) | flags);
}

function writeSynWord(b: Uint8Array, o: number, h: { syn?: boolean; dpdcid?: number; useRsvPdc?: number; psnOffset?: number }, syn: boolean): void {
  if (syn) wr16(b, o, (uint(h.useRsvPdc ?? 0, 1, 'use_rsv_pdc') << 15) | uint(h.psnOffset ?? 0, 12, 'psn_offset'));
  else wr16(b, o, uint(h.dpdcid ?? 0, 16, 'dpdcid'));
}

/** Encodes `h` at `o`; returns the bytes written. */
export function encodePds(h: PdsHeader, b: Uint8Array, o = 0): number {
  switch (h.type) {
    case 2: case 3: case 13: case 14: return encodeReq(h, b, o);
    case 7: case 8: case 9: return encodeAck(h, b, o);
    case 10: case 12: return encodeNack(h, b, o);
    case 11: return encodeCp(h, b, o);
    case 4: case 5: return encodeRudi(h, b, o);
    case 6: return encodeUud(h, b, o);
    default:
      throw new UetEncodeError('type', `unknown PDS type ${(h as { type: unknown }).type}`);
  }
}

// The hot encoders check ranges inline: (v & mask) === v is false for values out of range,
// negatives, fractions and NaN, and costs less than a call per field.
function encodeReq(h: RudRodReq | RudRodCcReq, b: Uint8Array, o: number): number {
  const n = PDS_SIZE_BY_TYPE[h.type]!;
  room(b, o, n, 'PDS header');
  const flags = flagsOf(h, (h.retx ? ReqFlag.RETX : 0) | (h.ar ? ReqFlag.AR : 0) | (h.syn ? ReqFlag.SYN : 0));
  writePrologue(b, o, h.type, h.nh, flags);
  const cpo = h.clearPsnOffset;
  if (((cpo << 16) >> 16) !== cpo) sint16(cpo, 'clear_psn_offset');
  const psn = h.psn;
  if (psn >>> 0 !== psn) uint(psn, 32, 'psn');
  const sp = h.spdcid;
  if ((sp & 0xffff) !== sp) uint(sp, 16, 'spdcid');
  wr16(b, o + 2, cpo & 0xffff);
  wr32(b, o + 4, psn);
  wr16(b, o + 8, sp);
  writeSynWord(b, o + 10, h, (flags & ReqFlag.SYN) !== 0);
  if (n === 16) {
    const c = h as RudRodCcReq;
    b[o + 12] = uint(c.cccId, 8, 'ccc_id');
    wr24(b, o + 13, uint(c.creditTarget, 24, 'credit_target'));
  }
  return n;
}

function encodeAck(h: Ack | AckCc | AckCcx, b: Uint8Array, o: number): number {
  const req = h.req ?? 0;
  if ((req & 3) !== req || req === 3) throw new UetEncodeError('req', `${req} is not a REQ value (0-2)`);
  const flags = flagsOf(h, (h.m ? AckFlag.M : 0) | (h.retx ? AckFlag.RETX : 0) | (h.p ? AckFlag.P : 0) |
    (req << AckFlag.REQ_SHIFT) | (h.type === 7 && h.epsn ? AckFlag.EPSN : 0));
  const epsn = h.type === 7 && (flags & AckFlag.EPSN) !== 0;
  const n = PDS_SIZE_BY_TYPE[h.type]! + (epsn ? ACK_EPSN_EXTRA : 0);
  room(b, o, n, 'PDS header');
  writePrologue(b, o, h.type, h.nh, flags);
  if (flags & AckFlag.P) wr16(b, o + 2, uint(h.probeOpaque ?? 0, 16, 'probe_opaque'));
  else {
    const off = h.ackPsnOffset ?? 0;
    if (((off << 16) >> 16) !== off) sint16(off, 'ack_psn_offset');
    wr16(b, o + 2, off & 0xffff);
  }
  const cack = h.cackPsn;
  if (cack >>> 0 !== cack) uint(cack, 32, 'cack_psn');
  const sp = h.spdcid;
  if ((sp & 0xffff) !== sp) uint(sp, 16, 'spdcid');
  const dp = h.dpdcid;
  if ((dp & 0xffff) !== dp) uint(dp, 16, 'dpdcid');
  wr32(b, o + 4, cack);
  wr16(b, o + 8, sp);
  wr16(b, o + 10, dp);
  if (h.type === 7) {
    if (epsn) wr32(b, o + 12, uint(h.expectedPsn ?? 0, 32, 'expected_psn'));
    return n;
  }
  const cc = h.ccType;
  const ccf = h.ccFlags ?? 0;
  const mpr = h.mpr;
  const so = h.sackPsnOffset;
  if ((cc & 15) !== cc) uint(cc, 4, 'cc_type');
  if ((ccf & 15) !== ccf) uint(ccf, 4, 'cc_flags');
  if ((mpr & 0xff) !== mpr) uint(mpr, 8, 'mpr');
  if (((so << 16) >> 16) !== so) sint16(so, 'sack_psn_offset');
  b[o + 12] = (cc << 4) | ccf;
  b[o + 13] = mpr;
  wr16(b, o + 14, so & 0xffff);
  wr64(b, o + 16, wide(h.sackBitmap, 64, 'sack_bitmap'));
  if (h.type === 8) return encodeCcState(h, b, o);
  const hi = wide(h.ccxStateHi, 64, 'ccx_state_hi');
  if (h.ccxType !== undefined && BigInt(h.ccxType) !== hi >> 60n) {
    throw new UetEncodeError('ccx_type', `ccx_type ${h.ccxType} differs from the top nibble of ccx_state_hi`);
  }
  wr64(b, o + 24, hi);
  wr64(b, o + 32, wide(h.ccxStateLo, 64, 'ccx_state_lo'));
  return n;
}

function encodeCcState(h: AckCc, b: Uint8Array, o: number): number {
  const ooo = h.oooCount;
  if ((ooo & 0xffff) !== ooo) uint(ooo, 16, 'ooo_count');
  if (h.ccType === CcType.NSCC) {
    const st = h.serviceTime ?? 0;
    const pend = h.rcvCwndPend ?? 0;
    const rcvd = h.rcvdBytes ?? 0;
    if ((st & 0xffff) !== st) uint(st, 16, 'service_time');
    if ((pend & 0x7f) !== pend) uint(pend, 7, 'rcv_cwnd_pend');
    if ((rcvd & 0xffffff) !== rcvd) uint(rcvd, 24, 'rcvd_bytes');
    wr16(b, o + 24, st);
    b[o + 26] = (h.rc ? 0x80 : 0) | pend;
    wr24(b, o + 27, rcvd);
  } else if (h.ccType === CcType.CREDIT) {
    wr24(b, o + 24, uint(h.credit ?? 0, 24, 'credit'));
    wr24(b, o + 27, 0);
  } else {
    throw new UetEncodeError('cc_type', `unknown ACK_CC cc_type ${h.ccType}`);
  }
  wr16(b, o + 30, ooo);
  return 32;
}

function encodeNack(h: Nack | NackCcx, b: Uint8Array, o: number): number {
  const n = PDS_SIZE_BY_TYPE[h.type]!;
  room(b, o, n, 'PDS header');
  writePrologue(b, o, h.type, h.nh, flagsOf(h, (h.m ? NackFlag.M : 0) | (h.retx ? NackFlag.RETX : 0) | (h.nt ? NackFlag.NT : 0)));
  b[o + 2] = uint(h.nackCode, 8, 'nack_code');
  b[o + 3] = uint(h.vendorCode, 8, 'vendor_code');
  wr32(b, o + 4, uint(h.nackPsn, 32, 'nack_psn'));
  wr16(b, o + 8, uint(h.spdcid, 16, 'spdcid'));
  wr16(b, o + 10, uint(h.dpdcid, 16, 'dpdcid'));
  wr32(b, o + 12, uint(h.payload, 32, 'payload'));
  if (h.type === 12) {
    const s1 = wide(h.nackCcxState1, 60, 'nack_ccx_state1');
    wr64(b, o + 16, (BigInt(uint(h.nccxType, 4, 'nccx_type')) << 60n) | s1);
    wr64(b, o + 24, wide(h.nackCcxState2, 64, 'nack_ccx_state2'));
  }
  return n;
}

function encodeCp(h: Cp, b: Uint8Array, o: number): number {
  room(b, o, 16, 'CP header');
  const flags = flagsOf(h, (h.isrod ? CpFlag.ISROD : 0) | (h.retx ? CpFlag.RETX : 0) | (h.ar ? CpFlag.AR : 0) | (h.syn ? CpFlag.SYN : 0));
  writePrologue(b, o, 11, h.ctlType, flags);
  wr16(b, o + 2, h.ctlType === CpCtlType.PROBE ? uint(h.probeOpaque ?? 0, 16, 'probe_opaque') : 0);
  wr32(b, o + 4, uint(h.psn, 32, 'psn'));
  wr16(b, o + 8, uint(h.spdcid, 16, 'spdcid'));
  writeSynWord(b, o + 10, h, (flags & CpFlag.SYN) !== 0);
  wr32(b, o + 12, uint(h.payload, 32, 'payload'));
  return 16;
}

function encodeRudi(h: Rudi, b: Uint8Array, o: number): number {
  room(b, o, 8, 'RUDI header');
  writePrologue(b, o, h.type, h.nh, flagsOf(h, (h.m ? RudiFlag.M : 0) | (h.retx ? RudiFlag.RETX : 0)));
  wr16(b, o + 2, 0);
  wr32(b, o + 4, uint(h.pktId, 32, 'pkt_id'));
  return 8;
}

function encodeUud(h: Uud, b: Uint8Array, o: number): number {
  room(b, o, 4, 'UUD header');
  writePrologue(b, o, 6, h.nh, flagsOf(h, 0));
  wr16(b, o + 2, 0);
  return 4;
}

/** Encodes into a new Buffer of exactly the header's size. */
export function encodePdsAlloc(h: PdsHeader): Buffer {
  const scratch = Buffer.allocUnsafe(48);
  const n = encodePds(h, scratch, 0);
  return Buffer.from(scratch.subarray(0, n));
}
