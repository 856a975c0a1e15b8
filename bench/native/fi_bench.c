/*
 * fi_bench: point-to-point bandwidth and latency over libfabric RDM endpoints, the
 * native baseline that the Node numbers in bench/p2p are compared against.
 *
 * One invocation runs both sides: the client re-executes itself as the server (fork +
 * exec, because fabric objects are not valid across a bare fork) and the two exchange
 * endpoint names and memory-region handles over a socketpair.  Everything binds to
 * 127.0.0.1.  With -P N, each side opens N independent pairs (own fabric, domain,
 * endpoint, CQ, AV, MR), each driven by its own thread, to measure scaling.
 *
 * Ops: write, read (RMA into/from the peer's registered buffer), send, tsend (the peer
 * keeps `window` receives posted), pingpong (one message each way per iteration; the
 * figures are one-way, as fabtests reports them).  The target buffer is cleared before
 * every size and checked after it, so a provider that drops or corrupts data fails
 * the run with exit status 3.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <rdma/fi_tagged.h>

#include "fi_softuet.h"

#define MAX_SIZES 64
#define MAX_PAIRS 64
#define MAX_ADDR 256
#define CTRL_LEN 64
#define DATA_TAG 0x5eedULL

enum op { OP_WRITE, OP_READ, OP_SEND, OP_TSEND, OP_PINGPONG };
static const char *const op_names[] = {"write", "read", "send", "tsend", "pingpong"};

struct opts {
	const char *prov;
	const char *node;
	enum op op;
	size_t sizes[MAX_SIZES];
	int nsizes;
	int window;
	long iters; /* 0: scale by size so each size runs about target_s */
	int pairs;
	double target_s;
	int timeout_s;
	bool json;
	bool stats; /* print softuet endpoint counters of each side at the end */
	bool probe;
	bool corrupt; /* self-test of the data check: spoil one byte at the source */
	int reps;
	int server_fd; /* >= 0 in the re-executed server process */
};

static struct opts o = {
	.prov = "tcp;ofi_rxm", .node = "127.0.0.1", .op = OP_WRITE, .window = 64, .pairs = 1,
	.target_s = 0.3, .timeout_s = 600, .reps = 1, .server_fd = -1,
};
static const char *role = "client";

static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fi_bench %s: ", role);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

#define CHECK(call)                                                                        \
	do {                                                                               \
		int _r = (int)(call);                                                      \
		if (_r)                                                                    \
			die("%s: %s (%d)", #call, fi_strerror(-_r), _r);                   \
	} while (0)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the control channel (socketpair between the two processes) ---------------------- */

static void xwrite(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("control channel write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void xread(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			die("peer closed the control channel");
		if (n < 0)
			die("control channel read: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

/* What each side tells the other about one pair. */
struct peer_info {
	uint32_t addrlen;
	uint8_t addr[MAX_ADDR];
	uint64_t rx_addr; /* the registered target buffer, as the peer must name it */
	uint64_t rx_key;
};

/* Per size: the client's command, the server's readiness, the server's result. */
struct cmd {
	uint32_t quit;
	uint64_t size;
	int64_t iters;
};
struct result {
	int32_t ok;
	int64_t bad_offset;
};

/* ---- one endpoint pair, one side ----------------------------------------------------- */

struct pair {
	int index;
	struct fid_fabric *fabric;
	struct fid_domain *domain;
	struct fid_ep *ep;
	struct fid_cq *cq;
	struct fid_av *av;
	struct fid_mr *mr;
	void *desc;
	char *buf; /* [tx: max][rx: max][ctrl tx][ctrl rx], one registration */
	char *tx, *rx, *ctrl_tx, *ctrl_rx;
	size_t max;
	fi_addr_t peer;
	uint64_t rem_addr, rem_key;
	size_t inject_size;

	int nslots;
	struct fi_context2 *ctx; /* nslots data contexts, then ctrl tx, ctrl rx */
	int *pend; /* data slots completed but not yet consumed by the loop */
	int npend;
	bool ctrl_tx_done, ctrl_rx_done;

	/* this run */
	size_t size;
	long iters;
	double elapsed;
	struct result res;
};

static struct fi_info *info;
static uint64_t mr_mode;

static struct fi_context2 *ctrl_tx_ctx(struct pair *p) { return &p->ctx[p->nslots]; }
static struct fi_context2 *ctrl_rx_ctx(struct pair *p) { return &p->ctx[p->nslots + 1]; }

/* Reads the CQ: data completions go to p->pend, control completions set flags. */
static void progress(struct pair *p)
{
	struct fi_cq_entry ent[32];
	for (;;) {
		ssize_t n = fi_cq_read(p->cq, ent, 32);
		if (n == -FI_EAGAIN)
			return;
		if (n == -FI_EAVAIL) {
			struct fi_cq_err_entry err = {0};
			char buf[256];
			fi_cq_readerr(p->cq, &err, 0);
			die("pair %d: completion error: %s (%d); provider: %s", p->index,
			    fi_strerror(err.err), err.err,
			    fi_cq_strerror(p->cq, err.prov_errno, err.err_data, buf, sizeof(buf)));
		}
		if (n < 0)
			die("pair %d: fi_cq_read: %s", p->index, fi_strerror((int)-n));
		for (ssize_t i = 0; i < n; i++) {
			struct fi_context2 *c = ent[i].op_context;
			if (c == ctrl_tx_ctx(p))
				p->ctrl_tx_done = true;
			else if (c == ctrl_rx_ctx(p))
				p->ctrl_rx_done = true;
			else if (c >= p->ctx && c < p->ctx + p->nslots)
				p->pend[p->npend++] = (int)(c - p->ctx);
			else
				die("pair %d: completion with unknown context %p", p->index, (void *)c);
		}
		if (n < 32)
			return;
	}
}

/* Posts with the provider's back-pressure: FI_EAGAIN means progress and try again. */
#define POST(p, call)                                                                      \
	do {                                                                               \
		ssize_t _r;                                                                \
		while ((_r = (call)) == -FI_EAGAIN)                                        \
			progress(p);                                                       \
		if (_r)                                                                    \
			die("pair %d: %s: %s", (p)->index, #call, fi_strerror((int)-_r));  \
	} while (0)

static void post_ctrl_recv(struct pair *p)
{
	p->ctrl_rx_done = false;
	POST(p, fi_recv(p->ep, p->ctrl_rx, CTRL_LEN, p->desc, p->peer, ctrl_rx_ctx(p)));
}

static void send_ctrl(struct pair *p)
{
	p->ctrl_tx_done = false;
	POST(p, fi_send(p->ep, p->ctrl_tx, CTRL_LEN, p->desc, p->peer, ctrl_tx_ctx(p)));
}

static void wait_flag(struct pair *p, bool *flag)
{
	while (!*flag)
		progress(p);
}

static void post_data(struct pair *p, enum op op, int slot, bool tx)
{
	void *ctx = &p->ctx[slot];
	size_t n = p->size;
	switch (op) {
	case OP_WRITE:
		POST(p, fi_write(p->ep, p->tx, n, p->desc, p->peer, p->rem_addr, p->rem_key, ctx));
		break;
	case OP_READ:
		POST(p, fi_read(p->ep, p->rx, n, p->desc, p->peer, p->rem_addr, p->rem_key, ctx));
		break;
	case OP_SEND:
	case OP_PINGPONG:
		if (tx)
			POST(p, fi_send(p->ep, op == OP_PINGPONG && o.server_fd >= 0 ? p->rx : p->tx,
					n, p->desc, p->peer, ctx));
		else
			POST(p, fi_recv(p->ep, p->rx, n, p->desc, p->peer, ctx));
		break;
	case OP_TSEND:
		if (tx)
			POST(p, fi_tsend(p->ep, p->tx, n, p->desc, p->peer, DATA_TAG, ctx));
		else
			POST(p, fi_trecv(p->ep, p->rx, n, p->desc, p->peer, DATA_TAG, 0, ctx));
		break;
	}
}

static uint8_t pattern(size_t i, size_t size)
{
	return (uint8_t)(i * 131u + size * 7u + 0x5au);
}

static void fill(char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (char)pattern(i, n);
}

/* Offset of the first byte that differs from the pattern, or -1. */
static long verify(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)b[i] != pattern(i, n))
			return (long)i;
	return -1;
}

/* An RMA write may complete at the initiator before the target has placed every byte
 * of the last writes; give placement a bounded moment while the target progresses. */
static long verify_placed(struct pair *p)
{
	long bad = verify(p->rx, p->size);
	double deadline = now_s() + 0.5;
	while (bad >= 0 && now_s() < deadline) {
		progress(p);
		bad = verify(p->rx, p->size);
	}
	return bad;
}

/* ---- the loops ------------------------------------------------------------------------ */

/* Keeps up to `window` initiator ops in flight until `iters` have completed. */
static void stream(struct pair *p, enum op op)
{
	int *free_slots = malloc(sizeof(int) * (size_t)p->nslots);
	int nfree = 0;
	long posted = 0, done = 0;
	for (int i = 0; i < p->nslots; i++)
		free_slots[nfree++] = i;
	while (done < p->iters) {
		while (posted < p->iters && nfree > 0) {
			post_data(p, op, free_slots[--nfree], true);
			posted++;
		}
		progress(p);
		while (p->npend > 0) {
			free_slots[nfree++] = p->pend[--p->npend];
			done++;
		}
	}
	free(free_slots);
}

/* Target of send/tsend: keeps `window` receives posted until `iters` have arrived. */
static void sink(struct pair *p, enum op op)
{
	long done = 0, posted = 0;
	/* the initial receives were posted before the client was told to start */
	posted = p->iters < p->nslots ? p->iters : p->nslots;
	while (done < p->iters) {
		progress(p);
		while (p->npend > 0) {
			int slot = p->pend[--p->npend];
			done++;
			if (posted < p->iters) {
				post_data(p, op, slot, false);
				posted++;
			}
		}
	}
}

static void wait_slots(struct pair *p, int *rx_done, int *tx_done)
{
	progress(p);
	while (p->npend > 0) {
		int slot = p->pend[--p->npend];
		if (slot == 0)
			(*rx_done)++;
		else
			(*tx_done)++;
	}
}

/* Ping-pong: slot 0 is the receive, slot 1 the send; small messages go by inject. */
static void pingpong(struct pair *p, bool client)
{
	int rx_done = 0, tx_done = 0, tx_posted = 0;
	bool use_inject = p->size <= p->inject_size;
	const char *src = client ? p->tx : p->rx;
	for (long i = 0; i < p->iters; i++) {
		if (!client) {
			while (rx_done == 0)
				wait_slots(p, &rx_done, &tx_done);
			rx_done--;
			if (i + 1 < p->iters)
				post_data(p, OP_PINGPONG, 0, false);
		}
		while (tx_done < tx_posted)
			wait_slots(p, &rx_done, &tx_done);
		if (use_inject) {
			POST(p, fi_inject(p->ep, src, p->size, p->peer));
		} else {
			post_data(p, OP_PINGPONG, 1, true);
			tx_posted++;
		}
		if (client) {
			while (rx_done == 0)
				wait_slots(p, &rx_done, &tx_done);
			rx_done--;
			if (i + 1 < p->iters)
				post_data(p, OP_PINGPONG, 0, false);
		}
	}
	while (tx_done < tx_posted)
		wait_slots(p, &rx_done, &tx_done);
}

/* ---- per-size work of one pair on each side -------------------------------------------- */

static pthread_barrier_t start_barrier;

static void *client_run(void *arg)
{
	struct pair *p = arg;
	enum op op = o.op;
	memset(p->rx, 0, p->size);
	fill(p->tx, p->size);
	if (o.corrupt && op != OP_READ)
		p->tx[p->size / 2] ^= 0x01;
	p->npend = 0;
	if (op == OP_PINGPONG)
		post_data(p, op, 0, false);
	else
		post_ctrl_recv(p); /* the server's acknowledgement */
	pthread_barrier_wait(&start_barrier);

	double t0 = now_s();
	switch (op) {
	case OP_WRITE:
	case OP_READ:
		stream(p, op);
		send_ctrl(p); /* "all my RMA completed" */
		wait_flag(p, &p->ctrl_rx_done);
		wait_flag(p, &p->ctrl_tx_done);
		break;
	case OP_SEND:
	case OP_TSEND:
		stream(p, op);
		wait_flag(p, &p->ctrl_rx_done);
		break;
	case OP_PINGPONG:
		pingpong(p, true);
		break;
	}
	p->elapsed = now_s() - t0;

	long bad = (op == OP_READ || op == OP_PINGPONG) ? verify(p->rx, p->size) : -1;
	p->res.ok = bad < 0;
	p->res.bad_offset = bad;
	return NULL;
}

static pthread_barrier_t prep_barrier;

static void *server_run(void *arg)
{
	struct pair *p = arg;
	enum op op = o.op;
	memset(p->rx, 0, p->size);
	if (op == OP_READ) {
		fill(p->rx, p->size);
		if (o.corrupt)
			p->rx[p->size / 2] ^= 0x01;
	}
	p->npend = 0;
	switch (op) {
	case OP_WRITE:
	case OP_READ:
		post_ctrl_recv(p);
		break;
	case OP_SEND:
	case OP_TSEND:
		for (long i = 0; i < p->iters && i < p->nslots; i++)
			post_data(p, op, (int)i, false);
		break;
	case OP_PINGPONG:
		post_data(p, op, 0, false);
		break;
	}
	pthread_barrier_wait(&prep_barrier);

	long bad = -1;
	switch (op) {
	case OP_WRITE:
	case OP_READ:
		wait_flag(p, &p->ctrl_rx_done);
		if (op == OP_WRITE)
			bad = verify_placed(p);
		send_ctrl(p);
		wait_flag(p, &p->ctrl_tx_done);
		break;
	case OP_SEND:
	case OP_TSEND:
		sink(p, op);
		bad = verify(p->rx, p->size);
		send_ctrl(p);
		wait_flag(p, &p->ctrl_tx_done);
		break;
	case OP_PINGPONG:
		pingpong(p, false);
		break;
	}
	p->res.ok = bad < 0;
	p->res.bad_offset = bad;
	return NULL;
}

/* ---- set-up ----------------------------------------------------------------------------- */

static void pin_to_loopback(void)
{
	setenv("FI_TCP_IFACE", "lo", 0);
	setenv("FI_SOCKETS_IFACE", "lo", 0);
	/* The project's providers (softuet) live beside bin/, in prov/. */
	if (!getenv("FI_PROVIDER_PATH")) {
		char exe[PATH_MAX], prov[PATH_MAX + 16];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = 0;
			char *slash = strrchr(exe, '/');
			if (slash) {
				*slash = 0;
				struct stat st;
				snprintf(prov, sizeof(prov), "%s/../prov", exe);
				if (stat(prov, &st) == 0 && S_ISDIR(st.st_mode))
					setenv("FI_PROVIDER_PATH", prov, 0);
			}
		}
	}
}

static void get_info(void)
{
	struct fi_info *hints = fi_allocinfo();
	if (!hints)
		die("fi_allocinfo failed");
	hints->ep_attr->type = FI_EP_RDM;
	hints->caps = FI_MSG | FI_TAGGED | FI_RMA;
	hints->mode = FI_CONTEXT | FI_CONTEXT2;
	hints->domain_attr->mr_mode =
		FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY | FI_MR_ENDPOINT;
	hints->domain_attr->threading = FI_THREAD_DOMAIN;
	hints->fabric_attr->prov_name = strdup(o.prov);
	int r = fi_getinfo(FI_VERSION(1, 17), o.node, NULL, FI_SOURCE, hints, &info);
	if (r)
		die("no provider '%s' with an RDM endpoint on %s: %s", o.prov, o.node,
		    fi_strerror(-r));
	fi_freeinfo(hints);
	mr_mode = info->domain_attr->mr_mode;
}

static void open_pair(struct pair *p, int index)
{
	p->index = index;
	CHECK(fi_fabric(info->fabric_attr, &p->fabric, NULL));
	CHECK(fi_domain(p->fabric, info, &p->domain, NULL));
	struct fi_cq_attr cq_attr = {.format = FI_CQ_FORMAT_CONTEXT, .wait_obj = FI_WAIT_NONE,
				     .size = (size_t)(2 * o.window + 64)};
	CHECK(fi_cq_open(p->domain, &cq_attr, &p->cq, NULL));
	struct fi_av_attr av_attr = {.type = FI_AV_UNSPEC, .count = 4};
	CHECK(fi_av_open(p->domain, &av_attr, &p->av, NULL));
	CHECK(fi_endpoint(p->domain, info, &p->ep, NULL));
	CHECK(fi_ep_bind(p->ep, &p->cq->fid, FI_TRANSMIT | FI_RECV));
	CHECK(fi_ep_bind(p->ep, &p->av->fid, 0));
	CHECK(fi_enable(p->ep));

	p->max = 8;
	for (int i = 0; i < o.nsizes; i++)
		if (o.sizes[i] > p->max)
			p->max = o.sizes[i];
	size_t len = 2 * p->max + 2 * CTRL_LEN;
	if (posix_memalign((void **)&p->buf, 4096, len))
		die("out of memory for %zu bytes", len);
	memset(p->buf, 0, len);
	p->tx = p->buf;
	p->rx = p->buf + p->max;
	p->ctrl_tx = p->rx + p->max;
	p->ctrl_rx = p->ctrl_tx + CTRL_LEN;
	uint64_t access = FI_SEND | FI_RECV | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
	CHECK(fi_mr_reg(p->domain, p->buf, len, access, 0, (uint64_t)index + 1, 0, &p->mr, NULL));
	if (mr_mode & FI_MR_ENDPOINT) {
		CHECK(fi_mr_bind(p->mr, &p->ep->fid, 0));
		CHECK(fi_mr_enable(p->mr));
	}
	p->desc = fi_mr_desc(p->mr);
	p->inject_size = info->tx_attr->inject_size;

	p->nslots = o.window < 2 ? 2 : o.window;
	p->ctx = calloc((size_t)p->nslots + 2, sizeof(*p->ctx));
	p->pend = calloc((size_t)p->nslots, sizeof(int));
	if (!p->ctx || !p->pend)
		die("out of memory");
}

static void describe(struct pair *p, struct peer_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	size_t len = MAX_ADDR;
	CHECK(fi_getname(&p->ep->fid, pi->addr, &len));
	pi->addrlen = (uint32_t)len;
	pi->rx_addr = (mr_mode & FI_MR_VIRT_ADDR) ? (uint64_t)(uintptr_t)p->rx
						  : (uint64_t)(p->rx - p->buf);
	pi->rx_key = fi_mr_key(p->mr);
}

static void connect_peer(struct pair *p, const struct peer_info *pi)
{
	int n = fi_av_insert(p->av, pi->addr, 1, &p->peer, 0, NULL);
	if (n != 1)
		die("pair %d: fi_av_insert returned %d", p->index, n);
	p->rem_addr = pi->rx_addr;
	p->rem_key = pi->rx_key;
}

/* With --stats on softuet: the endpoint's nonzero counters (retransmissions, NACKs,
 * unexpected messages...), one line per side and pair on stderr. Other providers have
 * no such interface and print nothing. */
static void print_stats(struct pair *p)
{
	struct fi_softuet_ops *ops = NULL;
	if (!o.stats || fi_open_ops(&p->domain->fid, FI_SOFTUET_OPS_NAME, 0, (void **)&ops, NULL) ||
	    !ops)
		return;
	struct fi_softuet_stat st[FI_SOFTUET_MAX_STATS];
	size_t n = FI_SOFTUET_MAX_STATS;
	if (ops->ep_stats(p->ep, st, &n))
		return;
	fprintf(stderr, "# stats %s pair %d:", role, p->index);
	for (size_t i = 0; i < n; i++)
		if (st[i].value)
			fprintf(stderr, " %s=%" PRIu64, st[i].name, st[i].value);
	fprintf(stderr, "\n");
}

static void close_pair(struct pair *p)
{
	print_stats(p);
	fi_close(&p->ep->fid);
	fi_close(&p->mr->fid);
	fi_close(&p->av->fid);
	fi_close(&p->cq->fid);
	fi_close(&p->domain->fid);
	fi_close(&p->fabric->fid);
	free(p->buf);
	free(p->ctx);
	free(p->pend);
}

/* Each pair exchanges one small message each way, so that connection set-up (rxm
 * connects on first use) is not charged to the first measured size. */
static void handshake(struct pair *p, bool client)
{
	post_ctrl_recv(p);
	if (client) {
		send_ctrl(p);
		wait_flag(p, &p->ctrl_rx_done);
		wait_flag(p, &p->ctrl_tx_done);
	} else {
		wait_flag(p, &p->ctrl_rx_done);
		send_ctrl(p);
		wait_flag(p, &p->ctrl_tx_done);
	}
}

/* Runs fn on every pair, one thread each, with the barrier sized for the caller too. */
static void run_pairs(struct pair *pairs, void *(*fn)(void *), pthread_barrier_t *barrier,
		      void (*at_barrier)(void))
{
	pthread_t th[MAX_PAIRS];
	pthread_barrier_init(barrier, NULL, (unsigned)o.pairs + 1);
	for (int i = 0; i < o.pairs; i++)
		if (pthread_create(&th[i], NULL, fn, &pairs[i]))
			die("pthread_create failed");
	pthread_barrier_wait(barrier);
	if (at_barrier)
		at_barrier();
	for (int i = 0; i < o.pairs; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(barrier);
}

/* ---- the two roles ---------------------------------------------------------------------- */

static int ctl = -1;
static void tell_ready(void)
{
	uint8_t ready = 1;
	xwrite(ctl, &ready, 1);
}

/* Opens this side's pairs, swaps addresses and keys with the other process over ctl
 * (the server speaks first) and connects each pair. */
static struct pair *open_pairs(bool client)
{
	struct pair *pairs = calloc((size_t)o.pairs, sizeof(*pairs));
	struct peer_info *mine = calloc((size_t)o.pairs, sizeof(*mine));
	struct peer_info *theirs = calloc((size_t)o.pairs, sizeof(*theirs));
	if (!pairs || !mine || !theirs)
		die("out of memory");
	for (int i = 0; i < o.pairs; i++) {
		open_pair(&pairs[i], i);
		describe(&pairs[i], &mine[i]);
	}
	size_t n = sizeof(*mine) * (size_t)o.pairs;
	if (client) {
		xread(ctl, theirs, n);
		xwrite(ctl, mine, n);
	} else {
		xwrite(ctl, mine, n);
		xread(ctl, theirs, n);
	}
	for (int i = 0; i < o.pairs; i++) {
		connect_peer(&pairs[i], &theirs[i]);
		handshake(&pairs[i], client);
	}
	free(mine);
	free(theirs);
	return pairs;
}

static int server_main(void)
{
	ctl = o.server_fd;
	struct pair *pairs = open_pairs(false);
	for (;;) {
		struct cmd c;
		xread(ctl, &c, sizeof(c));
		if (c.quit)
			break;
		for (int i = 0; i < o.pairs; i++) {
			pairs[i].size = c.size;
			pairs[i].iters = c.iters;
		}
		run_pairs(pairs, server_run, &prep_barrier, tell_ready);
		for (int i = 0; i < o.pairs; i++)
			xwrite(ctl, &pairs[i].res, sizeof(pairs[i].res));
	}
	for (int i = 0; i < o.pairs; i++)
		close_pair(&pairs[i]);
	fi_freeinfo(info);
	return 0;
}

/* fabtests-style human units: 4k, 1m (bytes, base 1024); 10k iterations (base 1000). */
static const char *human(char *buf, size_t len, double v, double base)
{
	static const char unit[] = " kmgt";
	int u = 0;
	while (v >= base && u < 4) {
		v /= base;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f", v);
	else if (v == (double)(long)v)
		snprintf(buf, len, "%ld%c", (long)v, unit[u]);
	else
		snprintf(buf, len, "%.1f%c", v, unit[u]);
	return buf;
}

struct row {
	size_t bytes;
	long iters;
	double total, time, mbps, usec, mxfers;
	bool ok;
	long bad_offset;
};

static void print_header(void)
{
	printf("%-10s%-8s%-8s%-9s%10s %12s %12s\n", "bytes", "iters", "total", "time",
	       "MB/sec", "usec/xfer", "Mxfers/sec");
	fflush(stdout);
}

static void print_row(const struct row *r)
{
	char b[32], it[32], tot[32], t[32];
	snprintf(t, sizeof(t), "%.2fs", r->time);
	printf("%-10s%-8s%-8s%-9s%10.2f %12.2f %12.4f%s\n", human(b, sizeof(b), (double)r->bytes, 1024),
	       human(it, sizeof(it), (double)r->iters, 1000), human(tot, sizeof(tot), r->total, 1024), t,
	       r->mbps, r->usec, r->mxfers, r->ok ? "" : "  DATA MISMATCH");
	fflush(stdout);
}

static void mr_mode_json(char *buf, size_t len)
{
	static const struct { uint64_t bit; const char *name; } bits[] = {
		{FI_MR_LOCAL, "FI_MR_LOCAL"},       {FI_MR_VIRT_ADDR, "FI_MR_VIRT_ADDR"},
		{FI_MR_ALLOCATED, "FI_MR_ALLOCATED"}, {FI_MR_PROV_KEY, "FI_MR_PROV_KEY"},
		{FI_MR_ENDPOINT, "FI_MR_ENDPOINT"},  {FI_MR_RAW, "FI_MR_RAW"},
	};
	size_t off = (size_t)snprintf(buf, len, "[");
	bool first = true;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (mr_mode & bits[i].bit) {
			off += (size_t)snprintf(buf + off, len - off, "%s\"%s\"", first ? "" : ",",
						bits[i].name);
			first = false;
		}
	snprintf(buf + off, len - off, "]");
}

/* One size, all pairs: returns the aggregate row. */
static struct row run_size(struct pair *pairs, size_t size, long iters)
{
	struct cmd c = {.quit = 0, .size = size, .iters = iters};
	xwrite(ctl, &c, sizeof(c));
	uint8_t ready;
	xread(ctl, &ready, 1);
	for (int i = 0; i < o.pairs; i++) {
		pairs[i].size = size;
		pairs[i].iters = iters;
	}
	run_pairs(pairs, client_run, &start_barrier, NULL);
	struct row r = {.bytes = size, .iters = iters, .ok = true, .bad_offset = -1};
	for (int i = 0; i < o.pairs; i++) {
		struct result sr;
		xread(ctl, &sr, sizeof(sr));
		if (!pairs[i].res.ok) {
			r.ok = false;
			r.bad_offset = pairs[i].res.bad_offset;
		}
		if (!sr.ok) {
			r.ok = false;
			r.bad_offset = sr.bad_offset;
		}
		if (pairs[i].elapsed > r.time)
			r.time = pairs[i].elapsed;
	}
	double xfers = (double)iters * o.pairs * (o.op == OP_PINGPONG ? 2 : 1);
	r.total = xfers * (double)size;
	r.mbps = r.total / r.time / 1e6;
	r.usec = r.time * 1e6 / xfers;
	r.mxfers = xfers / r.time / 1e6;
	return r;
}

/* Iterations for one size: short calibration runs, grown until one lasts a tenth of
 * the target (so start-up effects do not dominate), then scaled to the target time. */
static long pick_iters(struct pair *pairs, size_t size)
{
	if (o.iters > 0)
		return o.iters;
	long cal = (long)((32u << 20) / size);
	if (o.op == OP_PINGPONG)
		cal /= 16;
	if (cal < 8)
		cal = 8;
	if (cal > 1000)
		cal = 1000;
	double per = 0;
	for (int round = 0; round < 4; round++) {
		struct row r = run_size(pairs, size, cal);
		if (!r.ok)
			return cal; /* the measured run reports the mismatch */
		per = r.time / (double)cal;
		if (r.time >= o.target_s / 10)
			break;
		double grow = (o.target_s / 10) / (r.time > 1e-6 ? r.time : 1e-6);
		cal = (long)((double)cal * (grow > 16 ? 16 : grow)) + 1;
	}
	long iters = (long)(o.target_s / (per > 1e-9 ? per : 1e-9));
	if (iters < 10)
		iters = 10;
	if (iters > 10000000)
		iters = 10000000;
	return iters;
}

static int cmp_time(const void *a, const void *b)
{
	double x = ((const struct row *)a)->time, y = ((const struct row *)b)->time;
	return (x > y) - (x < y);
}

/* Repeats a size (same iterations) and keeps the run of median time: a single run on
 * a shared machine is at the mercy of whatever else was scheduled meanwhile. */
static struct row median_run(struct pair *pairs, size_t size, long iters, struct row first)
{
	struct row runs[100];
	runs[0] = first;
	for (int i = 1; i < o.reps; i++) {
		runs[i] = run_size(pairs, size, iters);
		if (!runs[i].ok)
			return runs[i];
	}
	qsort(runs, (size_t)o.reps, sizeof(runs[0]), cmp_time);
	return runs[o.reps / 2];
}

static int client_main(char **argv)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair: %s", strerror(errno));
	pid_t child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int argc = 0;
		while (argv[argc])
			argc++;
		char **args = calloc((size_t)argc + 3, sizeof(char *));
		char fdarg[32];
		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		for (int i = 0; i < argc; i++)
			args[i] = argv[i];
		args[argc] = "--server-fd";
		args[argc + 1] = fdarg;
		/* argv[0] when it is a path: under valgrind /proc/self/exe is the tool. */
		execv(strchr(argv[0], '/') ? argv[0] : "/proc/self/exe", args);
		fprintf(stderr, "fi_bench: exec of the server failed: %s\n", strerror(errno));
		_exit(2);
	}
	close(sv[1]);
	ctl = sv[0];

	struct pair *pairs = open_pairs(true);

	char modes[256];
	mr_mode_json(modes, sizeof(modes));
	const char *progress_mode =
		info->domain_attr->data_progress == FI_PROGRESS_AUTO ? "auto" : "manual";
	if (o.json) {
		printf("{\"tool\":\"fi_bench\",\"libfabric\":\"%u.%u\",\"provider\":\"%s\","
		       "\"fabric\":\"%s\",\"endpoint\":\"rdm\",\"op\":\"%s\",\"pairs\":%d,"
		       "\"window\":%d,\"progress\":\"%s\",\"mr_mode\":%s,\"inject_size\":%zu,"
		       "\"rows\":[",
		       FI_MAJOR(fi_version()), FI_MINOR(fi_version()), info->fabric_attr->prov_name,
		       info->fabric_attr->name, op_names[o.op], o.pairs, o.window, progress_mode,
		       modes, info->tx_attr->inject_size);
	} else {
		printf("# fi_bench libfabric %u.%u provider %s fabric %s ep rdm op %s pairs %d "
		       "window %d progress %s mr_mode %s\n",
		       FI_MAJOR(fi_version()), FI_MINOR(fi_version()), info->fabric_attr->prov_name,
		       info->fabric_attr->name, op_names[o.op], o.pairs,
		       o.op == OP_PINGPONG ? 1 : o.window, progress_mode, modes);
		print_header();
	}

	bool all_ok = true;
	for (int s = 0; s < o.nsizes; s++) {
		size_t size = o.sizes[s];
		long iters = pick_iters(pairs, size);
		struct row r = run_size(pairs, size, iters);
		/* a calibration that ran slow (start-up, a busy machine) gives a run too short
		 * to trust: run again, scaled, at most twice */
		for (int again = 0; again < 2 && o.iters == 0 && r.ok && r.time < o.target_s / 3;
		     again++) {
			double scale = o.target_s / (r.time > 1e-6 ? r.time : 1e-6);
			iters = (long)((double)iters * (scale > 100 ? 100 : scale)) + 1;
			r = run_size(pairs, size, iters);
		}
		if (o.reps > 1 && r.ok)
			r = median_run(pairs, size, iters, r);
		all_ok = all_ok && r.ok;
		if (o.json)
			printf("%s{\"bytes\":%zu,\"iters\":%ld,\"total\":%.0f,\"time\":%.6f,"
			       "\"mb_per_sec\":%.3f,\"usec_per_xfer\":%.4f,\"mxfers_per_sec\":%.6f,"
			       "\"check\":\"%s\"}",
			       s ? "," : "", r.bytes, r.iters, r.total, r.time, r.mbps, r.usec,
			       r.mxfers, r.ok ? "ok" : "mismatch");
		else
			print_row(&r);
		if (!r.ok)
			fprintf(stderr, "fi_bench: data mismatch at %zu bytes, offset %ld\n", size,
				r.bad_offset);
	}
	if (o.json)
		printf("],\"check\":\"%s\"}\n", all_ok ? "ok" : "mismatch");
	fflush(stdout);

	struct cmd quit = {.quit = 1};
	xwrite(ctl, &quit, sizeof(quit));
	int status = 0;
	waitpid(child, &status, 0);
	for (int i = 0; i < o.pairs; i++)
		close_pair(&pairs[i]);
	fi_freeinfo(info);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "fi_bench: server exited abnormally (status %d)\n", status);
		return 2;
	}
	return all_ok ? 0 : 3;
}

/* ---- arguments ------------------------------------------------------------------------- */

static size_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		die("bad size '%s'", s);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		die("bad size '%s'", s);
	return (size_t)v;
}

/* "all" (8 B .. 4 MiB), "LO:HI" (powers of two), or a comma list ("8,4k,1m"). */
static void parse_sizes(const char *arg)
{
	o.nsizes = 0;
	char *copy = strdup(arg), *save = NULL;
	const char *colon = strchr(arg, ':');
	if (!strcmp(arg, "all") || colon) {
		size_t lo = 8, hi = 4u << 20;
		if (colon) {
			copy[colon - arg] = 0;
			lo = parse_size(copy);
			hi = parse_size(copy + (colon - arg) + 1);
		}
		if (lo == 0 || lo > hi)
			die("bad size range '%s'", arg);
		for (size_t v = lo; v <= hi && o.nsizes < MAX_SIZES; v *= 2)
			o.sizes[o.nsizes++] = v;
	} else {
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (o.nsizes == MAX_SIZES)
				die("at most %d sizes", MAX_SIZES);
			o.sizes[o.nsizes++] = parse_size(t);
		}
	}
	free(copy);
	for (int i = 0; i < o.nsizes; i++)
		if (o.sizes[i] == 0)
			die("sizes must be at least 1 byte");
	if (o.nsizes == 0)
		die("no sizes in '%s'", arg);
}

static long parse_long(const char *s, const char *what, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die("%s must be an integer in [%ld, %ld], got '%s'", what, lo, hi, s);
	return v;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fi_bench [-p provider] [-e rdm] [-t op] [-S sizes] [-w window] [-I iters]\n"
		"                [-P pairs] [-T seconds] [-n node] [--timeout s] [--json]\n"
		"  -p provider   libfabric provider (default tcp;ofi_rxm)\n"
		"  -e rdm        endpoint type (only rdm)\n"
		"  -t op         write | read | send | tsend | pingpong (default write)\n"
		"  -S sizes      all (8 B..4 MiB), LO:HI powers of two, or a list 8,4k,1m\n"
		"  -w window     operations in flight for bandwidth (default 64)\n"
		"  -I iters      iterations per size (default: scaled to -T per size)\n"
		"  -P pairs      concurrent endpoint pairs, one thread each (default 1)\n"
		"  -T seconds    target time per size when -I is not given (default 0.3)\n"
		"  -r reps       measured runs per size; the median is reported (default 1)\n"
		"  -n node       address to bind (default 127.0.0.1; keep it on loopback)\n"
		"  --timeout s   abort the whole run after s seconds (default 600)\n"
		"  --json        one JSON document on stdout instead of the table\n"
		"  --probe       only check that the provider offers what the bench needs\n"
		"  --corrupt     spoil one source byte, to show that the data check fails\n"
		"  --stats       print softuet's endpoint counters of both sides on stderr\n"
		"exit status: 0 ok, 1 usage, 2 error, 3 data mismatch\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"probe", no_argument, NULL, 'R'},
		{"corrupt", no_argument, NULL, 'C'},
		{"stats", no_argument, NULL, 'X'},
		{"timeout", required_argument, NULL, 'O'},
		{"server-fd", required_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	parse_sizes("all");
	int c;
	while ((c = getopt_long(argc, argv, "p:e:t:S:w:I:P:T:n:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.prov = optarg; break;
		case 'e':
			if (strcmp(optarg, "rdm"))
				die("only -e rdm is supported, got '%s'", optarg);
			break;
		case 't': {
			int i;
			for (i = 0; i < 5; i++)
				if (!strcmp(optarg, op_names[i]))
					break;
			if (i == 5)
				die("unknown op '%s' (write, read, send, tsend, pingpong)", optarg);
			o.op = (enum op)i;
			break;
		}
		case 'S': parse_sizes(optarg); break;
		case 'w': o.window = (int)parse_long(optarg, "-w", 1, 4096); break;
		case 'I': o.iters = parse_long(optarg, "-I", 1, 1000000000L); break;
		case 'P': o.pairs = (int)parse_long(optarg, "-P", 1, MAX_PAIRS); break;
		case 'T': {
			char *end;
			o.target_s = strtod(optarg, &end);
			if (*end || !(o.target_s > 0 && o.target_s <= 60))
				die("-T must be in (0, 60] seconds, got '%s'", optarg);
			break;
		}
		case 'n': o.node = optarg; break;
		case 'j': o.json = true; break;
		case 'R': o.probe = true; break;
		case 'C': o.corrupt = true; break;
		case 'X': o.stats = true; break;
		case 'r': o.reps = (int)parse_long(optarg, "-r", 1, 100); break;
		case 'O': o.timeout_s = (int)parse_long(optarg, "--timeout", 1, 86400); break;
		case 'F': o.server_fd = (int)parse_long(optarg, "--server-fd", 0, 1 << 20); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fi_bench: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (o.server_fd >= 0)
		role = "server";
	/* Every run is bounded: the default SIGALRM action ends the process. */
	alarm((unsigned)o.timeout_s);
	signal(SIGPIPE, SIG_IGN);
	pin_to_loopback();
	get_info();
	if (o.probe) {
		char modes[256];
		mr_mode_json(modes, sizeof(modes));
		printf("{\"tool\":\"fi_bench\",\"libfabric\":\"%u.%u\",\"provider\":\"%s\","
		       "\"fabric\":\"%s\",\"progress\":\"%s\",\"mr_mode\":%s,"
		       "\"inject_size\":%zu}\n",
		       FI_MAJOR(fi_version()), FI_MINOR(fi_version()), info->fabric_attr->prov_name,
		       info->fabric_attr->name,
		       info->domain_attr->data_progress == FI_PROGRESS_AUTO ? "auto" : "manual",
		       modes, info->tx_attr->inject_size);
		fi_freeinfo(info);
		return 0;
	}
	return o.server_fd >= 0 ? server_main() : client_main(argv);
}
