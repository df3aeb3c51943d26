// SPDX-License-Identifier: GPL-2.0
/*
 * Callback driven io_uring event loop.
 *
 * With ->loop_step() installed, io_uring_enter(2) neither submits nor waits
 * as asked by its arguments: it runs this loop, which calls ->loop_step()
 * with ->uring_lock held, over and over.  The callback reaps CQEs and submits
 * SQEs itself, sets params->cq_wait_idx to ask the loop to sleep until the CQ
 * tail reaches that index, and returns IOU_LOOP_STOP to end the syscall.
 * Between calls the loop runs task_work and deferred completions and flushes
 * overflowed CQEs, so a callback sees every completion without ever leaving
 * the kernel.
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/task_work.h>
#include <linux/io_uring_types.h>

#include "io_uring.h"
#include "loop.h"

static inline int io_loop_nr_wait(struct io_ring_ctx *ctx,
				  const struct iou_loop_params *lp)
{
	return (int)(READ_ONCE(lp->cq_wait_idx) -
		     READ_ONCE(ctx->rings->cq.tail));
}

static inline bool io_loop_task_work_pending(void)
{
	return task_work_pending(current) || test_thread_flag(TIF_NOTIFY_SIGNAL);
}

/*
 * Anything that makes sleeping wrong.  Checked after the task state is set,
 * which pairs with io_req_local_work_add() and io_loop_wake(): either they
 * see ->cq_wait_nr and the sleeping state, or this sees their update.
 */
static bool io_loop_should_sleep(struct io_ring_ctx *ctx,
				 const struct iou_loop_params *lp)
{
	if (!ctx->loop_step)
		return false;
	if (!llist_empty(&ctx->work_llist))
		return false;
	if (test_bit(IO_CHECK_CQ_OVERFLOW_BIT, &ctx->check_cq))
		return false;
	if (io_loop_task_work_pending())
		return false;
	return io_loop_nr_wait(ctx, lp) > 0;
}

static void io_loop_wait(struct io_ring_ctx *ctx,
			 const struct iou_loop_params *lp, int nr_wait)
	__must_hold(&ctx->uring_lock)
{
	atomic_set(&ctx->cq_wait_nr, nr_wait);
	set_current_state(TASK_INTERRUPTIBLE);

	if (io_loop_should_sleep(ctx, lp)) {
		mutex_unlock(&ctx->uring_lock);
		schedule();
		mutex_lock(&ctx->uring_lock);
	}

	__set_current_state(TASK_RUNNING);
	atomic_set(&ctx->cq_wait_nr, IO_CQ_WAKE_INIT);
}

/* Wake a loop sleeping on @ctx, e.g. when its callback goes away */
void io_loop_wake(struct io_ring_ctx *ctx)
{
	struct task_struct *task = READ_ONCE(ctx->submitter_task);

	if (task)
		wake_up_state(task, TASK_INTERRUPTIBLE);
}

/*
 * Run the event loop of @ctx on behalf of io_uring_enter(2).  Returns 0 when
 * the callback stops the loop, -EINVAL if it returns anything else than
 * IOU_LOOP_CONTINUE or IOU_LOOP_STOP, -EINTR on a signal and -EFAULT if the
 * callback was removed while the loop ran, as mainline.
 *
 * As in mainline, the callback runs first: signals, task_work and deferred
 * completions are looked at after each step, so the first step runs even
 * with a signal pending and sees only the CQEs posted before the syscall.
 */
int io_run_loop(struct io_ring_ctx *ctx)
{
	struct iou_loop_params lp = {};
	int ret;

	/* DEFER_TASKRUN: only the submitter may run the deferred work */
	if (!io_allowed_run_tw(ctx))
		return -EEXIST;

	mutex_lock(&ctx->uring_lock);
	while (true) {
		int (*step)(struct io_ring_ctx *ctx, struct iou_loop_params *lp);
		int nr_wait;

		step = ctx->loop_step;
		if (unlikely(!step)) {
			ret = -EFAULT;
			break;
		}
		ret = step(ctx, &lp);
		if (ret == IOU_LOOP_STOP) {
			ret = 0;
			break;
		}
		if (unlikely(ret != IOU_LOOP_CONTINUE)) {
			ret = -EINVAL;
			break;
		}

		nr_wait = io_loop_nr_wait(ctx, &lp);
		if (nr_wait > 0)
			io_loop_wait(ctx, &lp, nr_wait);
		else
			nr_wait = 0;

		/* may need ->uring_lock of other rings, or this one */
		if (unlikely(io_loop_task_work_pending())) {
			mutex_unlock(&ctx->uring_lock);
			io_run_task_work();
			mutex_lock(&ctx->uring_lock);
		}
		if (unlikely(task_sigpending(current))) {
			ret = -EINTR;
			break;
		}

		/* post what completed, the lock is held: no locking variants */
		io_run_local_work_locked(ctx, nr_wait);
		if (test_bit(IO_CHECK_CQ_OVERFLOW_BIT, &ctx->check_cq))
			io_cqring_overflow_flush_locked(ctx);
		cond_resched();
	}
	mutex_unlock(&ctx->uring_lock);
	return ret;
}
