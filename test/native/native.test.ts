// Runs every native test program (test/native/<area>/*_test.cc, built by CMake into
// build/native/bin/tests) as one vitest case each, so `npm test` covers the C++ cores:
// wire codecs against the shared vectors, PDS/SES logic, the CMS replay, and the
// provider's own C API tests. Each program exits 0 when all its checks pass.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const binDir = process.env.NLF_BIN_DIR ?? join(root, 'build/native/bin');
const testsDir = join(binDir, 'tests');
const provDir = join(binDir, '..', 'prov');

// Sources decide what must exist: a test source without its program is a build failure,
// not something to skip.
const sources = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'common' && d.name !== 'fuzz')
  .flatMap((d) => readdirSync(join(here, d.name))
    .filter((f) => f.endsWith('_test.cc'))
    .map((f) => ({ area: d.name, name: f.slice(0, -3) })));

describe('native test programs', () => {
  it('has at least one native test', () => {
    expect(sources.length).toBeGreaterThan(0);
  });
  for (const { area, name } of sources) {
    it(`${area}/${name}`, async () => {
      const file = join(testsDir, name);
      expect(existsSync(file), `${file} is missing: run scripts/setup`).toBe(true);
      const env = {
        ...process.env,
        FI_PROVIDER_PATH: provDir,
        FI_TCP_IFACE: 'lo',
        FI_SOCKETS_IFACE: 'lo',
      };
      const r = await new Promise<{ code: number | string; out: string }>((done) => {
        execFile(file, [], { cwd: root, env, timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
          (err, stdout, stderr) => {
            const code = err ? ((err as NodeJS.ErrnoException & { code?: number | string }).code ?? err.message) : 0;
            done({ code: code as number | string, out: `${stdout}\n${stderr}` });
          });
      });
      expect(r.code, r.out.slice(-4000)).toBe(0);
    }, 150_000);
  }
});
