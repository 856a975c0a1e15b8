/*
 * udp_limit: how fast UDP itself moves data over loopback on this machine, the ceiling
 * a UDP-based transport (softuet) is measured against, and how soon one datagram
 * crosses, its latency floor.  For the ceiling, a sender process streams messages of
 * -m bytes, cut into datagrams of -s bytes, to a receiver process on 127.0.0.1 for -T
 * seconds; the figure is what the receiver got per second (loopback drops what the
 * receiver cannot keep up with, so the sender's rate is no limit).
 *
 * Modes: mmsg (sendmmsg/recvmmsg batches of -b datagrams) and gso (each sendmmsg entry
 * a super-datagram segmented by the kernel with UDP_SEGMENT, received with UDP_GRO).
 * The receiver checks the payload of its last batch; a mismatch exits with status 3.
 *
 * Mode tcp is the peer row: the same pattern streamed over one TCP connection in
 * writes of -m bytes (no datagram size; one row), which is what libfabric's tcp and net
 * providers stand on. On some kernels loopback TCP moves bytes faster than UDP can,
 * and then no UDP transport can reach a given multiple of a TCP provider.
 *
 * Mode pingpong is the latency floor beside that ceiling: one datagram of each -s size
 * (1..65000 bytes) bounced between two connected UDP sockets on 127.0.0.1, a tenth of
 * -T of warm-up round trips, then round trips for -T seconds; the figure is one-way,
 * half a round trip, as fabtests' usec/xfer. Both sides poll with MSG_DONTWAIT and
 * never sleep, as softuet's CQ read does while traffic flows: a blocking recv would add
 * a wake-up of the receiving process to every trip (on a VM, several times the polled
 * round trip), and that is the scheduler's latency, not the transport's. Every 16
 * empty polls a side yields the CPU, as softuet's CQ read also does: it stays
 * runnable, but when the two share a CPU under other load, the peer it waits for gets
 * to answer within the time slice instead of after it (a whole slice a trip without the
 * yield). Mode pingpong-tcp is the same loop over one TCP connection with TCP_NODELAY.
 * The client checks every warm-up echo and the last timed one against what it sent,
 * the responder the length of every message; a mismatch exits with status 3.
 *
 * As a ceiling, each row is the best of -r runs (noise from other load only lowers it;
 * for the ping-pong floor, the lowest latency, as load only raises it), and with --pin
 * the two processes run on different CPUs (on a quiet machine that keeps them from
 * time-slicing one CPU; under other load it is slower than leaving placement to the
 * scheduler, so it is not the default).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define MAX_BATCH 1024
#define MAX_SIZES 16
#define SUPER_MAX 65000 /* payload of one GSO super-datagram (IPv4 limit is 65507) */
#define END_LEN 1       /* end-of-run markers are one byte; data datagrams are larger */
#define PP_BUF 65536    /* ping-pong receive buffer: any UDP datagram over loopback */
#define PP_WARM_MIN 16  /* ping-pong warm-up round trips, at the least */
#define PP_STALL_S 2.0  /* a ping-pong echo later than this was lost */
#define PP_YIELD_EVERY 16 /* empty ping-pong polls between yields, as softuet's CQ read */

enum mode { MODE_MMSG, MODE_GSO, MODE_TCP, MODE_PINGPONG, MODE_PINGPONG_TCP, NMODES };
static const char *const mode_names[] = {"mmsg", "gso", "tcp", "pingpong", "pingpong-tcp"};
#define MODE_LIST "mmsg, gso, tcp, pingpong, pingpong-tcp"
#define STREAM_MIN 64 /* smallest datagram of the streaming modes, well above END_LEN */

static bool is_pingpong(int m)
{
	return m == MODE_PINGPONG || m == MODE_PINGPONG_TCP;
}

static struct {
	size_t dgrams[MAX_SIZES];
	int ndgrams;
	size_t message;
	int batch;
	double seconds;
	bool modes[NMODES];
	bool json;
	bool pin;
	int reps;
	int timeout_s;
} o = {.dgrams = {4096, 9000, 65000}, .ndgrams = 3, .message = 1u << 20, .batch = 32,
       .seconds = 0.5, .modes = {true, true}, .pin = false, .reps = 1, .timeout_s = 300};

/* CPUs this process may run on; the sender takes the first, the receiver the last. */
static int cpu_first = -1, cpu_last = -1;

static void find_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (int i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (cpu_first < 0)
			cpu_first = i;
		cpu_last = i;
	}
}

static void pin_to(int cpu)
{
	if (!o.pin || cpu < 0 || cpu_first == cpu_last)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "udp_limit: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t pattern(size_t i, size_t dgram)
{
	return (uint8_t)(i * 131u + dgram * 7u + 0x5au);
}

/* Whether a received buffer is whole datagrams of the pattern (GRO joins several);
 * `expect` holds one datagram's worth. */
static bool payload_ok(const uint8_t *b, size_t len, const uint8_t *expect, size_t dgram)
{
	for (size_t off = 0; off < len; off += dgram) {
		size_t n = len - off < dgram ? len - off : dgram;
		if (memcmp(b + off, expect, n))
			return false;
	}
	return true;
}

struct rx_result {
	uint64_t bytes, dgrams;
	double seconds;
	int32_t checked, ok;
};

static void xwrite(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		die("pipe write: %s", strerror(errno));
}

static void xread(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("the receiver went away");
		got += (size_t)r;
	}
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	return fd;
}

static void big_buffers(int fd, int opt, int force_opt)
{
	int sz = 16 << 20;
	/* the FORCE variant exceeds rmem_max/wmem_max when allowed; else take what we get */
	if (setsockopt(fd, SOL_SOCKET, force_opt, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, opt, &sz, sizeof(sz));
}

static void receiver(int out, enum mode mode, size_t dgram)
{
	pin_to(cpu_last);
	int fd = udp_socket();
	big_buffers(fd, SO_RCVBUF, SO_RCVBUFFORCE);
	if (mode == MODE_GSO) {
		int on = 1;
		if (setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof(on)))
			die("UDP_GRO: %s", strerror(errno));
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		die("bind: %s", strerror(errno));
	socklen_t alen = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	size_t buflen = mode == MODE_GSO ? 65536 : dgram;
	int batch = o.batch;
	uint8_t *bufs = malloc(buflen * (size_t)batch);
	struct mmsghdr *msgs = calloc((size_t)batch, sizeof(*msgs));
	struct iovec *iov = calloc((size_t)batch, sizeof(*iov));
	if (!bufs || !msgs || !iov)
		die("out of memory");
	for (int i = 0; i < batch; i++) {
		iov[i].iov_base = bufs + (size_t)i * buflen;
		iov[i].iov_len = buflen;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	uint16_t port = ntohs(a.sin_port);
	xwrite(out, &port, sizeof(port));

	uint8_t *expect = malloc(dgram);
	for (size_t i = 0; i < dgram; i++)
		expect[i] = pattern(i, dgram);

	/* One datagram (or GRO super-datagram) of every batch is checked, right after it
	 * arrived: cheap (a memcmp of 1/batch of the bytes) and it covers the whole run. */
	struct rx_result r = {0};
	r.ok = 1;
	double first = 0, last = 0;
	bool ended = false;
	while (!ended) {
		int n = recvmmsg(fd, msgs, (unsigned)batch, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (r.bytes)
					break; /* idle after data: the end markers were lost */
				continue;
			}
			die("recvmmsg: %s", strerror(errno));
		}
		double t = now_s();
		int data = 0, probe = -1;
		for (int i = 0; i < n; i++) {
			size_t len = msgs[i].msg_len;
			if (len == END_LEN) {
				ended = true;
				continue;
			}
			r.bytes += len;
			r.dgrams += (len + dgram - 1) / dgram;
			data++;
			probe = i;
		}
		if (data) {
			if (!first)
				first = t;
			last = t;
			r.checked++;
			if (!payload_ok(iov[probe].iov_base, msgs[probe].msg_len, expect, dgram))
				r.ok = 0;
		}
	}
	r.seconds = last - first;
	xwrite(out, &r, sizeof(r));
	exit(0);
}

struct row {
	enum mode mode;
	size_t dgram;
	double tx_mbps, rx_mbps, loss;
	uint64_t rx_bytes;
	double seconds;
	bool ok;
	int checked;
	uint64_t iters; /* ping-pong: timed round trips */
	double usec;    /* ping-pong: one-way latency */
};

/* Forks the receiver. The child gets the write end of a result pipe in *fd and 0; the
 * parent, pinned to the sender's CPU, gets the read end and the child's pid. */
static pid_t fork_receiver(int *fd)
{
	int p[2];
	if (pipe(p))
		die("pipe: %s", strerror(errno));
	pid_t child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		*fd = p[1];
		return 0;
	}
	close(p[1]);
	pin_to(cpu_first);
	*fd = p[0];
	return child;
}

/* The receiver's result once it has seen the end of the run. */
static struct rx_result join_receiver(pid_t child, int fd)
{
	struct rx_result rr;
	xread(fd, &rr, sizeof(rr));
	int status;
	waitpid(child, &status, 0);
	close(fd);
	return rr;
}

static struct row run(enum mode mode, size_t dgram)
{
	int rp;
	pid_t child = fork_receiver(&rp);
	if (child == 0)
		receiver(rp, mode, dgram);
	uint16_t port;
	xread(rp, &port, sizeof(port));

	int fd = udp_socket();
	big_buffers(fd, SO_SNDBUF, SO_SNDBUFFORCE);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)))
		die("connect: %s", strerror(errno));

	/* unit: bytes handed to the kernel per mmsghdr entry */
	size_t unit = dgram;
	if (mode == MODE_GSO) {
		size_t segs = SUPER_MAX / dgram;
		if (segs < 1)
			segs = 1;
		if (segs > 64)
			segs = 64;
		unit = segs * dgram;
	}
	uint8_t *payload = malloc(unit);
	for (size_t i = 0; i < unit; i++)
		payload[i] = pattern(i % dgram, dgram);
	int batch = o.batch;
	struct mmsghdr *msgs = calloc((size_t)batch, sizeof(*msgs));
	struct iovec *iov = calloc((size_t)batch, sizeof(*iov));
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} *ctrl = calloc((size_t)batch, sizeof(*ctrl));
	for (int i = 0; i < batch; i++) {
		iov[i].iov_base = payload;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		if (mode == MODE_GSO) {
			msgs[i].msg_hdr.msg_control = ctrl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctrl[i].buf);
			struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t seg = (uint16_t)dgram;
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
		}
	}

	uint64_t tx_bytes = 0, tx_dgrams = 0;
	double t0 = now_s(), end = t0 + o.seconds, t1 = t0;
	size_t left = 0; /* of the current message */
	while (t1 < end) {
		int n = 0;
		while (n < batch) {
			if (left == 0)
				left = o.message;
			size_t len = left < unit ? left : unit;
			iov[n].iov_len = len;
			left -= len;
			n++;
		}
		int sent = 0;
		while (sent < n) {
			int r = sendmmsg(fd, msgs + sent, (unsigned)(n - sent), 0);
			if (r < 0) {
				if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
					continue;
				if (errno == ECONNREFUSED)
					continue; /* an ICMP from a moment the receiver was busy */
				if (errno == EIO && mode == MODE_GSO)
					die("UDP_SEGMENT is not supported here");
				die("sendmmsg: %s", strerror(errno));
			}
			for (int i = sent; i < sent + r; i++) {
				tx_bytes += iov[i].iov_len;
				tx_dgrams += (iov[i].iov_len + dgram - 1) / dgram;
			}
			sent += r;
		}
		t1 = now_s();
	}
	/* several one-byte markers: loopback may drop some when the receiver lags */
	uint8_t mark = 0;
	for (int i = 0; i < 20; i++) {
		if (send(fd, &mark, END_LEN, 0) < 0 && errno != ECONNREFUSED)
			break;
		usleep(1000);
	}
	struct rx_result rr = join_receiver(child, rp);
	close(fd);
	free(payload);
	free(msgs);
	free(iov);
	free(ctrl);

	struct row row = {.mode = mode, .dgram = dgram, .rx_bytes = rr.bytes,
			  .seconds = rr.seconds, .ok = rr.ok && rr.checked > 0,
			  .checked = rr.checked};
	row.tx_mbps = (double)tx_bytes / (t1 - t0) / 1e6;
	row.rx_mbps = rr.seconds > 0 ? (double)rr.bytes / rr.seconds / 1e6 : 0;
	row.loss = tx_dgrams ? 1.0 - (double)rr.dgrams / (double)tx_dgrams : 0;
	if (row.loss < 0)
		row.loss = 0;
	return row;
}

/* TCP stream peer: the receiver counts bytes from the first to the last read and
 * checks the start of every read against the pattern at its stream offset. */
static void tcp_receiver(int out, int lfd)
{
	pin_to(cpu_last);
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	big_buffers(fd, SO_RCVBUF, SO_RCVBUFFORCE);
	size_t buflen = 1u << 20, period = o.message;
	uint8_t *buf = malloc(buflen);
	if (!buf)
		die("out of memory");
	struct rx_result r = {.ok = 1};
	double first = 0, last = 0;
	uint64_t off = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, buflen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv: %s", strerror(errno));
		if (n == 0)
			break;
		double t = now_s();
		if (!first)
			first = t;
		last = t;
		size_t k = (size_t)n < 64 ? (size_t)n : 64;
		for (size_t i = 0; i < k; i++)
			if (buf[i] != pattern((off + i) % period, period))
				r.ok = 0;
		r.checked++;
		off += (uint64_t)n;
	}
	r.bytes = off;
	r.dgrams = 0;
	r.seconds = last - first;
	xwrite(out, &r, sizeof(r));
	exit(0);
}

static struct row run_tcp(void)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen))
		die("tcp listen: %s", strerror(errno));
	int rp;
	pid_t child = fork_receiver(&rp);
	if (child == 0)
		tcp_receiver(rp, lfd);
	close(lfd);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("tcp connect: %s", strerror(errno));
	big_buffers(fd, SO_SNDBUF, SO_SNDBUFFORCE);
	size_t unit = o.message;
	uint8_t *payload = malloc(unit);
	if (!payload)
		die("out of memory");
	for (size_t i = 0; i < unit; i++)
		payload[i] = pattern(i, unit);
	uint64_t tx_bytes = 0;
	double t0 = now_s(), end = t0 + o.seconds, t1 = t0;
	while (t1 < end) {
		size_t done = 0;
		while (done < unit) {
			ssize_t r = send(fd, payload + done, unit - done, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				die("send: %s", strerror(errno));
			done += (size_t)r;
		}
		tx_bytes += unit;
		t1 = now_s();
	}
	shutdown(fd, SHUT_WR);
	struct rx_result rr = join_receiver(child, rp);
	close(fd);
	free(payload);
	struct row row = {.mode = MODE_TCP, .dgram = unit, .rx_bytes = rr.bytes,
			  .seconds = rr.seconds, .ok = rr.ok && rr.checked > 0 && rr.bytes == tx_bytes,
			  .checked = rr.checked};
	row.tx_mbps = (double)tx_bytes / (t1 - t0) / 1e6;
	row.rx_mbps = rr.seconds > 0 ? (double)rr.bytes / rr.seconds / 1e6 : 0;
	return row;
}

/* ---- ping-pong: the latency floor ------------------------------------------------- */

/* Polls until all of `n` bytes went out. A UDP send is whole or fails; a TCP one may be
 * partial when the peer's window is short. */
static void pp_send(int fd, const uint8_t *b, size_t n, bool stream)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = send(fd, b + done, n - done, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				continue;
			die("ping-pong send: %s", strerror(errno));
		}
		if (!stream && (size_t)r != n)
			die("ping-pong send: %zd of %zu bytes", r, n);
		done += (size_t)r;
	}
}

/* Polls for one message: one datagram (its length returned, up to `cap`), or `n` bytes
 * of the stream. 0 is the end of the run: a zero-length datagram, or the peer's FIN.
 * With a deadline (> 0), a message that has not come by then ends the program: a lost
 * datagram would otherwise leave both sides polling until --timeout. */
static size_t pp_recv(int fd, uint8_t *b, size_t n, size_t cap, bool stream, double deadline)
{
	size_t got = 0;
	unsigned empty = 0;
	for (;;) {
		ssize_t r = recv(fd, b + got, stream ? n - got : cap, MSG_DONTWAIT);
		if (r > 0) {
			got += (size_t)r;
			if (!stream || got == n)
				return got;
			continue;
		}
		if (r == 0)
			return 0;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			die("ping-pong recv: %s", strerror(errno));
		if (++empty % PP_YIELD_EVERY == 0)
			sched_yield();
		if (deadline > 0 && now_s() > deadline)
			die("ping-pong: no echo within %.0f s (a datagram lost?)", PP_STALL_S);
	}
}

/* The far side: echoes each message of `size` bytes until the end of the run, then
 * reports how many it echoed and whether every one had the expected length. */
static void pp_responder(int out, int fd, size_t size, bool stream)
{
	pin_to(cpu_last);
	uint8_t *buf = malloc(PP_BUF);
	if (!buf)
		die("out of memory");
	struct rx_result r = {.ok = 1};
	for (;;) {
		size_t n = pp_recv(fd, buf, size, PP_BUF, stream, 0);
		if (n == 0)
			break;
		if (n != size)
			r.ok = 0;
		pp_send(fd, buf, n, stream);
		r.dgrams++;
		r.bytes += n;
	}
	r.checked = (int32_t)r.dgrams;
	xwrite(out, &r, sizeof(r));
	exit(0);
}

/* Two connected sockets on 127.0.0.1, made before the fork so that neither side has to
 * learn the other's port. */
static void pp_sockets(bool stream, int fds[2])
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in b = a;
	socklen_t alen = sizeof(a), blen = sizeof(b);
	if (stream) {
		int lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1) ||
		    getsockname(lfd, (struct sockaddr *)&a, &alen))
			die("tcp listen: %s", strerror(errno));
		fds[0] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof(a)))
			die("tcp connect: %s", strerror(errno));
		fds[1] = accept(lfd, NULL, NULL);
		if (fds[1] < 0)
			die("accept: %s", strerror(errno));
		close(lfd);
		int on = 1;
		for (int i = 0; i < 2; i++)
			if (setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)))
				die("TCP_NODELAY: %s", strerror(errno));
		return;
	}
	fds[0] = udp_socket();
	fds[1] = udp_socket();
	if (bind(fds[0], (struct sockaddr *)&a, sizeof(a)) ||
	    bind(fds[1], (struct sockaddr *)&b, sizeof(b)) ||
	    getsockname(fds[0], (struct sockaddr *)&a, &alen) ||
	    getsockname(fds[1], (struct sockaddr *)&b, &blen))
		die("bind: %s", strerror(errno));
	if (connect(fds[0], (struct sockaddr *)&b, sizeof(b)) ||
	    connect(fds[1], (struct sockaddr *)&a, sizeof(a)))
		die("connect: %s", strerror(errno));
}

static struct row run_pingpong(enum mode mode, size_t size)
{
	bool stream = mode == MODE_PINGPONG_TCP;
	int fds[2];
	pp_sockets(stream, fds);
	int rp;
	pid_t child = fork_receiver(&rp);
	if (child == 0) {
		close(fds[0]);
		pp_responder(rp, fds[1], size, stream);
	}
	close(fds[1]);
	int fd = fds[0];

	uint8_t *tx = malloc(size), *rx = malloc(PP_BUF);
	if (!tx || !rx)
		die("out of memory");
	for (size_t i = 0; i < size; i++)
		tx[i] = pattern(i, size);
	bool ok = true;
	int checked = 0;

	/* Warm-up: caches, the responder's first page faults, the scheduler's placement.
	 * Each echo is checked here, where the memcmp costs no measured time. */
	uint64_t warm = 0;
	double t = now_s(), warm_end = t + o.seconds / 10;
	while (warm < PP_WARM_MIN || t < warm_end) {
		pp_send(fd, tx, size, stream);
		size_t n = pp_recv(fd, rx, size, PP_BUF, stream, t + PP_STALL_S);
		ok = ok && n == size && !memcmp(rx, tx, size);
		checked++;
		warm++;
		t = now_s();
	}

	/* Timed: only the length is checked per trip (a memcmp of 64 KB would add a few
	 * microseconds to what is measured); the bytes of the last echo are checked after,
	 * into a buffer cleared first, as fi_bench checks its ping-pong once per size. */
	memset(rx, 0, size);
	uint64_t iters = 0;
	double t0 = now_s(), end = t0 + o.seconds;
	t = t0;
	while (t < end) {
		pp_send(fd, tx, size, stream);
		size_t n = pp_recv(fd, rx, size, PP_BUF, stream, t + PP_STALL_S);
		ok = ok && n == size;
		iters++;
		t = now_s();
	}
	double t1 = t;
	ok = ok && !memcmp(rx, tx, size);
	checked++;

	if (stream)
		shutdown(fd, SHUT_WR);
	else if (send(fd, tx, 0, 0) < 0)
		die("ping-pong send: %s", strerror(errno));
	struct rx_result rr = join_receiver(child, rp);
	close(fd);
	free(tx);
	free(rx);
	struct row row = {.mode = mode, .dgram = size, .iters = iters, .seconds = t1 - t0,
			  .checked = checked,
			  .ok = ok && rr.ok && rr.dgrams == warm + iters};
	row.usec = (t1 - t0) * 1e6 / (double)iters / 2;
	row.rx_bytes = 2 * iters * size;
	row.rx_mbps = (double)row.rx_bytes / (t1 - t0) / 1e6;
	row.tx_mbps = row.rx_mbps;
	return row;
}

static size_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		die("bad size '%s'", s);
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end)
		die("bad size '%s'", s);
	return (size_t)v;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: udp_limit [-s dgram,...] [-m message] [-b batch] [-M mode,...] "
		   "[-T seconds] [--timeout s] [--json]\n"
		   "  -s sizes    datagram payload sizes, %d..65000; pingpong from 1\n"
		   "              (default 4096,9000,65000)\n"
		   "  -m bytes    message size the stream is cut into (default 1m)\n"
		   "  -b batch    datagrams per sendmmsg/recvmmsg (default 32, max %d)\n"
		   "  -M modes    any of " MODE_LIST " (default mmsg,gso);\n"
		   "              tcp is one row: a TCP stream written in -m byte sends, the peer\n"
		   "              TCP providers use; pingpong bounces one datagram of each size\n"
		   "              between two polling processes (one-way usec, the latency floor),\n"
		   "              pingpong-tcp the same over one TCP_NODELAY connection\n"
		   "  -T seconds  time per run: sending, or timed round trips (default 0.5)\n"
		   "  -r reps     runs per row, the best (pingpong: the lowest) is reported\n"
		   "              (default 1)\n"
		   "  --pin       sender on the first allowed CPU, receiver on the last\n"
		   "exit status: 0 ok, 1 usage, 2 error, 3 payload mismatch\n",
		STREAM_MIN, MAX_BATCH);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 'O'},
		{"help", no_argument, NULL, 'h'},
		{"pin", no_argument, NULL, 'P'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *save, *t;
	while ((c = getopt_long(argc, argv, "s:m:b:M:T:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.ndgrams = 0;
			for (t = strtok_r(optarg, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (o.ndgrams == MAX_SIZES)
					die("at most %d sizes", MAX_SIZES);
				size_t v = parse_size(t);
				if (v < 1 || v > SUPER_MAX)
					die("datagram size must be in [1, %d], got %zu", SUPER_MAX, v);
				o.dgrams[o.ndgrams++] = v;
			}
			if (!o.ndgrams)
				die("no sizes given");
			break;
		case 'm':
			o.message = parse_size(optarg);
			if (o.message < 64)
				die("message size must be at least 64 bytes");
			break;
		case 'b':
			o.batch = atoi(optarg);
			if (o.batch < 1 || o.batch > MAX_BATCH)
				die("batch must be in [1, %d]", MAX_BATCH);
			break;
		case 'M':
			memset(o.modes, 0, sizeof(o.modes));
			for (t = strtok_r(optarg, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (!strcmp(t, "mmsg"))
					o.modes[MODE_MMSG] = true;
				else if (!strcmp(t, "gso"))
					o.modes[MODE_GSO] = true;
				else if (!strcmp(t, "tcp"))
					o.modes[MODE_TCP] = true;
				else if (!strcmp(t, "pingpong"))
					o.modes[MODE_PINGPONG] = true;
				else if (!strcmp(t, "pingpong-tcp"))
					o.modes[MODE_PINGPONG_TCP] = true;
				else
					die("unknown mode '%s' (" MODE_LIST ")", t);
			}
			break;
		case 'T':
			o.seconds = strtod(optarg, NULL);
			if (!(o.seconds > 0 && o.seconds <= 60))
				die("-T must be in (0, 60]");
			break;
		case 'r':
			o.reps = atoi(optarg);
			if (o.reps < 1 || o.reps > 100)
				die("-r must be in [1, 100]");
			break;
		case 'P': o.pin = true; break;
		case 'j': o.json = true; break;
		case 'O': o.timeout_s = atoi(optarg) > 0 ? atoi(optarg) : 300; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 1;
	}
	/* the streaming modes end a run with END_LEN markers, so their data must be larger */
	if (o.modes[MODE_MMSG] || o.modes[MODE_GSO])
		for (int i = 0; i < o.ndgrams; i++)
			if (o.dgrams[i] < STREAM_MIN)
				die("datagram size must be in [%d, %d] for mmsg and gso, got %zu",
				    STREAM_MIN, SUPER_MAX, o.dgrams[i]);
	alarm((unsigned)o.timeout_s);
	find_cpus();

	bool all_ok = true;
	int rows = 0;
	if (o.json)
		printf("{\"tool\":\"udp_limit\",\"message\":%zu,\"batch\":%d,\"seconds\":%.3f,"
		       "\"reps\":%d,\"pinned\":%s,\"rows\":[",
		       o.message, o.batch, o.seconds, o.reps,
		       o.pin && cpu_first != cpu_last ? "true" : "false");
	else
		printf("# udp_limit 127.0.0.1 message %zu batch %d seconds %.2f best of %d%s\n",
		       o.message, o.batch, o.seconds, o.reps,
		       o.pin && cpu_first != cpu_last ? " pinned" : "");
	fflush(stdout);
	/* rates and latencies have their own columns, each headed before its first row */
	bool rate_header = false, latency_header = false;
	for (int m = 0; m < NMODES; m++) {
		if (!o.modes[m])
			continue;
		bool pp = is_pingpong(m);
		for (int i = 0; i < (m == MODE_TCP ? 1 : o.ndgrams); i++) {
			struct row r = {0};
			for (int k = 0; k < o.reps; k++) {
				struct row x;
				if (m == MODE_TCP)
					x = run_tcp();
				else if (pp)
					x = run_pingpong((enum mode)m, o.dgrams[i]);
				else
					x = run((enum mode)m, o.dgrams[i]);
				all_ok = all_ok && x.ok;
				if (k == 0 || (pp ? x.usec < r.usec : x.rx_mbps > r.rx_mbps))
					r = x;
			}
			if (o.json && pp)
				printf("%s{\"mode\":\"%s\",\"dgram\":%zu,\"iters\":%llu,"
				       "\"time\":%.6f,\"usec_per_xfer\":%.3f,\"mb_per_sec\":%.3f,"
				       "\"check\":\"%s\"}",
				       rows++ ? "," : "", mode_names[m], r.dgram,
				       (unsigned long long)r.iters, r.seconds, r.usec, r.rx_mbps,
				       r.ok ? "ok" : "mismatch");
			else if (o.json)
				printf("%s{\"mode\":\"%s\",\"dgram\":%zu,\"message\":%zu,"
				       "\"tx_mb_per_sec\":%.3f,\"mb_per_sec\":%.3f,\"loss\":%.4f,"
				       "\"rx_bytes\":%llu,\"time\":%.6f,\"check\":\"%s\"}",
				       rows++ ? "," : "", mode_names[m], r.dgram, o.message,
				       r.tx_mbps, r.rx_mbps, r.loss, (unsigned long long)r.rx_bytes,
				       r.seconds, r.ok ? "ok" : "mismatch");
			else if (pp) {
				if (!latency_header)
					printf("%-14s%-8s%10s%12s%12s  %s\n", "mode", "dgram", "iters",
					       "usec/xfer", "MB/sec", "check");
				latency_header = true;
				printf("%-14s%-8zu%10llu%12.2f%12.2f  %s\n", mode_names[m], r.dgram,
				       (unsigned long long)r.iters, r.usec, r.rx_mbps,
				       r.ok ? "ok" : "MISMATCH");
			} else {
				if (!rate_header)
					printf("%-6s%-8s%12s%12s%8s  %s\n", "mode", "dgram", "tx MB/sec",
					       "MB/sec", "loss", "check");
				rate_header = true;
				printf("%-6s%-8zu%12.1f%12.1f%7.1f%%  %s\n", mode_names[m], r.dgram,
				       r.tx_mbps, r.rx_mbps, r.loss * 100, r.ok ? "ok" : "MISMATCH");
			}
			fflush(stdout);
		}
	}
	if (o.json)
		printf("],\"check\":\"%s\"}\n", all_ok ? "ok" : "mismatch");
	return all_ok ? 0 : 3;
}
