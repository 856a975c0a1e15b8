import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeEntropy, decodePds, decodeTss, encodeEntropy, encodePds, encodeTss, pdsSize, tssSize,
  type PdsHeader, type TssHeader,
} from '../../lib/uet/pds.js';
import { decodeSes, encodeSes, sesSize, type SesHeader } from '../../lib/uet/ses.js';
import { decodePacket } from '../../lib/uet/packet.js';

export const VECTOR_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors');

export function loadVectors<T>(file: string): T[] {
  return (JSON.parse(readFileSync(join(VECTOR_DIR, file), 'utf8')) as { vectors: T[] }).vectors;
}

export const SES_NH: Record<string, number> = {
  ses_small: 1, ses_medium: 2, ses_std: 3, ses_rsp: 4, ses_rsp_data: 5, ses_rsp_data_small: 6,
};
const PDS_TYPES: Record<string, number[]> = {
  rud_rod_req: [2, 3], rud_rod_cc_req: [13, 14], ack: [7], ack_cc: [8], ack_ccx: [9], nack: [10], nack_ccx: [12],
  cp: [11], rudi: [4, 5], uud: [6],
};

/** Decodes one header by vector header name; returns the object and its encoded size. */
export function decodeByHeader(header: string, buf: Buffer, encap?: string, trailer?: string, checkType = true): { h: object; size: number } {
  if (header === 'entropy') return { h: decodeEntropy(buf, 0), size: 4 };
  if (header === 'tss') { const t = decodeTss(buf, 0); return { h: t, size: tssSize(t) }; }
  if (header === 'packet') return { h: decodePacket(buf, { encap: encap as 'udp' | 'ip', crc: trailer === 'crc' }), size: buf.length };
  const nh = SES_NH[header];
  if (nh !== undefined) { const s = decodeSes(nh, buf, 0); return { h: s, size: sesSize(nh, s) }; }
  const p = decodePds(buf, 0);
  const want = PDS_TYPES[header];
  if (checkType && want && !want.includes(p.type)) throw new Error(`${header} vector decoded as PDS type ${p.type}`);
  return { h: p, size: pdsSize(p) };
}

export function encodeByHeader(header: string, h: object): Buffer {
  const out = Buffer.alloc(128, 0xee);
  let n: number;
  if (header === 'entropy') n = encodeEntropy(h as { entropy: number }, out, 0);
  else if (header === 'tss') n = encodeTss(h as TssHeader, out, 0);
  else if (SES_NH[header] !== undefined) n = encodeSes(SES_NH[header]!, h as SesHeader, out, 0);
  else n = encodePds(h as PdsHeader, out, 0);
  return out.subarray(0, n);
}
