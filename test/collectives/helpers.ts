import { Communicator, createLocalTransports, type CommunicatorOptions, type CollectiveArray } from '../../lib/collectives/index.js';
import { countWrong, fill } from '../../bench/collectives/data.js';

export { concat, serialReduce } from '../../bench/collectives/data.js';
export const input = fill;
export const same = (a: CollectiveArray, b: CollectiveArray) => a.length === b.length && countWrong(a, b) === 0;

export async function withGroup<T>(n: number, opts: CommunicatorOptions,
                                   fn: (c: Communicator) => Promise<T>): Promise<T[]> {
  const comms = createLocalTransports(n, { rma: opts.rma !== false }).map((t) => new Communicator(t, opts));
  try {
    return await Promise.all(comms.map(fn));
  } finally {
    await Promise.all(comms.map((c) => c.close()));
  }
}
