// node-libfabric: libfabric objects as TypeScript classes; ops return Promises.
export { FabricError, type FabricErrorCode } from './errors.js';
export {
  getInfo, pickInfo, availableProviders, Info, PROVIDER_ORDER,
  type Hints, type Limits, type EndpointType, type Capability, type ModeBit, type MrModeBit, type Progress, type Threading,
  type MsgOrder, type TrafficClass,
} from './info.js';
export { libfabricVersion } from './native.js';
export { Fabric } from './fabric.js';
export { Domain, type EndpointOptions, type SoftuetCc, type SoftuetEndpointOptions } from './domain.js';
export { Endpoint, PassiveEndpoint, type Local, type Completion, type AtomicOp, type AtomicArray, type BatchOp } from './endpoint.js';
export { AddressVector } from './av.js';
export { CompletionQueue } from './cq.js';
export { EventQueue, type EqEvent } from './eq.js';
export { Counter, type CounterEvent } from './counter.js';
export { MemoryRegion, encodeRemote, decodeRemote, type RemoteRegion, type Access } from './mr.js';
