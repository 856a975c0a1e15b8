export * from './constants.js';
export { UetDecodeError, UetEncodeError } from './errors.js';
export * from './pds.js';
export * from './ses.js';
export * from './packet.js';
export { crc32c } from './crc32c.js';
export { toSnake, fromSnake, type SnakeFields } from './fields.js';
export * from './pcap.js';
export { runDump, type DumpIo, type DumpSummary } from './dump.js';
