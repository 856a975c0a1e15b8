// Conformance-vector generator. The field sets below are written by hand; the hex is
// produced by a bit-level packer that knows nothing about lib/uet, so a codec test that
// compares against these vectors checks the codec against an independent reading of
// the layouts (digest sections 2-3 plus the decisions on conflicting sources).
//
// Regenerate the checked-in files with:
//   UET_WRITE_VECTORS=1 npx vitest run test/uet/vectors.test.ts

export type FieldValue = number | string;
export type Fields = Record<string, FieldValue>;
export interface Vector { name: string; header: string; hex: string; fields: Fields }
export interface MalformedVector {
  name: string; header: string; hex: string; error_field: string; error_offset: number;
  encap?: string; trailer?: string;
}

type Seg = [FieldValue | bigint, number];

/** MSB-first bit packer; values are masked to their width (two's complement for negatives). */
function pack(segs: Seg[]): string {
  let bits = '';
  for (const [v, n] of segs) {
    if (n === 0) continue;
    const u = BigInt.asUintN(n, typeof v === 'bigint' ? v : BigInt(v));
    bits += u.toString(2).padStart(n, '0');
  }
  if (bits.length % 8 !== 0) throw new Error(`layout is ${bits.length} bits, not whole bytes`);
  let hex = '';
  for (let i = 0; i < bits.length; i += 8) hex += parseInt(bits.slice(i, i + 8), 2).toString(16).padStart(2, '0');
  return hex;
}

/** Canonical wide-field text: 0x + lower-case hex, zero-padded to the field width. */
export function wide(v: bigint, bits: number): string {
  return '0x' + BigInt.asUintN(bits, v).toString(16).padStart(Math.ceil(bits / 4), '0');
}

const M64 = (1n << 64n) - 1n;
const b = (x: boolean | number | undefined): number => (x ? 1 : 0);

// ---------------------------------------------------------------- layouts (bits)

function prologue(f: Fields): Seg[] {
  return [[f.type!, 5], [f.nh ?? f.ctl_type!, 4], [f.flags!, 7]];
}

function synOrDpdcid(f: Fields): Seg[] {
  return f.syn ? [[f.use_rsv_pdc!, 1], [0, 3], [f.psn_offset!, 12]] : [[f.dpdcid!, 16]];
}

const layouts: Record<string, (f: Fields) => Seg[]> = {
  entropy: (f) => [[f.entropy!, 16], [0, 16]],
  tss: (f) => [
    [f.type!, 5], [f.sp!, 1], [0, 1], [f.an!, 1], [f.sdi!, 24],
    ...(f.sp ? ([[f.ssi!, 32]] as Seg[]) : []),
    [f.epoch!, 16], [f.counter!, 48],
  ],
  rud_rod_req: (f) => [...prologue(f), [f.clear_psn_offset!, 16], [f.psn!, 32], [f.spdcid!, 16], ...synOrDpdcid(f)],
  rud_rod_cc_req: (f) => [...layouts.rud_rod_req!(f), [f.ccc_id!, 8], [f.credit_target!, 24]],
  ack: (f) => [
    ...prologue(f), [f.p ? f.probe_opaque! : f.ack_psn_offset!, 16], [f.cack_psn!, 32],
    [f.spdcid!, 16], [f.dpdcid!, 16], ...(f.epsn ? ([[f.expected_psn!, 32]] as Seg[]) : []),
  ],
  ack_cc: (f) => {
    const state: Seg[] = f.cc_type === 0
      ? [[f.service_time!, 16], [f.rc!, 1], [f.rcv_cwnd_pend!, 7], [f.rcvd_bytes!, 24], [f.ooo_count!, 16]]
      : [[f.credit!, 24], [0, 24], [f.ooo_count!, 16]];
    return [...layouts.ack!(f), [f.cc_type!, 4], [f.cc_flags!, 4], [f.mpr!, 8], [f.sack_psn_offset!, 16],
      [f.sack_bitmap!, 64], ...state];
  },
  ack_ccx: (f) => [...layouts.ack!(f), [f.cc_type!, 4], [f.cc_flags!, 4], [f.mpr!, 8], [f.sack_psn_offset!, 16],
    [f.sack_bitmap!, 64], [f.ccx_state_hi!, 64], [f.ccx_state_lo!, 64]],
  nack: (f) => [...prologue(f), [f.nack_code!, 8], [f.vendor_code!, 8], [f.nack_psn!, 32], [f.spdcid!, 16],
    [f.dpdcid!, 16], [f.payload!, 32]],
  nack_ccx: (f) => [...layouts.nack!(f), [f.nccx_type!, 4], [f.nack_ccx_state1!, 60], [f.nack_ccx_state2!, 64]],
  cp: (f) => [...prologue(f), [f.ctl_type === 6 ? f.probe_opaque! : 0, 16], [f.psn!, 32], [f.spdcid!, 16],
    ...synOrDpdcid(f), [f.payload!, 32]],
  rudi: (f) => [...prologue(f), [0, 16], [f.pkt_id!, 32]],
  uud: (f) => [...prologue(f), [0, 16]],

  ses_std: (f) => {
    const segs: Seg[] = [...sesCommon(f, f.message_id!, 16), [f.buffer_offset!, 64], [f.initiator!, 32],
      [f.memory_key!, 64]];
    if (f.som) segs.push([f.header_data!, 64]);
    else segs.push([0, 18], [f.payload_length!, 14], [f.message_offset!, 32]);
    segs.push([f.request_length!, 32]);
    return [...segs, ...sesExt(f)];
  },
  ses_small: (f) => [...sesCommon(f, f.request_length!, 14), [f.buffer_offset!, 64], ...sesExt(f)],
  ses_medium: (f) => [...sesCommon(f, f.request_length!, 14),
    [f.hd ? f.header_data! : f.buffer_offset!, 64], [f.initiator!, 32], [f.memory_key!, 64]],
  ses_rsp: (f) => [[f.list!, 2], [f.opcode!, 6], [f.version!, 2], [f.return_code!, 6], [f.message_id!, 16],
    [f.ri_generation!, 8], [f.job_id!, 24], [f.modified_length!, 32]],
  ses_rsp_data: (f) => [[f.list!, 2], [f.opcode!, 6], [f.version!, 2], [f.return_code!, 6], [f.message_id!, 16],
    [0, 8], [f.job_id!, 24], [f.read_request_message_id!, 16], [0, 2], [f.payload_length!, 14],
    [f.modified_length!, 32], [f.message_offset!, 32]],
  ses_rsp_data_small: (f) => [[f.list!, 2], [f.opcode!, 6], [f.version!, 2], [f.return_code!, 6], [0, 2],
    [f.payload_length!, 14], [f.ri_generation!, 8], [f.job_id!, 24], [f.original_request_psn!, 32]],
};

function sesCommon(f: Fields, word23: FieldValue, w23bits: number): Seg[] {
  return [
    [0, 2], [f.opcode!, 6], [f.version!, 2], [f.dc!, 1], [f.ie!, 1], [f.rel!, 1], [f.hd ?? 0, 1], [f.eom!, 1], [f.som!, 1],
    [0, 16 - w23bits], [word23, w23bits], [f.ri_generation!, 8], [f.job_id!, 24],
    [0, 4], [f.pid_on_fep!, 12], [0, 4], [f.resource_index!, 12],
  ];
}

function sesExt(f: Fields): Seg[] {
  if (f.atomic_opcode !== undefined) {
    const s: Seg[] = [[f.atomic_opcode, 8], [f.atomic_datatype!, 8], [f.semantic_ctrl!, 8], [0, 8]];
    if (f.compare_hi !== undefined) s.push([f.compare_hi, 64], [f.compare_lo!, 64], [f.swap_hi!, 64], [f.swap_lo!, 64]);
    return s;
  }
  if (f.eager_length !== undefined) {
    return [[f.eager_length, 32], [f.rdv_ri_generation!, 8], [f.rdv_pid_on_fep!, 12], [f.rdv_resource_index!, 12],
      [f.rdv_offset!, 64], [f.rdv_memory_key!, 64]];
  }
  return [];
}

export function hexOf(header: string, f: Fields): string {
  const l = layouts[header];
  if (!l) throw new Error(`no layout for ${header}`);
  return pack(l(f));
}

// ---------------------------------------------------------------- field-set helpers

export interface ReqOpts { type?: number; nh?: number; retx?: boolean; ar?: boolean; syn?: boolean;
  clear_psn_offset?: number; psn?: number; spdcid?: number; dpdcid?: number; use_rsv_pdc?: number; psn_offset?: number }
export function reqFields(o: ReqOpts): Fields {
  const flags = (o.retx ? 0x10 : 0) | (o.ar ? 0x08 : 0) | (o.syn ? 0x04 : 0);
  const f: Fields = { type: o.type ?? 2, nh: o.nh ?? 3, flags, retx: b(o.retx), ar: b(o.ar), syn: b(o.syn),
    clear_psn_offset: o.clear_psn_offset ?? 0, psn: o.psn ?? 0, spdcid: o.spdcid ?? 1 };
  if (o.syn) { f.use_rsv_pdc = o.use_rsv_pdc ?? 0; f.psn_offset = o.psn_offset ?? 0; } else f.dpdcid = o.dpdcid ?? 2;
  return f;
}

export interface AckOpts { type?: number; nh?: number; m?: boolean; retx?: boolean; p?: boolean; req?: number; epsn?: boolean;
  ack_psn_offset?: number; probe_opaque?: number; cack_psn?: number; spdcid?: number; dpdcid?: number; expected_psn?: number }
export function ackFields(o: AckOpts, withEpsn: boolean): Fields {
  const req = o.req ?? 0;
  const flags = (o.epsn ? 0x40 : 0) | (o.m ? 0x20 : 0) | (o.retx ? 0x10 : 0) | (o.p ? 0x08 : 0) | (req << 1);
  const f: Fields = { type: o.type ?? 7, nh: o.nh ?? 0, flags, m: b(o.m), retx: b(o.retx), p: b(o.p), req };
  if (withEpsn) f.epsn = b(o.epsn);
  if (o.p) f.probe_opaque = o.probe_opaque ?? 0; else f.ack_psn_offset = o.ack_psn_offset ?? 0;
  f.cack_psn = o.cack_psn ?? 0; f.spdcid = o.spdcid ?? 2; f.dpdcid = o.dpdcid ?? 1;
  if (o.epsn) f.expected_psn = o.expected_psn ?? 0;
  return f;
}

export interface NackOpts { type?: number; m?: boolean; retx?: boolean; nt?: boolean; nack_code?: number; vendor_code?: number;
  nack_psn?: number; spdcid?: number; dpdcid?: number; payload?: number }
export function nackFields(o: NackOpts): Fields {
  const flags = (o.m ? 0x20 : 0) | (o.retx ? 0x10 : 0) | (o.nt ? 0x08 : 0);
  return { type: o.type ?? 10, nh: 0, flags, m: b(o.m), retx: b(o.retx), nt: b(o.nt), nack_code: o.nack_code ?? 1,
    vendor_code: o.vendor_code ?? 0, nack_psn: o.nack_psn ?? 0, spdcid: o.spdcid ?? 0, dpdcid: o.dpdcid ?? 0,
    payload: o.payload ?? 0 };
}

export interface CpOpts { ctl_type: number; isrod?: boolean; retx?: boolean; ar?: boolean; syn?: boolean; probe_opaque?: number;
  psn?: number; spdcid?: number; dpdcid?: number; use_rsv_pdc?: number; psn_offset?: number; payload?: number }
export function cpFields(o: CpOpts): Fields {
  const flags = (o.isrod ? 0x20 : 0) | (o.retx ? 0x10 : 0) | (o.ar ? 0x08 : 0) | (o.syn ? 0x04 : 0);
  const f: Fields = { type: 11, ctl_type: o.ctl_type, flags, isrod: b(o.isrod), retx: b(o.retx), ar: b(o.ar), syn: b(o.syn) };
  if (o.ctl_type === 6) f.probe_opaque = o.probe_opaque ?? 0;
  f.psn = o.psn ?? 0; f.spdcid = o.spdcid ?? 1;
  if (o.syn) { f.use_rsv_pdc = o.use_rsv_pdc ?? 0; f.psn_offset = o.psn_offset ?? 0; } else f.dpdcid = o.dpdcid ?? 2;
  f.payload = o.payload ?? 0;
  return f;
}

function vec(name: string, header: string, fields: Fields): Vector {
  return { name, header, hex: hexOf(header, fields), fields };
}

// ---------------------------------------------------------------- PDS vectors

const NACK_CODES: Array<[number, string]> = [
  [0x01, 'trimmed'], [0x02, 'trimmed_lasthop'], [0x03, 'trimmed_ack'], [0x04, 'no_pdc_avail'], [0x05, 'no_ccc_avail'],
  [0x06, 'no_bitmap'], [0x07, 'no_pkt_buffer'], [0x08, 'no_gtd_del_avail'], [0x09, 'no_ses_msg_avail'],
  [0x0a, 'no_resource'], [0x0b, 'psn_oor_window'], [0x0d, 'rod_ooo'], [0x0e, 'inv_dpdcid'], [0x0f, 'pdc_hdr_mismatch'],
  [0x10, 'closing'], [0x11, 'closing_in_err'], [0x12, 'pkt_not_rcvd'], [0x13, 'gtd_resp_unavail'], [0x14, 'ack_with_data'],
  [0x15, 'invalid_syn'], [0x16, 'pdc_mode_mismatch'], [0x17, 'new_start_psn'], [0x18, 'rcvd_ses_procg'],
  [0x19, 'unexp_event'], [0x1a, 'rcvr_infer_loss'], [0xfd, 'exp_nack_normal'], [0xfe, 'exp_nack_err'], [0xff, 'exp_nack_fatal'],
];
const CTL_TYPES = ['noop', 'ack_req', 'clear', 'clear_req', 'close', 'close_req', 'probe', 'credit', 'credit_req', 'negotiation'];

export function pdsVectors(): Vector[] {
  const v: Vector[] = [];
  v.push(vec('entropy_zero', 'entropy', { entropy: 0 }));
  v.push(vec('entropy_1234', 'entropy', { entropy: 0x1234 }));
  v.push(vec('entropy_max', 'entropy', { entropy: 0xffff }));

  v.push(vec('tss_no_ssi', 'tss', { type: 1, sp: 0, an: 0, sdi: 0x123456, epoch: 0x0102, counter: wide(0x030405060708n, 48) }));
  v.push(vec('tss_ssi_an_max', 'tss', { type: 1, sp: 1, an: 1, sdi: 0xffffff, ssi: 0xffffffff, epoch: 0xffff,
    counter: wide((1n << 48n) - 1n, 48) }));

  v.push(vec('rud_req_plain', 'rud_rod_req', reqFields({ psn: 0x98765432, clear_psn_offset: 0x1234, spdcid: 0x3456, dpdcid: 0x9abc })));
  v.push(vec('rud_req_ar_retx', 'rud_rod_req', reqFields({ retx: true, ar: true, psn: 1000, clear_psn_offset: -5, spdcid: 7, dpdcid: 9 })));
  v.push(vec('rud_req_syn_rsv_pdc_offset_max', 'rud_rod_req', reqFields({ syn: true, use_rsv_pdc: 1, psn_offset: 0xfff,
    psn: 0x10000fff, clear_psn_offset: -1, spdcid: 0xffff })));
  v.push(vec('rud_req_syn_offset_zero', 'rud_rod_req', reqFields({ syn: true, ar: true, psn: 0x40000000, spdcid: 1 })));
  v.push(vec('rud_req_psn_wrap', 'rud_rod_req', reqFields({ psn: 0xffffffff, clear_psn_offset: -32768, spdcid: 0xffff, dpdcid: 0xffff })));
  v.push(vec('rud_req_clear_offset_max', 'rud_rod_req', reqFields({ psn: 0, clear_psn_offset: 32767 })));
  for (const nh of [0, 1, 2]) v.push(vec(`rud_req_nh${nh}`, 'rud_rod_req', reqFields({ nh, psn: 77 + nh })));
  v.push(vec('rod_req_plain', 'rud_rod_req', reqFields({ type: 3, psn: 0x87654321, clear_psn_offset: 0x4321, spdcid: 0x10, dpdcid: 0x20 })));
  v.push(vec('rod_req_syn_all_flags', 'rud_rod_req', reqFields({ type: 3, syn: true, ar: true, retx: true, psn_offset: 0x800, psn: 0xfffff800 })));

  const cc = (o: ReqOpts, ccc: number, credit: number): Fields => ({ ...reqFields(o), ccc_id: ccc, credit_target: credit });
  v.push(vec('rud_cc_req_plain', 'rud_rod_cc_req', cc({ type: 13, psn: 0x1000, spdcid: 3, dpdcid: 4 }, 0x78, 0x123456)));
  v.push(vec('rud_cc_req_max', 'rud_rod_cc_req', cc({ type: 13, psn: 0xffffffff, retx: true, ar: true, clear_psn_offset: -32768,
    spdcid: 0xffff, dpdcid: 0xffff }, 0xff, 0xffffff)));
  v.push(vec('rud_cc_req_syn', 'rud_rod_cc_req', cc({ type: 13, syn: true, psn_offset: 0xfff, use_rsv_pdc: 0, psn: 0x20000fff }, 0, 0)));
  v.push(vec('rod_cc_req_syn_rsv', 'rud_rod_cc_req', cc({ type: 14, syn: true, use_rsv_pdc: 1, psn_offset: 3, psn: 0x30000003 }, 1, 4096)));
  v.push(vec('rod_cc_req_plain', 'rud_rod_cc_req', cc({ type: 14, nh: 1, psn: 42, spdcid: 5, dpdcid: 6 }, 0x10, 1)));

  v.push(vec('ack_plain', 'ack', ackFields({ cack_psn: 0x98765432, ack_psn_offset: 3, spdcid: 0x9abc, dpdcid: 0x3456 }, true)));
  v.push(vec('ack_cack_wrap_neg_offset', 'ack', ackFields({ cack_psn: 0xffffffff, ack_psn_offset: -1, spdcid: 0xffff, dpdcid: 0xffff }, true)));
  v.push(vec('ack_offset_min', 'ack', ackFields({ cack_psn: 5, ack_psn_offset: -32768 }, true)));
  v.push(vec('ack_offset_max', 'ack', ackFields({ cack_psn: 5, ack_psn_offset: 32767 }, true)));
  v.push(vec('ack_m_retx', 'ack', ackFields({ m: true, retx: true, cack_psn: 100, ack_psn_offset: 2 }, true)));
  v.push(vec('ack_req_clear', 'ack', ackFields({ req: 1, cack_psn: 200 }, true)));
  v.push(vec('ack_req_close', 'ack', ackFields({ req: 2, cack_psn: 300, m: true }, true)));
  v.push(vec('ack_probe', 'ack', ackFields({ p: true, probe_opaque: 0xfedc, cack_psn: 400 }, true)));
  v.push(vec('ack_probe_opaque_max', 'ack', ackFields({ p: true, probe_opaque: 0xffff, cack_psn: 0 }, true)));
  v.push(vec('ack_epsn', 'ack', ackFields({ epsn: true, req: 2, expected_psn: 0x80001234, cack_psn: 0x7fffffff }, true)));
  v.push(vec('ack_epsn_max', 'ack', ackFields({ epsn: true, expected_psn: 0xffffffff, cack_psn: 0xffffffff, ack_psn_offset: -1 }, true)));
  for (const nh of [4, 5, 6]) v.push(vec(`ack_nh${nh}`, 'ack', ackFields({ nh, cack_psn: 1000 + nh, ack_psn_offset: 1 }, true)));

  const nscc = (a: AckOpts, mpr: number, sackOff: number, bitmap: bigint, st: number, rc: number, pend: number,
    rcvd: number, ooo: number): Fields => ({
    ...ackFields({ type: 8, ...a }, false), cc_type: 0, cc_flags: 0, mpr, sack_psn_offset: sackOff,
    sack_bitmap: wide(bitmap, 64), service_time: st, rc, rcv_cwnd_pend: pend, rcvd_bytes: rcvd, ooo_count: ooo,
  });
  const credit = (a: AckOpts, mpr: number, sackOff: number, bitmap: bigint, cr: number, ooo: number): Fields => ({
    ...ackFields({ type: 8, ...a }, false), cc_type: 1, cc_flags: 0, mpr, sack_psn_offset: sackOff,
    sack_bitmap: wide(bitmap, 64), credit: cr, ooo_count: ooo,
  });
  v.push(vec('ack_cc_nscc_typical', 'ack_cc', nscc({ cack_psn: 0x1000, ack_psn_offset: 4, spdcid: 2, dpdcid: 1 }, 1, 1,
    0x5n, 120, 0, 0, 0x10000, 0)));
  v.push(vec('ack_cc_nscc_max', 'ack_cc', nscc({ cack_psn: 0xffffffff, ack_psn_offset: -1, m: true, retx: true, req: 1,
    spdcid: 0xffff, dpdcid: 0xffff }, 0xff, -32768, M64, 0xffff, 1, 0x7f, 0xffffff, 0xffff)));
  v.push(vec('ack_cc_nscc_sack_edges', 'ack_cc', nscc({ cack_psn: 0x7fffffff, ack_psn_offset: 32767, nh: 4 }, 2, 32767,
    0x8000000000000001n, 1, 0, 0x40, 1, 1)));
  v.push(vec('ack_cc_nscc_rc_only', 'ack_cc', nscc({ cack_psn: 9, nh: 5 }, 1, 0, 0n, 0, 1, 0, 0, 0)));
  v.push(vec('ack_cc_nscc_probe', 'ack_cc', nscc({ p: true, probe_opaque: 0xabcd, cack_psn: 77 }, 1, 0, 0n, 0, 0, 0, 0, 0)));
  v.push(vec('ack_cc_credit', 'ack_cc', credit({ cack_psn: 0x2000, ack_psn_offset: 2 }, 1, 1, 0xffn, 0x123456, 3)));
  v.push(vec('ack_cc_credit_max', 'ack_cc', credit({ cack_psn: 0xffffffff, req: 2, m: true, nh: 6 }, 0xff, -1, M64, 0xffffff, 0xffff)));

  const ccx = (a: AckOpts, hi: bigint, lo: bigint, ccType = 0): Fields => ({
    ...ackFields({ type: 9, ...a }, false), cc_type: ccType, cc_flags: 0, mpr: 1, sack_psn_offset: 1,
    sack_bitmap: wide(0x3n, 64), ccx_type: Number(hi >> 60n), ccx_state_hi: wide(hi, 64), ccx_state_lo: wide(lo, 64),
  });
  v.push(vec('ack_ccx_typical', 'ack_ccx', ccx({ cack_psn: 0x3000, ack_psn_offset: 1 }, 0x0123456789abcdefn, 0xfedcba9876543210n)));
  v.push(vec('ack_ccx_proprietary_max', 'ack_ccx', ccx({ cack_psn: 0xffffffff, m: true, nh: 4 }, M64, M64, 15)));
  v.push(vec('ack_ccx_type14', 'ack_ccx', ccx({ cack_psn: 1 }, 0xe000000000000000n, 0n, 1)));

  for (const [code, name] of NACK_CODES) {
    v.push(vec(`nack_${name}`, 'nack', nackFields({ nack_code: code, nack_psn: 0x1000 + code, spdcid: 2, dpdcid: 1,
      payload: code === 0x17 ? 0x40000000 : code === 0x11 ? 3 : 0 })));
  }
  v.push(vec('nack_rudi_nt', 'nack', nackFields({ nt: true, nack_code: 0x07, nack_psn: 0xdeadbeef })));
  v.push(vec('nack_m_retx_max', 'nack', nackFields({ m: true, retx: true, nack_code: 0x01, vendor_code: 0xff,
    nack_psn: 0xffffffff, spdcid: 0xffff, dpdcid: 0xffff, payload: 0xffffffff })));

  const nccx = (o: NackOpts, t: number, s1: bigint, s2: bigint): Fields => ({
    ...nackFields({ type: 12, ...o }), nccx_type: t, nack_ccx_state1: wide(s1, 60), nack_ccx_state2: wide(s2, 64),
  });
  v.push(vec('nack_ccx_typical', 'nack_ccx', nccx({ nack_code: 0x02, nack_psn: 500, spdcid: 2, dpdcid: 1 }, 1,
    0x123456789abcdefn, 0x0011223344556677n)));
  v.push(vec('nack_ccx_max', 'nack_ccx', nccx({ nack_code: 0xff, m: true, retx: true, nt: true, vendor_code: 0xff,
    nack_psn: 0xffffffff, payload: 0xffffffff }, 15, (1n << 60n) - 1n, M64)));

  CTL_TYPES.forEach((name, ctl) => {
    v.push(vec(`cp_${name}`, 'cp', cpFields({ ctl_type: ctl, ar: ctl === 4 || ctl === 5, psn: 0x5000 + ctl, spdcid: 1, dpdcid: 2,
      probe_opaque: ctl === 6 ? 0x1234 : undefined, payload: [0, 0x77, 0x4fff, 0x5000, 0, 0, 0x5000, 0x10000, 0x20000, 0][ctl] })));
  });
  v.push(vec('cp_close_rod', 'cp', cpFields({ ctl_type: 4, isrod: true, ar: true, psn: 0xffffffff, spdcid: 0xffff, dpdcid: 0xffff })));
  v.push(vec('cp_ack_req_retx', 'cp', cpFields({ ctl_type: 1, retx: true, ar: true, psn: 123, payload: 0xffff })));
  v.push(vec('cp_syn_probe', 'cp', cpFields({ ctl_type: 6, syn: true, use_rsv_pdc: 1, psn_offset: 0xfff, probe_opaque: 0xffff,
    psn: 0x12345fff, payload: 0xffffffff })));
  v.push(vec('cp_credit_max', 'cp', cpFields({ ctl_type: 7, isrod: true, retx: true, ar: true, payload: 0xffffffff })));

  const rudi = (type: number, nh: number, m: boolean, retx: boolean, pkt_id: number): Fields =>
    ({ type, nh, flags: (m ? 0x20 : 0) | (retx ? 0x10 : 0), m: b(m), retx: b(retx), pkt_id });
  v.push(vec('rudi_req', 'rudi', rudi(4, 3, false, false, 0x12345678)));
  v.push(vec('rudi_req_retx_max', 'rudi', rudi(4, 1, false, true, 0xffffffff)));
  v.push(vec('rudi_resp', 'rudi', rudi(5, 4, false, false, 1)));
  v.push(vec('rudi_resp_m_retx', 'rudi', rudi(5, 5, true, true, 0xffffffff)));
  v.push(vec('rudi_resp_nh6', 'rudi', rudi(5, 6, true, false, 0)));

  v.push(vec('uud_std', 'uud', { type: 6, nh: 3, flags: 0 }));
  v.push(vec('uud_small', 'uud', { type: 6, nh: 1, flags: 0 }));
  return v;
}

// ---------------------------------------------------------------- SES vectors

export interface SesOpts { opcode: number; dc?: boolean; ie?: boolean; rel?: boolean; hd?: boolean; eom?: boolean; som?: boolean;
  message_id?: number; ri_generation?: number; job_id?: number; pid_on_fep?: number; resource_index?: number }
export function sesBase(o: SesOpts, withHd = true): Fields {
  const f: Fields = { opcode: o.opcode, version: 0, dc: b(o.dc), ie: b(o.ie), rel: b(o.rel) };
  if (withHd) f.hd = b(o.hd);
  f.eom = b(o.eom ?? true); f.som = b(o.som ?? true);
  return f;
}
export function sesAddr(o: SesOpts): Fields {
  return { ri_generation: o.ri_generation ?? 0, job_id: o.job_id ?? 0x10, pid_on_fep: o.pid_on_fep ?? 0, resource_index: o.resource_index ?? 15 };
}

export interface StdOpts extends SesOpts { buffer_offset?: bigint; initiator?: number; memory_key?: bigint; header_data?: bigint;
  payload_length?: number; message_offset?: number; request_length?: number; ext?: Fields }
export function stdFields(o: StdOpts): Fields {
  const f: Fields = { ...sesBase(o), message_id: o.message_id ?? 1, ...sesAddr(o),
    buffer_offset: wide(o.buffer_offset ?? 0n, 64), initiator: o.initiator ?? 16, memory_key: wide(o.memory_key ?? 0n, 64) };
  if (o.som ?? true) f.header_data = wide(o.header_data ?? 0n, 64);
  else { f.payload_length = o.payload_length ?? 0; f.message_offset = o.message_offset ?? 0; }
  f.request_length = o.request_length ?? 0;
  return { ...f, ...(o.ext ?? {}) };
}
export const atomicExt = (op: number, dt: number, sc = 0): Fields => ({ atomic_opcode: op, atomic_datatype: dt, semantic_ctrl: sc });
export const casExt = (op: number, dt: number, sc: number, c: [bigint, bigint], s: [bigint, bigint]): Fields => ({
  ...atomicExt(op, dt, sc), compare_hi: wide(c[0], 64), compare_lo: wide(c[1], 64), swap_hi: wide(s[0], 64), swap_lo: wide(s[1], 64),
});
export const rdvExt = (eager: number, gen: number, pid: number, ri: number, off: bigint, key: bigint): Fields => ({
  eager_length: eager, rdv_ri_generation: gen, rdv_pid_on_fep: pid, rdv_resource_index: ri,
  rdv_offset: wide(off, 64), rdv_memory_key: wide(key, 64),
});

const REQ_OPCODES = ['no_op', 'write', 'read', 'atomic', 'fetching_atomic', 'send', 'rendezvous_send', 'datagram_send',
  'deferrable_send', 'tagged_send', 'rendezvous_tsend', 'deferrable_tsend', 'deferrable_rtr', 'tsend_atomic',
  'tsend_fetch_atomic', 'msg_error'];
const ATOMIC_OPS = ['min', 'max', 'sum', 'diff', 'prod', 'lor', 'land', 'bor', 'band', 'lxor', 'bxor', 'read', 'write',
  'cswap', 'cswap_ne', 'cswap_le', 'cswap_lt', 'cswap_ge', 'cswap_gt', 'mswap', 'inval'];
const DATATYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'int128', 'uint128', 'float',
  'double', 'float_complex', 'double_complex', 'long_double', 'long_double_complex', 'bf16', 'fp16'];
const RETURN_CODES = ['null', 'ok', 'bad_generation', 'disabled', 'disabled_gen', 'no_match', 'unsupported_op',
  'unsupported_size', 'at_invalid', 'at_perm', 'at_ats_error', 'at_no_trans', 'at_out_of_range', 'host_poisoned',
  'host_unsuccess_cmpl', 'amo_unsupported_op', 'amo_unsupported_dt', 'amo_unsupported_size', 'amo_unaligned',
  'amo_fp_nan', 'amo_fp_underflow', 'amo_fp_overflow', 'amo_fp_inexact', 'perm_violation', 'op_violation', 'bad_index',
  'bad_pid', 'bad_job_id', 'bad_mkey', 'bad_addr', 'cancelled', 'undeliverable', 'uncor', 'uncor_trnsnt', 'too_long',
  'initiator_err', 'dropped'];

function extFor(opcode: number, i: number): Fields | undefined {
  if ([3, 4, 13, 14].includes(opcode)) return atomicExt(2, 6 + (i % 2), 1);
  if (opcode === 6 || opcode === 10) return rdvExt(4096, 1, 2, 3, 0x1000n, 0xabcdn);
  return undefined;
}

export function sesVectors(): Vector[] {
  const v: Vector[] = [];
  REQ_OPCODES.forEach((name, op) => {
    v.push(vec(`std_${name}_som`, 'ses_std', stdFields({ opcode: op, message_id: 0x100 + op, job_id: 0x1234, pid_on_fep: 5,
      resource_index: 15, buffer_offset: 0x1000n * BigInt(op), memory_key: 0xfeedn + BigInt(op), request_length: 65536,
      ext: extFor(op, op) })));
    v.push(vec(`std_${name}_middle`, 'ses_std', stdFields({ opcode: op, som: false, eom: false, message_id: 0x200 + op,
      payload_length: 4096, message_offset: 4096 * 3, request_length: 65536, memory_key: 0x77n, ext: extFor(op, op + 1) })));
  });
  v.push(vec('std_write_all_flags_max', 'ses_std', stdFields({ opcode: 1, dc: true, ie: true, rel: true, hd: true,
    message_id: 0xffff, ri_generation: 0xff, job_id: 0xffffff, pid_on_fep: 0xfff, resource_index: 0xfff, buffer_offset: M64,
    initiator: 0xffffffff, memory_key: M64, header_data: M64, request_length: 0xffffffff })));
  v.push(vec('std_send_last_max', 'ses_std', stdFields({ opcode: 5, som: false, eom: true, message_id: 0xffff,
    payload_length: 0x3fff, message_offset: 0xffffffff, request_length: 0xffffffff, buffer_offset: M64, memory_key: M64,
    initiator: 0xffffffff })));
  v.push(vec('std_tagged_send_match_bits', 'ses_std', stdFields({ opcode: 9, hd: true, memory_key: 0x8000000000000001n,
    header_data: 0x0123456789abcdefn, request_length: 8 })));
  v.push(vec('std_deferrable_send_tokens', 'ses_std', stdFields({ opcode: 8, buffer_offset: 0x9876543200000000n | 0xba987654n,
    request_length: 1 << 20 })));
  v.push(vec('std_deferrable_rtr_tokens', 'ses_std', stdFields({ opcode: 12, memory_key: 0x98765432ba987654n })));
  v.push(vec('std_vendor_opcode', 'ses_std', stdFields({ opcode: 0x3f, request_length: 1 })));
  for (const [op, name] of [[3, 'atomic'], [4, 'fetching_atomic'], [13, 'tsend_atomic'], [14, 'tsend_fetch_atomic']] as const) {
    ATOMIC_OPS.forEach((aname, aop) => {
      if (aop >= 0x0d && aop <= 0x13) {
        v.push(vec(`std_${name}_${aname}`, 'ses_std', stdFields({ opcode: op, request_length: 8,
          ext: casExt(aop, 7, 2, [0x1111111111111111n * BigInt(aop % 15 + 1), 0n], [M64, 1n]) })));
      } else {
        v.push(vec(`std_${name}_${aname}`, 'ses_std', stdFields({ opcode: op, request_length: 8,
          ext: atomicExt(aop, aop % 18, aop % 4) })));
      }
    });
  }
  DATATYPES.forEach((dname, dt) => {
    v.push(vec(`std_atomic_sum_${dname}`, 'ses_std', stdFields({ opcode: 3, request_length: 16, ext: atomicExt(2, dt, 3) })));
  });
  v.push(vec('std_atomic_vendor_op', 'ses_std', stdFields({ opcode: 3, ext: atomicExt(0xe0, 0x11, 0) })));
  v.push(vec('std_cas_max', 'ses_std', stdFields({ opcode: 4, som: false, payload_length: 16, message_offset: 0,
    ext: casExt(0x0d, 9, 3, [M64, M64], [M64, M64]) })));
  v.push(vec('std_rendezvous_send_max', 'ses_std', stdFields({ opcode: 6, request_length: 0xffffffff,
    ext: rdvExt(0xffffffff, 0xff, 0xfff, 0xfff, M64, M64) })));
  v.push(vec('std_rendezvous_tsend_zero', 'ses_std', stdFields({ opcode: 10, ext: rdvExt(0, 0, 0, 0, 0n, 0n) })));

  const small = (o: SesOpts & { request_length: number; buffer_offset: bigint; ext?: Fields }): Fields => ({
    ...sesBase(o, false), request_length: o.request_length, ...sesAddr(o), buffer_offset: wide(o.buffer_offset, 64), ...(o.ext ?? {}),
  });
  for (const op of [0, 1, 2, 5, 7, 9]) {
    v.push(vec(`small_${REQ_OPCODES[op]}`, 'ses_small', small({ opcode: op, request_length: 64 + op, buffer_offset: BigInt(op) << 12n,
      job_id: 0x22, pid_on_fep: 1, resource_index: 2 })));
  }
  v.push(vec('small_max', 'ses_small', small({ opcode: 1, dc: true, ie: true, rel: true, request_length: 0x3fff, ri_generation: 0xff,
    job_id: 0xffffff, pid_on_fep: 0xfff, resource_index: 0xfff, buffer_offset: M64 })));
  v.push(vec('small_atomic', 'ses_small', small({ opcode: 3, request_length: 8, buffer_offset: 0x40n, ext: atomicExt(2, 7, 1) })));
  v.push(vec('small_fetching_atomic_cas', 'ses_small', small({ opcode: 4, request_length: 8, buffer_offset: 0x80n,
    ext: casExt(0x0d, 7, 0, [0n, 5n], [0n, 6n]) })));

  const medium = (o: SesOpts & { request_length: number; data: bigint; initiator: number; memory_key: bigint }): Fields => {
    const f: Fields = { ...sesBase(o), request_length: o.request_length, ...sesAddr(o) };
    if (o.hd) f.header_data = wide(o.data, 64); else f.buffer_offset = wide(o.data, 64);
    return { ...f, initiator: o.initiator, memory_key: wide(o.memory_key, 64) };
  };
  v.push(vec('medium_send', 'ses_medium', medium({ opcode: 5, request_length: 512, data: 0n, initiator: 16, memory_key: 0n })));
  v.push(vec('medium_write_offset', 'ses_medium', medium({ opcode: 1, request_length: 1024, data: 0x2000n, initiator: 7, memory_key: 0x55n })));
  v.push(vec('medium_tsend_header_data', 'ses_medium', medium({ opcode: 9, hd: true, request_length: 100, data: 0xcafef00dn,
    initiator: 1, memory_key: 0x1234n })));
  v.push(vec('medium_max', 'ses_medium', medium({ opcode: 1, dc: true, ie: true, rel: true, hd: true, request_length: 0x3fff,
    ri_generation: 0xff, job_id: 0xffffff, pid_on_fep: 0xfff, resource_index: 0xfff, data: M64, initiator: 0xffffffff, memory_key: M64 })));

  const rsp = (list: number, opcode: number, rc: number, mid: number, gen: number, job: number, mod: number): Fields =>
    ({ list, opcode, version: 0, return_code: rc, message_id: mid, ri_generation: gen, job_id: job, modified_length: mod });
  RETURN_CODES.forEach((name, rc) => v.push(vec(`rsp_rc_${name}`, 'ses_rsp', rsp(0, 1, rc, 0x100 + rc, 1, 0x10, rc * 10))));
  v.push(vec('rsp_default', 'ses_rsp', rsp(0, 0, 0, 1, 0, 0x10, 0)));
  v.push(vec('rsp_no_response', 'ses_rsp', rsp(0, 3, 1, 2, 0, 0x10, 0)));
  v.push(vec('rsp_overflow_list', 'ses_rsp', rsp(1, 1, 1, 3, 0, 0x10, 4096)));
  v.push(vec('rsp_max', 'ses_rsp', rsp(3, 0x3f, 0x3e, 0xffff, 0xff, 0xffffff, 0xffffffff)));
  v.push(vec('rsp_vendor_rc', 'ses_rsp', rsp(2, 0x30, 0x30, 9, 9, 9, 9)));

  const rspData = (list: number, rc: number, mid: number, job: number, rrmid: number, plen: number, mod: number, moff: number): Fields =>
    ({ list, opcode: 2, version: 0, return_code: rc, message_id: mid, job_id: job, read_request_message_id: rrmid,
      payload_length: plen, modified_length: mod, message_offset: moff });
  v.push(vec('rsp_data_typical', 'ses_rsp_data', rspData(0, 1, 0x10, 0x1234, 0x20, 4096, 65536, 8192)));
  v.push(vec('rsp_data_max', 'ses_rsp_data', rspData(3, 0x24, 0xffff, 0xffffff, 0xffff, 0x3fff, 0xffffffff, 0xffffffff)));
  v.push(vec('rsp_data_zero', 'ses_rsp_data', rspData(0, 0, 0, 0, 0, 0, 0, 0)));

  const rspSmall = (list: number, rc: number, plen: number, gen: number, job: number, psn: number): Fields =>
    ({ list, opcode: 2, version: 0, return_code: rc, payload_length: plen, ri_generation: gen, job_id: job, original_request_psn: psn });
  v.push(vec('rsp_data_small_typical', 'ses_rsp_data_small', rspSmall(0, 1, 64, 1, 0x1234, 0x98765432)));
  v.push(vec('rsp_data_small_max', 'ses_rsp_data_small', rspSmall(3, 0x3e, 0x3fff, 0xff, 0xffffff, 0xffffffff)));
  return v;
}

// ---------------------------------------------------------------- malformed inputs

export function malformedVectors(): MalformedVector[] {
  const m: MalformedVector[] = [];
  const mv = (name: string, header: string, hex: string, field: string, offset: number, extra: Partial<MalformedVector> = {}) =>
    m.push({ name, header, hex, error_field: field, error_offset: offset, ...extra });
  const req = hexOf('rud_rod_req', reqFields({ psn: 5 }));
  const ackcc = hexOf('ack_cc', pdsVectors().find((x) => x.name === 'ack_cc_nscc_typical')!.fields);
  const std = hexOf('ses_std', stdFields({ opcode: 5, request_length: 10 }));
  const setByte = (hex: string, i: number, v: number) => hex.slice(0, 2 * i) + v.toString(16).padStart(2, '0') + hex.slice(2 * i + 2);
  const byteAt = (hex: string, i: number) => parseInt(hex.slice(2 * i, 2 * i + 2), 16);

  mv('empty', 'pds', '', 'length', 0);
  mv('one_byte', 'pds', '10', 'length', 1);
  mv('rud_req_truncated', 'rud_rod_req', req.slice(0, 20), 'length', 10);
  mv('ack_cc_truncated', 'ack_cc', ackcc.slice(0, 48), 'length', 24);
  mv('pds_type0', 'pds', setByte(req, 0, 0x01), 'type', 0);
  mv('pds_type15', 'pds', setByte(req, 0, (15 << 3) | (byteAt(req, 0) & 7)), 'type', 0);
  mv('pds_type31', 'pds', setByte(req, 0, 0xf9), 'type', 0);
  mv('rud_req_nh7', 'pds', setByte(setByte(req, 0, (2 << 3) | 3), 1, 0x80), 'nh', 0);
  mv('rud_req_nh_response', 'pds', setByte(setByte(req, 0, (2 << 3) | 2), 1, 0x00), 'nh', 0);
  mv('rud_req_flag_0x40', 'pds', setByte(req, 1, byteAt(req, 1) | 0x40), 'flags', 1);
  mv('rud_req_flag_0x01', 'pds', setByte(req, 1, byteAt(req, 1) | 0x01), 'flags', 1);
  const syn = hexOf('rud_rod_req', reqFields({ syn: true, psn: 5 }));
  mv('rud_req_syn_rsvd_bits', 'pds', setByte(syn, 10, 0x10), 'rsvd', 10);
  const ack = hexOf('ack', ackFields({ cack_psn: 1 }, true));
  mv('ack_req_3', 'pds', setByte(ack, 1, 0x06), 'req', 1);
  mv('ack_flag_0x01', 'pds', setByte(ack, 1, 0x01), 'flags', 1);
  mv('ack_nh_request', 'pds', setByte(ack, 0, (7 << 3) | 1), 'nh', 0);
  mv('ack_epsn_truncated', 'pds', setByte(ack, 1, 0x40), 'length', 12);
  mv('ack_cc_epsn', 'pds', setByte(ackcc, 1, byteAt(ackcc, 1) | 0x40), 'flags', 1);
  mv('ack_cc_unknown_cc_type', 'pds', setByte(ackcc, 12, 0x20), 'cc_type', 12);
  const credit = hexOf('ack_cc', pdsVectors().find((x) => x.name === 'ack_cc_credit')!.fields);
  mv('ack_cc_credit_rsvd', 'pds', setByte(credit, 28, 1), 'rsvd', 27);
  const nack = hexOf('nack', nackFields({ nack_code: 1 }));
  mv('nack_code_0', 'pds', setByte(nack, 2, 0), 'nack_code', 2);
  mv('nack_code_0c', 'pds', setByte(nack, 2, 0x0c), 'nack_code', 2);
  mv('nack_code_1b', 'pds', setByte(nack, 2, 0x1b), 'nack_code', 2);
  mv('nack_flag_0x04', 'pds', setByte(nack, 1, 0x04), 'flags', 1);
  mv('nack_nh_set', 'pds', setByte(nack, 0, (10 << 3) | 1), 'nh', 0);
  const cp = hexOf('cp', cpFields({ ctl_type: 0 }));
  mv('cp_ctl_10', 'pds', setByte(setByte(cp, 0, (11 << 3) | 5), 1, 0x00), 'ctl_type', 0);
  mv('cp_ctl_15', 'pds', setByte(setByte(cp, 0, (11 << 3) | 7), 1, 0x80), 'ctl_type', 0);
  mv('cp_noop_opaque_set', 'pds', setByte(cp, 2, 1), 'rsvd', 2);
  mv('cp_flag_0x40', 'pds', setByte(cp, 1, 0x40), 'flags', 1);
  const rudiReq = hexOf('rudi', { type: 4, nh: 3, flags: 0, m: 0, retx: 0, pkt_id: 1 });
  mv('rudi_req_m', 'pds', setByte(rudiReq, 1, byteAt(rudiReq, 1) | 0x20), 'flags', 1);
  mv('rudi_rsvd', 'pds', setByte(rudiReq, 3, 1), 'rsvd', 2);
  const uud = hexOf('uud', { type: 6, nh: 3, flags: 0 });
  mv('uud_flags', 'pds', setByte(uud, 1, byteAt(uud, 1) | 0x10), 'flags', 1);
  mv('uud_rsvd', 'pds', setByte(uud, 2, 0x80), 'rsvd', 2);
  mv('entropy_rsvd', 'entropy', '12340001', 'rsvd', 2);
  mv('entropy_truncated', 'entropy', '1234', 'length', 2);
  mv('tss_rsvd_bit', 'tss', '0a00000100000000000000000000', 'rsvd', 0);
  mv('tss_truncated_ssi', 'tss', '0c0000010000000000000000', 'length', 12);

  mv('ses_std_truncated', 'ses_std', std.slice(0, 80), 'length', 40);
  mv('ses_std_opcode_rsvd_bits', 'ses_std', setByte(std, 0, 0x45), 'rsvd', 0);
  mv('ses_std_opcode_0x10', 'ses_std', setByte(std, 0, 0x10), 'opcode', 0);
  mv('ses_std_opcode_0x2f', 'ses_std', setByte(std, 0, 0x2f), 'opcode', 0);
  mv('ses_std_version_1', 'ses_std', setByte(std, 1, byteAt(std, 1) | 0x40), 'version', 1);
  mv('ses_std_pid_rsvd', 'ses_std', setByte(std, 8, 0x10), 'rsvd', 8);
  mv('ses_std_ri_rsvd', 'ses_std', setByte(std, 10, 0x80), 'rsvd', 10);
  const mid = hexOf('ses_std', stdFields({ opcode: 5, som: false, payload_length: 1 }));
  mv('ses_std_payload_length_rsvd', 'ses_std', setByte(mid, 33, 0x40), 'rsvd', 32);
  const atomic = hexOf('ses_std', stdFields({ opcode: 3, ext: atomicExt(2, 6, 0) }));
  mv('ses_std_atomic_truncated_ext', 'ses_std', atomic.slice(0, 88 + 4), 'length', 46);
  mv('ses_std_atomic_op_unknown', 'ses_std', setByte(atomic, 44, 0x15), 'atomic_opcode', 44);
  mv('ses_std_atomic_op_0xff', 'ses_std', setByte(atomic, 44, 0xff), 'atomic_opcode', 44);
  mv('ses_std_atomic_dt_unknown', 'ses_std', setByte(atomic, 45, 0x12), 'atomic_datatype', 45);
  mv('ses_std_atomic_sc_rsvd', 'ses_std', setByte(atomic, 46, 0x04), 'semantic_ctrl', 46);
  mv('ses_std_atomic_rsvd_byte', 'ses_std', setByte(atomic, 47, 1), 'rsvd', 47);
  const cas = hexOf('ses_std', stdFields({ opcode: 3, ext: casExt(0x0d, 6, 0, [0n, 0n], [0n, 0n]) }));
  mv('ses_std_cas_truncated', 'ses_std', cas.slice(0, 2 * 60), 'length', 60);
  const rdv = hexOf('ses_std', stdFields({ opcode: 6, ext: rdvExt(1, 0, 0, 0, 0n, 0n) }));
  mv('ses_std_rdv_truncated', 'ses_std', rdv.slice(0, 2 * 50), 'length', 50);
  const small = hexOf('ses_small', { ...sesBase({ opcode: 1 }, false), request_length: 1, ...sesAddr({ opcode: 1 }), buffer_offset: wide(0n, 64) });
  mv('ses_small_hd_set', 'ses_small', setByte(small, 1, byteAt(small, 1) | 0x04), 'rsvd', 1);
  mv('ses_small_len_rsvd', 'ses_small', setByte(small, 2, 0x80), 'rsvd', 2);
  mv('ses_small_truncated', 'ses_small', small.slice(0, 38), 'length', 19);
  const rsp = hexOf('ses_rsp', { list: 0, opcode: 1, version: 0, return_code: 1, message_id: 1, ri_generation: 0, job_id: 1, modified_length: 0 });
  mv('ses_rsp_opcode_4', 'ses_rsp', setByte(rsp, 0, 0x04), 'opcode', 0);
  mv('ses_rsp_rc_0x25', 'ses_rsp', setByte(rsp, 1, 0x25), 'return_code', 1);
  mv('ses_rsp_truncated', 'ses_rsp', rsp.slice(0, 22), 'length', 11);
  const rspd = hexOf('ses_rsp_data', { list: 0, opcode: 2, version: 0, return_code: 1, message_id: 1, job_id: 1,
    read_request_message_id: 0, payload_length: 4, modified_length: 0, message_offset: 0 });
  mv('ses_rsp_data_byte4', 'ses_rsp_data', setByte(rspd, 4, 1), 'rsvd', 4);
  mv('ses_rsp_data_plen_rsvd', 'ses_rsp_data', setByte(rspd, 10, 0x80), 'rsvd', 10);
  const rsps = hexOf('ses_rsp_data_small', { list: 0, opcode: 2, version: 0, return_code: 1, payload_length: 4, ri_generation: 0, job_id: 0, original_request_psn: 0 });
  mv('ses_rsp_data_small_plen_rsvd', 'ses_rsp_data_small', setByte(rsps, 2, 0x40), 'rsvd', 2);

  // Whole packets (UDP payload): a header length or payload length that overruns.
  const udpReqStd = hexOf('rud_rod_req', reqFields({ psn: 1 })) + hexOf('ses_std', stdFields({ opcode: 5, som: false, payload_length: 8 }));
  mv('packet_payload_length_overrun', 'packet', udpReqStd + '00010203', 'payload_length', 12 + 34, { encap: 'udp' });
  mv('packet_ses_truncated', 'packet', udpReqStd.slice(0, 2 * 30), 'length', 30, { encap: 'udp' });
  const rspData = hexOf('ack', ackFields({ nh: 5, cack_psn: 1 }, true)) + rspd;
  mv('packet_rsp_data_overrun', 'packet', rspData + '0102', 'payload_length', 12 + 10, { encap: 'udp' });
  mv('packet_ip_no_entropy', 'packet', '1234', 'length', 2, { encap: 'ip' });
  mv('packet_crc_missing', 'packet', hexOf('uud', { type: 6, nh: 0, flags: 0 }).slice(0, 6), 'length', 3, { encap: 'udp', trailer: 'crc' });
  return m;
}

// ---------------------------------------------------------------- whole packets

export interface PacketVector {
  name: string; header: 'packet'; encap: 'udp' | 'ip'; trailer: 'none' | 'crc' | 'icv'; crc_prefix?: string;
  hex: string; fields: Fields;
}

/** Bit-at-a-time CRC32C, deliberately unlike the table-driven one in lib/uet. */
function crc32cBitwise(bytes: number[]): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const hexBytes = (h: string): number[] => (h.match(/../g) ?? []).map((x) => parseInt(x, 16));

export function packetVectors(): PacketVector[] {
  const out: PacketVector[] = [];
  const prefixed = (p: string, f: Fields): Fields => Object.fromEntries(Object.entries(f).map(([k, v]) => [`${p}.${k}`, v]));
  const add = (name: string, encap: 'udp' | 'ip', pdsHeader: string, pds: Fields, sesHeader: string | null, ses: Fields | null,
    payload: string, opts: { entropy?: number; crcPrefix?: string } = {}) => {
    let hex = '';
    const fields: Fields = {};
    if (encap === 'ip') { hex += hexOf('entropy', { entropy: opts.entropy! }); fields.entropy = opts.entropy!; }
    hex += hexOf(pdsHeader, pds);
    Object.assign(fields, prefixed('pds', pds));
    if (sesHeader && ses) { hex += hexOf(sesHeader, ses); Object.assign(fields, prefixed('ses', ses)); }
    hex += payload;
    fields.payload_hex = payload;
    const v: PacketVector = { name, header: 'packet', encap, trailer: 'none', hex, fields };
    if (opts.crcPrefix !== undefined) {
      // UDP: the covered UDP header is sport 50000, dport 4793, length, checksum 0.
      const udpHdr = encap === 'udp' && opts.crcPrefix !== ''
        ? pack([[50000, 16], [4793, 16], [8 + hex.length / 2 + 4, 16], [0, 16]]) : '';
      const prefix = opts.crcPrefix + udpHdr;
      const crc = crc32cBitwise([...hexBytes(prefix), ...hexBytes(hex)]);
      v.trailer = 'crc';
      v.crc_prefix = prefix;
      v.hex = hex + crc.toString(16).padStart(8, '0');
      fields.crc = crc;
    }
    out.push(v);
  };
  const data = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((i * 7 + seed) & 0xff).toString(16).padStart(2, '0')).join('');
  const std = (o: StdOpts) => stdFields(o);

  add('udp_rud_req_std_write', 'udp', 'rud_rod_req', reqFields({ syn: true, ar: true, psn: 0x10000000, spdcid: 0x11 }),
    'ses_std', std({ opcode: 1, request_length: 16, memory_key: 0x1234n, buffer_offset: 0x40n }), data(16, 1));
  add('udp_rud_req_std_send_middle', 'udp', 'rud_rod_req', reqFields({ psn: 0xffffffff, spdcid: 0x11, dpdcid: 0x22, retx: true }),
    'ses_std', std({ opcode: 5, som: false, eom: false, payload_length: 8, message_offset: 4096, request_length: 1 << 16 }), data(8, 2));
  add('udp_rod_cc_req_small', 'udp', 'rud_rod_cc_req', { ...reqFields({ type: 14, nh: 1, psn: 9, ar: true }), ccc_id: 3, credit_target: 0x100 },
    'ses_small', { ...sesBase({ opcode: 1 }, false), request_length: 4, ...sesAddr({ opcode: 1 }), buffer_offset: wide(8n, 64) }, data(4, 3));
  add('udp_ack_cc_rsp', 'udp', 'ack_cc', pdsVectors().find((x) => x.name === 'ack_cc_nscc_sack_edges')!.fields, 'ses_rsp',
    { list: 0, opcode: 1, version: 0, return_code: 1, message_id: 7, ri_generation: 0, job_id: 0x10, modified_length: 16 }, '');
  add('udp_ack_rsp_data', 'udp', 'ack', ackFields({ nh: 5, cack_psn: 100 }, true), 'ses_rsp_data',
    { list: 0, opcode: 2, version: 0, return_code: 1, message_id: 3, job_id: 0x10, read_request_message_id: 3, payload_length: 12,
      modified_length: 12, message_offset: 0 }, data(12, 4));
  add('udp_ack_rsp_data_small', 'udp', 'ack', ackFields({ nh: 6, cack_psn: 101, ack_psn_offset: 1 }, true), 'ses_rsp_data_small',
    { list: 0, opcode: 2, version: 0, return_code: 1, payload_length: 5, ri_generation: 0, job_id: 0x10, original_request_psn: 101 }, data(5, 5));
  add('udp_rudi_req_medium', 'udp', 'rudi', { type: 4, nh: 2, flags: 0, m: 0, retx: 0, pkt_id: 77 }, 'ses_medium',
    { ...sesBase({ opcode: 1 }), request_length: 6, ...sesAddr({ opcode: 1 }), buffer_offset: wide(0n, 64), initiator: 16, memory_key: wide(5n, 64) },
    data(6, 6));
  add('udp_rudi_resp_rsp', 'udp', 'rudi', { type: 5, nh: 4, flags: 0x20, m: 1, retx: 0, pkt_id: 77 }, 'ses_rsp',
    { list: 0, opcode: 0, version: 0, return_code: 1, message_id: 0, ri_generation: 0, job_id: 0x10, modified_length: 6 }, '');
  add('udp_uud_datagram', 'udp', 'uud', { type: 6, nh: 3, flags: 0 }, 'ses_std', std({ opcode: 7, request_length: 3 }), data(3, 7));
  add('udp_cp_close', 'udp', 'cp', cpFields({ ctl_type: 4, ar: true, psn: 500 }), null, null, '');
  add('udp_nack_trimmed', 'udp', 'nack', nackFields({ nack_code: 1, nack_psn: 42, spdcid: 2, dpdcid: 1, m: true }), null, null, '');
  add('udp_ack_no_ses', 'udp', 'ack', ackFields({ cack_psn: 42 }, true), null, null, '');
  add('ip_rud_req_std_send', 'ip', 'rud_rod_req', reqFields({ psn: 1234, ar: true }), 'ses_std', std({ opcode: 5, request_length: 10 }),
    data(10, 8), { entropy: 0xbeef });
  const v4 = 'c0a80001c0a80002';
  add('udp_crc_v4', 'udp', 'rud_rod_req', reqFields({ psn: 5 }), 'ses_std', std({ opcode: 1, request_length: 8 }), data(8, 9),
    { crcPrefix: v4 });
  add('udp_crc_v6_ack_cc', 'udp', 'ack_cc', pdsVectors().find((x) => x.name === 'ack_cc_credit')!.fields, null, null, '',
    { crcPrefix: 'fd000000000000000000000000000001' + 'fd000000000000000000000000000002' });
  add('ip_crc_v4_nack', 'ip', 'nack', nackFields({ nack_code: 0x17, payload: 0x40000000 }), null, null, '', { entropy: 7, crcPrefix: v4 });
  add('udp_crc_empty_prefix', 'udp', 'uud', { type: 6, nh: 1, flags: 0 }, 'ses_small',
    { ...sesBase({ opcode: 7 }, false), request_length: 2, ...sesAddr({ opcode: 7 }), buffer_offset: wide(0n, 64) }, 'abcd', { crcPrefix: '' });

  const tss = { type: 1, sp: 1, an: 0, sdi: 0x42, ssi: 0x0a000001, epoch: 1, counter: wide(99n, 48) };
  const cipher = data(40, 10);
  const icv = data(16, 11);
  out.push({ name: 'ip_tss', header: 'packet', encap: 'ip', trailer: 'icv', hex: hexOf('entropy', { entropy: 9 }) + hexOf('tss', tss) + cipher + icv,
    fields: { entropy: 9, ...prefixed('tss', tss), payload_hex: cipher, icv_hex: icv } });
  return out;
}

export function vectorFiles(): Record<string, unknown> {
  return {
    'pds.json': {
      description: 'PDS headers (and the entropy and TSS headers): one vector per type, flag and edge value. hex is the header alone.',
      vectors: pdsVectors(),
    },
    'ses.json': {
      description: 'SES headers: every request opcode (SOM and non-SOM), atomic/CAS/rendezvous extensions, optimized, and response headers. hex is the SES header alone (including its extension).',
      vectors: sesVectors(),
    },
    'packets.json': {
      description: 'Whole UET packets: hex is the UDP payload (encap udp) or the native-IP payload starting with the entropy header (encap ip). fields are prefixed pds./ses./tss.; payload_hex is the payload; with trailer crc, the CRC32C (big-endian) covers crc_prefix (IP addresses, then the UDP header for udp) followed by the UET bytes.',
      vectors: packetVectors(),
    },
    'malformed.json': {
      description: 'Inputs a decoder must reject, with the field and byte offset named in the error. header "pds" means: dispatch on the prologue type; "packet" means a whole UDP (encap udp) or native-IP (encap ip) UET payload.',
      vectors: malformedVectors(),
    },
  };
}

export function render(obj: unknown): string {
  return JSON.stringify(obj, null, 1) + '\n';
}
