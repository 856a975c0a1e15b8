// The addon is context-aware: Workers load their own instance, and a Worker ending with
// objects open and ops pending is cleaned up by the environment hook without a crash.
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { F } from './helpers.js';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');

// Plain CommonJS against the raw addon: the worker has no TypeScript loader.
const workerCode = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(require.resolve('node-gyp-build', { paths: [workerData.root] }))(workerData.root);
addon.init(workerData.root + '/build/native/prov');
const [info] = addon.getInfo({ provider: 'tcp;ofi_rxm', node: '127.0.0.1', source: true });
const fabric = new addon.NativeFabric(info.handle);
const domain = new addon.NativeDomain(fabric, info.handle);
const cq = new addon.NativeCq(domain, 64, 0);
const av = new addon.NativeAv(domain, undefined, 8);
const a = new addon.NativeEndpoint(domain, null, cq, av, [], null, 1);
const b = new addon.NativeEndpoint(domain, null, cq, av, [], null, 2);
const fb = av.insert(b.address());
const dst = Buffer.alloc(16);
const got = b.post(2, dst, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined);
a.post(2, Buffer.alloc(8), undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined);
a.post(0, Buffer.from('from worker'), undefined, undefined, fb, undefined, undefined, undefined, undefined, undefined)
  .then(() => got).then((c) => parentPort.postMessage(dst.subarray(0, c.length).toString()));
`;

describe('worker threads', () => {
  it('each Worker gets its own addon instance; ending one with open objects is safe', async () => {
    for (let i = 0; i < 3; i++) {
      const w = new Worker(workerCode, { eval: true, workerData: { root } });
      const msg = await new Promise<string>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        setTimeout(() => reject(new Error('worker sent nothing')), 10_000);
      });
      expect(msg).toBe('from worker');
      // a receive is still pending and every object is open
      await w.terminate();
    }
    // this thread's instance still works
    expect(F.availableProviders()).toContain('tcp;ofi_rxm');
  }, 40_000);
});
