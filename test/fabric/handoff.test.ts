// softuet drives its domain from a progress thread while nobody reads the CQ, and leaves
// it to the reader while the reader polls. The event loop reads a busy CQ every turn, so
// a message exchange must not hand progress back and forth between the two threads (each
// hand-off is a wake-up and a fight for the domain lock, tens of microseconds per
// message on a loaded host).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { F, infoFor, providersUnderTest, withTimeout } from './helpers.js';

const tasks = (): Set<string> => new Set(readdirSync('/proc/self/task'));

/** Voluntary and involuntary context switches of a thread of this process. */
function switches(tid: string): number {
  const s = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
  let n = 0;
  for (const m of s.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) n += Number(m[1]);
  return n;
}

describe.runIf(providersUnderTest().includes('softuet'))('softuet progress hand-off', () => {
  it('a ping-pong driven by the event loop leaves the provider threads asleep', async () => {
    const before = tasks();
    const info = infoFor('softuet')!;
    const fabrics = [new F.Fabric(info), new F.Fabric(info)];
    try {
      const [ea, eb] = fabrics.map((f) => f.domain().endpoint());
      // the domains' progress threads: whatever started since
      const threads = [...tasks()].filter((t) => !before.has(t));
      expect(threads.length).toBeGreaterThan(0);
      const ab = ea!.av!.insert(eb!.address);
      const ba = eb!.av!.insert(ea!.address);
      const bufA = Buffer.alloc(8);
      const bufB = Buffer.alloc(8);
      const round = async (): Promise<void> => {
        const atB = eb!.recv(bufB);
        const atA = ea!.recv(bufA);
        ea!.inject(bufA, ab);
        await atB;
        eb!.inject(bufB, ba);
        await atA;
      };
      await withTimeout((async () => { for (let i = 0; i < 50; i++) await round(); })(), 20_000, 'warm-up');
      const rounds = 1000;
      const s0 = threads.reduce((s, t) => s + switches(t), 0);
      const t0 = performance.now();
      await withTimeout((async () => { for (let i = 0; i < rounds; i++) await round(); })(), 30_000, 'ping-pong');
      const ms = performance.now() - t0;
      const woken = threads.reduce((s, t) => s + switches(t), 0) - s0;
      // Asleep, a thread still wakes on its poll timeout (1 to 5 ms): allow one per
      // millisecond each, and one per two messages for a loop descheduled long enough
      // (a loaded host) that the provider took over for a while. Handing progress over
      // on every message cost 1.5 wake-ups per message.
      const allowed = threads.length * ms + rounds;
      expect(woken, `${woken} wake-ups of ${threads.length} threads in ${ms.toFixed(0)} ms for ${2 * rounds} messages`).toBeLessThan(allowed);
    } finally {
      for (const f of fabrics) f.close();
    }
  }, 60_000);
});
