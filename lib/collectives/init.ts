// Building a communicator from the environment a launcher leaves behind:
// node-libfabric-run (NLF_RANK/NLF_SIZE), mpirun (OMPI_COMM_WORLD_RANK/SIZE, PMI_RANK/
// PMI_SIZE) or Slurm (SLURM_PROCID/SLURM_NTASKS), with NLF_BOOTSTRAP=host:port naming
// the rendezvous server. Without a launcher (NLF_LAUNCHER unset) rank 0 hosts it.

import { availableParallelism } from 'node:os';
import { BootstrapClient, BootstrapServer, parseHostPort } from './bootstrap.js';
import { Communicator, type CommunicatorOptions } from './communicator.js';
import { FabricTransport } from './fabric-transport.js';
import { createLocalTransports } from './local-transport.js';
import { SocketTransport } from './socket-transport.js';
import { CollectiveError, type Transport } from './transport.js';

export type TransportKind = 'fabric' | 'socket' | 'auto';

export interface InitOptions extends CommunicatorOptions {
  /** 'fabric' (libfabric), 'socket' (TCP) or 'auto' (fabric, else socket with a warning). Env NLF_TRANSPORT. */
  transport?: TransportKind;
  /** Fabric provider. Env NLF_PROVIDER, then NODE_LIBFABRIC_PROVIDER, then the binding's order. */
  provider?: string;
  env?: NodeJS.ProcessEnv;
  /** Bound on joining: connecting to the bootstrap and the address exchange. */
  joinTimeoutMs?: number;
  /**
   * RMA traffic on an endpoint with a completion thread instead of event-loop polling
   * (see FabricTransport). Env NLF_BULK_THREAD=0/1; off by default.
   */
  bulkThread?: boolean;
  /**
   * Provider of a second fabric for RMA writes (see FabricTransport), or null for none.
   * Env NLF_BULK_PROVIDER (a name, or 'none'); by default none (see wantBulkProvider).
   */
  bulkProvider?: string | null;
  /**
   * Data progress to ask the provider for (see FabricTransport). Env NLF_PROGRESS=auto/
   * manual; by default manual when this host runs more ranks than it has cores.
   */
  progress?: 'auto' | 'manual';
}

/** Ranks of this job on this host, from the launcher's environment, when it says. */
export function localSizeFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  for (const k of ['NLF_LOCAL_SIZE', 'OMPI_COMM_WORLD_LOCAL_SIZE', 'MPI_LOCALNRANKS', 'SLURM_NTASKS_PER_NODE']) {
    const n = int(env[k]);
    if (n !== undefined && n > 0) return n;
  }
  return undefined;
}

/**
 * The data progress ranks ask the provider for (undefined: the provider's own). With more
 * ranks than cores, manual: a provider thread progressing beside the JS thread (softuet's)
 * only competes with the ranks for the cores; single-threaded ranks ran 8 B and 64 KiB
 * allreduces faster and 1-16 MiB no slower (bench/collectives/README.md). Not under a requested completion
 * thread, which needs automatic progress.
 */
export function wantProgress(opts: InitOptions, env: NodeJS.ProcessEnv = process.env): 'auto' | 'manual' | undefined {
  if (opts.progress !== undefined) return opts.progress;
  if (env.NLF_PROGRESS === 'auto' || env.NLF_PROGRESS === 'manual') return env.NLF_PROGRESS;
  if (wantBulkThread(opts, env)) return undefined;
  return (localSizeFromEnv(env) ?? 1) > availableParallelism() ? 'manual' : undefined;
}

/**
 * Whether ranks should wait for RMA completions on a thread rather than poll for them:
 * only on request. Ranks outnumbering the cores were once its case, but there the
 * thread and the provider's progress thread contend with the JS thread for the domain
 * and for the cores, and single-threaded ranks came out faster (bench/collectives/README.md).
 */
export function wantBulkThread(opts: InitOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  if (opts.bulkThread !== undefined) return opts.bulkThread;
  return env.NLF_BULK_THREAD === '1';
}

/**
 * The provider RMA writes should use beside the main one (undefined: the main one). Only
 * on request: a job asked to run over one provider gets that provider for every byte.
 * On one host, tcp;ofi_rxm beside softuet moves bulk data for less CPU (softuet copies
 * and checksums every byte in user space on both sides; the kernel's TCP costs a
 * fraction of that), so `NLF_BULK_PROVIDER=tcp;ofi_rxm` is the knob for one-host jobs
 * that want busbw more than one transport. Every rank must choose alike (connect
 * checks).
 */
export function wantBulkProvider(opts: InitOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (opts.bulkProvider !== undefined) return opts.bulkProvider ?? undefined;
  const named = env.NLF_BULK_PROVIDER;
  return named && named !== 'none' && named !== '0' ? named : undefined;
}

export interface Placement {
  rank: number;
  size: number;
  bootstrap?: string;
  /** True when this process must run the bootstrap server itself. */
  hostsBootstrap: boolean;
  source: 'node-libfabric-run' | 'mpirun' | 'pmi' | 'slurm' | 'none';
}

function int(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Where this process sits in the job, from launcher environment variables. */
export function placementFromEnv(env: NodeJS.ProcessEnv = process.env): Placement {
  const sources: [Placement['source'], string, string][] = [
    ['node-libfabric-run', 'NLF_RANK', 'NLF_SIZE'],
    ['mpirun', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE'],
    ['pmi', 'PMI_RANK', 'PMI_SIZE'],
    ['slurm', 'SLURM_PROCID', 'SLURM_NTASKS'],
  ];
  for (const [source, rk, sk] of sources) {
    const rank = int(env[rk]), size = int(env[sk]);
    if (rank === undefined && size === undefined) continue;
    if (rank === undefined || size === undefined || size < 1 || rank >= size) {
      throw new RangeError(`inconsistent ${rk}='${env[rk] ?? ''}' ${sk}='${env[sk] ?? ''}'`);
    }
    const bootstrap = env.NLF_BOOTSTRAP || undefined;
    if (size > 1 && !bootstrap) {
      throw new CollectiveError(`${source} started ${size} ranks but NLF_BOOTSTRAP (host:port of the rendezvous) is not set; ` +
        'for example mpirun -x NLF_BOOTSTRAP=<rank-0-host>:29500', 'PROTOCOL');
    }
    return { rank, size, bootstrap, hostsBootstrap: size > 1 && rank === 0 && !env.NLF_LAUNCHER, source };
  }
  return { rank: 0, size: 1, hostsBootstrap: false, source: 'none' };
}

/** A communicator for this process, wired to the job's bootstrap and abort channel. */
export async function fromEnv(opts: InitOptions = {}): Promise<Communicator> {
  const env = opts.env ?? process.env;
  const place = placementFromEnv(env);
  const kind = (opts.transport ?? (env.NLF_TRANSPORT as TransportKind | undefined) ?? 'auto');
  if (!['fabric', 'socket', 'auto'].includes(kind)) {
    throw new RangeError(`NLF_TRANSPORT must be fabric, socket or auto, not '${kind}'`);
  }
  const provider = opts.provider ?? (env.NLF_PROVIDER || env.NODE_LIBFABRIC_PROVIDER || undefined);
  const joinTimeout = opts.joinTimeoutMs ?? 60_000;

  if (place.size === 1 && !place.bootstrap) {
    // A lone rank needs no wire; the fabric is still opened when asked for explicitly.
    if (kind === 'fabric') {
      const t = await FabricTransport.open(0, 1, { provider });
      t.connect([t.address]);
      return new Communicator(t, opts);
    }
    return new Communicator(createLocalTransports(1)[0]!, opts);
  }

  const where = parseHostPort(place.bootstrap!);
  let server: BootstrapServer | undefined;
  if (place.hostsBootstrap) server = await BootstrapServer.listen(place.size, where);
  const client = await BootstrapClient.connect(where, place.rank, place.size, joinTimeout);
  const host = client.localHost.replace(/^::ffff:/, '');

  let transport: (Transport & { address: Buffer; connect(t: Buffer[]): void }) | undefined;
  try {
    if (kind !== 'socket') {
      try {
        transport = await FabricTransport.open(place.rank, place.size, {
          provider, node: host, bulkThread: wantBulkThread(opts, env), progress: wantProgress(opts, env),
          bulkProvider: wantBulkProvider(opts, env),
        });
      } catch (e) {
        if (kind === 'fabric') throw e;
        process.stderr.write(`node-libfabric: rank ${place.rank}: fabric unavailable (${(e as Error).message}); using TCP sockets\n`);
      }
    }
    transport ??= await SocketTransport.listen(place.rank, place.size, host);
    const table = await client.exchange(transport.address, joinTimeout);
    transport.connect(table);
  } catch (e) {
    client.abort(`rank ${place.rank} failed to join: ${(e as Error).message}`);
    await transport?.close();
    await client.close();
    await server?.close(1000);
    throw e;
  }
  const t = transport;
  client.onAbort((reason) => t.abort(new CollectiveError(`rank ${place.rank}: job aborted: ${reason}`, 'ABORTED')));
  const comm = new Communicator(t, opts);
  comm.addCloseHook(async () => {
    await client.close();
    await server?.close();
  });
  comm.addPreCloseHook(async () => {
    // Nobody tears down while a peer may still be reading from it.
    if (t.aborted) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([client.barrier().catch(() => undefined), new Promise((r) => { timer = setTimeout(r, 10_000); })]);
    clearTimeout(timer);
  });
  comm.reportFailure = (e: Error) => client.abort(e.message);
  return comm;
}
