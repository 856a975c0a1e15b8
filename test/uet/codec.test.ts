import { describe, expect, it } from 'vitest';
import * as uet from '../../lib/uet/index.js';
import {
  ACK_CCX_SIZE, AtomicOpcode, CpCtlType, NACK_CODE_ACTION, NACK_CODES, NextHeader, PdsType, SesOpcode, UetDecodeError, UetEncodeError,
  decodeAck, decodeCp, decodePds, decodeRudRodReq, decodeSes, decodeSesStd, encodePds, encodePdsAlloc, encodeSes, encodeSesAlloc,
  pdsSize, sesSize, type AckCc, type Cp, type RudRodReq, type SesStd,
} from '../../lib/uet/index.js';

const req: RudRodReq = {
  type: 2, nh: NextHeader.REQ_STD, flags: 0, retx: false, ar: true, syn: true,
  clearPsnOffset: -1, psn: 0xffffffff, spdcid: 7, useRsvPdc: 0, psnOffset: 0xfff,
};
const std: SesStd = {
  opcode: SesOpcode.FETCHING_ATOMIC, version: 0, dc: false, ie: false, rel: true, hd: true, eom: true, som: true,
  messageId: 9, riGeneration: 2, jobId: 0xabcdef, pidOnFep: 0xfff, resourceIndex: 1, bufferOffset: 0x10n, initiator: 5,
  memoryKey: 0xffffffffffffffffn, headerData: 0x1234n, requestLength: 8,
  atomicOpcode: AtomicOpcode.CSWAP_GT, atomicDatatype: 7, semanticCtrl: 1,
  compareHi: 1n, compareLo: 2n, swapHi: 3n, swapLo: 0xffffffffffffffffn,
};

describe('PDS codec API', () => {
  it('encodes at an offset into the caller buffer and returns the bytes written', () => {
    const buf = Buffer.alloc(64, 0xaa);
    expect(encodePds(req, buf, 5)).toBe(12);
    expect(buf[4]).toBe(0xaa);
    expect(buf[17]).toBe(0xaa);
    expect(decodeRudRodReq(buf, 5)).toEqual({ ...req, flags: 0x0c });
    expect(encodePdsAlloc(req).equals(buf.subarray(5, 17))).toBe(true);
  });

  it('derives flags from the named bits and the raw field alike', () => {
    const a = encodePdsAlloc({ ...req, flags: 0x10, syn: false, dpdcid: 1 });
    expect(decodePds(a)).toMatchObject({ flags: 0x18, retx: true, ar: true, syn: false, dpdcid: 1 });
  });

  it('decodes ACK_CC with the NSCC and CREDIT states', () => {
    const nscc: AckCc = {
      type: 8, nh: 0, flags: 0, m: true, retx: false, p: false, req: 1, ackPsnOffset: -2, cackPsn: 100, spdcid: 1, dpdcid: 2,
      ccType: 0, ccFlags: 0, mpr: 1, sackPsnOffset: 1, sackBitmap: 1n << 63n, serviceTime: 5, rc: true, rcvCwndPend: 3,
      rcvdBytes: 0xffffff, oooCount: 9,
    };
    const b = encodePdsAlloc(nscc);
    expect(b.length).toBe(32);
    expect(decodeAck(b)).toEqual({ ...nscc, flags: 0x22 });
    const credit: AckCc = { ...nscc, ccType: 1, credit: 0x123456, serviceTime: undefined, rc: undefined, rcvCwndPend: undefined, rcvdBytes: undefined };
    const d = decodeAck(encodePdsAlloc(credit)) as AckCc;
    expect(d.credit).toBe(0x123456);
    expect(d).not.toHaveProperty('serviceTime');
    expect(pdsSize({ ...nscc, type: 9, ccxType: 0, ccxStateHi: 0n, ccxStateLo: 0n } as never)).toBe(ACK_CCX_SIZE);
  });

  it('carries probe_opaque instead of ack_psn_offset on probe ACKs', () => {
    const cp: Cp = { type: 11, ctlType: CpCtlType.PROBE, flags: 0, isrod: false, retx: false, ar: false, syn: false,
      probeOpaque: 0xbeef, psn: 1, spdcid: 1, dpdcid: 2, payload: 77 };
    expect(decodeCp(encodePdsAlloc(cp))).toEqual(cp);
    const ack = decodePds(encodePdsAlloc({ type: 7, nh: 0, flags: 0, m: false, retx: false, p: true, req: 0, epsn: false,
      probeOpaque: 0xbeef, cackPsn: 1, spdcid: 1, dpdcid: 2 }));
    expect(ack).toMatchObject({ p: true, probeOpaque: 0xbeef });
    expect(ack).not.toHaveProperty('ackPsnOffset');
  });

  it('rejects values that do not fit, with UetEncodeError naming the field', () => {
    const bad: Array<[string, object]> = [
      ['psn', { ...req, psn: 2 ** 32 }], ['psn_offset', { ...req, psnOffset: 4096 }], ['clear_psn_offset', { ...req, clearPsnOffset: 40000 }],
      ['spdcid', { ...req, spdcid: -1 }], ['nh', { ...req, nh: 16 }], ['flags', { ...req, flags: 0x40 }], ['psn', { ...req, psn: 1.5 }],
    ];
    for (const [field, h] of bad) {
      try { encodePdsAlloc(h as RudRodReq); expect.unreachable(field); } catch (e) {
        expect(e).toBeInstanceOf(UetEncodeError);
        expect((e as UetEncodeError).field).toBe(field);
      }
    }
    expect(() => encodePds(req, Buffer.alloc(11), 0)).toThrow(UetEncodeError);
    expect(() => encodePds(req, Buffer.alloc(20), 9)).toThrow(UetEncodeError);
  });

  it('names field and absolute offset on bad input at a non-zero offset', () => {
    const buf = Buffer.concat([Buffer.alloc(7), encodePdsAlloc(req)]);
    buf[7 + 1]! |= 0x01;
    try { decodePds(buf, 7); expect.unreachable(); } catch (e) {
      expect(e).toBeInstanceOf(UetDecodeError);
      expect(e).toMatchObject({ field: 'flags', offset: 8 });
      expect((e as Error).message).toMatch(/flags at byte 8/);
    }
    expect(() => decodePds(buf.subarray(0, 15), 7)).toThrow(expect.objectContaining({ field: 'length', offset: 15 }));
  });
});

describe('SES codec API', () => {
  it('round-trips the standard request with the CAS extension', () => {
    const b = encodeSesAlloc(NextHeader.REQ_STD, std);
    expect(b.length).toBe(44 + 36);
    expect(decodeSesStd(b)).toEqual(std);
    expect(sesSize(NextHeader.REQ_STD, std)).toBe(80);
    const plain: SesStd = { ...std, opcode: SesOpcode.WRITE, atomicOpcode: undefined, atomicDatatype: undefined, semanticCtrl: undefined,
      compareHi: undefined, compareLo: undefined, swapHi: undefined, swapLo: undefined };
    expect(encodeSesAlloc(NextHeader.REQ_STD, plain).length).toBe(44);
  });

  it('decodes a rendezvous extension with the 8/12/12 split', () => {
    const b = encodeSesAlloc(NextHeader.REQ_STD, { ...std, opcode: SesOpcode.RENDEZVOUS_SEND, atomicOpcode: undefined,
      eagerLength: 1, rdvRiGeneration: 0xab, rdvPidOnFep: 0xcde, rdvResourceIndex: 0xf01, rdvOffset: 2n, rdvMemoryKey: 3n } as SesStd);
    expect(b.subarray(48, 52).toString('hex')).toBe('abcdef01');
    expect(decodeSes(NextHeader.REQ_STD, b)).toMatchObject({ rdvRiGeneration: 0xab, rdvPidOnFep: 0xcde, rdvResourceIndex: 0xf01 });
  });

  it('rejects reserved opcodes on encode and nh without SES', () => {
    expect(() => encodeSesAlloc(NextHeader.REQ_STD, { ...std, opcode: 0x20 })).toThrow(UetEncodeError);
    expect(() => decodeSes(0, Buffer.alloc(64))).toThrow(UetDecodeError);
    expect(() => encodeSes(9, std, Buffer.alloc(100))).toThrow(UetEncodeError);
  });
});

describe('constants', () => {
  it('has one NACK table with an action per code', () => {
    expect(new Set(NACK_CODES.map((n) => n.code)).size).toBe(NACK_CODES.length);
    expect(NACK_CODE_ACTION[0x01]).toBe('retransmit');
    expect(NACK_CODE_ACTION[0x0e]).toBe('close');
    expect(NACK_CODE_ACTION[0x17]).toBe('new_start_psn');
    expect(NACK_CODE_ACTION[0x0c]).toBeUndefined();
  });
  it('names every PDS type and exports the codec from the package entry', () => {
    expect(uet.PDS_TYPE_NAME[PdsType.ACK_CC]).toBe('ACK_CC');
    expect(uet.SES_OPCODE_NAME[0x0e]).toBe('TSEND_FETCH_ATOMIC');
    expect(uet.UET_UDP_PORT).toBe(4793);
    expect(typeof uet.runDump).toBe('function');
    expect(typeof uet.readCapture).toBe('function');
  });
});
