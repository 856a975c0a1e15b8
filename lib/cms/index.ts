/**
 * UET Congestion Management Sublayer reference: NSCC, RCCC and entropy selection as pure,
 * deterministic state machines, plus a leaf-spine fabric simulator that drives them.
 */
export { CmsError } from './errors.js';
export { Xorshift32 } from './prng.js';
export {
  Nscc,
  deriveNsccParams,
  REFERENCE_BDP_BYTES,
  REFERENCE_RTT_NS,
  type NsccAction,
  type NsccConfig,
  type NsccEvent,
  type NsccParams,
  type NsccSnapshot,
} from './nscc.js';
export {
  RcccReceiver,
  RcccSender,
  type Grant,
  type RcccReceiverConfig,
  type RcccReceiverEvent,
  type RcccSenderConfig,
  type RcccSenderEvent,
  type RcccSenderSnapshot,
} from './rccc.js';
export { EntropySelector, ENTROPY_MODES, type EntropyConfig, type EntropyEvent, type EntropyMode, type EntropySnapshot } from './entropy.js';
export * as sim from './sim/index.js';
