import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NACK_CODES, REQ_OPCODE_VALID, RETURN_CODE_VALID, RSP_OPCODE_VALID, ATOMIC_DATATYPE_VALID, ATOMIC_OPCODE_VALID } from '../../lib/uet/constants.js';
import { UetDecodeError } from '../../lib/uet/errors.js';
import { fromSnake, toSnake } from '../../lib/uet/fields.js';
import { decodeEntropy, decodePds, decodeTss } from '../../lib/uet/pds.js';
import { decodeSes } from '../../lib/uet/ses.js';
import { decodePacket } from '../../lib/uet/packet.js';
import { decodeByHeader, encodeByHeader, loadVectors } from './helpers.js';
import {
  ackFields, atomicExt, casExt, cpFields, hexOf, nackFields, rdvExt, reqFields, sesAddr, sesBase, stdFields, wide,
  type Fields, type Vector,
} from './gen-vectors.js';

const u = (bits: number) => fc.integer({ min: 0, max: 2 ** bits - 1 });
const s16 = fc.integer({ min: -32768, max: 32767 });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const bool = fc.boolean();
const codes = (t: Uint8Array) => fc.constantFrom(...[...t.keys()].filter((i) => t[i]));
const RUNS = { numRuns: 150 };

const reqArb = (types: number[]) => fc.record({
  type: fc.constantFrom(...types), nh: u(2), retx: bool, ar: bool, syn: bool, clear_psn_offset: s16, psn: u(32),
  spdcid: u(16), dpdcid: u(16), use_rsv_pdc: u(1), psn_offset: u(12),
}).map((o) => reqFields(o));
const ackBase = (type: number) => fc.record({
  type: fc.constant(type), nh: fc.constantFrom(0, 4, 5, 6), m: bool, retx: bool, p: bool, req: fc.integer({ min: 0, max: 2 }),
  epsn: bool, ack_psn_offset: s16, probe_opaque: u(16), cack_psn: u(32), spdcid: u(16), dpdcid: u(16), expected_psn: u(32),
});
const sack = fc.record({ cc_flags: fc.constant(0), mpr: u(8), sack_psn_offset: s16, sack_bitmap: u64.map((x) => wide(x, 64)) });
const ackCcArb = fc.tuple(ackBase(8), sack, fc.oneof(
  fc.record({ cc_type: fc.constant(0), service_time: u(16), rc: u(1), rcv_cwnd_pend: u(7), rcvd_bytes: u(24), ooo_count: u(16) }),
  fc.record({ cc_type: fc.constant(1), credit: u(24), ooo_count: u(16) }),
)).map(([a, s, c]) => ({ ...ackFields({ ...a, epsn: false }, false), ...c, ...s }));
const ackCcxArb = fc.tuple(ackBase(9), sack, u(4), u64, u64).map(([a, s, t, hi, lo]) => ({
  ...ackFields({ ...a, epsn: false }, false), cc_type: t, ...s, ccx_type: Number(hi >> 60n), ccx_state_hi: wide(hi, 64), ccx_state_lo: wide(lo, 64),
}));
const nackArb = (type: number) => fc.record({
  type: fc.constant(type), m: bool, retx: bool, nt: bool, nack_code: fc.constantFrom(...NACK_CODES.map((n) => n.code)),
  vendor_code: u(8), nack_psn: u(32), spdcid: u(16), dpdcid: u(16), payload: u(32),
}).map((o) => nackFields(o));

const sesFlags = { dc: bool, ie: bool, rel: bool, hd: bool, eom: bool, som: bool };
const addr = { message_id: u(16), ri_generation: u(8), job_id: u(24), pid_on_fep: u(12), resource_index: u(12) };
const extArb = (opcode: number): fc.Arbitrary<Fields | undefined> => {
  if ([3, 4, 13, 14].includes(opcode)) {
    return fc.tuple(codes(ATOMIC_OPCODE_VALID), codes(ATOMIC_DATATYPE_VALID), u(2), u64, u64, u64, u64).map(([op, dt, sc, a, b, c, d]) =>
      op >= 0x0d && op <= 0x13 ? casExt(op, dt, sc, [a, b], [c, d]) : atomicExt(op, dt, sc));
  }
  if (opcode === 6 || opcode === 10) {
    return fc.tuple(u(32), u(8), u(12), u(12), u64, u64).map(([e, g, p, r, off, k]) => rdvExt(e, g, p, r, off, k));
  }
  return fc.constant(undefined);
};
const stdArb = codes(REQ_OPCODE_VALID).chain((opcode) => fc.record({
  opcode: fc.constant(opcode), ...sesFlags, ...addr, buffer_offset: u64, initiator: u(32), memory_key: u64, header_data: u64,
  payload_length: u(14), message_offset: u(32), request_length: u(32), ext: extArb(opcode),
}).map((o) => stdFields(o)));
const smallArb = codes(REQ_OPCODE_VALID).chain((opcode) => fc.record({
  opcode: fc.constant(opcode), ...sesFlags, ...addr, request_length: u(14), buffer_offset: u64,
  ext: [3, 4, 13, 14].includes(opcode) ? extArb(opcode) : fc.constant(undefined),
}).map((o) => ({ ...sesBase(o, false), request_length: o.request_length, ...sesAddr(o), buffer_offset: wide(o.buffer_offset, 64), ...(o.ext ?? {}) })));
const mediumArb = fc.record({ opcode: codes(REQ_OPCODE_VALID), ...sesFlags, ...addr, request_length: u(14), data: u64, initiator: u(32), memory_key: u64 })
  .map((o) => {
    const f: Fields = { ...sesBase(o), request_length: o.request_length, ...sesAddr(o) };
    if (o.hd) f.header_data = wide(o.data, 64); else f.buffer_offset = wide(o.data, 64);
    return { ...f, initiator: o.initiator, memory_key: wide(o.memory_key, 64) };
  });
const rspHead = { list: u(2), opcode: codes(RSP_OPCODE_VALID), version: fc.constant(0), return_code: codes(RETURN_CODE_VALID) };

const ARBS: Record<string, fc.Arbitrary<Fields>> = {
  entropy: fc.record({ entropy: u(16) }),
  tss: fc.record({ sp: u(1), an: u(1), sdi: u(24), ssi: u(32), epoch: u(16), counter: fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }) })
    .map(({ sp, an, sdi, ssi, epoch, counter }) => ({ type: 1, sp, an, sdi, ...(sp ? { ssi } : {}), epoch, counter: wide(counter, 48) })),
  rud_rod_req: reqArb([2, 3]),
  rud_rod_cc_req: fc.tuple(reqArb([13, 14]), u(8), u(24)).map(([f, c, t]) => ({ ...f, ccc_id: c, credit_target: t })),
  ack: ackBase(7).map((o) => ackFields(o, true)),
  ack_cc: ackCcArb,
  ack_ccx: ackCcxArb,
  nack: nackArb(10),
  nack_ccx: fc.tuple(nackArb(12), u(4), fc.bigInt({ min: 0n, max: (1n << 60n) - 1n }), u64)
    .map(([f, t, a, b]) => ({ ...f, nccx_type: t, nack_ccx_state1: wide(a, 60), nack_ccx_state2: wide(b, 64) })),
  cp: fc.record({ ctl_type: fc.integer({ min: 0, max: 9 }), isrod: bool, retx: bool, ar: bool, syn: bool, probe_opaque: u(16), psn: u(32),
    spdcid: u(16), dpdcid: u(16), use_rsv_pdc: u(1), psn_offset: u(12), payload: u(32) }).map((o) => cpFields(o)),
  rudi: fc.oneof(
    fc.record({ type: fc.constant(4), nh: u(2), m: fc.constant(false), retx: bool, pkt_id: u(32) }),
    fc.record({ type: fc.constant(5), nh: fc.constantFrom(0, 4, 5, 6), m: bool, retx: bool, pkt_id: u(32) }),
  ).map((o) => ({ type: o.type, nh: o.nh, flags: (o.m ? 0x20 : 0) | (o.retx ? 0x10 : 0), m: o.m ? 1 : 0, retx: o.retx ? 1 : 0, pkt_id: o.pkt_id })),
  uud: u(2).map((nh) => ({ type: 6, nh, flags: 0 })),
  ses_std: stdArb,
  ses_small: smallArb,
  ses_medium: mediumArb,
  ses_rsp: fc.record({ ...rspHead, message_id: u(16), ri_generation: u(8), job_id: u(24), modified_length: u(32) }),
  ses_rsp_data: fc.record({ ...rspHead, message_id: u(16), job_id: u(24), read_request_message_id: u(16), payload_length: u(14),
    modified_length: u(32), message_offset: u(32) }),
  ses_rsp_data_small: fc.record({ ...rspHead, payload_length: u(14), ri_generation: u(8), job_id: u(24), original_request_psn: u(32) }),
};

describe('random valid headers round-trip exactly (hex from the independent packer)', () => {
  for (const [header, arb] of Object.entries(ARBS)) {
    it(header, () => {
      fc.assert(fc.property(arb, (f) => {
        const hex = hexOf(header, f);
        const { h, size } = decodeByHeader(header, Buffer.from(hex, 'hex'));
        expect(size * 2).toBe(hex.length);
        expect(toSnake(h)).toEqual(f);
        expect(encodeByHeader(header, fromSnake(f)).toString('hex')).toBe(hex);
      }), RUNS);
    });
  }
});

function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UetDecodeError)) throw e;
    expect(typeof e.field).toBe('string');
    expect(Number.isInteger(e.offset)).toBe(true);
  }
}

describe('arbitrary bytes raise nothing but UetDecodeError', () => {
  const bytes = fc.uint8Array({ maxLength: 160 });
  it('every decoder on random bytes', () => {
    fc.assert(fc.property(bytes, fc.integer({ min: 1, max: 6 }), (b, nh) => {
      const buf = Buffer.from(b);
      onlyDecodeErrors(() => decodePds(buf));
      onlyDecodeErrors(() => decodeSes(nh, buf));
      onlyDecodeErrors(() => decodeTss(buf));
      onlyDecodeErrors(() => decodeEntropy(buf));
      onlyDecodeErrors(() => decodePacket(buf));
      onlyDecodeErrors(() => decodePacket(buf, { encap: 'ip', crc: true }));
    }), { numRuns: 1000 });
  });
  it('random bytes behind every valid prologue', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), bytes, (w, b) => {
      const buf = Buffer.concat([Buffer.from([w >>> 8, w & 0xff]), Buffer.from(b)]);
      onlyDecodeErrors(() => decodePacket(buf));
      onlyDecodeErrors(() => decodePacket(buf, { crc: true }));
    }), { numRuns: 1500 });
  });
  it('mutated and truncated vectors', () => {
    const vectors = [...loadVectors<Vector>('pds.json'), ...loadVectors<Vector>('ses.json')];
    fc.assert(fc.property(fc.constantFrom(...vectors), fc.nat(), fc.nat(255), fc.nat(), (v, at, val, cut) => {
      const buf = Buffer.from(v.hex, 'hex');
      buf[at % buf.length] = val;
      const t = buf.subarray(0, cut % (buf.length + 1));
      onlyDecodeErrors(() => decodeByHeader(v.header, buf, undefined, undefined, false));
      onlyDecodeErrors(() => decodeByHeader(v.header, t, undefined, undefined, false));
    }), { numRuns: 1500 });
  });
});
