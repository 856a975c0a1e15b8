// Codec throughput on one core: decode and encode of RUD_REQ + SES standard and of ACK_CC.
// Usage: node dist/bench/codec/run.js [--seconds S] [--json]

import { decodeAck, decodePds, decodeRudRodReq, encodePds, type AckCc, type RudRodReq } from '../../lib/uet/pds.js';
import { decodeSesStd, encodeSes, type SesStd } from '../../lib/uet/ses.js';
import { decodePacket, encodePacket } from '../../lib/uet/packet.js';
import { NextHeader } from '../../lib/uet/constants.js';

interface Row { case: string; op: string; mops: number; nsPerOp: number; cpuMops: number }

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1]) || 0.6;
const asJson = args.includes('--json');

const req: RudRodReq = {
  type: 2, nh: NextHeader.REQ_STD, flags: 0, retx: false, ar: true, syn: false,
  clearPsnOffset: -3, psn: 0x98765432, spdcid: 0x3456, dpdcid: 0x9abc,
};
const ses: SesStd = {
  opcode: 1, version: 0, dc: false, ie: false, rel: true, hd: false, eom: true, som: true,
  messageId: 7, riGeneration: 1, jobId: 0x1234, pidOnFep: 3, resourceIndex: 15,
  bufferOffset: 0x100000n, initiator: 16, memoryKey: 0xfeedfacecafebeefn, headerData: 0n, requestLength: 4096,
};
const ack: AckCc = {
  type: 8, nh: 0, flags: 0, m: false, retx: false, p: false, req: 0, ackPsnOffset: 4, cackPsn: 0x98765432,
  spdcid: 0x9abc, dpdcid: 0x3456, ccType: 0, ccFlags: 0, mpr: 1, sackPsnOffset: 1, sackBitmap: 0xffn,
  serviceTime: 100, rc: false, rcvCwndPend: 0, rcvdBytes: 0x10000, oooCount: 0,
};

const reqPkt = Buffer.alloc(12 + 44 + 1024);
encodePacket({ pds: req, ses, payload: Buffer.alloc(1024, 0x5a) }, reqPkt, 0);
const ackPkt = Buffer.alloc(32);
encodePds(ack, ackPkt, 0);
const scratch = Buffer.alloc(2048);

let sink = 0;
function measure(name: string, op: string, fn: () => number): Row {
  const budget = BigInt(Math.round(seconds * 1e9));
  for (let i = 0; i < 20000; i++) sink += fn(); // warm-up: let the JIT settle
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let t = t0;
  while (t - t0 < budget) {
    for (let i = 0; i < 10000; i++) sink += fn();
    n += 10000;
    t = process.hrtime.bigint();
  }
  const ns = Number(t - t0);
  const cpu = process.cpuUsage(c0);
  // CPU time rather than wall time is what one core delivers when other processes share it.
  const cpuUs = cpu.user + cpu.system;
  return { case: name, op, mops: (n / ns) * 1e3, nsPerOp: ns / n, cpuMops: n / cpuUs };
}

const rows: Row[] = [
  measure('RUD_REQ + SES std', 'decode', () => {
    const p = decodeRudRodReq(reqPkt, 0) as RudRodReq;
    const s = decodeSesStd(reqPkt, 12);
    return p.psn + s.requestLength;
  }),
  measure('RUD_REQ + SES std', 'encode', () => encodePds(req, scratch, 0) + encodeSes(NextHeader.REQ_STD, ses, scratch, 12)),
  measure('RUD_REQ + SES std', 'decodePacket', () => decodePacket(reqPkt).payload.length),
  measure('ACK_CC (NSCC)', 'decode', () => (decodeAck(ackPkt, 0) as AckCc).cackPsn),
  measure('ACK_CC (NSCC)', 'decodePds', () => (decodePds(ackPkt, 0) as AckCc).oooCount),
  measure('ACK_CC (NSCC)', 'encode', () => encodePds(ack, scratch, 0)),
];

if (asJson) {
  console.log(JSON.stringify({ seconds, rows, sink: sink > 0 }));
} else {
  console.log(`UET codec, one core, node ${process.version}, ${seconds}s per case`);
  console.log('case                 op             Mops/s(wall)  ns/op  Mops/cpu-s');
  for (const r of rows) {
    console.log(`${r.case.padEnd(20)} ${r.op.padEnd(13)} ${r.mops.toFixed(2).padStart(12)} ${r.nsPerOp.toFixed(1).padStart(6)} ${r.cpuMops.toFixed(2).padStart(11)}`);
  }
  console.log('(a RUD_REQ + SES std row decodes two headers per op)');
  if (sink === 0) console.log('');
}
