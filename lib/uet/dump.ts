// uet-dump: print the UET packets of a pcap/pcapng capture, one line each, tcpdump style.

import { readFile } from 'node:fs/promises';
import {
  AckFlag, CP_CTL_NAME, CpFlag, NACK_CODE_NAME, NackFlag, NEXT_HEADER_NAME, PDS_TYPE_NAME, PdsType, ReqFlag,
  RESPONSE_OPCODE_NAME, RETURN_CODE_NAME, RudiFlag, SES_OPCODE_NAME, UET_IP_PROTO, UET_UDP_PORT,
} from './constants.js';
import { UetDecodeError } from './errors.js';
import { toSnake } from './fields.js';
import { decodePacket, type UetPacket } from './packet.js';
import { CaptureFormatError, parseFrame, readCapture, type CaptureRecord, type Frame } from './pcap.js';
import type { PdsHeader } from './pds.js';
import type { SesHeader } from './ses.js';

export interface DumpIo {
  stdout(line: string): void;
  stderr(line: string): void;
  /** Reads a file, or standard input for '-'. */
  readInput(path: string): Promise<Buffer>;
}

const USAGE = `usage: uet-dump [options] <capture.pcap|capture.pcapng|->
  --port N     UDP port carrying UET (source or destination; default ${UET_UDP_PORT})
  --proto N    IP protocol number of native-IP UET (default ${UET_IP_PROTO})
  --crc        packets end with a CRC32C trailer: check it
  --json       one JSON object per packet
  --summary    print only counts: per PDS type, retransmits, NACKs by code, errors
  -c N         stop after N UET packets
  -h, --help   this text`;

interface Options { file: string; port: number; proto: number; crc: boolean; json: boolean; summary: boolean; count: number }

class UsageError extends Error {}

function parseArgs(argv: string[]): Options {
  const o: Options = { file: '', port: UET_UDP_PORT, proto: UET_IP_PROTO, crc: false, json: false, summary: false, count: Infinity };
  const num = (i: number, name: string, max: number): number => {
    const v = Number(argv[i]);
    if (argv[i] === undefined || !Number.isInteger(v) || v < 0 || v > max) throw new UsageError(`${name} needs an integer 0..${max}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--port') o.port = num(++i, a, 65535);
    else if (a === '--proto') o.proto = num(++i, a, 255);
    else if (a === '-c') o.count = num(++i, a, 2 ** 31);
    else if (a === '--crc') o.crc = true;
    else if (a === '--json') o.json = true;
    else if (a === '--summary') o.summary = true;
    else if (a === '-' || !a.startsWith('-')) {
      if (o.file) throw new UsageError('only one capture file');
      o.file = a;
    } else throw new UsageError(`unknown option ${a}`);
  }
  if (!o.file) throw new UsageError('no capture file given');
  return o;
}

export interface DumpSummary {
  records: number;
  uet: number;
  other: number;
  malformed: number;
  retransmits: number;
  crcBad: number;
  byType: Record<string, number>;
  nacksByCode: Record<string, number>;
  errors: Record<string, number>;
}

function timeText(r: CaptureRecord): string {
  if (r.digits === 0) return '-';
  const frac = String(r.nsec).padStart(9, '0').slice(0, r.digits);
  const d = new Date(r.sec * 1000);
  // Timestamps beyond what Date holds (corrupt or odd-resolution captures) print as raw seconds.
  if (Number.isNaN(d.getTime())) return `${r.sec}.${frac}`;
  return `${d.toISOString().slice(11, 19)}.${frac}`;
}

function endpoint(f: Frame, which: 'src' | 'dst'): string {
  const port = which === 'src' ? f.sport : f.dport;
  const addr = f[which];
  return port === undefined ? addr : `${addr}.${port}`;
}

function isRetransmit(p: PdsHeader): boolean {
  return 'retx' in p && p.retx;
}

function flagNames(p: PdsHeader): string[] {
  const f = p.flags;
  const out: string[] = [];
  const add = (bit: number, name: string) => { if (f & bit) out.push(name); };
  switch (p.type) {
    case 2: case 3: case 13: case 14: add(ReqFlag.RETX, 'RETX'); add(ReqFlag.AR, 'AR'); add(ReqFlag.SYN, 'SYN'); break;
    case 7: case 8: case 9:
      add(AckFlag.EPSN, 'EPSN'); add(AckFlag.M, 'M'); add(AckFlag.RETX, 'RETX'); add(AckFlag.P, 'P');
      if (p.req === 1) out.push('REQ=CLEAR'); else if (p.req === 2) out.push('REQ=CLOSE');
      break;
    case 10: case 12: add(NackFlag.M, 'M'); add(NackFlag.RETX, 'RETX'); add(NackFlag.NT, 'NT'); break;
    case 11: add(CpFlag.ISROD, 'ROD'); add(CpFlag.RETX, 'RETX'); add(CpFlag.AR, 'AR'); add(CpFlag.SYN, 'SYN'); break;
    case 4: case 5: add(RudiFlag.M, 'M'); add(RudiFlag.RETX, 'RETX'); break;
    default: break;
  }
  return out;
}

const hex32 = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

function pdsText(p: PdsHeader): string {
  const flags = flagNames(p);
  let s = (PDS_TYPE_NAME[p.type] ?? String(p.type)) + (flags.length ? ` [${flags.join(',')}]` : '');
  switch (p.type) {
    case 2: case 3: case 13: case 14:
      s += ` psn ${hex32(p.psn)} spdcid ${p.spdcid}`;
      s += p.syn ? ` psn_off ${p.psnOffset}${p.useRsvPdc ? ' rsv' : ''}` : ` dpdcid ${p.dpdcid}`;
      if (p.clearPsnOffset) s += ` clear ${p.clearPsnOffset}`;
      if ('cccId' in p) s += ` ccc ${p.cccId} credit_target ${p.creditTarget}`;
      break;
    case 7: case 8: case 9:
      s += ` cack ${hex32(p.cackPsn)}` + (p.p ? ` probe ${p.probeOpaque}` : ` ack_off ${p.ackPsnOffset}`);
      s += ` spdcid ${p.spdcid} dpdcid ${p.dpdcid}`;
      if (p.type === 7 && p.expectedPsn !== undefined) s += ` epsn ${hex32(p.expectedPsn)}`;
      if (p.type !== 7) {
        s += ` mpr ${p.mpr} sack ${p.sackPsnOffset}:0x${p.sackBitmap.toString(16)}`;
        if (p.type === 8) {
          s += p.ccType === 0
            ? ` nscc st ${p.serviceTime} rcvd ${p.rcvdBytes} pend ${p.rcvCwndPend}${p.rc ? ' RC' : ''} ooo ${p.oooCount}`
            : ` credit ${p.credit} ooo ${p.oooCount}`;
        }
      }
      break;
    case 10: case 12:
      s += ` ${NACK_CODE_NAME[p.nackCode] ?? p.nackCode} psn ${hex32(p.nackPsn)} spdcid ${p.spdcid} dpdcid ${p.dpdcid} payload ${p.payload}`;
      break;
    case 11:
      s += ` ${CP_CTL_NAME[p.ctlType]} psn ${hex32(p.psn)} spdcid ${p.spdcid}`;
      s += p.syn ? ` psn_off ${p.psnOffset}` : ` dpdcid ${p.dpdcid}`;
      s += ` payload ${p.payload}`;
      break;
    case 4: case 5:
      s += ` pkt_id ${p.pktId}`;
      break;
    default: break;
  }
  return s;
}

function sesText(nh: number, s: SesHeader): string {
  if ('returnCode' in s) {
    const rc = RETURN_CODE_NAME[s.returnCode] ?? `0x${s.returnCode.toString(16)}`;
    let t = `${RESPONSE_OPCODE_NAME[s.opcode] ?? s.opcode} rc ${rc}`;
    if ('messageId' in s) t += ` mid ${s.messageId}`;
    if ('payloadLength' in s) t += ` plen ${s.payloadLength}`;
    if ('modifiedLength' in s) t += ` mlen ${s.modifiedLength}`;
    return `${NEXT_HEADER_NAME[nh]} ${t}`;
  }
  const flags = (['som', 'eom', 'hd', 'rel', 'dc', 'ie'] as const).filter((k) => (s as unknown as Record<string, boolean>)[k]);
  let t = `${NEXT_HEADER_NAME[nh]} ${SES_OPCODE_NAME[s.opcode] ?? `0x${s.opcode.toString(16)}`}`;
  if (flags.length) t += ` [${flags.join(',')}]`;
  if ('messageId' in s) t += ` mid ${s.messageId}`;
  t += ` job ${s.jobId} pid ${s.pidOnFep} ri ${s.resourceIndex} rlen ${s.requestLength}`;
  if ('payloadLength' in s && s.payloadLength !== undefined) t += ` plen ${s.payloadLength} moff ${s.messageOffset}`;
  return t;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 bad capture file, 2 usage). */
export async function runDump(argv: string[], io: Partial<DumpIo> = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => process.stdout.write(l + '\n'));
  const err = io.stderr ?? ((l: string) => process.stderr.write(l + '\n'));
  const read = io.readInput ?? (async (p: string) => (p === '-' ? readStdin() : readFile(p)));
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (argv.includes('-h') || argv.includes('--help')) { out(USAGE); return 0; }
    err(`uet-dump: ${(e as Error).message}`);
    err(USAGE);
    return 2;
  }
  let data: Buffer;
  try {
    data = await read(opts.file);
  } catch (e) {
    err(`uet-dump: cannot read ${opts.file}: ${(e as Error).message}`);
    return 1;
  }
  const sum: DumpSummary = { records: 0, uet: 0, other: 0, malformed: 0, retransmits: 0, crcBad: 0, byType: {}, nacksByCode: {}, errors: {} };
  const bump = (t: Record<string, number>, k: string) => { t[k] = (t[k] ?? 0) + 1; };
  let code = 0;
  try {
    for (const r of readCapture(data)) {
      if (sum.uet >= opts.count) break;
      sum.records++;
      const fr = parseFrame(r.linkType, r.data);
      if ('skip' in fr) { sum.other++; bump(sum.errors, `not IP/UDP: ${fr.skip}`); continue; }
      const f = fr.frame;
      let encap: 'udp' | 'ip';
      if (f.proto === 17 && (f.dport === opts.port || f.sport === opts.port)) encap = 'udp';
      else if (f.proto === opts.proto) encap = 'ip';
      else { sum.other++; continue; }
      sum.uet++;
      let pkt: UetPacket;
      try {
        pkt = decodePacket(f.payload, { encap, crc: opts.crc, crcPrefix: f.crcPrefix, sourcePort: encap === 'udp' ? f.sport : undefined });
      } catch (e) {
        if (!(e instanceof UetDecodeError)) throw e;
        sum.malformed++;
        bump(sum.errors, `malformed ${e.field}`);
        if (!opts.summary) {
          if (opts.json) out(JSON.stringify({ n: r.index, t: timeText(r), src: endpoint(f, 'src'), dst: endpoint(f, 'dst'), error: { field: e.field, offset: e.offset, message: e.message } }));
          else out(`${timeText(r)} ${endpoint(f, 'src')} > ${endpoint(f, 'dst')}: UET malformed: ${e.message}`);
        }
        continue;
      }
      const p = pkt.pds;
      bump(sum.byType, p ? PDS_TYPE_NAME[p.type]! : 'TSS');
      if (p && isRetransmit(p)) sum.retransmits++;
      if (p && (p.type === PdsType.NACK || p.type === PdsType.NACK_CCX)) bump(sum.nacksByCode, NACK_CODE_NAME[p.nackCode]!);
      const crcBad = pkt.trailer?.kind === 'crc' && !pkt.trailer.ok;
      if (crcBad) sum.crcBad++;
      if (opts.summary) continue;
      const nh = p && p.type !== PdsType.CP ? p.nh : 0;
      if (opts.json) {
        out(JSON.stringify({
          n: r.index, t: timeText(r), src: f.src, dst: f.dst, sport: f.sport, dport: f.dport, encap, ev: pkt.entropy,
          len: f.payload.length,
          ...(pkt.tss ? { tss: toSnake(pkt.tss) } : {}),
          ...(p ? { pds_type: PDS_TYPE_NAME[p.type], pds: toSnake(p) } : {}),
          ...(pkt.ses ? { ses: toSnake(pkt.ses) } : {}),
          payload_length: pkt.payload.length,
          ...(pkt.trailer?.kind === 'crc' ? { crc: hex32(pkt.trailer.value), crc_ok: pkt.trailer.ok } : {}),
        }));
        continue;
      }
      let line = `${timeText(r)} ${endpoint(f, 'src')} > ${endpoint(f, 'dst')}: UET`;
      if (pkt.entropy !== undefined) line += ` ev ${pkt.entropy}`;
      if (pkt.tss) line += ` TSS sdi ${pkt.tss.sdi} an ${pkt.tss.an ? 1 : 0} epoch ${pkt.tss.epoch} ctr ${pkt.tss.counter} (encrypted)`;
      if (p) line += ' ' + pdsText(p);
      if (pkt.ses) line += ' | ' + sesText(nh, pkt.ses);
      line += ` | len ${f.payload.length} payload ${pkt.payload.length}`;
      if (pkt.trailer?.kind === 'crc') line += pkt.trailer.ok ? ' crc ok' : ` crc BAD (${hex32(pkt.trailer.value)} != ${hex32(pkt.trailer.computed)})`;
      out(line);
    }
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    err(`uet-dump: ${e.message}`);
    code = 1;
  }
  if (opts.summary) {
    if (opts.json) out(JSON.stringify(sum));
    else {
      out(`records ${sum.records}  uet ${sum.uet}  other ${sum.other}  malformed ${sum.malformed}  retransmits ${sum.retransmits}` +
        (opts.crc ? `  crc_bad ${sum.crcBad}` : ''));
      for (const [k, v] of Object.entries(sum.byType).sort()) out(`  type ${k} ${v}`);
      for (const [k, v] of Object.entries(sum.nacksByCode).sort()) out(`  nack ${k} ${v}`);
      for (const [k, v] of Object.entries(sum.errors).sort()) out(`  skipped ${k} ${v}`);
    }
  } else if (sum.malformed || sum.other) {
    err(`uet-dump: ${sum.uet} UET packets (${sum.malformed} malformed), ${sum.other} other packets`);
  }
  return code;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
