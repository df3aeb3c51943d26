/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ublk: a ublk server for Linux 6.12's drivers/block/ublk_drv.c.
 *
 * A device is served by one thread per hardware queue.  Each queue thread
 * owns an io_uring on which it fetches every tag of its queue with
 * UBLK_U_IO_FETCH_REQ, and on which the target submits its backing-file
 * I/O; the queue loop (queue.c) is shared by every target, and a target
 * is a table of callbacks (struct ublk_tgt_ops).
 */
#ifndef UBLK_H
#define UBLK_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <liburing.h>

#include UBLK_CMD_H

#define UBLK_CTRL_DEV		"/dev/ublk-control"
#define UBLK_CDEV_FMT		"/dev/ublkc%d"
#define UBLK_BDEV_FMT		"/dev/ublkb%d"
#define UBLK_SYSFS_CHAR		"/sys/class/ublk-char"
#define UBLK_RUN_DIR_DEFAULT	"/run/ublk"

/* stripe takes 2 to 4 files, concat up to 16 */
#define UBLK_MAX_FILES		16
/* --bpf-bad-fd: a descriptor number no server has open */
#define UBLK_BAD_FD		999999
#define UBLK_DEF_DEPTH		128
#define UBLK_DEF_QUEUES		1
#define UBLK_DEF_MAX_IO		(512 << 10)
#define UBLK_DEF_CHUNK		(64 << 10)
#define UBLK_DEF_NULL_SIZE	(1ULL << 30)
/* 6.12's ublk_drv.c: UBLK_MAX_UBLKS = UBLK_MINORS = 1 << MINORBITS */
#define UBLK_MAX_DEV_ID		((1 << 20) - 1)

/* what the tool asks for (-r, --reissue), on top of what it always uses */
#define UBLK_SRV_FLAGS		UBLK_F_CMD_IOCTL_ENCODE

enum ublk_tgt_type {
	UBLK_TGT_NULL,
	UBLK_TGT_LOOP,
	UBLK_TGT_STRIPE,
	UBLK_TGT_CONCAT,
	UBLK_TGT_NR,
};

/* The configuration of a device: what `add` was given, saved for `recover`. */
struct ublk_config {
	enum ublk_tgt_type type;
	int dev_id;			/* -1: the kernel picks */
	unsigned int nr_queues;
	unsigned int depth;
	unsigned int max_io;		/* bytes per I/O buffer */
	uint64_t flags;			/* UBLK_F_* asked for */
	uint64_t size;			/* bytes; 0: from the files */
	unsigned int chunk;		/* stripe chunk, bytes */
	bool buffered;			/* no O_DIRECT on backing files */
	bool hold;			/* hold I/O after START_DEV until SIGUSR2 */
	unsigned int timeout;		/* request timeout, s; 0: the kernel's */
	bool foreground;
	const char *bpf;		/* --bpf: the ublk_bpf_ops object */
	long long bpf_id;		/* --bpf-id; -1: the device id */
	bool bpf_bad_fd;		/* --bpf-bad-fd: a closed fd as file 0 */
	const char *bpf_file0;		/* --bpf-file0: this path as file 0 */
	unsigned int nr_files;
	char *files[UBLK_MAX_FILES];
};

/* One backing file of a file target. */
struct ublk_file {
	const char *path;
	int fd;
	bool direct;
	bool blkdev;
	uint64_t size;			/* bytes used by the device */
	uint64_t full_size;		/* bytes of the file */
	unsigned int lbs;		/* direct I/O alignment */
	bool no_zero_range;		/* FALLOC_FL_ZERO_RANGE unsupported */
};

/* One piece of a device I/O on one backing file. */
struct ublk_ext {
	unsigned int file;
	uint64_t off;			/* in the file */
	unsigned int buf_off;		/* in the I/O buffer */
	unsigned int len;
};

/* A readv/writev/fallocate on one file: extents contiguous in the file. */
struct ublk_seg {
	unsigned int file;
	uint64_t off;
	unsigned int len;
	unsigned int done;
	unsigned short iov;		/* first iovec in ublk_io.iovs */
	unsigned short nr_iov;
	unsigned short step;		/* emulated write-zeroes: 0 punch, 1 allocate */
	int mode;			/* fallocate mode queued */
};

/* The state of a tag as the server sees it (also what SIGUSR1 dumps). */
enum ublk_io_state {
	IO_KERNEL,		/* FETCH or COMMIT_AND_FETCH in the kernel */
	IO_HELD,		/* received, held (--hold) */
	IO_TARGET,		/* received, in the target */
	IO_ABORTED,		/* the kernel aborted the command: not fetched */
};

struct ublk_io {
	char *buf;
	int state;			/* enum ublk_io_state, atomic */
	int result;
	struct ublksrv_io_desc iod;	/* copy of the descriptor */
	unsigned short pending;		/* target SQEs in flight */
	unsigned short nr_segs;
	struct ublk_seg *segs;
	struct iovec *iovs;
};

struct ublk_queue {
	struct ublk_dev *dev;
	int q_id;
	unsigned int depth;
	struct io_uring ring;
	bool ring_ok;
	bool started;			/* fetched every tag (or failed) */
	const struct ublksrv_io_desc *iods;
	struct ublk_io *ios;
	struct ublk_ext *exts;		/* map() scratch, max_exts */
	pthread_t thread;
	pid_t tid;
	int efd;			/* eventfd: the main thread wakes us */
	uint64_t efd_val;
	unsigned int cmd_inflight;	/* ublk commands in the kernel */
	unsigned int tgt_inflight;	/* target SQEs in flight */
	int error;
};

struct ublk_dev;
struct bpf_object;
struct bpf_link;

/*
 * A target.  init() opens and checks the backing files and sets the
 * device size before ADD_DEV: whatever it refuses never reaches the
 * kernel.  queue_io() starts one I/O; it calls ublk_complete_io() itself
 * (at once, or from io_done() for the target SQEs it queued with
 * ublk_tgt_sqe()), and returns 0, or a negative errno to fail the I/O.
 */
struct ublk_tgt_ops {
	const char *name;
	unsigned int min_files, max_files;
	int (*init)(struct ublk_dev *dev);
	void (*deinit)(struct ublk_dev *dev);
	/* extents (and thus iovecs and SQEs) an I/O may need at most */
	unsigned int (*max_exts)(const struct ublk_dev *dev);
	int (*queue_io)(struct ublk_queue *q, int tag);
	void (*io_done)(struct ublk_queue *q, int tag,
			const struct io_uring_cqe *cqe);
	/* file targets: split [off, off + len) of the device into extents */
	unsigned int (*map)(const struct ublk_dev *dev, uint64_t off,
			    unsigned int len, struct ublk_ext *ext);
};

struct ublk_dev {
	struct ublk_config cfg;
	const struct ublk_tgt_ops *ops;
	struct ublksrv_ctrl_dev_info info;
	struct ublk_params params;
	int ctrl_fd;
	struct io_uring ctrl_ring;
	bool ctrl_ring_ok;
	int cdev_fd;
	uint64_t dev_size;
	unsigned int lbs;		/* logical block size */
	unsigned int max_exts;
	struct ublk_file files[UBLK_MAX_FILES];
	unsigned int nr_files;
	struct ublk_queue *queues;
	int hold;			/* atomic */
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a queue thread has fetched its tags */
	int exit_pipe[2];		/* queue threads write when they end */
	char *run_dir;
	/* ublk-bpf (bpf.c) */
	unsigned int bpf_ops_id;
	struct bpf_object *bpf_obj;
	struct bpf_link *bpf_link;
	struct bpf_link *bpf_aio_link;	/* bpf_aio_complete_ops, or NULL */
	int bpf_written_fd;		/* srv_written, or -1 */
	bool bpf_detach_logged;		/* the kernel's detach was logged */
	bool bpf_hand_back;		/* srv_mapped: writes handed back */
	uint64_t bpf_nr_chunks;
	int bpf_file0_fd;		/* --bpf-file0, open while the server runs */
};

extern const struct ublk_tgt_ops tgt_null_ops;
extern const struct ublk_tgt_ops tgt_loop_ops;
extern const struct ublk_tgt_ops tgt_stripe_ops;
extern const struct ublk_tgt_ops tgt_concat_ops;
const struct ublk_tgt_ops *ublk_tgt_by_type(enum ublk_tgt_type type);
const struct ublk_tgt_ops *ublk_tgt_by_name(const char *name);

/* user_data of the queue ring's CQEs: tag, kind, target data */
#define UD_TAG(ud)		((unsigned int)((ud) & 0xffff))
#define UD_KIND(ud)		((unsigned int)(((ud) >> 16) & 0xff))
#define UD_TGT(ud)		((unsigned int)(((ud) >> 24) & 0xffff))
#define UD_KIND_CMD		1
#define UD_KIND_TGT		2
#define UD_KIND_WAKE		3

/* Append extent (@file, @off) of @len bytes at @buf_off; the new count. */
static inline unsigned int ublk_ext_add(struct ublk_ext *ext, unsigned int n,
					unsigned int file, uint64_t off,
					unsigned int buf_off, unsigned int len)
{
	ext[n].file = file;
	ext[n].off = off;
	ext[n].buf_off = buf_off;
	ext[n].len = len;
	return n + 1;
}

static inline uint64_t ublk_user_data(unsigned int tag, unsigned int kind,
				      unsigned int tgt)
{
	return tag | (kind << 16) | ((uint64_t)tgt << 24);
}

/* ctrl.c: control commands on /dev/ublk-control */
int ublk_ctrl_open(struct ublk_dev *dev);
void ublk_ctrl_close(struct ublk_dev *dev);
int ublk_ctrl_cmd(struct ublk_dev *dev, unsigned int op, int dev_id,
		  uint64_t data, void *buf, unsigned int len);
int ublk_ctrl_dev_cmd(struct ublk_dev *dev, unsigned int op, int dev_id,
		      uint64_t data, void *buf, unsigned int len, int quiet);
const char *ublk_ctrl_name(unsigned int op);
int ublk_ctrl_add_dev(struct ublk_dev *dev);
int ublk_ctrl_get_info(struct ublk_dev *dev, int dev_id);
int ublk_ctrl_set_params(struct ublk_dev *dev);
int ublk_ctrl_get_params(struct ublk_dev *dev);
int ublk_ctrl_get_features(struct ublk_dev *dev, uint64_t *features);
extern bool ublk_trace;

/* queue.c: the queue threads */
int ublk_queues_start(struct ublk_dev *dev);
void ublk_queues_wake(struct ublk_dev *dev);
int ublk_queues_join(struct ublk_dev *dev);
void ublk_queues_free(struct ublk_dev *dev);
void ublk_complete_io(struct ublk_queue *q, int tag, int res);
struct io_uring_sqe *ublk_tgt_sqe(struct ublk_queue *q, int tag,
				  unsigned int tgt_data);
int ublk_dump_ios(const struct ublk_dev *dev, const char *path);
const char *ublk_op_name(unsigned int op);

/* files.c: backing files, and the I/O shared by the file targets */
int ublk_files_open(struct ublk_dev *dev);
void ublk_files_close(struct ublk_dev *dev);
int ublk_file_queue_io(struct ublk_queue *q, int tag);
void ublk_file_io_done(struct ublk_queue *q, int tag,
		       const struct io_uring_cqe *cqe);

/* bpf.c: ublk-bpf */
int ublk_bpf_load(struct ublk_dev *dev);
void ublk_bpf_unload(struct ublk_dev *dev);
int ublk_bpf_watch(struct ublk_dev *dev);
bool ublk_bpf_hand_back(struct ublk_dev *dev,
			const struct ublksrv_io_desc *iod);
int ublk_bpf_io_done(struct ublk_dev *dev, const struct ublksrv_io_desc *iod,
		     int res);

/* util */
void ublk_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ublk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ublk_parse_size(const char *s, uint64_t *val);

#endif
