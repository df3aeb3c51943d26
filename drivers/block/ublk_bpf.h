/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ublk-bpf: I/O of a UBLK_F_BPF ublk device handled by BPF struct_ops
 * programs (struct ublk_bpf_ops), between the driver (ublk_drv.c) and
 * the struct_ops, kfuncs and attach code (ublk_bpf.c).
 */
#ifndef _UBLK_BPF_H
#define _UBLK_BPF_H

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/list.h>
#include <linux/atomic.h>
#include <linux/sysfs.h>
#include <uapi/linux/ublk_cmd.h>

struct request;
struct gendisk;

/*
 * What ->queue_io_cmd() and ->queue_io_cmd_daemon() return: a disposition
 * (enum ublk_bpf_disposition) in bits 32-39 and a byte count in bits 0-31,
 * as ublk_bpf_return(disposition, bytes) builds it.
 */
typedef u64 ublk_bpf_return_t;

#define UBLK_BPF_DISP_SHIFT	32

enum ublk_bpf_disposition {
	/* the rest of the I/O is the program's: it was completed */
	UBLK_BPF_IO_QUEUED	= 0,
	/* the I/O goes on to the next stage: the daemon callback, the server */
	UBLK_BPF_IO_REDIRECT	= 1,
	/* the program took this many more bytes: call it again for the rest */
	UBLK_BPF_IO_CONTINUE	= 2,
};

/* io->flags, the kernel's */
#define UBLK_BPF_IO_F_COMPLETED		BIT(0)
#define UBLK_BPF_IO_F_BAD_RES		BIT(1)
#define UBLK_BPF_IO_F_COMPLETED_TWICE	BIT(2)

/*
 * One I/O as a program sees it, the first argument of the queue and
 * release callbacks; read-only for programs.  @iod is a copy of the
 * descriptor the server would get.
 */
struct ublk_bpf_io {
	struct ublksrv_io_desc	iod;
	u32			dev_id;
	u16			q_id;
	u16			tag;
	/* bytes of the request, and the result ublk_bpf_complete_io() set */
	u32			bytes;
	int			res;
	u32			flags;
};

/**
 * struct ublk_bpf_ops - BPF handlers of the I/O of ublk devices
 * @id: the id devices name in their UBLK_PARAM_TYPE_BPF parameter;
 *	unique among the registered ops
 * @queue_io_cmd: called for each I/O from ->queue_rq(), which cannot
 *	sleep; @done_bytes of the I/O are taken already.  Returns a
 *	disposition with a byte count (ublk_bpf_return_t).
 * @queue_io_cmd_daemon: the same, in the server's queue task, for the I/O
 *	->queue_io_cmd() redirected (or all I/O without it); may sleep
 * @release_io_cmd: the kernel is done with an I/O a queue callback took
 *	(all of it or part): it is ended next.  Cannot sleep.
 * @attach_dev: device @dev_id is started with these ops: 0 attaches
 *	them, a negative errno fails UBLK_CMD_START_DEV with it.  May sleep.
 * @detach_dev: device @dev_id stops using the ops (device stopped, or
 *	ops unregistered): no callback for it runs any more.  May sleep.
 */
struct ublk_bpf_ops {
	u32 id;
	ublk_bpf_return_t (*queue_io_cmd)(struct ublk_bpf_io *io,
					  unsigned int done_bytes);
	ublk_bpf_return_t (*queue_io_cmd_daemon)(struct ublk_bpf_io *io,
						 unsigned int done_bytes);
	void (*release_io_cmd)(struct ublk_bpf_io *io);
	int (*attach_dev)(u32 dev_id);
	void (*detach_dev)(u32 dev_id);
};

enum ublk_bpf_stat {
	UBLK_BPF_STAT_HANDLED,		/* completed by a program */
	UBLK_BPF_STAT_REDIRECTED,	/* redirected whole to the server */
	UBLK_BPF_STAT_SPLIT,		/* CONTINUE dispositions */
	UBLK_BPF_STAT_ERRORS,		/* I/O failed for a program's error */
	UBLK_BPF_STAT_NR,
};

/* The BPF state of one ublk device, in its struct ublk_device */
struct ublk_bpf_dev {
	struct ublk_bpf_ops __rcu	*ops;
	/* on the registered ops' list of devices, under ublk_bpf_lock */
	struct list_head		node;
	u32				dev_id;
	u32				ops_id;
	atomic64_t			stats[UBLK_BPF_STAT_NR];
};

/* ublk_bpf_queue_io() */
enum {
	UBLK_BPF_FORWARD,	/* the next stage has the request */
	UBLK_BPF_ENDED,		/* the request was ended */
};

#ifdef CONFIG_UBLK_BPF
int ublk_bpf_param_validate(const struct ublk_param_bpf *p);
int ublk_bpf_attach(struct ublk_bpf_dev *bd, u32 dev_id,
		    const struct ublk_param_bpf *p);
void ublk_bpf_detach(struct ublk_bpf_dev *bd);
int ublk_bpf_queue_io(struct ublk_bpf_dev *bd, struct request *rq,
		      const struct ublksrv_io_desc *iod,
		      struct ublk_bpf_io *io, u16 q_id, bool daemon);
extern const struct attribute_group ublk_bpf_attr_group;
/* ublk_drv.c: the BPF state of a ublk disk, NULL if not UBLK_F_BPF */
struct ublk_bpf_dev *ublk_bpf_dev_of_disk(struct gendisk *disk);
#endif

#endif
