// Builders of link/IP/UDP frames around UET payloads, for the capture tests.

export function ipv4(src: number[], dst: number[], proto: number, payload: Buffer, opts: { fragment?: boolean } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(opts.fragment ? 0x2000 : 0x4000, 6);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(src).copy(h, 12);
  Buffer.from(dst).copy(h, 16);
  return Buffer.concat([h, payload]);
}

export function ipv6(src: Buffer, dst: Buffer, nh: number, payload: Buffer, ext?: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  const body = ext ? Buffer.concat([ext, payload]) : payload;
  h.writeUInt16BE(body.length, 4);
  h[6] = ext ? 60 : nh;
  h[7] = 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, body]);
}

export function destOpts(nh: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = nh;
  b[1] = 0;
  b[2] = 1; // PadN
  b[3] = 4;
  return b;
}

export function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function ethernet(l3: Buffer, vlans: number[] = [], pad = 0): Buffer {
  const tags = vlans.map((tpid, i) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tpid, 0);
    t.writeUInt16BE(100 + i, 2);
    return t;
  });
  const ethertype = Buffer.alloc(2);
  ethertype.writeUInt16BE(l3[0]! >>> 4 === 6 ? 0x86dd : 0x0800);
  // inner ethertype goes after the tags: rebuild as dst src [tpid tci]... type
  const macs = Buffer.from('020000000002020000000001', 'hex');
  return Buffer.concat([macs, ...tags, ethertype, l3, Buffer.alloc(pad)]);
}

export function sll(l3: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(l3[0]! >>> 4 === 6 ? 0x86dd : 0x0800, 14);
  return Buffer.concat([h, l3]);
}

export function sll2(l3: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(l3[0]! >>> 4 === 6 ? 0x86dd : 0x0800, 0);
  h.writeUInt32BE(2, 4);
  h.writeUInt16BE(1, 8);
  h[11] = 6;
  return Buffer.concat([h, l3]);
}

export const V4A = [192, 0, 2, 1]; // documentation range: frames are data, never sent
export const V4B = [192, 0, 2, 2];
export const V6A = Buffer.from('fd000000000000000000000000000001', 'hex');
export const V6B = Buffer.from('fd000000000000000000000000000002', 'hex');
