/*
 * nfq-accept: an accept-all NFQUEUE reader, the practical limit of the
 * NFQUEUE path that bench/traffic.sh sets gofwd beside (issue 6). It does
 * nothing but take each queued packet and let it go, so whatever gofwd
 * costs beyond it is gofwd's own.
 *
 *   nfq-accept [-b] [-q QUEUE] [-l QLEN]
 *
 * Two forms, one lever apart from each other as the anchors are:
 *   full (default)  copy the whole packet, one verdict per packet, no
 *                   NFQA_CFG_F_GSO (the kernel segments GSO packets before
 *                   queueing them), as the plain libnetfilter_queue example
 *                   does and as gofwd reads its queue today;
 *   -b (batch)      copy only the first 128 bytes (the headers), set
 *                   NFQA_CFG_F_GSO so a large TCP segment crosses once, and
 *                   send one NFQNL_MSG_VERDICT_BATCH per burst: after a
 *                   blocking receive, drain what is already queued (up to
 *                   BATCH messages) without blocking, then accept every id
 *                   up to the highest seen (nfqnl_recv_verdict_batch).
 * Both set NETLINK_NO_ENOBUFS, as gofwd does, and keep the default socket
 * buffer and a queue of QLEN (4096, gofwd's default) packets.
 *
 * It prints one line when the queue is bound, so the caller knows when to
 * install the divert, and the counts when SIGTERM or SIGINT stops it.
 *
 * Build: cc -O2 -Wall -o nfq-accept nfq-accept.c -lnetfilter_queue -lmnl
 * (Debian: libnetfilter-queue-dev libmnl-dev).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* BATCH bounds one burst, so verdicts go out while the queue is busy. */
#define BATCH 64
/* HDRCOPY is the header-only copy range of the batch form. */
#define HDRCOPY 128

static volatile sig_atomic_t stop;
static struct mnl_socket *nl;
static unsigned int portid;
static uint16_t qnum;
static int batch;
static unsigned long long packets, verdicts, senderr;

static void onsig(int sig) { (void)sig; stop = 1; }

static void die(const char *what)
{
	fprintf(stderr, "nfq-accept: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* verdict sends NF_ACCEPT for id, or for every id up to it (batch). */
static void verdict(uint32_t id)
{
	char buf[256];
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, batch ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT, qnum);
	nfq_nlmsg_verdict_put(nlh, id, NF_ACCEPT);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		senderr++;
	else
		verdicts++;
}

/* onpacket is called by mnl_cb_run for each queued packet. */
static int onpacket(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = {};
	struct nfqnl_msg_packet_hdr *ph;
	uint32_t *maxid = data;
	uint32_t id;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	packets++;
	if (batch)
		*maxid = id; /* ids rise within a queue */
	else
		verdict(id);
	return MNL_CB_OK;
}

/* config sends one NFQNL_MSG_CONFIG message and waits for its ack. */
static void config(struct nlmsghdr *nlh, const char *what)
{
	char buf[8192];
	int n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		die(what);
	n = mnl_socket_recvfrom(nl, buf, sizeof buf);
	if (n < 0 || mnl_cb_run(buf, n, 0, portid, NULL, NULL) < 0)
		die(what);
}

static void bind_queue(uint32_t qlen)
{
	char buf[256];
	struct nlmsghdr *nlh;
	int on = 1;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		die("mnl_socket_open");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("mnl_socket_bind");
	portid = mnl_socket_get_portid(nl);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, qnum);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	config(nlh, "binding the queue (is another program reading it?)");

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, qnum);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, batch ? HDRCOPY : 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, qlen);
	if (batch) {
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	}
	config(nlh, "configuring the queue");

	/* A full socket buffer drops messages; say nothing, as gofwd does. */
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);
}

int main(int argc, char **argv)
{
	/* Room for a full 64 KiB packet and its attributes. */
	static char buf[0x10000 + 8192];
	struct sigaction sa = {.sa_handler = onsig}; /* no SA_RESTART: recv returns EINTR */
	unsigned long qlen = 4096;
	int c, fd;

	while ((c = getopt(argc, argv, "bq:l:")) != -1) {
		switch (c) {
		case 'b':
			batch = 1;
			break;
		case 'q':
			qnum = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			qlen = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: nfq-accept [-b] [-q QUEUE] [-l QLEN]\n");
			return 2;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	bind_queue((uint32_t)qlen);
	fd = mnl_socket_get_fd(nl);
	printf("nfq-accept: queue %u bound (%s)\n", qnum, batch ? "batch" : "full");
	fflush(stdout);

	while (!stop) {
		unsigned long long before = packets;
		uint32_t maxid = 0;
		int n, k;

		n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			die("recv");
		}
		mnl_cb_run(buf, n, 0, portid, onpacket, &maxid);
		if (!batch)
			continue;
		for (k = 1; k < BATCH && !stop; k++) {
			n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
			if (n < 0)
				break;
			mnl_cb_run(buf, n, 0, portid, onpacket, &maxid);
		}
		if (packets != before)
			verdict(maxid);
	}
	printf("nfq-accept: queue %u: %llu packets, %llu verdicts, %llu failed sends\n",
	       qnum, packets, verdicts, senderr);
	mnl_socket_close(nl);
	return 0;
}
