import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UetDecodeError } from '../../lib/uet/errors.js';
import { fromSnake, toSnake } from '../../lib/uet/fields.js';
import { HEADER_NAMES } from '../../lib/uet/constants.js';
import { decodeByHeader, encodeByHeader, loadVectors, VECTOR_DIR } from './helpers.js';
import { render, vectorFiles, type MalformedVector, type Vector } from './gen-vectors.js';

describe('checked-in vector files', () => {
  for (const [file, obj] of Object.entries(vectorFiles())) {
    it(`${file} matches the generator`, () => {
      // UET_WRITE_VECTORS=1 regenerates the files (then review the diff) instead of failing.
      if (process.env.UET_WRITE_VECTORS) writeFileSync(join(VECTOR_DIR, file), render(obj));
      expect(readFileSync(join(VECTOR_DIR, file), 'utf8')).toBe(render(obj));
    });
  }
});

for (const file of ['pds.json', 'ses.json']) {
  const vectors = loadVectors<Vector>(file);
  describe(file, () => {
    it('uses only the header names of constants.ts', () => {
      for (const v of vectors) expect(HEADER_NAMES).toContain(v.header);
    });
    it.each(vectors.map((v) => [v.name, v] as const))('%s: decode hex == fields, encode fields == hex', (_n, v) => {
      const buf = Buffer.from(v.hex, 'hex');
      const { h, size } = decodeByHeader(v.header, buf);
      expect(size).toBe(buf.length);
      expect(toSnake(h)).toEqual(v.fields);
      expect(encodeByHeader(v.header, fromSnake(v.fields)).toString('hex')).toBe(v.hex);
      // and the decoded object re-encodes to the same bytes
      expect(encodeByHeader(v.header, h).toString('hex')).toBe(v.hex);
    });
  });
}

describe('malformed.json', () => {
  const vectors = loadVectors<MalformedVector>('malformed.json');
  it.each(vectors.map((v) => [v.name, v] as const))('%s is rejected naming its field and offset', (_n, v) => {
    let err: unknown;
    try {
      decodeByHeader(v.header, Buffer.from(v.hex, 'hex'), v.encap, v.trailer);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UetDecodeError);
    const e = err as UetDecodeError;
    expect({ field: e.field, offset: e.offset }).toEqual({ field: v.error_field, offset: v.error_offset });
  });
});
