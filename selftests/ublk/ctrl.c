// SPDX-License-Identifier: GPL-2.0
/*
 * Control commands: io_uring passthrough commands (IORING_OP_URING_CMD,
 * 128-byte SQEs) on /dev/ublk-control.  Every command returns the
 * kernel's result: a negative errno on failure, which the callers report
 * with the command's name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ublk.h"

bool ublk_trace;

static const struct {
	unsigned int op;
	const char *name;
} ctrl_names[] = {
	{ UBLK_U_CMD_GET_QUEUE_AFFINITY, "GET_QUEUE_AFFINITY" },
	{ UBLK_U_CMD_GET_DEV_INFO, "GET_DEV_INFO" },
	{ UBLK_U_CMD_ADD_DEV, "ADD_DEV" },
	{ UBLK_U_CMD_DEL_DEV, "DEL_DEV" },
	{ UBLK_U_CMD_START_DEV, "START_DEV" },
	{ UBLK_U_CMD_STOP_DEV, "STOP_DEV" },
	{ UBLK_U_CMD_SET_PARAMS, "SET_PARAMS" },
	{ UBLK_U_CMD_GET_PARAMS, "GET_PARAMS" },
	{ UBLK_U_CMD_START_USER_RECOVERY, "START_USER_RECOVERY" },
	{ UBLK_U_CMD_END_USER_RECOVERY, "END_USER_RECOVERY" },
	{ UBLK_U_CMD_GET_DEV_INFO2, "GET_DEV_INFO2" },
	{ UBLK_U_CMD_GET_FEATURES, "GET_FEATURES" },
	{ UBLK_U_CMD_DEL_DEV_ASYNC, "DEL_DEV_ASYNC" },
};

const char *ublk_ctrl_name(unsigned int op)
{
	unsigned int i;

	for (i = 0; i < sizeof(ctrl_names) / sizeof(ctrl_names[0]); i++)
		if (ctrl_names[i].op == op)
			return ctrl_names[i].name;
	return "UNKNOWN";
}

int ublk_ctrl_open(struct ublk_dev *dev)
{
	int ret;

	dev->ctrl_fd = open(UBLK_CTRL_DEV, O_RDWR | O_CLOEXEC);
	if (dev->ctrl_fd < 0) {
		ret = -errno;
		ublk_err("open %s: %s%s", UBLK_CTRL_DEV, strerror(-ret),
			 ret == -ENOENT ?
			 " (no ublk driver: CONFIG_BLK_DEV_UBLK, or modprobe ublk_drv)" :
			 "");
		return ret;
	}
	ret = io_uring_queue_init(4, &dev->ctrl_ring, IORING_SETUP_SQE128);
	if (ret < 0) {
		ublk_err("io_uring_queue_init (control ring): %s",
			 strerror(-ret));
		close(dev->ctrl_fd);
		dev->ctrl_fd = -1;
		return ret;
	}
	dev->ctrl_ring_ok = true;
	return 0;
}

void ublk_ctrl_close(struct ublk_dev *dev)
{
	if (dev->ctrl_ring_ok)
		io_uring_queue_exit(&dev->ctrl_ring);
	dev->ctrl_ring_ok = false;
	if (dev->ctrl_fd >= 0)
		close(dev->ctrl_fd);
	dev->ctrl_fd = -1;
}

/*
 * Send one control command and wait for its result.  @data goes to
 * ublksrv_ctrl_cmd.data[0], @buf/@len to its addr/len.
 */
int ublk_ctrl_cmd(struct ublk_dev *dev, unsigned int op, int dev_id,
		  uint64_t data, void *buf, unsigned int len)
{
	struct ublksrv_ctrl_cmd *cmd;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	sqe = io_uring_get_sqe(&dev->ctrl_ring);
	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = dev->ctrl_fd;
	sqe->cmd_op = op;
	cmd = (struct ublksrv_ctrl_cmd *)sqe->cmd;
	cmd->dev_id = dev_id;
	cmd->queue_id = (__u16)-1;
	cmd->data[0] = data;
	cmd->addr = (uintptr_t)buf;
	cmd->len = len;

	ret = io_uring_submit(&dev->ctrl_ring);
	if (ret < 0)
		return ret;
	do {
		ret = io_uring_wait_cqe(&dev->ctrl_ring, &cqe);
	} while (ret == -EINTR);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&dev->ctrl_ring, cqe);
	if (ublk_trace)
		fprintf(stderr, "ublk: trace: %s dev %d -> %d\n",
			ublk_ctrl_name(op), dev_id, ret);
	return ret;
}

/*
 * A control command of device @dev_id; a failure is reported with the
 * command's name and errno, unless it is -@quiet (an expected one).
 */
int ublk_ctrl_dev_cmd(struct ublk_dev *dev, unsigned int op, int dev_id,
		      uint64_t data, void *buf, unsigned int len, int quiet)
{
	int ret = ublk_ctrl_cmd(dev, op, dev_id, data, buf, len);

	if (ret < 0 && ret != -quiet) {
		if (dev_id >= 0)
			ublk_err("%s (dev %d): %s", ublk_ctrl_name(op), dev_id,
				 strerror(-ret));
		else
			ublk_err("%s: %s", ublk_ctrl_name(op), strerror(-ret));
	}
	return ret;
}

int ublk_ctrl_add_dev(struct ublk_dev *dev)
{
	struct ublksrv_ctrl_dev_info *info = &dev->info;

	memset(info, 0, sizeof(*info));
	info->nr_hw_queues = dev->cfg.nr_queues;
	info->queue_depth = dev->cfg.depth;
	info->max_io_buf_bytes = dev->cfg.max_io;
	info->dev_id = dev->cfg.dev_id;
	info->flags = dev->cfg.flags | UBLK_SRV_FLAGS;
	return ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_ADD_DEV, dev->cfg.dev_id, 0,
				 info, sizeof(*info), 0);
}

int ublk_ctrl_get_info(struct ublk_dev *dev, int dev_id)
{
	return ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_GET_DEV_INFO, dev_id, 0,
				 &dev->info, sizeof(dev->info), 0);
}

int ublk_ctrl_set_params(struct ublk_dev *dev)
{
	dev->params.len = sizeof(dev->params);
	return ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_SET_PARAMS, dev->info.dev_id,
				 0, &dev->params, sizeof(dev->params), 0);
}

int ublk_ctrl_get_params(struct ublk_dev *dev)
{
	memset(&dev->params, 0, sizeof(dev->params));
	dev->params.len = sizeof(dev->params);
	return ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_GET_PARAMS, dev->info.dev_id,
				 0, &dev->params, sizeof(dev->params), 0);
}

int ublk_ctrl_get_features(struct ublk_dev *dev, uint64_t *features)
{
	return ublk_ctrl_dev_cmd(dev, UBLK_U_CMD_GET_FEATURES, -1, 0, features,
				 sizeof(*features), 0);
}
