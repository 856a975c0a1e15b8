import { describe, expect, it } from 'vitest';
import { crc32c } from '../../lib/uet/crc32c.js';
import { decodePacket, encodePacketAlloc, type PacketToEncode } from '../../lib/uet/packet.js';
import { fromSnake, toSnake } from '../../lib/uet/fields.js';
import { UetDecodeError } from '../../lib/uet/errors.js';
import type { PdsHeader } from '../../lib/uet/pds.js';
import type { SesHeader } from '../../lib/uet/ses.js';
import { loadVectors } from './helpers.js';
import type { PacketVector } from './gen-vectors.js';

describe('crc32c', () => {
  it('has the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
  it('continues across pieces and ranges', () => {
    const all = Buffer.from('The quick brown fox jumps over the lazy dog');
    for (const cut of [0, 1, 3, 4, 5, 17, all.length]) {
      expect(crc32c(all.subarray(cut), crc32c(all.subarray(0, cut)))).toBe(crc32c(all));
    }
    expect(crc32c(all, 0, 4, 20)).toBe(crc32c(all.subarray(4, 20)));
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
  });
});

function pick(fields: Record<string, number | string>, prefix: string): Record<string, number | string> | undefined {
  const out: Record<string, number | string> = {};
  let any = false;
  for (const [k, v] of Object.entries(fields)) if (k.startsWith(prefix)) { out[k.slice(prefix.length)] = v; any = true; }
  return any ? out : undefined;
}

describe('packets.json', () => {
  const vectors = loadVectors<PacketVector>('packets.json');
  it.each(vectors.map((v) => [v.name, v] as const))('%s decodes and re-encodes', (_n, v) => {
    const buf = Buffer.from(v.hex, 'hex');
    const prefix = v.crc_prefix !== undefined ? Buffer.from(v.crc_prefix, 'hex') : undefined;
    const pkt = decodePacket(buf, { encap: v.encap, crc: v.trailer === 'crc', crcPrefix: prefix });
    const got: Record<string, number | string> = {};
    if (v.encap === 'ip') got.entropy = pkt.entropy!;
    if (pkt.tss) for (const [k, x] of Object.entries(toSnake(pkt.tss))) got[`tss.${k}`] = x;
    if (pkt.pds) for (const [k, x] of Object.entries(toSnake(pkt.pds))) got[`pds.${k}`] = x;
    if (pkt.ses) for (const [k, x] of Object.entries(toSnake(pkt.ses))) got[`ses.${k}`] = x;
    got.payload_hex = pkt.payload.toString('hex');
    if (pkt.trailer?.kind === 'crc') { got.crc = pkt.trailer.value; expect(pkt.trailer.ok).toBe(true); }
    if (pkt.trailer?.kind === 'icv') got.icv_hex = pkt.trailer.icv.toString('hex');
    expect(got).toEqual(v.fields);
    // the payload is a view into the input, not a copy
    expect(pkt.payload.buffer).toBe(buf.buffer);
    if (v.trailer === 'icv') return;
    const toEncode: PacketToEncode = {
      encap: v.encap, entropy: v.fields.entropy as number | undefined,
      pds: fromSnake<PdsHeader>(pick(v.fields, 'pds.')!),
      ses: pick(v.fields, 'ses.') ? fromSnake<SesHeader>(pick(v.fields, 'ses.')!) : undefined,
      payload: Buffer.from(v.fields.payload_hex as string, 'hex'),
    };
    expect(encodePacketAlloc(toEncode, { crc: v.trailer === 'crc', crcPrefix: prefix }).toString('hex')).toBe(v.hex);
  });

  it('reports a corrupted CRC without throwing', () => {
    const v = vectors.find((x) => x.trailer === 'crc')!;
    const buf = Buffer.from(v.hex, 'hex');
    buf[buf.length - 6]! ^= 0x01;
    const pkt = decodePacket(buf, { encap: v.encap, crc: true, crcPrefix: Buffer.from(v.crc_prefix!, 'hex') });
    expect(pkt.trailer).toMatchObject({ kind: 'crc', ok: false });
  });

  it('takes the entropy value from the UDP source port', () => {
    const v = vectors.find((x) => x.name === 'udp_cp_close')!;
    expect(decodePacket(Buffer.from(v.hex, 'hex'), { sourcePort: 0xc350 }).entropy).toBe(0xc350);
  });

  it('rejects a TSS packet too short for its ICV', () => {
    const v = vectors.find((x) => x.trailer === 'icv')!;
    const short = Buffer.from(v.hex, 'hex').subarray(0, 4 + 16 + 10);
    expect(() => decodePacket(short, { encap: 'ip' })).toThrow(UetDecodeError);
  });
});
