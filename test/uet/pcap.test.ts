import { describe, expect, it } from 'vitest';
import { CaptureFormatError, parseFrame, readCapture, writePcap, writePcapng, LinkType } from '../../lib/uet/pcap.js';
import { decodePacket } from '../../lib/uet/packet.js';
import { destOpts, ethernet, ipv4, ipv6, sll, sll2, udp, V4A, V4B, V6A, V6B } from './frames.js';
import { loadVectors } from './helpers.js';
import type { PacketVector } from './gen-vectors.js';

const vectors = loadVectors<PacketVector>('packets.json');
const udpUet = Buffer.from(vectors.find((v) => v.name === 'udp_rud_req_std_write')!.hex, 'hex');
const ipUet = Buffer.from(vectors.find((v) => v.name === 'ip_rud_req_std_send')!.hex, 'hex');

describe('parseFrame link types', () => {
  const l3v4 = ipv4(V4A, V4B, 17, udp(50000, 4793, udpUet));
  const l3v6 = ipv6(V6A, V6B, 17, udp(50001, 4793, udpUet));
  const cases: Array<[string, number, Buffer, 4 | 6]> = [
    ['ethernet v4', LinkType.ETHERNET, ethernet(l3v4), 4],
    ['ethernet v6', LinkType.ETHERNET, ethernet(l3v6), 6],
    ['ethernet 802.1Q', LinkType.ETHERNET, ethernet(l3v4, [0x8100]), 4],
    ['ethernet QinQ', LinkType.ETHERNET, ethernet(l3v6, [0x88a8, 0x8100]), 6],
    ['ethernet with trailing padding', LinkType.ETHERNET, ethernet(l3v4, [], 6), 4],
    ['SLL', LinkType.LINUX_SLL, sll(l3v4), 4],
    ['SLL2', LinkType.LINUX_SLL2, sll2(l3v6), 6],
    ['raw 101', LinkType.RAW, l3v4, 4],
    ['raw 12', LinkType.RAW_12, l3v6, 6],
    ['raw 14', LinkType.RAW_14, l3v4, 4],
    ['IPv4 228', LinkType.IPV4, l3v4, 4],
    ['IPv6 229', LinkType.IPV6, l3v6, 6],
  ];
  it.each(cases)('%s', (_n, lt, data, v) => {
    const r = parseFrame(lt, data);
    if (!('frame' in r)) throw new Error(r.skip);
    expect(r.frame.ipVersion).toBe(v);
    expect(r.frame.dport).toBe(4793);
    expect(r.frame.payload.equals(udpUet)).toBe(true);
    expect(r.frame.src).toBe(v === 4 ? '192.0.2.1' : 'fd00::1');
    expect(r.frame.crcPrefix.length).toBe(v === 4 ? 16 : 40);
  });

  it('walks IPv6 extension headers and finds native-IP UET', () => {
    const r = parseFrame(LinkType.IPV6, ipv6(V6A, V6B, 253, ipUet, destOpts(253)));
    if (!('frame' in r)) throw new Error(r.skip);
    expect(r.frame.proto).toBe(253);
    expect(decodePacket(r.frame.payload, { encap: 'ip' }).entropy).toBe(0xbeef);
  });

  it('skips what it cannot parse, with a reason', () => {
    expect(parseFrame(LinkType.ETHERNET, Buffer.alloc(5))).toHaveProperty('skip');
    expect(parseFrame(147, Buffer.alloc(40))).toHaveProperty('skip');
    expect(parseFrame(LinkType.IPV4, ipv4(V4A, V4B, 17, udp(1, 4793, udpUet), { fragment: true }))).toEqual({ skip: 'IPv4 fragment' });
    const cut = ipv4(V4A, V4B, 17, udp(1, 4793, udpUet)).subarray(0, 30);
    expect(parseFrame(LinkType.RAW, cut)).toHaveProperty('skip');
    const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
    expect(parseFrame(LinkType.ETHERNET, arp)).toEqual({ skip: 'ethertype 0x806' });
  });
});

describe('capture files', () => {
  const frames = [
    { sec: 1700000000, nsec: 123456789, data: ethernet(ipv4(V4A, V4B, 17, udp(50000, 4793, udpUet))) },
    { sec: 1700000001, nsec: 5000, data: ethernet(ipv4(V4A, V4B, 253, ipUet)) },
  ];
  for (const littleEndian of [true, false]) {
    for (const nanos of [false, true]) {
      it(`pcap ${littleEndian ? 'LE' : 'BE'} ${nanos ? 'ns' : 'µs'}`, () => {
        const recs = [...readCapture(writePcap(LinkType.ETHERNET, frames, { littleEndian, nanos }))];
        expect(recs.map((r) => [r.index, r.sec, r.nsec, r.digits, r.linkType])).toEqual([
          [1, 1700000000, nanos ? 123456789 : 123456000, nanos ? 9 : 6, 1],
          [2, 1700000001, 5000, nanos ? 9 : 6, 1],
        ]);
        expect(recs[0]!.data.equals(frames[0]!.data)).toBe(true);
      });
    }
    for (const tsresol of [6, 9]) {
      it(`pcapng ${littleEndian ? 'LE' : 'BE'} EPB tsresol ${tsresol}`, () => {
        const pk = [
          { linkType: LinkType.ETHERNET, ...frames[0]! },
          { linkType: LinkType.LINUX_SLL2, sec: 1700000002, nsec: 999999999, data: sll2(ipv4(V4A, V4B, 253, ipUet)) },
        ];
        const recs = [...readCapture(writePcapng(pk, { littleEndian, tsresol }))];
        expect(recs.map((r) => [r.sec, r.nsec, r.linkType])).toEqual([
          [1700000000, tsresol === 9 ? 123456789 : 123456000, 1],
          [1700000002, tsresol === 9 ? 999999999 : 999999000, 276],
        ]);
        expect(recs[1]!.data.equals(pk[1]!.data)).toBe(true);
      });
    }
  }
  it('pcapng simple packet blocks', () => {
    const recs = [...readCapture(writePcapng(frames.map((f) => ({ ...f, linkType: 1 })), { simple: true }))];
    expect(recs.length).toBe(2);
    expect(recs[1]!.data.equals(frames[1]!.data)).toBe(true);
  });
  it('rejects broken files with CaptureFormatError', () => {
    const good = writePcap(LinkType.ETHERNET, frames);
    expect(() => [...readCapture(Buffer.from('hello world!'))]).toThrow(CaptureFormatError);
    expect(() => [...readCapture(good.subarray(0, good.length - 3))]).toThrow(CaptureFormatError);
    const ng = writePcapng(frames.map((f) => ({ ...f, linkType: 1 })));
    const bad = Buffer.from(ng);
    bad.writeUInt32LE(13, 4); // SHB length not a multiple of 4
    expect(() => [...readCapture(bad)]).toThrow(CaptureFormatError);
    expect(() => [...readCapture(ng.subarray(0, ng.length - 8))]).toThrow(CaptureFormatError);
  });
});
