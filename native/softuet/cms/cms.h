// softuet congestion management sublayer: NSCC (nscc.h), RCCC (rccc.h) and entropy
// selection (entropy.h). Pure state machines with the same arithmetic as lib/cms, checked
// against the shared traces in test/vectors/cms-*.json by test/native/cms/cms_vectors_test.
//
// Data-path order per packet at the initiator:
//   if (nscc.canSend(in_flight, len) && (!rccc || rs.canSend(len))) {
//     ev = sel.next(); spec = rs.onSend(len); send with EV ev, credit_target rs.creditTarget()
//   }
// Per ACK: nscc.onAck(len, now - sent_at, M flag, now, in_flight); sel.onAck(ev_echo, M flag).
// Per NACK: nscc.onNack(len, now, code == TRIMMED_LASTHOP, in_flight); sel.onNack(ev_echo);
//           rs.enqueue(len) for the retransmission.
#pragma once

#include "cms/entropy.h"
#include "cms/nscc.h"
#include "cms/rccc.h"
