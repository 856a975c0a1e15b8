// Ultra Ethernet Transport 1.0 wire constants: one table per fact (digest sections 1-3).
// Name lookups and validity masks below are derived from these tables, never restated.

/** UDP destination port for UET over UDP (IANA). Alternatives seen: 49150 (old RP), 5432 (draft). */
export const UET_UDP_PORT = 4793;
/** Native-IP protocol number: unassigned; the experimental value every decoder uses. */
export const UET_IP_PROTO = 253;

// ---------------------------------------------------------------- conflict decisions
// Each holds the choice made for one conflict between sources; the alternative is named.

/** ACK_CCX is ACK_CC's first 24 B + 16 B opaque CCX state = 40 B (alternative, X2: 32 B). */
export const ACK_CCX_SIZE = 40;
/** NACK_CCX is NACK + nccx_type(4) + state1(60) + state2(64) = 32 B (alternative, X2: 24 B). */
export const NACK_CCX_SIZE = 32;
/** RSP_DATA_SMALL is 12 B (RP, X2) (alternative, WS: 4 B). */
export const RSP_DATA_SMALL_SIZE = 12;
/** Rendezvous ext bytes 4-7 split 8/12/12 as in RP (alternative, WS: 2+14 / 4+12). */
export const RDV_SPLIT_RP = true;
/** REQ_SMALL bytes 2-3 hold a 14-bit request_length (alternative, X2: message_id). */
export const SMALL_WORD23_IS_REQUEST_LENGTH = true;
/** ACK flag 0x40 is EPSN; a 4-byte expected_psn then follows the 12 B ACK (alternative: reserved, WS/LUA). */
export const ACK_FLAG_0X40_IS_EPSN = true;
/** CP flag 0x20 is ISROD (alternative: reserved, WS). */
export const CP_FLAG_0X20_IS_ISROD = true;
/** The CRC32C trailer is big-endian like every other field (alternative: little-endian, RP host order). */
export const CRC_TRAILER_BIG_ENDIAN = true;
/** SACK base is CACK + sack_psn_offset as sent, with no alignment (alternative, draft: align to 8). */
export const SACK_BASE_ALIGNMENT = 1;
/** Atomic opcodes that carry the 32 B compare/swap operand pair (CAS ext). */
export const CAS_ATOMIC_FIRST = 0x0d;
export const CAS_ATOMIC_LAST = 0x13;

// ---------------------------------------------------------------- PDS

export const PdsType = {
  TSS: 1,
  RUD_REQ: 2,
  ROD_REQ: 3,
  RUDI_REQ: 4,
  RUDI_RESP: 5,
  UUD_REQ: 6,
  ACK: 7,
  ACK_CC: 8,
  ACK_CCX: 9,
  NACK: 10,
  CP: 11,
  NACK_CCX: 12,
  RUD_CC_REQ: 13,
  ROD_CC_REQ: 14,
} as const;
export type PdsTypeCode = (typeof PdsType)[keyof typeof PdsType];

/** Fixed PDS header size by type (the ACK with EPSN adds 4). */
export const PDS_HEADER_SIZE: Readonly<Record<number, number>> = {
  [PdsType.TSS]: 12,
  [PdsType.RUD_REQ]: 12,
  [PdsType.ROD_REQ]: 12,
  [PdsType.RUDI_REQ]: 8,
  [PdsType.RUDI_RESP]: 8,
  [PdsType.UUD_REQ]: 4,
  [PdsType.ACK]: 12,
  [PdsType.ACK_CC]: 32,
  [PdsType.ACK_CCX]: ACK_CCX_SIZE,
  [PdsType.NACK]: 16,
  [PdsType.CP]: 16,
  [PdsType.NACK_CCX]: NACK_CCX_SIZE,
  [PdsType.RUD_CC_REQ]: 16,
  [PdsType.ROD_CC_REQ]: 16,
};
export const ENTROPY_HEADER_SIZE = 4;
export const ACK_EPSN_EXTRA = 4;
export const TSS_SSI_EXTRA = 4;
export const ICV_SIZE = 16;
export const CRC_SIZE = 4;

export const NextHeader = {
  NONE: 0,
  REQ_SMALL: 1,
  REQ_MEDIUM: 2,
  REQ_STD: 3,
  RSP: 4,
  RSP_DATA: 5,
  RSP_DATA_SMALL: 6,
} as const;

/** Flag bits within the 7-bit prologue flags field, per header family. */
export const ReqFlag = { RETX: 0x10, AR: 0x08, SYN: 0x04 } as const;
export const AckFlag = { EPSN: 0x40, M: 0x20, RETX: 0x10, P: 0x08, REQ_MASK: 0x06, REQ_SHIFT: 1 } as const;
export const NackFlag = { M: 0x20, RETX: 0x10, NT: 0x08 } as const;
export const CpFlag = { ISROD: 0x20, RETX: 0x10, AR: 0x08, SYN: 0x04 } as const;
export const RudiFlag = { M: 0x20, RETX: 0x10 } as const;

/** ACK REQ field values. 3 is reserved. */
export const AckReq = { NONE: 0, CLEAR: 1, CLOSE: 2 } as const;

/** Flag bits defined per PDS type; any other bit set is a reserved-bit error. */
export const PDS_FLAGS_DEFINED: Readonly<Record<number, number>> = {
  [PdsType.RUD_REQ]: ReqFlag.RETX | ReqFlag.AR | ReqFlag.SYN,
  [PdsType.ROD_REQ]: ReqFlag.RETX | ReqFlag.AR | ReqFlag.SYN,
  [PdsType.RUD_CC_REQ]: ReqFlag.RETX | ReqFlag.AR | ReqFlag.SYN,
  [PdsType.ROD_CC_REQ]: ReqFlag.RETX | ReqFlag.AR | ReqFlag.SYN,
  [PdsType.ACK]: AckFlag.EPSN | AckFlag.M | AckFlag.RETX | AckFlag.P | AckFlag.REQ_MASK,
  // EPSN exists only on the plain ACK (it lengthens the header).
  [PdsType.ACK_CC]: AckFlag.M | AckFlag.RETX | AckFlag.P | AckFlag.REQ_MASK,
  [PdsType.ACK_CCX]: AckFlag.M | AckFlag.RETX | AckFlag.P | AckFlag.REQ_MASK,
  [PdsType.NACK]: NackFlag.M | NackFlag.RETX | NackFlag.NT,
  [PdsType.NACK_CCX]: NackFlag.M | NackFlag.RETX | NackFlag.NT,
  [PdsType.CP]: CpFlag.ISROD | CpFlag.RETX | CpFlag.AR | CpFlag.SYN,
  [PdsType.RUDI_REQ]: RudiFlag.RETX,
  [PdsType.RUDI_RESP]: RudiFlag.M | RudiFlag.RETX,
  [PdsType.UUD_REQ]: 0,
};

/** Next-header values allowed per PDS type, as bit sets over nh (bit n = nh n allowed). */
const NH_REQUESTS = 0b1111; // NONE, SMALL, MEDIUM, STD
const NH_RESPONSES = 0b1110001; // NONE, RSP, RSP_DATA, RSP_DATA_SMALL
export const PDS_NH_ALLOWED: Readonly<Record<number, number>> = {
  [PdsType.RUD_REQ]: NH_REQUESTS,
  [PdsType.ROD_REQ]: NH_REQUESTS,
  [PdsType.RUD_CC_REQ]: NH_REQUESTS,
  [PdsType.ROD_CC_REQ]: NH_REQUESTS,
  [PdsType.RUDI_REQ]: NH_REQUESTS,
  [PdsType.UUD_REQ]: NH_REQUESTS,
  [PdsType.RUDI_RESP]: NH_RESPONSES,
  [PdsType.ACK]: NH_RESPONSES,
  [PdsType.ACK_CC]: NH_RESPONSES,
  [PdsType.ACK_CCX]: NH_RESPONSES,
  [PdsType.NACK]: 0b1,
  [PdsType.NACK_CCX]: 0b1,
};

export const CcType = { NSCC: 0, CREDIT: 1 } as const;

export type NackAction = 'retransmit' | 'close' | 'new_start_psn' | 'drop';
/** NACK codes with the initiator action of the reference provider. */
export const NACK_CODES: ReadonlyArray<{ code: number; name: string; action: NackAction }> = [
  { code: 0x01, name: 'TRIMMED', action: 'retransmit' },
  { code: 0x02, name: 'TRIMMED_LASTHOP', action: 'retransmit' },
  { code: 0x03, name: 'TRIMMED_ACK', action: 'retransmit' },
  { code: 0x04, name: 'NO_PDC_AVAIL', action: 'retransmit' },
  { code: 0x05, name: 'NO_CCC_AVAIL', action: 'retransmit' },
  { code: 0x06, name: 'NO_BITMAP', action: 'retransmit' },
  { code: 0x07, name: 'NO_PKT_BUFFER', action: 'retransmit' },
  { code: 0x08, name: 'NO_GTD_DEL_AVAIL', action: 'retransmit' },
  { code: 0x09, name: 'NO_SES_MSG_AVAIL', action: 'retransmit' },
  { code: 0x0a, name: 'NO_RESOURCE', action: 'retransmit' },
  { code: 0x0b, name: 'PSN_OOR_WINDOW', action: 'retransmit' },
  { code: 0x0d, name: 'ROD_OOO', action: 'retransmit' },
  { code: 0x0e, name: 'INV_DPDCID', action: 'close' },
  { code: 0x0f, name: 'PDC_HDR_MISMATCH', action: 'close' },
  { code: 0x10, name: 'CLOSING', action: 'close' },
  { code: 0x11, name: 'CLOSING_IN_ERR', action: 'close' },
  { code: 0x12, name: 'PKT_NOT_RCVD', action: 'retransmit' },
  { code: 0x13, name: 'GTD_RESP_UNAVAIL', action: 'close' },
  { code: 0x14, name: 'ACK_WITH_DATA', action: 'retransmit' },
  { code: 0x15, name: 'INVALID_SYN', action: 'close' },
  { code: 0x16, name: 'PDC_MODE_MISMATCH', action: 'close' },
  { code: 0x17, name: 'NEW_START_PSN', action: 'new_start_psn' },
  { code: 0x18, name: 'RCVD_SES_PROCG', action: 'drop' },
  { code: 0x19, name: 'UNEXP_EVENT', action: 'close' },
  { code: 0x1a, name: 'RCVR_INFER_LOSS', action: 'retransmit' },
  { code: 0xfd, name: 'EXP_NACK_NORMAL', action: 'retransmit' },
  { code: 0xfe, name: 'EXP_NACK_ERR', action: 'retransmit' },
  { code: 0xff, name: 'EXP_NACK_FATAL', action: 'close' },
];

export const CpCtlType = {
  NOOP: 0,
  ACK_REQ: 1,
  CLEAR: 2,
  CLEAR_REQ: 3,
  CLOSE: 4,
  CLOSE_REQ: 5,
  PROBE: 6,
  CREDIT: 7,
  CREDIT_REQ: 8,
  NEGOTIATION: 9,
} as const;

// ---------------------------------------------------------------- SES

export const SesOpcode = {
  NO_OP: 0x00,
  WRITE: 0x01,
  READ: 0x02,
  ATOMIC: 0x03,
  FETCHING_ATOMIC: 0x04,
  SEND: 0x05,
  RENDEZVOUS_SEND: 0x06,
  DATAGRAM_SEND: 0x07,
  DEFERRABLE_SEND: 0x08,
  TAGGED_SEND: 0x09,
  RENDEZVOUS_TSEND: 0x0a,
  DEFERRABLE_TSEND: 0x0b,
  DEFERRABLE_RTR: 0x0c,
  TSEND_ATOMIC: 0x0d,
  TSEND_FETCH_ATOMIC: 0x0e,
  MSG_ERROR: 0x0f,
} as const;
/** Request opcodes 0x30-0x3F are vendor-defined (0x3F: escape); 0x10-0x2F are reserved. */
export const SES_VENDOR_OPCODE_FIRST = 0x30;

export const SesFlag = { DC: 0x20, IE: 0x10, REL: 0x08, HD: 0x04, EOM: 0x02, SOM: 0x01 } as const;

/** Which request opcodes carry which extension header. */
export const SES_ATOMIC_OPCODES: ReadonlySet<number> = new Set([
  SesOpcode.ATOMIC, SesOpcode.FETCHING_ATOMIC, SesOpcode.TSEND_ATOMIC, SesOpcode.TSEND_FETCH_ATOMIC,
]);
export const SES_RENDEZVOUS_OPCODES: ReadonlySet<number> = new Set([SesOpcode.RENDEZVOUS_SEND, SesOpcode.RENDEZVOUS_TSEND]);

export const SES_SIZE = {
  REQ_SMALL: 20,
  REQ_MEDIUM: 32,
  REQ_STD: 44,
  RSP: 12,
  RSP_DATA: 20,
  RSP_DATA_SMALL: RSP_DATA_SMALL_SIZE,
  ATOMIC_EXT: 4,
  CAS_EXT: 36,
  RDV_EXT: 24,
} as const;

export const ResponseOpcode = {
  DEFAULT_RESPONSE: 0,
  RESPONSE: 1,
  RESPONSE_W_DATA: 2,
  NO_RESPONSE: 3,
} as const;
/** Response opcodes 0x30-0x3F are vendor-defined; 4-0x2F reserved. */
export const RSP_VENDOR_OPCODE_FIRST = 0x30;

export const ResponseList = { EXPECTED: 0, OVERFLOW: 1 } as const;

export const ReturnCode = {
  NULL: 0x00, OK: 0x01, BAD_GENERATION: 0x02, DISABLED: 0x03, DISABLED_GEN: 0x04, NO_MATCH: 0x05,
  UNSUPPORTED_OP: 0x06, UNSUPPORTED_SIZE: 0x07, AT_INVALID: 0x08, AT_PERM: 0x09, AT_ATS_ERROR: 0x0a,
  AT_NO_TRANS: 0x0b, AT_OUT_OF_RANGE: 0x0c, HOST_POISONED: 0x0d, HOST_UNSUCCESS_CMPL: 0x0e,
  AMO_UNSUPPORTED_OP: 0x0f, AMO_UNSUPPORTED_DT: 0x10, AMO_UNSUPPORTED_SIZE: 0x11, AMO_UNALIGNED: 0x12,
  AMO_FP_NAN: 0x13, AMO_FP_UNDERFLOW: 0x14, AMO_FP_OVERFLOW: 0x15, AMO_FP_INEXACT: 0x16,
  PERM_VIOLATION: 0x17, OP_VIOLATION: 0x18, BAD_INDEX: 0x19, BAD_PID: 0x1a, BAD_JOB_ID: 0x1b,
  BAD_MKEY: 0x1c, BAD_ADDR: 0x1d, CANCELLED: 0x1e, UNDELIVERABLE: 0x1f, UNCOR: 0x20, UNCOR_TRNSNT: 0x21,
  TOO_LONG: 0x22, INITIATOR_ERR: 0x23, DROPPED: 0x24,
} as const;
/** Return codes 0x30-0x3E: vendor, reserved-with-data and extended; 0x25-0x2F and 0x3F are reserved. */
export const RC_VENDOR_FIRST = 0x30;
export const RC_VENDOR_LAST = 0x3e;

export const AtomicOpcode = {
  MIN: 0x00, MAX: 0x01, SUM: 0x02, DIFF: 0x03, PROD: 0x04, LOR: 0x05, LAND: 0x06, BOR: 0x07, BAND: 0x08,
  LXOR: 0x09, BXOR: 0x0a, READ: 0x0b, WRITE: 0x0c, CSWAP: 0x0d, CSWAP_NE: 0x0e, CSWAP_LE: 0x0f,
  CSWAP_LT: 0x10, CSWAP_GE: 0x11, CSWAP_GT: 0x12, MSWAP: 0x13, INVAL: 0x14,
} as const;
/** Atomic opcodes 0xE0-0xFE are vendor-defined. */
export const ATOMIC_VENDOR_FIRST = 0xe0;
export const ATOMIC_VENDOR_LAST = 0xfe;

export const AtomicDatatype = {
  INT8: 0x00, UINT8: 0x01, INT16: 0x02, UINT16: 0x03, INT32: 0x04, UINT32: 0x05, INT64: 0x06, UINT64: 0x07,
  INT128: 0x08, UINT128: 0x09, FLOAT: 0x0a, DOUBLE: 0x0b, FLOAT_COMPLEX: 0x0c, DOUBLE_COMPLEX: 0x0d,
  LONG_DOUBLE: 0x0e, LONG_DOUBLE_COMPLEX: 0x0f, BF16: 0x10, FP16: 0x11,
} as const;

export const SemanticCtrl = { CACHEABLE: 0x01, CPU_COHERENT: 0x02 } as const;

/** Header layout names, as used by the conformance vectors (test/vectors). */
export const HEADER_NAMES = [
  'entropy', 'tss', 'rud_rod_req', 'rud_rod_cc_req', 'ack', 'ack_cc', 'ack_ccx', 'nack', 'nack_ccx', 'cp',
  'rudi', 'uud', 'ses_std', 'ses_small', 'ses_medium', 'ses_rsp', 'ses_rsp_data', 'ses_rsp_data_small',
] as const;
export type HeaderName = (typeof HEADER_NAMES)[number];

// ---------------------------------------------------------------- derived lookups

function invert(t: Record<string, number>): Record<number, string> {
  const r: Record<number, string> = {};
  for (const [k, v] of Object.entries(t)) r[v] = k;
  return r;
}
export const PDS_TYPE_NAME = invert(PdsType);
export const NEXT_HEADER_NAME = invert(NextHeader);
export const CP_CTL_NAME = invert(CpCtlType);
export const SES_OPCODE_NAME = invert(SesOpcode);
export const RESPONSE_OPCODE_NAME = invert(ResponseOpcode);
export const RETURN_CODE_NAME = invert(ReturnCode);
export const ATOMIC_OPCODE_NAME = invert(AtomicOpcode);
export const ATOMIC_DATATYPE_NAME = invert(AtomicDatatype);
export const NACK_CODE_NAME: Record<number, string> = Object.fromEntries(NACK_CODES.map((n) => [n.code, n.name]));
export const NACK_CODE_ACTION: Record<number, NackAction> = Object.fromEntries(NACK_CODES.map((n) => [n.code, n.action]));

function table(n: number, ok: (i: number) => boolean): Uint8Array {
  const t = new Uint8Array(n);
  for (let i = 0; i < n; i++) t[i] = ok(i) ? 1 : 0;
  return t;
}
/** Validity tables indexed by code, for the decode hot path. */
export const NACK_CODE_VALID = table(256, (i) => i in NACK_CODE_NAME);
export const REQ_OPCODE_VALID = table(64, (i) => i in SES_OPCODE_NAME || i >= SES_VENDOR_OPCODE_FIRST);
export const RSP_OPCODE_VALID = table(64, (i) => i in RESPONSE_OPCODE_NAME || i >= RSP_VENDOR_OPCODE_FIRST);
export const RETURN_CODE_VALID = table(64, (i) => i in RETURN_CODE_NAME || (i >= RC_VENDOR_FIRST && i <= RC_VENDOR_LAST));
export const ATOMIC_OPCODE_VALID = table(256, (i) => i in ATOMIC_OPCODE_NAME || (i >= ATOMIC_VENDOR_FIRST && i <= ATOMIC_VENDOR_LAST));
export const ATOMIC_DATATYPE_VALID = table(256, (i) => i in ATOMIC_DATATYPE_NAME);
export const CP_CTL_VALID = table(16, (i) => i in CP_CTL_NAME);
/** Request opcode -> extension: 0 none, 1 atomic (CAS decided by atomic opcode), 2 rendezvous. */
export const SES_EXT_KIND = table(64, () => false).map((_, i) => (SES_ATOMIC_OPCODES.has(i) ? 1 : SES_RENDEZVOUS_OPCODES.has(i) ? 2 : 0));
function byType(t: Readonly<Record<number, number>>, missing: number): Uint8Array {
  const a = new Uint8Array(32).fill(missing);
  for (const [k, v] of Object.entries(t)) a[Number(k)] = v;
  return a;
}
/** PDS_HEADER_SIZE, PDS_FLAGS_DEFINED and PDS_NH_ALLOWED as arrays indexed by type (0 = unknown). */
export const PDS_SIZE_BY_TYPE = byType(PDS_HEADER_SIZE, 0);
export const PDS_FLAGS_BY_TYPE = byType(PDS_FLAGS_DEFINED, 0);
export const PDS_NH_BY_TYPE = byType(PDS_NH_ALLOWED, 0);
