// SPDX-License-Identifier: GPL-2.0
/*
 * Invalid control and I/O commands, each with the errno that 6.12's
 * drivers/block/ublk_drv.c returns for it.  The ublk server refuses bad
 * options before ADD_DEV; this program sends them anyway.
 *
 *   ublk_ctrl_test add          ADD_DEV with invalid device info
 *   ublk_ctrl_test params       SET_PARAMS/GET_PARAMS/START_DEV/recovery/
 *                               GET_QUEUE_AFFINITY/GET_FEATURES on a device
 *                               that was added but never started
 *   ublk_ctrl_test io           /dev/ublkcN: second open, mmap, invalid
 *                               FETCH_REQ and COMMIT_AND_FETCH_REQ
 *   ublk_ctrl_test live ID      SET_PARAMS on a started device (server's)
 *
 * Every case prints "# ok NAME: ..." or "# FAIL NAME: ..."; the exit status
 * is 1 if any case failed.  Devices it adds are deleted before it exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <liburing.h>

#include UBLK_CMD_H

/* the kernel's "queued" return of a command (include/linux/errno.h) */
#define EIOCBQUEUED		529

/* 6.12's ublk_drv.c: UBLK_MINORS, 1 << MINORBITS */
#define UBLK_MAX_UBLKS		(1 << 20)

static struct io_uring ring;
static int ctrl_fd;
static int failures;

static void check(const char *name, int want, int got)
{
	if (want == got) {
		printf("# ok %s: %d (%s)\n", name, got,
		       got < 0 ? strerror(-got) : "success");
		return;
	}
	printf("# FAIL %s: expected %d (%s), got %d (%s)\n", name, want,
	       want < 0 ? strerror(-want) : "success", got,
	       got < 0 ? strerror(-got) : "success");
	failures++;
}

static int ctrl_on(struct io_uring *r, unsigned int op,
		   const struct ublksrv_ctrl_cmd *c)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(r);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -ENOMEM;
	memset(sqe, 0, (r->flags & IORING_SETUP_SQE128) ? 128 : 64);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = ctrl_fd;
	sqe->cmd_op = op;
	/* a 64-byte SQE has room for the first 16 bytes only */
	memcpy(sqe->cmd, c, (r->flags & IORING_SETUP_SQE128) ?
	       sizeof(*c) : 16);
	ret = io_uring_submit(r);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(r, &cqe);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(r, cqe);
	return ret;
}

static int ctrl(unsigned int op, const struct ublksrv_ctrl_cmd *c)
{
	return ctrl_on(&ring, op, c);
}

static struct ublksrv_ctrl_cmd cmd_for(int dev_id, void *buf, unsigned int len)
{
	struct ublksrv_ctrl_cmd c = {
		.dev_id = dev_id,
		.queue_id = (__u16)-1,
		.addr = (uintptr_t)buf,
		.len = len,
	};

	return c;
}

static void valid_info(struct ublksrv_ctrl_dev_info *info, int dev_id)
{
	memset(info, 0, sizeof(*info));
	info->nr_hw_queues = 1;
	info->queue_depth = 4;
	info->max_io_buf_bytes = 512 << 10;
	info->dev_id = dev_id;
}

static int add_dev(struct ublksrv_ctrl_dev_info *info, int dev_id,
		   uint64_t flags)
{
	struct ublksrv_ctrl_cmd c = cmd_for(dev_id, info, sizeof(*info));

	valid_info(info, dev_id);
	info->flags = flags;
	return ctrl(UBLK_U_CMD_ADD_DEV, &c);
}

static void del_dev(int dev_id)
{
	struct ublksrv_ctrl_cmd c = cmd_for(dev_id, NULL, 0);
	int ret = ctrl(UBLK_U_CMD_DEL_DEV, &c);

	if (ret)
		printf("# DEL_DEV %d: %s\n", dev_id, strerror(-ret));
}

/* ADD_DEV with @info as given; a device added by mistake is deleted. */
static void add_case(const char *name, int want, struct ublksrv_ctrl_cmd *c,
		     struct ublksrv_ctrl_dev_info *info)
{
	int ret = ctrl(UBLK_U_CMD_ADD_DEV, c);

	check(name, want, ret);
	if (ret == 0)
		del_dev(info->dev_id);
}

static void test_add(void)
{
	struct ublksrv_ctrl_dev_info info, other;
	struct ublksrv_ctrl_cmd c;
	struct io_uring small;
	int ret, id;

	valid_info(&info, -1);
	c = cmd_for(-1, &info, sizeof(info));
	info.queue_depth = 0;
	add_case("ADD_DEV queue_depth 0", -EINVAL, &c, &info);

	valid_info(&info, -1);
	info.queue_depth = UBLK_MAX_QUEUE_DEPTH + 1;
	add_case("ADD_DEV queue_depth 4097", -EINVAL, &c, &info);

	valid_info(&info, -1);
	info.nr_hw_queues = 0;
	add_case("ADD_DEV nr_hw_queues 0", -EINVAL, &c, &info);

	valid_info(&info, -1);
	info.nr_hw_queues = UBLK_MAX_NR_QUEUES + 1;
	add_case("ADD_DEV nr_hw_queues 4097", -EINVAL, &c, &info);

	valid_info(&info, 6);
	c = cmd_for(5, &info, sizeof(info));
	add_case("ADD_DEV dev_id 5 in the header, 6 in the info", -EINVAL, &c,
		 &info);

	valid_info(&info, UBLK_MAX_UBLKS);
	c = cmd_for(UBLK_MAX_UBLKS, &info, sizeof(info));
	add_case("ADD_DEV dev_id 2^20", -EINVAL, &c, &info);

	valid_info(&info, -1);
	c = cmd_for(-1, &info, sizeof(info) - 1);
	add_case("ADD_DEV len sizeof(info) - 1", -EINVAL, &c, &info);

	c = cmd_for(-1, NULL, sizeof(info));
	add_case("ADD_DEV addr NULL", -EINVAL, &c, &info);

	valid_info(&info, -1);
	c = cmd_for(-1, &info, sizeof(info));
	c.queue_id = 0;
	add_case("ADD_DEV queue_id 0 (must be -1)", -EINVAL, &c, &info);

	valid_info(&info, -1);
	info.flags = UBLK_F_ZONED;
	c = cmd_for(-1, &info, sizeof(info));
	add_case("ADD_DEV UBLK_F_ZONED without UBLK_F_USER_COPY", -EINVAL, &c,
		 &info);

	/* the control device takes 128-byte SQEs only */
	ret = io_uring_queue_init(2, &small, 0);
	if (ret) {
		check("io_uring_queue_init", 0, ret);
	} else {
		valid_info(&info, -1);
		c = cmd_for(-1, &info, sizeof(info));
		ret = ctrl_on(&small, UBLK_U_CMD_ADD_DEV, &c);
		check("ADD_DEV on a ring without IORING_SETUP_SQE128", -EINVAL,
		      ret);
		io_uring_queue_exit(&small);
	}

	/* a second device with the id of the first */
	ret = add_dev(&info, -1, 0);
	check("ADD_DEV valid, the kernel picks the id", 0, ret);
	if (ret)
		return;
	id = info.dev_id;
	ret = add_dev(&other, id, 0);
	check("ADD_DEV with the id of an existing device", -EEXIST, ret);
	if (ret == 0)
		printf("# ADD_DEV %d twice succeeded\n", id);

	c = cmd_for(id, &info, sizeof(info));
	ret = ctrl(_IOWR('u', 0x30, struct ublksrv_ctrl_cmd), &c);
	check("unknown control command 0x30", -EOPNOTSUPP, ret);
	del_dev(id);

	c = cmd_for(id, &info, sizeof(info));
	ret = ctrl(UBLK_U_CMD_GET_DEV_INFO, &c);
	check("GET_DEV_INFO of a deleted device", -ENODEV, ret);
	ret = ctrl(UBLK_U_CMD_DEL_DEV, &c);
	check("DEL_DEV of a deleted device", -ENODEV, ret);
}

static void set_params_case(const char *name, int want, int id,
			    const struct ublk_params *p, unsigned int len)
{
	struct ublk_params copy = *p;
	struct ublksrv_ctrl_cmd c = cmd_for(id, &copy, len);

	check(name, want, ctrl(UBLK_U_CMD_SET_PARAMS, &c));
}

static void valid_params(struct ublk_params *p)
{
	memset(p, 0, sizeof(*p));
	p->len = sizeof(*p);
	p->types = UBLK_PARAM_TYPE_BASIC;
	p->basic.logical_bs_shift = 9;
	p->basic.physical_bs_shift = 12;
	p->basic.io_min_shift = 9;
	p->basic.io_opt_shift = 12;
	p->basic.max_sectors = (512 << 10) >> 9;
	p->basic.dev_sectors = 2048;
}

static void test_params(void)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_params p, got;
	struct ublksrv_ctrl_cmd c;
	uint64_t features;
	char mask[8];
	int id, ret;

	ret = add_dev(&info, -1, 0);
	check("ADD_DEV", 0, ret);
	if (ret)
		return;
	id = info.dev_id;

	valid_params(&p);
	p.types = 0;
	set_params_case("SET_PARAMS types 0", -EINVAL, id, &p, sizeof(p));
	valid_params(&p);
	p.len = 0;
	set_params_case("SET_PARAMS params.len 0", -EINVAL, id, &p, sizeof(p));
	valid_params(&p);
	p.len = sizeof(p) + 8;
	set_params_case("SET_PARAMS params.len > command len", -EINVAL, id, &p,
			sizeof(p));
	valid_params(&p);
	set_params_case("SET_PARAMS command len 8 (only the header)", -EINVAL,
			id, &p, 8);
	valid_params(&p);
	p.types = UBLK_PARAM_TYPE_DISCARD;
	p.discard.discard_granularity = 4096;
	set_params_case("SET_PARAMS without UBLK_PARAM_TYPE_BASIC", -EINVAL, id,
			&p, sizeof(p));
	valid_params(&p);
	p.basic.logical_bs_shift = 8;
	set_params_case("SET_PARAMS logical_bs_shift 8", -EINVAL, id, &p,
			sizeof(p));
	valid_params(&p);
	p.basic.logical_bs_shift = 13;
	p.basic.physical_bs_shift = 13;
	set_params_case("SET_PARAMS logical_bs_shift 13 (> PAGE_SHIFT)",
			-EINVAL, id, &p, sizeof(p));
	valid_params(&p);
	p.basic.logical_bs_shift = 12;
	p.basic.physical_bs_shift = 9;
	set_params_case("SET_PARAMS logical_bs_shift 12 > physical_bs_shift 9",
			-EINVAL, id, &p, sizeof(p));
	valid_params(&p);
	p.basic.max_sectors = ((512 << 10) >> 9) + 8;
	set_params_case("SET_PARAMS max_sectors > max_io_buf_bytes / 512",
			-EINVAL, id, &p, sizeof(p));
	valid_params(&p);
	p.basic.max_sectors = 7;
	set_params_case("SET_PARAMS max_sectors 7 (< a page)", -EINVAL, id, &p,
			sizeof(p));
	valid_params(&p);
	p.types |= UBLK_PARAM_TYPE_DISCARD;
	p.discard.discard_granularity = 4096;
	p.discard.max_discard_sectors = 8;
	p.discard.max_discard_segments = 2;
	set_params_case("SET_PARAMS max_discard_segments 2", -EINVAL, id, &p,
			sizeof(p));
	valid_params(&p);
	p.types |= UBLK_PARAM_TYPE_DISCARD;
	p.discard.max_discard_sectors = 8;
	p.discard.max_discard_segments = 1;
	set_params_case("SET_PARAMS discard_granularity 0", -EINVAL, id, &p,
			sizeof(p));
	valid_params(&p);
	p.types |= UBLK_PARAM_TYPE_DEVT;
	set_params_case("SET_PARAMS UBLK_PARAM_TYPE_DEVT (read-only)", -EINVAL,
			id, &p, sizeof(p));

	/* START_DEV: after the invalid ones no parameters are set */
	c = cmd_for(id, NULL, 0);
	c.data[0] = getpid();
	check("START_DEV without parameters", -EINVAL,
	      ctrl(UBLK_U_CMD_START_DEV, &c));
	valid_params(&p);
	set_params_case("SET_PARAMS valid", 0, id, &p, sizeof(p));
	memset(&got, 0, sizeof(got));
	got.len = sizeof(got);
	c = cmd_for(id, &got, sizeof(got));
	check("GET_PARAMS", 0, ctrl(UBLK_U_CMD_GET_PARAMS, &c));
	check("GET_PARAMS: dev_sectors as set", 2048,
	      (int)got.basic.dev_sectors);
	check("GET_PARAMS: max_sectors as set", 1024,
	      (int)got.basic.max_sectors);
	check("GET_PARAMS: types BASIC and DEVT",
	      UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DEVT, got.types);
	c = cmd_for(id, &got, 8);
	check("GET_PARAMS command len 8", -EINVAL,
	      ctrl(UBLK_U_CMD_GET_PARAMS, &c));
	c = cmd_for(id, NULL, 0);
	c.data[0] = 0;
	check("START_DEV ublksrv_pid 0", -EINVAL,
	      ctrl(UBLK_U_CMD_START_DEV, &c));
	check("START_USER_RECOVERY without UBLK_F_USER_RECOVERY", -EINVAL,
	      ctrl(UBLK_U_CMD_START_USER_RECOVERY, &c));

	c = cmd_for(id, mask, sizeof(mask));
	c.data[0] = 1;
	check("GET_QUEUE_AFFINITY of queue 1 of 1", -EINVAL,
	      ctrl(UBLK_U_CMD_GET_QUEUE_AFFINITY, &c));
	c = cmd_for(id, mask, 4);
	c.data[0] = 0;
	check("GET_QUEUE_AFFINITY len 4 (not a multiple of 8)", -EINVAL,
	      ctrl(UBLK_U_CMD_GET_QUEUE_AFFINITY, &c));
	c = cmd_for(id, &info, sizeof(info) - 8);
	check("GET_DEV_INFO len sizeof(info) - 8", -EINVAL,
	      ctrl(UBLK_U_CMD_GET_DEV_INFO, &c));
	c = cmd_for(-1, &features, 4);
	check("GET_FEATURES len 4", -EINVAL, ctrl(UBLK_U_CMD_GET_FEATURES, &c));
	del_dev(id);

	/* recovery needs a server that fetched every tag once */
	ret = add_dev(&info, -1, UBLK_F_USER_RECOVERY);
	check("ADD_DEV UBLK_F_USER_RECOVERY", 0, ret);
	if (ret)
		return;
	c = cmd_for(info.dev_id, NULL, 0);
	check("START_USER_RECOVERY of a device never started", -EINVAL,
	      ctrl(UBLK_U_CMD_START_USER_RECOVERY, &c));
	del_dev(info.dev_id);
}

static int io_cmd(struct io_uring *r, int fd, unsigned int op, int q_id,
		  int tag, uint64_t addr)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(r);
	struct ublksrv_io_cmd *cmd;
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -ENOMEM;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	sqe->user_data = tag;
	cmd = (struct ublksrv_io_cmd *)sqe->cmd;
	cmd->q_id = q_id;
	cmd->tag = tag;
	cmd->addr = addr;
	ret = io_uring_submit(r);
	if (ret < 0)
		return ret;
	/* a queued FETCH_REQ has no completion yet */
	ret = io_uring_peek_cqe(r, &cqe);
	if (ret == -EAGAIN)
		return -EIOCBQUEUED;
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(r, cqe);
	return ret;
}

static void test_io(uint64_t flags, const char *mode)
{
	struct ublksrv_ctrl_dev_info info;
	struct io_uring qr;
	char path[64], name[128];
	long page = sysconf(_SC_PAGESIZE);
	int id, fd, fd2, ret, tag;
	bool copy = !(flags & UBLK_F_USER_COPY);
	uint64_t buf = copy ? (uintptr_t)malloc(512 << 10) : 0;
	void *map;

	ret = add_dev(&info, -1, flags);
	check("ADD_DEV", 0, ret);
	if (ret)
		return;
	id = info.dev_id;
	snprintf(path, sizeof(path), "/dev/ublkc%d", id);
	fd = open(path, O_RDWR);
	check("open /dev/ublkcN", 0, fd < 0 ? -errno : 0);
	if (fd < 0)
		goto out_del;
	fd2 = open(path, O_RDWR);
	check("second open of /dev/ublkcN (another server)", -EBUSY,
	      fd2 < 0 ? -errno : 0);
	if (fd2 >= 0)
		close(fd2);

	map = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check("mmap of the descriptors PROT_WRITE", -EPERM,
	      map == MAP_FAILED ? -errno : 0);
	if (map != MAP_FAILED)
		munmap(map, page);
	map = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
	check("mmap of the descriptors, 2 pages for depth 4", -EINVAL,
	      map == MAP_FAILED ? -errno : 0);
	if (map != MAP_FAILED)
		munmap(map, 2 * page);

	ret = io_uring_queue_init(8, &qr, 0);
	if (ret) {
		check("io_uring_queue_init", 0, ret);
		goto out_close;
	}
	snprintf(name, sizeof(name), "%s FETCH_REQ q_id 1 of 1", mode);
	check(name, -EINVAL,
	      io_cmd(&qr, fd, UBLK_U_IO_FETCH_REQ, 1, 0, buf));
	snprintf(name, sizeof(name), "%s FETCH_REQ tag 4 of depth 4", mode);
	check(name, -EINVAL,
	      io_cmd(&qr, fd, UBLK_U_IO_FETCH_REQ, 0, 4, buf));
	if (copy) {
		snprintf(name, sizeof(name), "%s FETCH_REQ without a buffer",
			 mode);
		check(name, -EINVAL,
		      io_cmd(&qr, fd, UBLK_U_IO_FETCH_REQ, 0, 0, 0));
	} else {
		snprintf(name, sizeof(name), "%s FETCH_REQ with a buffer",
			 mode);
		check(name, -EINVAL,
		      io_cmd(&qr, fd, UBLK_U_IO_FETCH_REQ, 0, 0, 4096));
	}
	snprintf(name, sizeof(name), "%s COMMIT_AND_FETCH_REQ of a tag never fetched",
		 mode);
	check(name, -EINVAL,
	      io_cmd(&qr, fd, UBLK_U_IO_COMMIT_AND_FETCH_REQ, 0, 1, buf));
	snprintf(name, sizeof(name), "%s FETCH_REQ tag 0 (queued)", mode);
	check(name, -EIOCBQUEUED,
	      io_cmd(&qr, fd, UBLK_U_IO_FETCH_REQ, 0, 0, buf));
	snprintf(name, sizeof(name), "%s FETCH_REQ tag 0 again", mode);
	check(name, -EBUSY, io_cmd(&qr, fd, UBLK_U_IO_FETCH_REQ, 0, 0, buf));
	snprintf(name, sizeof(name), "%s COMMIT_AND_FETCH_REQ of a tag waiting in FETCH",
		 mode);
	check(name, -EBUSY,
	      io_cmd(&qr, fd, UBLK_U_IO_COMMIT_AND_FETCH_REQ, 0, 0, buf));
	/*
	 * Fetch the other tags before the ring goes: 6.12 takes the queue's
	 * daemon task only when every tag was fetched, and cancelling the
	 * fetches of a queue without one hits a WARN_ON_ONCE in
	 * ublk_uring_cmd_cancel_fn() (a kernel bug, not a refusal).
	 */
	for (tag = 1; tag < 4; tag++) {
		snprintf(name, sizeof(name), "%s FETCH_REQ tag %d (queued)",
			 mode, tag);
		check(name, -EIOCBQUEUED,
		      io_cmd(&qr, fd, UBLK_U_IO_FETCH_REQ, 0, tag,
			     buf ? buf + tag * 4096 : 0));
	}
	/* exiting the ring cancels the queued fetches */
	io_uring_queue_exit(&qr);
out_close:
	close(fd);
out_del:
	del_dev(id);
	free((void *)(uintptr_t)buf);
}

/* UBLK_F_BPF and the UBLK_PARAM_TYPE_BPF parameter */
static void test_bpf(void)
{
	struct ublksrv_ctrl_dev_info info;
	struct ublk_params p, got;
	struct ublksrv_ctrl_cmd c;
	int id, plain, ret;

	check("offsetof(struct ublk_params, bpf) (after mainline's 152 bytes)",
	      152, (int)offsetof(struct ublk_params, bpf));
	check("sizeof(struct ublk_params)", 200, (int)sizeof(struct ublk_params));

	valid_info(&info, -1);
	info.flags = UBLK_F_BPF | UBLK_F_NEED_GET_DATA;
	c = cmd_for(-1, &info, sizeof(info));
	add_case("ADD_DEV UBLK_F_BPF with UBLK_F_NEED_GET_DATA", -EINVAL, &c,
		 &info);
	/*
	 * UBLK_F_BPF with UBLK_F_UNPRIVILEGED_DEV is refused too, but only a
	 * user without CAP_SYS_ADMIN keeps UNPRIVILEGED_DEV (the kernel drops
	 * it for root), and /dev/ublk-control is root's here
	 */

	ret = add_dev(&info, -1, 0);
	check("ADD_DEV without UBLK_F_BPF", 0, ret);
	if (ret)
		return;
	plain = info.dev_id;
	valid_params(&p);
	p.types |= UBLK_PARAM_TYPE_BPF;
	p.bpf.flags = UBLK_BPF_HAS_OPS_ID;
	set_params_case("SET_PARAMS UBLK_PARAM_TYPE_BPF without UBLK_F_BPF",
			-EINVAL, plain, &p, sizeof(p));
	del_dev(plain);

	ret = add_dev(&info, -1, UBLK_F_BPF);
	check("ADD_DEV UBLK_F_BPF", 0, ret);
	if (ret)
		return;
	id = info.dev_id;
	check("ADD_DEV UBLK_F_BPF: the flag is kept", 1,
	      !!(info.flags & UBLK_F_BPF));
	valid_params(&p);
	p.types |= UBLK_PARAM_TYPE_BPF;
	set_params_case("SET_PARAMS bpf.flags 0", -EINVAL, id, &p, sizeof(p));
	p.bpf.flags = UBLK_BPF_HAS_OPS_ID | 4;
	set_params_case("SET_PARAMS bpf.flags with an unknown flag", -EINVAL,
			id, &p, sizeof(p));
	p.bpf.flags = UBLK_BPF_HAS_AIO_OPS_ID;
	set_params_case("SET_PARAMS bpf.flags UBLK_BPF_HAS_AIO_OPS_ID alone",
			-EINVAL, id, &p, sizeof(p));
	p.bpf.flags = UBLK_BPF_HAS_OPS_ID;
	p.bpf.nr_files = 1;
	set_params_case("SET_PARAMS bpf.nr_files without UBLK_BPF_HAS_AIO_OPS_ID",
			-EINVAL, id, &p, sizeof(p));
	p.bpf.nr_files = 0;
	p.bpf.aio_ops_id = 1;
	set_params_case("SET_PARAMS bpf.aio_ops_id without UBLK_BPF_HAS_AIO_OPS_ID",
			-EINVAL, id, &p, sizeof(p));
	p.bpf.flags = UBLK_BPF_HAS_OPS_ID | UBLK_BPF_HAS_AIO_OPS_ID;
	p.bpf.nr_files = UBLK_BPF_MAX_FILES + 1;
	set_params_case("SET_PARAMS bpf.nr_files 9", -EINVAL, id, &p,
			sizeof(p));
	p.bpf.flags = UBLK_BPF_HAS_OPS_ID;
	p.bpf.nr_files = 0;
	p.bpf.aio_ops_id = 0;
	check("sizeof(struct ublk_param_bpf)", 48,
	      (int)sizeof(struct ublk_param_bpf));
	p.len = offsetof(struct ublk_params, bpf);
	set_params_case("SET_PARAMS UBLK_PARAM_TYPE_BPF, params.len short of it",
			-EINVAL, id, &p, sizeof(p));

	/* a BPF device names its ops */
	valid_params(&p);
	set_params_case("SET_PARAMS UBLK_F_BPF device without the BPF parameter",
			0, id, &p, sizeof(p));
	c = cmd_for(id, NULL, 0);
	c.data[0] = getpid();
	check("START_DEV UBLK_F_BPF device without the BPF parameter", -EINVAL,
	      ctrl(UBLK_U_CMD_START_DEV, &c));

	valid_params(&p);
	p.types |= UBLK_PARAM_TYPE_BPF;
	p.bpf.flags = UBLK_BPF_HAS_OPS_ID;
	p.bpf.ops_id = 123456;
	set_params_case("SET_PARAMS bpf valid", 0, id, &p, sizeof(p));
	memset(&got, 0, sizeof(got));
	got.len = sizeof(got);
	c = cmd_for(id, &got, sizeof(got));
	check("GET_PARAMS", 0, ctrl(UBLK_U_CMD_GET_PARAMS, &c));
	check("GET_PARAMS: types BASIC, DEVT and BPF",
	      UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DEVT | UBLK_PARAM_TYPE_BPF,
	      got.types);
	check("GET_PARAMS: bpf.ops_id as set", 123456, (int)got.bpf.ops_id);
	del_dev(id);
}

static void test_live(int id)
{
	struct ublk_params p;

	valid_params(&p);
	set_params_case("SET_PARAMS on a started device", -EACCES, id, &p,
			sizeof(p));
}

int main(int argc, char **argv)
{
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: ublk_ctrl_test add|params|io|bpf|live ID\n");
		return 2;
	}
	ctrl_fd = open("/dev/ublk-control", O_RDWR);
	if (ctrl_fd < 0) {
		fprintf(stderr, "ublk_ctrl_test: /dev/ublk-control: %s\n",
			strerror(errno));
		return 1;
	}
	ret = io_uring_queue_init(4, &ring, IORING_SETUP_SQE128);
	if (ret) {
		fprintf(stderr, "ublk_ctrl_test: io_uring_queue_init: %s\n",
			strerror(-ret));
		return 1;
	}
	if (!strcmp(argv[1], "add")) {
		test_add();
	} else if (!strcmp(argv[1], "params")) {
		test_params();
	} else if (!strcmp(argv[1], "io")) {
		test_io(0, "copy:");
		test_io(UBLK_F_USER_COPY, "user copy:");
	} else if (!strcmp(argv[1], "bpf")) {
		test_bpf();
	} else if (!strcmp(argv[1], "live") && argc == 3) {
		test_live(atoi(argv[2]));
	} else {
		fprintf(stderr, "ublk_ctrl_test: unknown test '%s'\n", argv[1]);
		return 2;
	}
	return failures ? 1 : 0;
}
