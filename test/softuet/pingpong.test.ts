// softuet as seen by libfabric's own tools: fi_info lists it, and fi_pingpong moves
// data between two processes over it, RDM and DGRAM, with data checks (-c).
import { describe, expect, it } from 'vitest';
import { baseEnv, freshPort, run, start, waitListening } from './helpers.js';

async function pingpong(ep: 'rdm' | 'dgram', size: string, iters: number) {
  const port = freshPort();
  const env = baseEnv();
  const common = ['-p', 'softuet', '-e', ep, '-I', String(iters), '-S', size, '-c'];
  const server = start('fi_pingpong', [...common, '-B', String(port)], env, 60_000);
  // On a loaded machine the server can take seconds to reach listen(): connect only then.
  expect(await waitListening(server.child.pid!, port), server.output()).toBe(true);
  const client = await run('fi_pingpong', [...common, '-P', String(port), '127.0.0.1'], { env, timeoutMs: 60_000 });
  const srv = await server.done;
  return { client, srv };
}

describe('softuet with libfabric tools', () => {
  it('fi_info -p softuet lists RDM and DGRAM endpoints of provider softuet', async () => {
    const r = await run('fi_info', ['-p', 'softuet'], { timeoutMs: 20_000 });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/provider: softuet\n/);
    expect(r.out).toMatch(/type: FI_EP_RDM/);
    expect(r.out).toMatch(/type: FI_EP_DGRAM/);
    expect(r.out).toMatch(/protocol: FI_PROTO_UDP/);
    // softuet provides RDM itself: no utility provider is layered in front of it.
    expect(r.out).not.toMatch(/softuet;ofi_rx[dm]/);
    const v = await run('fi_info', ['-p', 'softuet', '-t', 'FI_EP_RDM', '-v'], { timeoutMs: 20_000 });
    expect(v.code, v.out).toBe(0);
    expect(v.out).toMatch(/cq_data_size: 8/);
    expect(v.out).toMatch(/FI_RMA/);
    expect(v.out).toMatch(/FI_ATOMIC/);
  }, 30_000);

  it('fi_pingpong -e rdm, small and 1 MiB messages, data checked', async () => {
    for (const [size, iters] of [['1024', 50], ['1048576', 5]] as const) {
      const { client, srv } = await pingpong('rdm', size, iters);
      expect(client.code, client.out).toBe(0);
      expect(srv.code, srv.out).toBe(0);
      expect(client.out).toMatch(new RegExp(`${iters}\\s+=${iters}`));
    }
  }, 120_000);

  it('fi_pingpong -e dgram, all sizes up to the MTU, data checked', async () => {
    const { client, srv } = await pingpong('dgram', 'all', 20);
    expect(client.code, client.out).toBe(0);
    expect(srv.code, srv.out).toBe(0);
    expect(client.out).toMatch(/^4k\s+20\s+=20/m);
  }, 90_000);
});
