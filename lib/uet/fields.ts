// The one mapping between the codec's camelCase objects and the digest's snake_case
// field names (conformance vectors, uet-dump --json).

import { UetEncodeError } from './errors.js';

type Kind = 'int' | 'bool' | number; // a number is the bit width of a bigint field

const TABLE: ReadonlyArray<[snake: string, camel: string, kind: Kind]> = [
  ['type', 'type', 'int'], ['nh', 'nh', 'int'], ['flags', 'flags', 'int'], ['ctl_type', 'ctlType', 'int'],
  ['retx', 'retx', 'bool'], ['ar', 'ar', 'bool'], ['syn', 'syn', 'bool'], ['m', 'm', 'bool'], ['p', 'p', 'bool'],
  ['req', 'req', 'int'], ['epsn', 'epsn', 'bool'], ['nt', 'nt', 'bool'], ['isrod', 'isrod', 'bool'],
  ['clear_psn_offset', 'clearPsnOffset', 'int'], ['psn', 'psn', 'int'], ['spdcid', 'spdcid', 'int'],
  ['dpdcid', 'dpdcid', 'int'], ['use_rsv_pdc', 'useRsvPdc', 'int'], ['psn_offset', 'psnOffset', 'int'],
  ['ccc_id', 'cccId', 'int'], ['credit_target', 'creditTarget', 'int'], ['ack_psn_offset', 'ackPsnOffset', 'int'],
  ['probe_opaque', 'probeOpaque', 'int'], ['cack_psn', 'cackPsn', 'int'], ['expected_psn', 'expectedPsn', 'int'],
  ['cc_type', 'ccType', 'int'], ['cc_flags', 'ccFlags', 'int'], ['mpr', 'mpr', 'int'],
  ['sack_psn_offset', 'sackPsnOffset', 'int'], ['sack_bitmap', 'sackBitmap', 64],
  ['service_time', 'serviceTime', 'int'], ['rc', 'rc', 'bool'], ['rcv_cwnd_pend', 'rcvCwndPend', 'int'],
  ['rcvd_bytes', 'rcvdBytes', 'int'], ['ooo_count', 'oooCount', 'int'], ['credit', 'credit', 'int'],
  ['ccx_type', 'ccxType', 'int'], ['ccx_state_hi', 'ccxStateHi', 64], ['ccx_state_lo', 'ccxStateLo', 64],
  ['nack_code', 'nackCode', 'int'], ['vendor_code', 'vendorCode', 'int'], ['nack_psn', 'nackPsn', 'int'],
  ['payload', 'payload', 'int'], ['nccx_type', 'nccxType', 'int'], ['nack_ccx_state1', 'nackCcxState1', 60],
  ['nack_ccx_state2', 'nackCcxState2', 64], ['pkt_id', 'pktId', 'int'], ['entropy', 'entropy', 'int'],
  ['sp', 'sp', 'bool'], ['an', 'an', 'bool'], ['sdi', 'sdi', 'int'], ['ssi', 'ssi', 'int'], ['epoch', 'epoch', 'int'],
  ['counter', 'counter', 48],
  ['opcode', 'opcode', 'int'], ['version', 'version', 'int'], ['dc', 'dc', 'bool'], ['ie', 'ie', 'bool'],
  ['rel', 'rel', 'bool'], ['hd', 'hd', 'bool'], ['eom', 'eom', 'bool'], ['som', 'som', 'bool'],
  ['message_id', 'messageId', 'int'], ['request_length', 'requestLength', 'int'], ['ri_generation', 'riGeneration', 'int'],
  ['job_id', 'jobId', 'int'], ['pid_on_fep', 'pidOnFep', 'int'], ['resource_index', 'resourceIndex', 'int'],
  ['buffer_offset', 'bufferOffset', 64], ['initiator', 'initiator', 'int'], ['memory_key', 'memoryKey', 64],
  ['header_data', 'headerData', 64], ['payload_length', 'payloadLength', 'int'], ['message_offset', 'messageOffset', 'int'],
  ['atomic_opcode', 'atomicOpcode', 'int'], ['atomic_datatype', 'atomicDatatype', 'int'], ['semantic_ctrl', 'semanticCtrl', 'int'],
  ['compare_hi', 'compareHi', 64], ['compare_lo', 'compareLo', 64], ['swap_hi', 'swapHi', 64], ['swap_lo', 'swapLo', 64],
  ['eager_length', 'eagerLength', 'int'], ['rdv_ri_generation', 'rdvRiGeneration', 'int'], ['rdv_pid_on_fep', 'rdvPidOnFep', 'int'],
  ['rdv_resource_index', 'rdvResourceIndex', 'int'], ['rdv_offset', 'rdvOffset', 64], ['rdv_memory_key', 'rdvMemoryKey', 64],
  ['list', 'list', 'int'], ['return_code', 'returnCode', 'int'], ['modified_length', 'modifiedLength', 'int'],
  ['read_request_message_id', 'readRequestMessageId', 'int'], ['original_request_psn', 'originalRequestPsn', 'int'],
];

const BY_CAMEL = new Map(TABLE.map((e) => [e[1], e]));
const BY_SNAKE = new Map(TABLE.map((e) => [e[0], e]));

export type SnakeFields = Record<string, number | string>;

/** A decoded header as flat snake_case fields: booleans as 0/1, bigints as padded hex. */
export function toSnake(h: object): SnakeFields {
  const out: SnakeFields = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    const e = BY_CAMEL.get(k);
    if (!e) throw new UetEncodeError(k, 'no snake_case name for this field');
    const kind = e[2];
    if (kind === 'bool') out[e[0]] = v ? 1 : 0;
    else if (kind === 'int') out[e[0]] = v as number;
    else out[e[0]] = '0x' + (v as bigint).toString(16).padStart(Math.ceil(kind / 4), '0');
  }
  return out;
}

/** The inverse of toSnake: a header object for the encoders. */
export function fromSnake<T = Record<string, unknown>>(f: SnakeFields): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) {
    const e = BY_SNAKE.get(k);
    if (!e) throw new UetEncodeError(k, 'unknown field name');
    const kind = e[2];
    if (kind === 'bool') out[e[1]] = v === 1 || v === true as unknown;
    else if (kind === 'int') out[e[1]] = typeof v === 'string' ? Number(v) : v;
    else out[e[1]] = BigInt(v);
  }
  return out as T;
}
