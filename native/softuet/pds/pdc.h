// PDC identity and lifecycle rules that need no sockets, so they can be unit-tested:
// the initiator's lookup key {peer, delivery mode, traffic class}, the ROD acceptance
// rule, the target's CLEAR bookkeeping, idle detection, and the mapping of libfabric
// traffic classes to the DSCP the packets carry (UET over UDP has no TC field in its
// own headers; the class travels in the IP header).
#pragma once
#include <cstdint>

#include "pds/window.h"

namespace softuet {

// Initiator PDC lookup key (digest §2.7: {mode, JobID, src FA, dst FA, TC}; JobID and the
// source address are the endpoint's own, so the peer, the mode and the class remain).
// peer48 is the peer's IPv4 address and UDP port as (addr << 16 | port).
inline uint64_t pdc_key(uint64_t peer48, bool rod, uint8_t tc) {
  return peer48 | (uint64_t)(rod ? 1 : 0) << 48 | (uint64_t)tc << 56;
}

// What a target does with a request PSN on a ROD PDC: only the next expected PSN is
// handed to SES; anything further ahead is dropped and NACKed with ROD_OOO so the
// initiator goes back to the expected PSN (digest §2.7 ROD).
enum class RodVerdict { ACCEPT, DUP, OUT_OF_ORDER, OUT_OF_WINDOW };
inline RodVerdict rod_check(const RxTracker &rx, uint32_t psn) {
  RxTracker::Verdict v = rx.check(psn);
  if (v == RxTracker::DUP) return RodVerdict::DUP;
  if (v == RxTracker::OUT_OF_WINDOW) return RodVerdict::OUT_OF_WINDOW;
  return psn == rx.cack() + 1 ? RodVerdict::ACCEPT : RodVerdict::OUT_OF_ORDER;
}

// clear_psn_offset is 16 bits. An initiator whose clear point lies further back than
// that cannot express it; it sends this value, which the target reads as "no news"
// (clamping would claim a clear point the initiator has not reached).
constexpr int16_t kClearUnknown = -32768;
inline int16_t clear_offset(uint32_t clear_psn, uint32_t psn) {
  int32_t d = (int32_t)(clear_psn - psn);
  return d <= -32768 || d > 32767 ? kClearUnknown : (int16_t)d;
}

// Target side of CLEAR: the highest PSN for which the initiator has seen every ACK and
// response, so retained answers (message records, fetched atomic results) up to it may
// go. Never beyond the target's own CACK: a clear point there would be a forged one.
struct ClearPoint {
  uint32_t psn = 0;
  bool dirty = false;  // advanced since the last purge
  void init(uint32_t start_psn) { psn = start_psn - 1; dirty = false; }
  bool note(uint32_t c, uint32_t cack) {
    if (!psn_lt(psn, c) || !psn_le(c, cack)) return false;
    psn = c;
    dirty = true;
    return true;
  }
};

// Idle detection from periodic samples: `mark` is any value that changes with activity
// (a PSN), so the data path needs no hook. Returns how long the state has been idle.
struct IdleClock {
  uint64_t since = 0;
  uint64_t mark = ~0ull;
  uint64_t idle_for(bool idle, uint64_t mark_now, uint64_t now) {
    if (!idle || mark_now != mark) {
      mark = mark_now;
      since = now;
      return 0;
    }
    return now > since ? now - since : 0;  // a clock source that stepped back counts as busy
  }
};

// libfabric traffic class to DSCP (0..63), or -1 for "leave the socket default".
// Labels follow common DiffServ use: low latency EF, network control CS6, bulk AF11,
// scavenger CS1, dedicated access AF41, best effort CS0.
inline int dscp_of_tclass(uint32_t tclass) {
  if ((tclass & ~0xffu) == 0x100) return (tclass & 0xff) < 64 ? (int)(tclass & 0xff) : -2;  // FI_TC_DSCP
  switch (tclass) {
    case 0: return -1;        // FI_TC_UNSPEC
    case 0x200: return 0;     // FI_TC_BEST_EFFORT
    case 0x201: return 46;    // FI_TC_LOW_LATENCY
    case 0x202: return 34;    // FI_TC_DEDICATED_ACCESS
    case 0x203: return 10;    // FI_TC_BULK_DATA
    case 0x204: return 8;     // FI_TC_SCAVENGER
    case 0x205: return 48;    // FI_TC_NETWORK_CTRL
    default: return -2;       // not a traffic class
  }
}

}  // namespace softuet
