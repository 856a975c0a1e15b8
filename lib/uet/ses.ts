// SES headers (digest section 3): requests with their extensions, and responses.

import {
  ATOMIC_DATATYPE_VALID, ATOMIC_OPCODE_VALID, CAS_ATOMIC_FIRST, CAS_ATOMIC_LAST, NextHeader, REQ_OPCODE_VALID,
  RETURN_CODE_VALID, RSP_OPCODE_VALID, SES_EXT_KIND, SES_SIZE, SesFlag, SemanticCtrl,
} from './constants.js';
import { fail, short, UetEncodeError } from './errors.js';
import { rd16, rd24, rd32, rd64, room, uint, wide, wr16, wr24, wr32, wr64 } from './bytes.js';

interface AtomicExt { atomicOpcode?: number; atomicDatatype?: number; semanticCtrl?: number;
  compareHi?: bigint; compareLo?: bigint; swapHi?: bigint; swapLo?: bigint }
interface RdvExt { eagerLength?: number; rdvRiGeneration?: number; rdvPidOnFep?: number; rdvResourceIndex?: number;
  rdvOffset?: bigint; rdvMemoryKey?: bigint }

interface ReqCommon {
  opcode: number; version: number;
  dc: boolean; ie: boolean; rel: boolean; eom: boolean; som: boolean;
  riGeneration: number; jobId: number; pidOnFep: number; resourceIndex: number;
}

/** Standard request (nh 3). SOM packets carry headerData; others payloadLength/messageOffset. */
export interface SesStd extends ReqCommon, AtomicExt, RdvExt {
  hd: boolean; messageId: number;
  bufferOffset: bigint; initiator: number; memoryKey: bigint;
  headerData?: bigint; payloadLength?: number; messageOffset?: number;
  requestLength: number;
}
/** Optimized non-matching request (nh 1). */
export interface SesSmall extends ReqCommon, AtomicExt { requestLength: number; bufferOffset: bigint; hd?: boolean }
/** Small-message request (nh 2): headerData when HD, else bufferOffset. */
export interface SesMedium extends ReqCommon {
  hd: boolean; requestLength: number; headerData?: bigint; bufferOffset?: bigint; initiator: number; memoryKey: bigint;
}
interface RspCommon { list: number; opcode: number; version: number; returnCode: number }
export interface SesRsp extends RspCommon { messageId: number; riGeneration: number; jobId: number; modifiedLength: number }
export interface SesRspData extends RspCommon {
  messageId: number; jobId: number; readRequestMessageId: number; payloadLength: number; modifiedLength: number; messageOffset: number;
}
export interface SesRspDataSmall extends RspCommon { payloadLength: number; riGeneration: number; jobId: number; originalRequestPsn: number }

export type SesHeader = SesStd | SesSmall | SesMedium | SesRsp | SesRspData | SesRspDataSmall;

// ---------------------------------------------------------------- decode

/** Decodes the SES header selected by the PDS next-header value `nh`. */
export function decodeSes(nh: number, b: Uint8Array, o = 0): SesHeader {
  switch (nh) {
    case NextHeader.REQ_STD: return decodeSesStd(b, o);
    case NextHeader.REQ_SMALL: return decodeSesSmall(b, o);
    case NextHeader.REQ_MEDIUM: return decodeSesMedium(b, o);
    case NextHeader.RSP: return decodeSesRsp(b, o);
    case NextHeader.RSP_DATA: return decodeSesRspData(b, o);
    case NextHeader.RSP_DATA_SMALL: return decodeSesRspDataSmall(b, o);
    default: return fail('nh', o, `next header ${nh} has no SES header`);
  }
}

/** Validates bytes 0-1 and 8-11 shared by all requests; returns byte 1. */
function reqCommon(b: Uint8Array, o: number): number {
  const b0 = b[o]!;
  if (b0 & 0xc0) fail('rsvd', o, 'SES byte 0 reserved bits set');
  if (!REQ_OPCODE_VALID[b0]) fail('opcode', o, `reserved SES request opcode 0x${b0.toString(16)}`);
  const b1 = b[o + 1]!;
  if (b1 >>> 6) fail('version', o + 1, `SES version ${b1 >>> 6} not supported`);
  if (b[o + 8]! & 0xf0) fail('rsvd', o + 8, 'pid_on_fep reserved bits set');
  if (b[o + 10]! & 0xf0) fail('rsvd', o + 10, 'resource_index reserved bits set');
  return b1;
}

/** Decodes the extension header at `p` into `h`; returns its size. */
function decodeExt(b: Uint8Array, p: number, opcode: number, h: AtomicExt & RdvExt): number {
  const kind = SES_EXT_KIND[opcode];
  if (kind === 1) {
    if (b.length - p < SES_SIZE.ATOMIC_EXT) short(b, p + SES_SIZE.ATOMIC_EXT, 'atomic extension');
    const op = b[p]!;
    if (!ATOMIC_OPCODE_VALID[op]) fail('atomic_opcode', p, `reserved atomic opcode 0x${op.toString(16)}`);
    const dt = b[p + 1]!;
    if (!ATOMIC_DATATYPE_VALID[dt]) fail('atomic_datatype', p + 1, `reserved atomic datatype 0x${dt.toString(16)}`);
    const sc = b[p + 2]!;
    if (sc & ~(SemanticCtrl.CACHEABLE | SemanticCtrl.CPU_COHERENT)) fail('semantic_ctrl', p + 2, `undefined semantic_ctrl bits 0x${sc.toString(16)}`);
    if (b[p + 3]!) fail('rsvd', p + 3, 'atomic extension reserved byte set');
    h.atomicOpcode = op;
    h.atomicDatatype = dt;
    h.semanticCtrl = sc;
    if (op >= CAS_ATOMIC_FIRST && op <= CAS_ATOMIC_LAST) {
      if (b.length - p < SES_SIZE.CAS_EXT) short(b, p + SES_SIZE.CAS_EXT, 'compare-and-swap extension');
      h.compareHi = rd64(b, p + 4);
      h.compareLo = rd64(b, p + 12);
      h.swapHi = rd64(b, p + 20);
      h.swapLo = rd64(b, p + 28);
      return SES_SIZE.CAS_EXT;
    }
    return SES_SIZE.ATOMIC_EXT;
  }
  if (kind === 2) {
    if (b.length - p < SES_SIZE.RDV_EXT) short(b, p + SES_SIZE.RDV_EXT, 'rendezvous extension');
    h.eagerLength = rd32(b, p);
    h.rdvRiGeneration = b[p + 4]!;
    h.rdvPidOnFep = (b[p + 5]! << 4) | (b[p + 6]! >>> 4);
    h.rdvResourceIndex = ((b[p + 6]! & 15) << 8) | b[p + 7]!;
    h.rdvOffset = rd64(b, p + 8);
    h.rdvMemoryKey = rd64(b, p + 16);
    return SES_SIZE.RDV_EXT;
  }
  return 0;
}

export function decodeSesStd(b: Uint8Array, o = 0): SesStd {
  if (b.length - o < SES_SIZE.REQ_STD) short(b, o + SES_SIZE.REQ_STD, 'SES standard request');
  const b1 = reqCommon(b, o);
  const opcode = b[o]!;
  const som = (b1 & SesFlag.SOM) !== 0;
  let h: SesStd;
  if (som) {
    h = {
      opcode, version: 0,
      dc: (b1 & SesFlag.DC) !== 0, ie: (b1 & SesFlag.IE) !== 0, rel: (b1 & SesFlag.REL) !== 0,
      hd: (b1 & SesFlag.HD) !== 0, eom: (b1 & SesFlag.EOM) !== 0, som,
      messageId: rd16(b, o + 2), riGeneration: b[o + 4]!, jobId: rd24(b, o + 5),
      pidOnFep: ((b[o + 8]! & 15) << 8) | b[o + 9]!, resourceIndex: ((b[o + 10]! & 15) << 8) | b[o + 11]!,
      bufferOffset: rd64(b, o + 12), initiator: rd32(b, o + 20), memoryKey: rd64(b, o + 24),
      headerData: rd64(b, o + 32), requestLength: rd32(b, o + 40),
    };
  } else {
    if (b[o + 32]! | b[o + 33]! | (b[o + 34]! & 0xc0)) fail('rsvd', o + 32, 'payload_length word reserved bits set');
    h = {
      opcode, version: 0,
      dc: (b1 & SesFlag.DC) !== 0, ie: (b1 & SesFlag.IE) !== 0, rel: (b1 & SesFlag.REL) !== 0,
      hd: (b1 & SesFlag.HD) !== 0, eom: (b1 & SesFlag.EOM) !== 0, som,
      messageId: rd16(b, o + 2), riGeneration: b[o + 4]!, jobId: rd24(b, o + 5),
      pidOnFep: ((b[o + 8]! & 15) << 8) | b[o + 9]!, resourceIndex: ((b[o + 10]! & 15) << 8) | b[o + 11]!,
      bufferOffset: rd64(b, o + 12), initiator: rd32(b, o + 20), memoryKey: rd64(b, o + 24),
      payloadLength: ((b[o + 34]! & 0x3f) << 8) | b[o + 35]!, messageOffset: rd32(b, o + 36),
      requestLength: rd32(b, o + 40),
    };
  }
  if (SES_EXT_KIND[opcode]) decodeExt(b, o + SES_SIZE.REQ_STD, opcode, h);
  return h;
}

function smallWord(b: Uint8Array, o: number): number {
  if (b[o + 2]! & 0xc0) fail('rsvd', o + 2, 'request_length reserved bits set');
  return ((b[o + 2]! & 0x3f) << 8) | b[o + 3]!;
}

export function decodeSesSmall(b: Uint8Array, o = 0): SesSmall {
  if (b.length - o < SES_SIZE.REQ_SMALL) short(b, o + SES_SIZE.REQ_SMALL, 'SES small request');
  const b1 = reqCommon(b, o);
  if (b1 & SesFlag.HD) fail('rsvd', o + 1, 'HD is reserved in the small request');
  const opcode = b[o]!;
  const h: SesSmall = {
    opcode, version: 0,
    dc: (b1 & SesFlag.DC) !== 0, ie: (b1 & SesFlag.IE) !== 0, rel: (b1 & SesFlag.REL) !== 0,
    eom: (b1 & SesFlag.EOM) !== 0, som: (b1 & SesFlag.SOM) !== 0,
    requestLength: smallWord(b, o), riGeneration: b[o + 4]!, jobId: rd24(b, o + 5),
    pidOnFep: ((b[o + 8]! & 15) << 8) | b[o + 9]!, resourceIndex: ((b[o + 10]! & 15) << 8) | b[o + 11]!,
    bufferOffset: rd64(b, o + 12),
  };
  if (SES_EXT_KIND[opcode] === 1) decodeExt(b, o + SES_SIZE.REQ_SMALL, opcode, h);
  return h;
}

export function decodeSesMedium(b: Uint8Array, o = 0): SesMedium {
  if (b.length - o < SES_SIZE.REQ_MEDIUM) short(b, o + SES_SIZE.REQ_MEDIUM, 'SES medium request');
  const b1 = reqCommon(b, o);
  const hd = (b1 & SesFlag.HD) !== 0;
  const h: SesMedium = {
    opcode: b[o]!, version: 0,
    dc: (b1 & SesFlag.DC) !== 0, ie: (b1 & SesFlag.IE) !== 0, rel: (b1 & SesFlag.REL) !== 0,
    hd, eom: (b1 & SesFlag.EOM) !== 0, som: (b1 & SesFlag.SOM) !== 0,
    requestLength: smallWord(b, o), riGeneration: b[o + 4]!, jobId: rd24(b, o + 5),
    pidOnFep: ((b[o + 8]! & 15) << 8) | b[o + 9]!, resourceIndex: ((b[o + 10]! & 15) << 8) | b[o + 11]!,
    initiator: 0, memoryKey: 0n,
  };
  if (hd) h.headerData = rd64(b, o + 12); else h.bufferOffset = rd64(b, o + 12);
  h.initiator = rd32(b, o + 20);
  h.memoryKey = rd64(b, o + 24);
  return h;
}

function rspCommon(b: Uint8Array, o: number): RspCommon {
  const b0 = b[o]!;
  const opcode = b0 & 0x3f;
  if (!RSP_OPCODE_VALID[opcode]) fail('opcode', o, `reserved response opcode 0x${opcode.toString(16)}`);
  const b1 = b[o + 1]!;
  if (b1 >>> 6) fail('version', o + 1, `SES version ${b1 >>> 6} not supported`);
  const rc = b1 & 0x3f;
  if (!RETURN_CODE_VALID[rc]) fail('return_code', o + 1, `reserved return code 0x${rc.toString(16)}`);
  return { list: b0 >>> 6, opcode, version: 0, returnCode: rc };
}

export function decodeSesRsp(b: Uint8Array, o = 0): SesRsp {
  if (b.length - o < SES_SIZE.RSP) short(b, o + SES_SIZE.RSP, 'SES response');
  const h = rspCommon(b, o) as SesRsp;
  h.messageId = rd16(b, o + 2);
  h.riGeneration = b[o + 4]!;
  h.jobId = rd24(b, o + 5);
  h.modifiedLength = rd32(b, o + 8);
  return h;
}

export function decodeSesRspData(b: Uint8Array, o = 0): SesRspData {
  if (b.length - o < SES_SIZE.RSP_DATA) short(b, o + SES_SIZE.RSP_DATA, 'SES response with data');
  const h = rspCommon(b, o) as SesRspData;
  if (b[o + 4]!) fail('rsvd', o + 4, 'response-with-data byte 4 is reserved');
  if (b[o + 10]! & 0xc0) fail('rsvd', o + 10, 'payload_length reserved bits set');
  h.messageId = rd16(b, o + 2);
  h.jobId = rd24(b, o + 5);
  h.readRequestMessageId = rd16(b, o + 8);
  h.payloadLength = ((b[o + 10]! & 0x3f) << 8) | b[o + 11]!;
  h.modifiedLength = rd32(b, o + 12);
  h.messageOffset = rd32(b, o + 16);
  return h;
}

export function decodeSesRspDataSmall(b: Uint8Array, o = 0): SesRspDataSmall {
  if (b.length - o < SES_SIZE.RSP_DATA_SMALL) short(b, o + SES_SIZE.RSP_DATA_SMALL, 'SES small response with data');
  const h = rspCommon(b, o) as SesRspDataSmall;
  if (b[o + 2]! & 0xc0) fail('rsvd', o + 2, 'payload_length reserved bits set');
  h.payloadLength = ((b[o + 2]! & 0x3f) << 8) | b[o + 3]!;
  h.riGeneration = b[o + 4]!;
  h.jobId = rd24(b, o + 5);
  h.originalRequestPsn = rd32(b, o + 8);
  return h;
}

// ---------------------------------------------------------------- sizes

function extSize(opcode: number, h: AtomicExt): number {
  const kind = SES_EXT_KIND[opcode];
  if (kind === 1) {
    const op = h.atomicOpcode ?? 0;
    return op >= CAS_ATOMIC_FIRST && op <= CAS_ATOMIC_LAST ? SES_SIZE.CAS_EXT : SES_SIZE.ATOMIC_EXT;
  }
  return kind === 2 ? SES_SIZE.RDV_EXT : 0;
}

export function sesSize(nh: number, h: SesHeader): number {
  switch (nh) {
    case NextHeader.REQ_STD: return SES_SIZE.REQ_STD + extSize(h.opcode, h as SesStd);
    case NextHeader.REQ_SMALL: return SES_SIZE.REQ_SMALL + (SES_EXT_KIND[h.opcode] === 1 ? extSize(h.opcode, h as SesSmall) : 0);
    case NextHeader.REQ_MEDIUM: return SES_SIZE.REQ_MEDIUM;
    case NextHeader.RSP: return SES_SIZE.RSP;
    case NextHeader.RSP_DATA: return SES_SIZE.RSP_DATA;
    case NextHeader.RSP_DATA_SMALL: return SES_SIZE.RSP_DATA_SMALL;
    default: throw new UetEncodeError('nh', `next header ${nh} has no SES header`);
  }
}

// ---------------------------------------------------------------- encode

function wrReqCommon(b: Uint8Array, o: number, h: ReqCommon & { hd?: boolean }, word23: number): void {
  const op = h.opcode;
  if ((op & 0x3f) !== op || !REQ_OPCODE_VALID[op]) throw new UetEncodeError('opcode', `${op} is not a request opcode`);
  const ver = h.version ?? 0;
  const gen = h.riGeneration;
  const job = h.jobId;
  const pid = h.pidOnFep;
  const ri = h.resourceIndex;
  if ((ver & 3) !== ver) uint(ver, 2, 'version');
  if ((gen & 0xff) !== gen) uint(gen, 8, 'ri_generation');
  if ((job & 0xffffff) !== job) uint(job, 24, 'job_id');
  if ((pid & 0xfff) !== pid) uint(pid, 12, 'pid_on_fep');
  if ((ri & 0xfff) !== ri) uint(ri, 12, 'resource_index');
  b[o] = op;
  b[o + 1] = (ver << 6) | (h.dc ? SesFlag.DC : 0) | (h.ie ? SesFlag.IE : 0) |
    (h.rel ? SesFlag.REL : 0) | (h.hd ? SesFlag.HD : 0) | (h.eom ? SesFlag.EOM : 0) | (h.som ? SesFlag.SOM : 0);
  wr16(b, o + 2, word23);
  b[o + 4] = gen;
  wr24(b, o + 5, job);
  wr16(b, o + 8, pid);
  wr16(b, o + 10, ri);
}

function wrExt(b: Uint8Array, p: number, opcode: number, h: AtomicExt & RdvExt): number {
  const kind = SES_EXT_KIND[opcode];
  if (kind === 1) {
    const op = uint(h.atomicOpcode ?? 0, 8, 'atomic_opcode');
    b[p] = op;
    b[p + 1] = uint(h.atomicDatatype ?? 0, 8, 'atomic_datatype');
    b[p + 2] = uint(h.semanticCtrl ?? 0, 8, 'semantic_ctrl');
    b[p + 3] = 0;
    if (op >= CAS_ATOMIC_FIRST && op <= CAS_ATOMIC_LAST) {
      wr64(b, p + 4, wide(h.compareHi ?? 0n, 64, 'compare_hi'));
      wr64(b, p + 12, wide(h.compareLo ?? 0n, 64, 'compare_lo'));
      wr64(b, p + 20, wide(h.swapHi ?? 0n, 64, 'swap_hi'));
      wr64(b, p + 28, wide(h.swapLo ?? 0n, 64, 'swap_lo'));
      return SES_SIZE.CAS_EXT;
    }
    return SES_SIZE.ATOMIC_EXT;
  }
  if (kind === 2) {
    wr32(b, p, uint(h.eagerLength ?? 0, 32, 'eager_length'));
    b[p + 4] = uint(h.rdvRiGeneration ?? 0, 8, 'rdv_ri_generation');
    const pid = uint(h.rdvPidOnFep ?? 0, 12, 'rdv_pid_on_fep');
    const ri = uint(h.rdvResourceIndex ?? 0, 12, 'rdv_resource_index');
    b[p + 5] = pid >>> 4;
    b[p + 6] = ((pid & 15) << 4) | (ri >>> 8);
    b[p + 7] = ri;
    wr64(b, p + 8, wide(h.rdvOffset ?? 0n, 64, 'rdv_offset'));
    wr64(b, p + 16, wide(h.rdvMemoryKey ?? 0n, 64, 'rdv_memory_key'));
    return SES_SIZE.RDV_EXT;
  }
  return 0;
}

function wrRspCommon(b: Uint8Array, o: number, h: RspCommon): void {
  b[o] = (uint(h.list, 2, 'list') << 6) | uint(h.opcode, 6, 'opcode');
  b[o + 1] = (uint(h.version ?? 0, 2, 'version') << 6) | uint(h.returnCode, 6, 'return_code');
}

/** Encodes SES header `h` of kind `nh` at `o`; returns the bytes written. */
export function encodeSes(nh: number, h: SesHeader, b: Uint8Array, o = 0): number {
  switch (nh) {
    case NextHeader.REQ_STD: return encodeSesStd(h as SesStd, b, o);
    case NextHeader.REQ_SMALL: return encodeSesSmall(h as SesSmall, b, o);
    case NextHeader.REQ_MEDIUM: return encodeSesMedium(h as SesMedium, b, o);
    case NextHeader.RSP: return encodeSesRsp(h as SesRsp, b, o);
    case NextHeader.RSP_DATA: return encodeSesRspData(h as SesRspData, b, o);
    case NextHeader.RSP_DATA_SMALL: return encodeSesRspDataSmall(h as SesRspDataSmall, b, o);
    default: throw new UetEncodeError('nh', `next header ${nh} has no SES header`);
  }
}

export function encodeSesStd(s: SesStd, b: Uint8Array, o = 0): number {
  const n = SES_SIZE.REQ_STD + extSize(s.opcode, s);
  room(b, o, n, 'SES standard request');
  const mid = s.messageId;
  const ini = s.initiator;
  const rlen = s.requestLength;
  if ((mid & 0xffff) !== mid) uint(mid, 16, 'message_id');
  if (ini >>> 0 !== ini) uint(ini, 32, 'initiator');
  if (rlen >>> 0 !== rlen) uint(rlen, 32, 'request_length');
  wrReqCommon(b, o, s, mid);
  wr64(b, o + 12, wide(s.bufferOffset, 64, 'buffer_offset'));
  wr32(b, o + 20, ini);
  wr64(b, o + 24, wide(s.memoryKey, 64, 'memory_key'));
  if (s.som) wr64(b, o + 32, wide(s.headerData ?? 0n, 64, 'header_data'));
  else {
    wr32(b, o + 32, uint(s.payloadLength ?? 0, 14, 'payload_length'));
    wr32(b, o + 36, uint(s.messageOffset ?? 0, 32, 'message_offset'));
  }
  wr32(b, o + 40, rlen);
  if (n > SES_SIZE.REQ_STD) wrExt(b, o + SES_SIZE.REQ_STD, s.opcode, s);
  return n;
}

export function encodeSesSmall(s: SesSmall, b: Uint8Array, o = 0): number {
  const n = sesSize(NextHeader.REQ_SMALL, s);
  room(b, o, n, 'SES small request');
  if (s.hd) throw new UetEncodeError('hd', 'HD is reserved in the small request');
  wrReqCommon(b, o, s, uint(s.requestLength, 14, 'request_length'));
  wr64(b, o + 12, wide(s.bufferOffset, 64, 'buffer_offset'));
  if (SES_EXT_KIND[s.opcode] === 1) wrExt(b, o + SES_SIZE.REQ_SMALL, s.opcode, s);
  return n;
}

export function encodeSesMedium(s: SesMedium, b: Uint8Array, o = 0): number {
  room(b, o, SES_SIZE.REQ_MEDIUM, 'SES medium request');
  wrReqCommon(b, o, s, uint(s.requestLength, 14, 'request_length'));
  if (s.hd) wr64(b, o + 12, wide(s.headerData ?? 0n, 64, 'header_data'));
  else wr64(b, o + 12, wide(s.bufferOffset ?? 0n, 64, 'buffer_offset'));
  wr32(b, o + 20, uint(s.initiator, 32, 'initiator'));
  wr64(b, o + 24, wide(s.memoryKey, 64, 'memory_key'));
  return SES_SIZE.REQ_MEDIUM;
}

export function encodeSesRsp(s: SesRsp, b: Uint8Array, o = 0): number {
  room(b, o, SES_SIZE.RSP, 'SES response');
  wrRspCommon(b, o, s);
  wr16(b, o + 2, uint(s.messageId, 16, 'message_id'));
  b[o + 4] = uint(s.riGeneration, 8, 'ri_generation');
  wr24(b, o + 5, uint(s.jobId, 24, 'job_id'));
  wr32(b, o + 8, uint(s.modifiedLength, 32, 'modified_length'));
  return SES_SIZE.RSP;
}

export function encodeSesRspData(s: SesRspData, b: Uint8Array, o = 0): number {
  room(b, o, SES_SIZE.RSP_DATA, 'SES response with data');
  wrRspCommon(b, o, s);
  wr16(b, o + 2, uint(s.messageId, 16, 'message_id'));
  b[o + 4] = 0;
  wr24(b, o + 5, uint(s.jobId, 24, 'job_id'));
  wr16(b, o + 8, uint(s.readRequestMessageId, 16, 'read_request_message_id'));
  wr16(b, o + 10, uint(s.payloadLength, 14, 'payload_length'));
  wr32(b, o + 12, uint(s.modifiedLength, 32, 'modified_length'));
  wr32(b, o + 16, uint(s.messageOffset, 32, 'message_offset'));
  return SES_SIZE.RSP_DATA;
}

export function encodeSesRspDataSmall(s: SesRspDataSmall, b: Uint8Array, o = 0): number {
  room(b, o, SES_SIZE.RSP_DATA_SMALL, 'SES small response with data');
  wrRspCommon(b, o, s);
  wr16(b, o + 2, uint(s.payloadLength, 14, 'payload_length'));
  b[o + 4] = uint(s.riGeneration, 8, 'ri_generation');
  wr24(b, o + 5, uint(s.jobId, 24, 'job_id'));
  wr32(b, o + 8, uint(s.originalRequestPsn, 32, 'original_request_psn'));
  return SES_SIZE.RSP_DATA_SMALL;
}

export function encodeSesAlloc(nh: number, h: SesHeader): Buffer {
  const out = Buffer.alloc(sesSize(nh, h));
  encodeSes(nh, h, out, 0);
  return out;
}
