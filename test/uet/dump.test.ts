import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runDump, type DumpSummary } from '../../lib/uet/dump.js';
import { CaptureFormatError, LinkType, parseFrame, readCapture, writePcap, writePcapng } from '../../lib/uet/pcap.js';
import { ethernet, ipv4, ipv6, sll, udp, V4A, V4B, V6A, V6B } from './frames.js';
import { loadVectors } from './helpers.js';
import type { PacketVector } from './gen-vectors.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectors = loadVectors<PacketVector>('packets.json');
const hex = (name: string) => Buffer.from(vectors.find((v) => v.name === name)!.hex, 'hex');
const dir = mkdtempSync(join(tmpdir(), 'uet-dump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function dump(args: string[], input?: Buffer): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDump(args, {
    stdout: (l) => out.push(l), stderr: (l) => err.push(l),
    ...(input ? { readInput: async () => input } : {}),
  });
  return { code, out, err };
}

// A capture of plain UDP UET traffic, one native-IP packet, non-UET noise and a malformed UET packet.
const plain = ['udp_rud_req_std_write', 'udp_rud_req_std_send_middle', 'udp_ack_cc_rsp', 'udp_nack_trimmed',
  'udp_cp_close', 'udp_ack_rsp_data', 'udp_rudi_req_medium'];
const malformedUet = Buffer.from(hex('udp_cp_close'));
malformedUet[0] = 0xf8; // PDS type 31
const frames = [
  ...plain.map((n, i) => ({ sec: 1700000000 + i, nsec: 1000 * i, data: ethernet(ipv4(V4A, V4B, 17, udp(50000 + i, 4793, hex(n)))) })),
  { sec: 1700000100, nsec: 0, data: ethernet(ipv4(V4B, V4A, 253, hex('ip_rud_req_std_send'))) },
  { sec: 1700000101, nsec: 0, data: ethernet(ipv4(V4A, V4B, 17, udp(1234, 53, Buffer.from('not uet')))) },
  { sec: 1700000102, nsec: 0, data: ethernet(ipv4(V4A, V4B, 17, udp(4793, 40000, malformedUet))) },
  { sec: 1700000103, nsec: 0, data: Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]) },
];
const capture = writePcap(LinkType.ETHERNET, frames);
const capturePath = join(dir, 'mixed.pcap');
writeFileSync(capturePath, capture);

describe('uet-dump (runDump)', () => {
  it('prints one line per UET packet', async () => {
    const { code, out, err } = await dump([capturePath]);
    expect(code).toBe(0);
    expect(out.length).toBe(plain.length + 2);
    expect(out[0]).toMatch(/^22:13:20\.000000 192\.0\.2\.1\.50000 > 192\.0\.2\.2\.4793: UET ev 50000 RUD_REQ \[AR,SYN\] psn 0x10000000 spdcid 17 psn_off 0 \| REQ_STD WRITE \[som,eom\] mid 1 .* payload 16$/);
    expect(out[1]).toMatch(/RUD_REQ \[RETX\] psn 0xffffffff spdcid 17 dpdcid 34 .* plen 8 moff 4096/);
    expect(out[2]).toMatch(/ACK_CC cack 0x7fffffff ack_off 32767 .* nscc st 1 rcvd 1 pend 64 ooo 1 \| RSP RESPONSE rc OK mid 7/);
    expect(out[3]).toMatch(/NACK \[M\] TRIMMED psn 0x0000002a/);
    expect(out[4]).toMatch(/CP \[AR\] CLOSE psn 0x000001f4/);
    expect(out[5]).toMatch(/ACK cack 0x00000064 .* \| RSP_DATA RESPONSE_W_DATA rc OK mid 3 plen 12 .* payload 12$/);
    expect(out[6]).toMatch(/RUDI_REQ pkt_id 77 \| REQ_MEDIUM WRITE/);
    expect(out[7]).toMatch(/192\.0\.2\.2 > 192\.0\.2\.1: UET ev 48879 RUD_REQ \[AR\] psn 0x000004d2/);
    expect(out[8]).toMatch(/192\.0\.2\.1\.4793 > 192\.0\.2\.2\.40000: UET malformed: type at byte 0/);
    expect(err.join('\n')).toMatch(/9 UET packets \(1 malformed\), 2 other packets/);
  });

  it('--summary counts types, retransmits, NACK codes and errors', async () => {
    const { code, out } = await dump(['--summary', '--json', capturePath]);
    expect(code).toBe(0);
    const s = JSON.parse(out[0]!) as DumpSummary;
    expect(s).toMatchObject({ records: 11, uet: 9, other: 2, malformed: 1, retransmits: 1 });
    expect(s.byType).toEqual({ RUD_REQ: 3, ACK_CC: 1, ACK: 1, NACK: 1, CP: 1, RUDI_REQ: 1 });
    expect(s.nacksByCode).toEqual({ TRIMMED: 1 });
    const text = await dump(['--summary', capturePath]);
    expect(text.out[0]).toBe('records 11  uet 9  other 2  malformed 1  retransmits 1');
    expect(text.out).toContain('  nack TRIMMED 1');
  });

  it('--json emits snake_case fields', async () => {
    const { out } = await dump(['--json', '-c', '3', capturePath]);
    expect(out.length).toBe(3);
    const first = JSON.parse(out[0]!);
    expect(first).toMatchObject({ src: '192.0.2.1', dport: 4793, ev: 50000, pds_type: 'RUD_REQ', encap: 'udp', payload_length: 16 });
    expect(first.pds).toMatchObject({ type: 2, syn: 1, ar: 1, psn: 0x10000000 });
    expect(first.ses).toMatchObject({ opcode: 1, memory_key: '0x0000000000001234' });
  });

  it('--port and --proto select the traffic', async () => {
    const onlyProto = await dump(['--port', '9', '--summary', '--json', capturePath]);
    expect(JSON.parse(onlyProto.out[0]!)).toMatchObject({ uet: 1, other: 10 });
    const noProto = await dump(['--proto', '200', '--summary', '--json', capturePath]);
    expect(JSON.parse(noProto.out[0]!)).toMatchObject({ uet: 8 });
  });

  it('checks CRC trailers with --crc, on IPv4 and IPv6, in pcapng over SLL', async () => {
    const good4 = hex('udp_crc_v4');
    const bad4 = Buffer.from(good4);
    bad4[bad4.length - 6]! ^= 0xff;
    const pkts = [
      { linkType: LinkType.LINUX_SLL, sec: 1, nsec: 0, data: sll(ipv4([192, 168, 0, 1], [192, 168, 0, 2], 17, udp(50000, 4793, good4))) },
      { linkType: LinkType.LINUX_SLL, sec: 2, nsec: 0, data: sll(ipv4([192, 168, 0, 1], [192, 168, 0, 2], 17, udp(50000, 4793, bad4))) },
      { linkType: LinkType.LINUX_SLL, sec: 3, nsec: 0, data: sll(ipv6(V6A, V6B, 17, udp(50000, 4793, hex('udp_crc_v6_ack_cc')))) },
      { linkType: LinkType.LINUX_SLL, sec: 4, nsec: 0, data: sll(ipv4([192, 168, 0, 1], [192, 168, 0, 2], 253, hex('ip_crc_v4_nack'))) },
    ];
    const { out } = await dump(['--crc', '-'], writePcapng(pkts, { tsresol: 9 }));
    expect(out[0]).toMatch(/^00:00:01\.000000000 192\.168\.0\.1\.50000 > 192\.168\.0\.2\.4793: .* crc ok$/);
    expect(out[1]).toMatch(/crc BAD/);
    expect(out[2]).toMatch(/fd00::1\.50000 > fd00::2\.4793: .*ACK_CC.* credit 1193046 .*crc ok$/);
    expect(out[3]).toMatch(/NACK NEW_START_PSN .* crc ok$/);
  });

  it('prints timestamps that do not fit a Date as raw seconds', async () => {
    // tsresol 2^0 (one tick per second) with a 64-bit tick count
    const ng = writePcapng([{ linkType: LinkType.RAW, sec: 0, nsec: 0, data: ipv4(V4A, V4B, 17, udp(1, 4793, hex('udp_cp_close'))) }]);
    const at = ng.indexOf(Buffer.from([9, 0, 1, 0, 6]));
    ng[at + 4] = 0x80;
    const epb = ng.length - 12 - 20 - 44;
    ng.writeUInt32LE(0xffffffff, epb + 12);
    const { code, out } = await dump(['-'], ng);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^1844674\d+\.000000 192\.0\.2\.1\.1 > /);
  });

  it('reports usage and file errors with exit codes', async () => {
    expect((await dump([])).code).toBe(2);
    expect((await dump(['--port', 'x', capturePath])).code).toBe(2);
    expect((await dump(['--bogus', capturePath])).code).toBe(2);
    expect((await dump([join(dir, 'missing.pcap')])).code).toBe(1);
    const cut = await dump(['-'], capture.subarray(0, capture.length - 5));
    expect(cut.code).toBe(1);
    expect(cut.out.length).toBe(plain.length + 2);
    expect(cut.err.join('\n')).toMatch(/overruns the file/);
    expect((await dump(['-'], Buffer.from('garbage!'))).code).toBe(1);
  });

  it('never crashes on random frames or random capture bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 6 }), fc.boolean(), async (datas, crc) => {
      const pcap = writePcap(LinkType.RAW, datas.map((d, i) => ({ sec: i, nsec: 0, data: Buffer.from(ipv4(V4A, V4B, i % 2 ? 253 : 17,
        i % 2 ? Buffer.from(d) : udp(1, 4793, Buffer.from(d)))) })));
      const r = await dump(crc ? ['--crc', '--summary', '-'] : ['-'], pcap);
      expect(r.code).toBe(0);
    }), { numRuns: 100 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 300 }), (b, lt) => {
      try { for (const r of readCapture(Buffer.from(b))) parseFrame(r.linkType, r.data); } catch (e) {
        if (!(e instanceof CaptureFormatError)) throw e;
      }
      parseFrame(lt, Buffer.from(b));
    }), { numRuns: 1000 });
    const ng = writePcapng(frames.slice(0, 3).map((f) => ({ ...f, linkType: LinkType.ETHERNET })), { tsresol: 9 });
    const files = [capture.subarray(0, 400), ng, writePcapng(frames.slice(0, 2).map((f) => ({ ...f, linkType: 1 })), { littleEndian: false, simple: true })];
    fc.assert(fc.property(fc.constantFrom(...files), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), (file, edits) => {
      const b = Buffer.from(file);
      for (const [at, v] of edits) b[at % b.length] = v;
      try { for (const r of readCapture(b)) parseFrame(r.linkType, r.data); } catch (e) {
        if (!(e instanceof CaptureFormatError)) throw e;
      }
    }), { numRuns: 1500 });
  });
});

describe('uet-dump executable', () => {
  const bin = process.env.UET_DUMP_BIN ?? join(ROOT, 'dist', 'bin', 'uet-dump.js');
  it('is built (dist/bin/uet-dump.js) when running under CI', () => {
    if (process.env.CI) expect(existsSync(bin)).toBe(true);
  });
  it.runIf(existsSync(bin))('runs from a file and from stdin', () => {
    const a = spawnSync(process.execPath, [bin, '--summary', capturePath], { encoding: 'utf8', timeout: 20_000 });
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/^records 11 {2}uet 9 {2}other 2 {2}malformed 1 {2}retransmits 1/);
    const b = spawnSync(process.execPath, [bin, '-'], { input: capture, encoding: 'utf8', timeout: 20_000 });
    expect(b.status).toBe(0);
    expect(b.stdout.trim().split('\n').length).toBe(plain.length + 2);
    const c = spawnSync(process.execPath, [bin, '--nope'], { encoding: 'utf8', timeout: 20_000 });
    expect(c.status).toBe(2);
  });
});
