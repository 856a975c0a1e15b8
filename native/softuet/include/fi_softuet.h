/*
 * Public extension interface of the softuet provider: what a libfabric application
 * (and the Node binding) can ask of softuet beyond the standard fi_* calls.
 *
 *   struct fi_softuet_ops *ops;
 *   fi_open_ops(&domain->fid, FI_SOFTUET_OPS_NAME, 0, (void **)&ops, NULL);
 *   struct fi_softuet_stat st[FI_SOFTUET_MAX_STATS];
 *   size_t n = FI_SOFTUET_MAX_STATS;
 *   ops->ep_stats(ep, st, &n);
 *
 * Statistics are a name/value list rather than a struct so that adding a counter
 * never breaks a caller compiled against an older header.
 *
 * Endpoint options (fi_setopt/fi_getopt, level FI_OPT_ENDPOINT), for settings that
 * differ between endpoints of one process, where an environment variable cannot:
 *
 *   size_t mtu = 1024;
 *   int cc = FI_SOFTUET_CC_NSCC;
 *   fi_setopt(&ep->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_MTU, &mtu, sizeof mtu);
 *   fi_setopt(&ep->fid, FI_OPT_ENDPOINT, FI_OPT_SOFTUET_CC, &cc, sizeof cc);
 *   fi_enable(ep);
 *
 *   FI_OPT_SOFTUET_MTU  size_t, payload bytes per packet (256..16000; 0: the default).
 *                       Beats FI_SOFTUET_MTU. The endpoint still takes injects up to
 *                       its info's inject_size (in several packets if need be);
 *                       an atomic still fits one packet.
 *   FI_OPT_SOFTUET_CC   int, FI_SOFTUET_CC_* bits (0: none). Beats FI_SOFTUET_CC.
 * Both are set before fi_enable (afterwards: -FI_EOPBADSTATE); fi_getopt reports what
 * the endpoint uses or, before fi_enable, would use.
 *
 * Environment variables read by the provider:
 *   FI_SOFTUET_PORT_BASE     first UDP port tried for an endpoint (4793)
 *   FI_SOFTUET_MTU           payload bytes per packet (256..16000; default: what the
 *                            bound interface carries unfragmented after the headers,
 *                            a multiple of 64, at most 16000: 16000 on loopback)
 *   FI_SOFTUET_MPR           PSNs in flight per PDC (512, at most 1024)
 *   FI_SOFTUET_RTO_MS        retransmission timeout floor (10); a PDC whose round trips
 *                            are longer uses SRTT + 4 RTTVAR instead, up to 8x the floor
 *   FI_SOFTUET_UNEXPECTED_MAX  bytes of unexpected sends buffered per endpoint (64 MiB)
 *   FI_SOFTUET_CC            congestion management: "nscc+rccc" (default), "nscc",
 *                            "rccc" or "off". NSCC: a window per PDC gates transmission;
 *                            RCCC: initiators send against credit the target grants
 *   FI_SOFTUET_LINK_GBPS     link rate NSCC and the RCCC grant pacer assume (100)
 *   FI_SOFTUET_BASE_RTT_US   network RTT NSCC derives its parameters from (1000)
 *   FI_SOFTUET_CC_MIN_PKTS   NSCC window floor in packets (8)
 *   FI_SOFTUET_EV            entropy of RUD packets: "reps" (default), "oblivious",
 *                            "bitmap", "ecmp" or "off"; the EV is the UDP source port,
 *                            one send socket per EV (ROD PDCs keep the endpoint's)
 *   FI_SOFTUET_EV_PATHS      EVs (send sockets) per endpoint, a power of two (4, <= 64)
 *   FI_SOFTUET_EV_TRAIN      packets sent on one EV before the next is picked; 0 (default):
 *                            what one UDP GSO send carries (15 at the 4 KiB MTU), 1: per
 *                            packet (every datagram then is a send of its own)
 *   FI_SOFTUET_JOB_ID        SES job_id put in requests (1)
 *   FI_SOFTUET_LINGER_MS     quiet time an endpoint keeps answering peers on close (60)
 *   FI_SOFTUET_PDC_IDLE_MS   a PDC idle this long is closed (CLOSE handshake) and the
 *                            next operation opens a new one; 0 keeps PDCs open (1000)
 *   FI_SOFTUET_PDC_MODE      "rod": every RDM endpoint uses ordered PDCs (by msg_order)
 *
 * Endpoint attributes: msg_order beyond FI_ORDER_SAS selects ordered (ROD) PDCs;
 * tx_attr->tclass (FI_TC_DSCP or a FI_TC_* label) sets the DSCP of its packets.
 * Statistics include pdc_opened, pdc_closed, pdc_closed_err (target side freed after
 * its CLOSE_REQs went unanswered), pdc_reopened (operations moved to a new PDC after
 * INV_DPDCID), close_tx, close_req_tx, clear_tx, clear_rx,
 * rod_ooo_drops, rod_goback, bad_job_rx, rod (1 on a ROD endpoint), dscp, ev_sprayed
 * (requests sent from an EV socket), rx_src_ports (distinct UDP source ports
 * requests arrived from), retx_gap and retx_rto (retransmissions for a SACK gap, for an
 * RTO), rx_late (new requests that arrived below the highest PSN of their PDC, i.e.
 * reordered or resent) and rx_late_max (the largest such distance in PSNs).
 * Domain-wide: thread_passes and thread_us (passes the progress thread made over the
 * endpoints while no application thread was polling a CQ, and their time) and handoffs
 * (a reader about to block handed progress to the thread).
 *   FI_SOFTUET_FAULT_DROP / _DUP / _REORDER / _CORRUPT   percent, transmit side (0)
 *   FI_SOFTUET_FAULT_SEED    seed of the fault injection (1)
 */
#ifndef FI_SOFTUET_H
#define FI_SOFTUET_H

#include <stddef.h>
#include <stdint.h>
#include <rdma/fabric.h>
#include <rdma/fi_endpoint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FI_SOFTUET_PROV_NAME "softuet"
#define FI_SOFTUET_OPS_NAME "softuet_ops_v1"
#define FI_SOFTUET_MAX_STATS 128

struct fi_softuet_stat {
	const char *name; /* static storage, e.g. "tx_pkts", "nack_rx.NO_PDC_AVAIL" */
	uint64_t value;
};

#define FI_PROV_SPECIFIC_SOFTUET (0x5e7 << 16)

enum {
	FI_OPT_SOFTUET_MTU = -(FI_PROV_SPECIFIC_SOFTUET),
	FI_OPT_SOFTUET_CC,
};

#define FI_SOFTUET_CC_NSCC 0x1 /* a window per PDC gates transmission */
#define FI_SOFTUET_CC_RCCC 0x2 /* initiators send against credit the target grants */

struct fi_softuet_ops {
	size_t size; /* sizeof(struct fi_softuet_ops) as built into the provider */
	/* Fills at most *count entries; sets *count to the number written.
	 * Returns 0, -FI_EINVAL for an endpoint that is not softuet's. */
	int (*ep_stats)(struct fid_ep *ep, struct fi_softuet_stat *stats, size_t *count);
};

#ifdef __cplusplus
}
#endif
#endif /* FI_SOFTUET_H */
