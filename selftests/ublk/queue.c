// SPDX-License-Identifier: GPL-2.0
/*
 * The queue threads, shared by every target.
 *
 * One thread per hardware queue.  It maps the queue's I/O descriptors
 * (read-only, written by the kernel), fetches every tag of the queue with
 * UBLK_U_IO_FETCH_REQ on its own io_uring, and then loops: a CQE of a
 * ublk command is a request for its tag, handed to the target's
 * queue_io(); the target completes it with ublk_complete_io(), at once or
 * from io_done() for the SQEs it queued on the same ring, and that sends
 * UBLK_U_IO_COMMIT_AND_FETCH_REQ with the result.  A command completed
 * with UBLK_IO_RES_ABORT is not fetched again; the thread ends when every
 * tag was aborted and no target I/O is left.
 *
 * Data: in the default copy mode each tag has a buffer given to the kernel
 * with the fetch (the kernel copies write data into it before the request
 * reaches us, and read data out of it at commit).  With UBLK_F_USER_COPY
 * the buffers are ours only: write data is read from /dev/ublkcN with
 * pread() at the tag's offset before queue_io(), read data written there
 * with pwrite() before the commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ublk.h"

static const char *const op_names[] = {
	[UBLK_IO_OP_READ] = "READ",
	[UBLK_IO_OP_WRITE] = "WRITE",
	[UBLK_IO_OP_FLUSH] = "FLUSH",
	[UBLK_IO_OP_DISCARD] = "DISCARD",
	[UBLK_IO_OP_WRITE_SAME] = "WRITE_SAME",
	[UBLK_IO_OP_WRITE_ZEROES] = "WRITE_ZEROES",
};

const char *ublk_op_name(unsigned int op)
{
	if (op < sizeof(op_names) / sizeof(op_names[0]) && op_names[op])
		return op_names[op];
	return "UNKNOWN";
}

static const char *const state_names[] = {
	[IO_KERNEL] = "kernel",
	[IO_HELD] = "held",
	[IO_TARGET] = "target",
	[IO_ABORTED] = "aborted",
};

static unsigned int cmd_buf_size(unsigned int depth)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t sz = depth * sizeof(struct ublksrv_io_desc);

	return (sz + page - 1) / page * page;
}

static bool user_copy(const struct ublk_queue *q)
{
	return q->dev->info.flags & UBLK_F_USER_COPY;
}

static off_t user_copy_pos(const struct ublk_queue *q, int tag)
{
	return UBLKSRV_IO_BUF_OFFSET +
	       ((off_t)q->q_id << UBLK_QID_OFF) +
	       ((off_t)tag << UBLK_TAG_OFF);
}

static void set_state(struct ublk_io *io, int state)
{
	__atomic_store_n(&io->state, state, __ATOMIC_RELEASE);
}

static struct io_uring_sqe *get_sqe(struct ublk_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	return sqe;
}

/* FETCH_REQ (first time) or COMMIT_AND_FETCH_REQ with @res for @tag. */
static int queue_cmd(struct ublk_queue *q, int tag, unsigned int op, int res)
{
	struct ublk_io *io = &q->ios[tag];
	struct ublksrv_io_cmd *cmd;
	struct io_uring_sqe *sqe;

	sqe = get_sqe(q);
	if (!sqe) {
		ublk_err("queue %d: no SQE for tag %d", q->q_id, tag);
		return -ENOMEM;
	}
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->dev->cdev_fd;
	sqe->cmd_op = op;
	sqe->user_data = ublk_user_data(tag, UD_KIND_CMD, 0);
	cmd = (struct ublksrv_io_cmd *)sqe->cmd;
	cmd->q_id = q->q_id;
	cmd->tag = tag;
	cmd->result = res;
	cmd->addr = user_copy(q) ? 0 : (uintptr_t)io->buf;
	set_state(io, IO_KERNEL);
	q->cmd_inflight++;
	return 0;
}

struct io_uring_sqe *ublk_tgt_sqe(struct ublk_queue *q, int tag,
				  unsigned int tgt_data)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	if (!sqe)
		return NULL;
	memset(sqe, 0, sizeof(*sqe));
	sqe->user_data = ublk_user_data(tag, UD_KIND_TGT, tgt_data);
	q->tgt_inflight++;
	q->ios[tag].pending++;
	return sqe;
}

void ublk_complete_io(struct ublk_queue *q, int tag, int res)
{
	struct ublk_io *io = &q->ios[tag];
	unsigned int op = ublksrv_get_op(&io->iod);
	ssize_t n;

	if (user_copy(q) && op == UBLK_IO_OP_READ && res > 0) {
		n = pwrite(q->dev->cdev_fd, io->buf, res,
			   user_copy_pos(q, tag));
		if (n != res) {
			ublk_err("queue %d tag %d: user copy of %d read bytes: %s",
				 q->q_id, tag, res,
				 n < 0 ? strerror(errno) : "short");
			res = n < 0 ? -errno : -EIO;
		}
	}
	if (res >= 0) {
		/* what BPF knows of the data, before the kernel sees it done */
		n = ublk_bpf_io_done(q->dev, &io->iod, res);
		if (n) {
			ublk_err("queue %d tag %d: marking the written chunks: %s",
				 q->q_id, tag, strerror((int)-n));
			res = n;
		}
	}
	queue_cmd(q, tag, UBLK_U_IO_COMMIT_AND_FETCH_REQ, res);
}

static void dispatch(struct ublk_queue *q, int tag)
{
	struct ublk_io *io = &q->ios[tag];
	const struct ublksrv_io_desc *iod = &io->iod;
	unsigned int op = ublksrv_get_op(iod);
	size_t len = (size_t)iod->nr_sectors << 9;
	ssize_t n;
	int ret;

	set_state(io, IO_TARGET);
	io->result = 0;
	io->pending = 0;
	io->nr_segs = 0;
	if ((op == UBLK_IO_OP_READ || op == UBLK_IO_OP_WRITE) &&
	    len > q->dev->info.max_io_buf_bytes) {
		ublk_err("queue %d tag %d: %s of %zu bytes > max_io %u",
			 q->q_id, tag, ublk_op_name(op), len,
			 q->dev->info.max_io_buf_bytes);
		ublk_complete_io(q, tag, -EIO);
		return;
	}
	/* the handback target: BPF does the write once its chunks are mapped */
	if (ublk_bpf_hand_back(q->dev, iod)) {
		queue_cmd(q, tag, UBLK_U_IO_COMMIT_AND_FETCH_REQ, -EAGAIN);
		return;
	}
	if (user_copy(q) && op == UBLK_IO_OP_WRITE) {
		n = pread(q->dev->cdev_fd, io->buf, len, user_copy_pos(q, tag));
		if (n != (ssize_t)len) {
			ublk_err("queue %d tag %d: user copy of %zu write bytes: %s",
				 q->q_id, tag, len,
				 n < 0 ? strerror(errno) : "short");
			ublk_complete_io(q, tag, n < 0 ? -errno : -EIO);
			return;
		}
	}
	ret = q->dev->ops->queue_io(q, tag);
	if (ret < 0)
		ublk_complete_io(q, tag, ret);
}

static void dispatch_held(struct ublk_queue *q)
{
	unsigned int tag;

	for (tag = 0; tag < q->depth; tag++)
		if (q->ios[tag].state == IO_HELD)
			dispatch(q, tag);
}

static void arm_wake(struct ublk_queue *q)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	if (!sqe)
		return;
	io_uring_prep_read(sqe, q->efd, &q->efd_val, sizeof(q->efd_val), 0);
	sqe->user_data = ublk_user_data(0, UD_KIND_WAKE, 0);
}

static void handle_cmd_cqe(struct ublk_queue *q, const struct io_uring_cqe *cqe,
			   unsigned int *nr_aborted)
{
	unsigned int tag = UD_TAG(cqe->user_data);
	struct ublk_io *io = &q->ios[tag];

	q->cmd_inflight--;
	if (cqe->res == UBLK_IO_RES_OK) {
		io->iod = q->iods[tag];
		if (__atomic_load_n(&q->dev->hold, __ATOMIC_ACQUIRE))
			set_state(io, IO_HELD);
		else
			dispatch(q, tag);
		return;
	}
	if (cqe->res != UBLK_IO_RES_ABORT) {
		/* the kernel refused our command: the tag is lost */
		ublk_err("queue %d tag %u: ublk command failed: %s",
			 q->q_id, tag, strerror(-cqe->res));
		q->error = cqe->res;
	}
	set_state(io, IO_ABORTED);
	(*nr_aborted)++;
}

static void queue_loop(struct ublk_queue *q, unsigned int nr_aborted)
{
	const struct ublk_tgt_ops *ops = q->dev->ops;
	struct io_uring_cqe *cqe;
	unsigned int head, n;
	char c = 'x';
	int ret;

	while (nr_aborted < q->depth || q->tgt_inflight) {
		ret = io_uring_submit_and_wait(&q->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY) {
			ublk_err("queue %d: io_uring_submit_and_wait: %s",
				 q->q_id, strerror(-ret));
			q->error = ret;
			break;
		}
		n = 0;
		io_uring_for_each_cqe(&q->ring, head, cqe) {
			unsigned int kind = UD_KIND(cqe->user_data);

			n++;
			if (kind == UD_KIND_CMD) {
				handle_cmd_cqe(q, cqe, &nr_aborted);
			} else if (kind == UD_KIND_TGT) {
				unsigned int tag = UD_TAG(cqe->user_data);

				q->tgt_inflight--;
				q->ios[tag].pending--;
				ops->io_done(q, tag, cqe);
			} else if (kind == UD_KIND_WAKE) {
				if (!__atomic_load_n(&q->dev->hold,
						     __ATOMIC_ACQUIRE))
					dispatch_held(q);
				if (nr_aborted < q->depth)
					arm_wake(q);
			}
		}
		io_uring_cq_advance(&q->ring, n);
	}
	if (write(q->dev->exit_pipe[1], &c, 1) != 1)
		ublk_err("queue %d: cannot signal its end", q->q_id);
}

static int queue_setup(struct ublk_queue *q)
{
	struct ublk_dev *dev = q->dev;
	unsigned int max_io = dev->info.max_io_buf_bytes;
	unsigned int entries, want, tag;
	long page = sysconf(_SC_PAGESIZE);
	size_t cmd_off, buf_sz;
	char *bufs;
	void *map;
	int ret;

	cmd_off = UBLKSRV_CMD_BUF_OFFSET +
		  (size_t)q->q_id * cmd_buf_size(UBLK_MAX_QUEUE_DEPTH);
	map = mmap(NULL, cmd_buf_size(q->depth), PROT_READ,
		   MAP_SHARED | MAP_POPULATE, dev->cdev_fd, cmd_off);
	if (map == MAP_FAILED) {
		ret = -errno;
		ublk_err("queue %d: mmap of the I/O descriptors: %s",
			 q->q_id, strerror(-ret));
		return ret;
	}
	q->iods = map;

	q->ios = calloc(q->depth, sizeof(*q->ios));
	if (!q->ios)
		return -ENOMEM;
	if (dev->max_exts) {
		q->exts = calloc(dev->max_exts, sizeof(*q->exts));
		if (!q->exts)
			return -ENOMEM;
	}
	buf_sz = ((size_t)max_io + page - 1) / page * page;
	bufs = mmap(NULL, buf_sz * q->depth, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bufs == MAP_FAILED) {
		ret = -errno;
		ublk_err("queue %d: %u I/O buffers of %u bytes: %s", q->q_id,
			 q->depth, max_io, strerror(-ret));
		return ret;
	}
	for (tag = 0; tag < q->depth; tag++) {
		struct ublk_io *io = &q->ios[tag];

		io->buf = bufs + tag * buf_sz;
		io->state = IO_ABORTED;
		if (!dev->max_exts)
			continue;
		io->segs = calloc(dev->max_exts, sizeof(*io->segs));
		io->iovs = calloc(dev->max_exts, sizeof(*io->iovs));
		if (!io->segs || !io->iovs)
			return -ENOMEM;
	}

	q->efd = eventfd(0, EFD_CLOEXEC);
	if (q->efd < 0) {
		ret = -errno;
		ublk_err("queue %d: eventfd: %s", q->q_id, strerror(-ret));
		return ret;
	}

	/* every tag's command, its target SQEs, and the wake-up read */
	want = q->depth * (1 + (dev->max_exts ? dev->max_exts : 1)) + 1;
	for (entries = 1; entries < want && entries < 4096; entries <<= 1)
		;
	ret = io_uring_queue_init(entries, &q->ring, 0);
	if (ret < 0) {
		ublk_err("queue %d: io_uring_queue_init(%u): %s", q->q_id,
			 entries, strerror(-ret));
		return ret;
	}
	q->ring_ok = true;
	return 0;
}

static void queue_started(struct ublk_queue *q, int error)
{
	struct ublk_dev *dev = q->dev;

	pthread_mutex_lock(&dev->lock);
	q->error = error;
	q->started = true;
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
}

/*
 * Fetch every tag from the thread that serves the queue: the kernel takes
 * the task that sent the last FETCH_REQ of a queue as its daemon.
 */
static void *queue_thread(void *arg)
{
	struct ublk_queue *q = arg;
	unsigned int tag, nr_fetched = 0;
	char name[16];
	int ret = 0;

	q->tid = syscall(SYS_gettid);
	snprintf(name, sizeof(name), "ublk%d-q%d", q->dev->info.dev_id,
		 q->q_id);
	pthread_setname_np(pthread_self(), name);

	for (tag = 0; tag < q->depth; tag++) {
		ret = queue_cmd(q, tag, UBLK_U_IO_FETCH_REQ, 0);
		if (ret)
			break;
		nr_fetched++;
	}
	if (!ret)
		arm_wake(q);
	/* FETCH_REQ is handled while it is submitted */
	if (io_uring_submit(&q->ring) < 0) {
		ublk_err("queue %d: submitting the fetches: %s", q->q_id,
			 strerror(errno));
		ret = -EIO;
		nr_fetched = 0;
		q->cmd_inflight = 0;
	}
	queue_started(q, ret);
	/* the tags never fetched count as aborted */
	queue_loop(q, q->depth - nr_fetched);
	return NULL;
}

/* Wait until every queue fetched its tags; the first queue's error. */
static int queues_wait_started(struct ublk_dev *dev)
{
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < dev->info.nr_hw_queues; i++) {
		while (!dev->queues[i].started)
			pthread_cond_wait(&dev->cond, &dev->lock);
		if (dev->queues[i].error && !ret)
			ret = dev->queues[i].error;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int ublk_queues_start(struct ublk_dev *dev)
{
	unsigned int i;
	int ret;

	pthread_mutex_init(&dev->lock, NULL);
	pthread_cond_init(&dev->cond, NULL);
	if (pipe2(dev->exit_pipe, O_CLOEXEC)) {
		ret = -errno;
		ublk_err("pipe: %s", strerror(-ret));
		return ret;
	}
	dev->queues = calloc(dev->info.nr_hw_queues, sizeof(*dev->queues));
	if (!dev->queues)
		return -ENOMEM;
	for (i = 0; i < dev->info.nr_hw_queues; i++) {
		struct ublk_queue *q = &dev->queues[i];

		q->dev = dev;
		q->q_id = i;
		q->depth = dev->info.queue_depth;
		q->efd = -1;
		ret = queue_setup(q);
		if (ret)
			return ret;
	}
	for (i = 0; i < dev->info.nr_hw_queues; i++) {
		ret = pthread_create(&dev->queues[i].thread, NULL, queue_thread,
				     &dev->queues[i]);
		if (ret) {
			ublk_err("queue %u: pthread_create: %s", i,
				 strerror(ret));
			/* the queues after it never start */
			for (; i < dev->info.nr_hw_queues; i++)
				dev->queues[i].started = true;
			queues_wait_started(dev);
			return -ret;
		}
	}
	return queues_wait_started(dev);
}

/* Make every queue thread look at dev->hold again. */
void ublk_queues_wake(struct ublk_dev *dev)
{
	uint64_t one = 1;
	unsigned int i;

	for (i = 0; i < dev->info.nr_hw_queues; i++)
		if (write(dev->queues[i].efd, &one, sizeof(one)) != sizeof(one))
			ublk_err("queue %u: eventfd write: %s", i,
				 strerror(errno));
}

/* Wait for the queue threads that were started; their first error. */
int ublk_queues_join(struct ublk_dev *dev)
{
	unsigned int i;
	int ret = 0;

	if (!dev->queues)
		return 0;
	for (i = 0; i < dev->info.nr_hw_queues; i++) {
		struct ublk_queue *q = &dev->queues[i];

		if (!q->thread)
			continue;
		pthread_join(q->thread, NULL);
		q->thread = 0;
		if (q->error && !ret)
			ret = q->error;
	}
	return ret;
}

void ublk_queues_free(struct ublk_dev *dev)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned int i, tag;

	if (!dev->queues)
		return;
	for (i = 0; i < dev->info.nr_hw_queues; i++) {
		struct ublk_queue *q = &dev->queues[i];
		size_t buf_sz = ((size_t)dev->info.max_io_buf_bytes + page - 1) /
				page * page;

		if (q->ring_ok)
			io_uring_queue_exit(&q->ring);
		if (q->efd >= 0)
			close(q->efd);
		if (q->iods)
			munmap((void *)q->iods, cmd_buf_size(q->depth));
		free(q->exts);
		if (!q->ios)
			continue;
		if (q->ios[0].buf)
			munmap(q->ios[0].buf, buf_sz * q->depth);
		for (tag = 0; tag < q->depth; tag++) {
			free(q->ios[tag].segs);
			free(q->ios[tag].iovs);
		}
		free(q->ios);
	}
	free(dev->queues);
	dev->queues = NULL;
}

/*
 * Write what the server holds (every tag not waiting in the kernel) to
 * @path: "q=Q tag=T op=OP sector=S sectors=N state=STATE" lines.
 */
int ublk_dump_ios(const struct ublk_dev *dev, const char *path)
{
	char tmp[4096];
	unsigned int i, tag;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (i = 0; i < dev->info.nr_hw_queues; i++) {
		const struct ublk_queue *q = &dev->queues[i];

		for (tag = 0; tag < q->depth; tag++) {
			const struct ublk_io *io = &q->ios[tag];
			int state = __atomic_load_n(&io->state,
						    __ATOMIC_ACQUIRE);

			if (state != IO_HELD && state != IO_TARGET)
				continue;
			fprintf(f, "q=%u tag=%u op=%s sector=%llu sectors=%u state=%s\n",
				i, tag, ublk_op_name(ublksrv_get_op(&io->iod)),
				(unsigned long long)io->iod.start_sector,
				io->iod.nr_sectors, state_names[state]);
		}
	}
	if (fclose(f))
		return -errno;
	if (rename(tmp, path))
		return -errno;
	return 0;
}
