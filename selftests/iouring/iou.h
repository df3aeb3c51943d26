/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal io_uring library for the tests: raw syscalls and the ring
 * layout.  The UAPI comes from the tree's tools headers, which the series
 * updates (tools/include/uapi/linux/io_uring.h); liburing 2.3 is too old.
 * Tests of the UAPI itself also use the tree's mini_liburing.
 */
#ifndef IOU_H
#define IOU_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/posix_types.h>
#include <linux/stddef.h>
#ifndef __DECLARE_FLEX_ARRAY
#define __DECLARE_FLEX_ARRAY(TYPE, NAME)	\
	struct {				\
		struct { } __empty_ ## NAME;	\
		TYPE NAME[];			\
	}
#endif
#include <signal.h>
#include <io_uring/mini_liburing.h>
#include <time.h>

/* The ring the BPF loop runs on */
#define IOU_LOOP_FLAGS	(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | \
			 IORING_SETUP_NO_SQARRAY | IORING_SETUP_SQ_REWIND)

struct iou_ring {
	int fd;
	unsigned int flags;
	unsigned int sq_entries, cq_entries;
	void *ring_ptr;
	size_t ring_sz;
	struct io_uring_sqe *sqes;
	size_t sqes_sz;
	unsigned int *sq_head, *sq_tail, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_overflow;
	struct io_uring_cqe *cqes;
	unsigned int sq_local_tail;	/* SQEs queued but not yet published */
};

#define IOU_ERR(ret)	((ret) < 0 ? -errno : (ret))

static inline int iou_sys_setup(unsigned int entries, struct io_uring_params *p)
{
	int ret = syscall(__NR_io_uring_setup, entries, p);

	return IOU_ERR(ret);
}

static inline int iou_enter(int fd, unsigned int to_submit,
			    unsigned int min_complete, unsigned int flags)
{
	int ret = syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
			  flags, NULL, 0);

	return IOU_ERR(ret);
}

static inline int iou_register(int fd, unsigned int op, void *arg,
			       unsigned int nr)
{
	int ret = syscall(__NR_io_uring_register, fd, op, arg, nr);

	return IOU_ERR(ret);
}

/* Maps the rings; returns 0 or -errno.  @p->flags selects the setup. */
static inline int iou_setup(unsigned int entries, struct io_uring_params *p,
			    struct iou_ring *r)
{
	size_t sq_sz, cq_sz;
	int fd;

	memset(r, 0, sizeof(*r));
	fd = iou_sys_setup(entries, p);
	if (fd < 0)
		return fd;
	r->fd = fd;
	r->flags = p->flags;
	r->sq_entries = p->sq_entries;
	r->cq_entries = p->cq_entries;

	sq_sz = p->sq_off.array + p->sq_entries * sizeof(unsigned int);
	if (p->flags & IORING_SETUP_NO_SQARRAY)
		sq_sz = 0;
	cq_sz = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	r->ring_sz = sq_sz > cq_sz ? sq_sz : cq_sz;
	r->ring_ptr = mmap(NULL, r->ring_sz, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
	if (r->ring_ptr == MAP_FAILED)
		goto err;
	r->sqes_sz = p->sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_sz, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED) {
		munmap(r->ring_ptr, r->ring_sz);
		goto err;
	}
	r->sq_head = r->ring_ptr + p->sq_off.head;
	r->sq_tail = r->ring_ptr + p->sq_off.tail;
	if (!(p->flags & IORING_SETUP_NO_SQARRAY))
		r->sq_array = r->ring_ptr + p->sq_off.array;
	r->cq_head = r->ring_ptr + p->cq_off.head;
	r->cq_tail = r->ring_ptr + p->cq_off.tail;
	r->cq_overflow = r->ring_ptr + p->cq_off.overflow;
	r->cqes = r->ring_ptr + p->cq_off.cqes;
	r->sq_local_tail = *r->sq_tail;
	return 0;
err:
	fd = -errno;
	close(r->fd);
	r->fd = -1;
	return fd;
}

static inline int iou_setup_flags(unsigned int entries, unsigned int cq_entries,
				  unsigned int flags, struct iou_ring *r)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	if (cq_entries) {
		p.flags |= IORING_SETUP_CQSIZE;
		p.cq_entries = cq_entries;
	}
	return iou_setup(entries, &p, r);
}

static inline void iou_exit(struct iou_ring *r)
{
	if (r->fd < 0)
		return;
	munmap(r->sqes, r->sqes_sz);
	munmap(r->ring_ptr, r->ring_sz);
	close(r->fd);
	r->fd = -1;
}

/* Next free SQE of a circular SQ, zeroed; NULL if the SQ is full */
static inline struct io_uring_sqe *iou_get_sqe(struct iou_ring *r)
{
	unsigned int head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	unsigned int idx;

	if (r->sq_local_tail - head >= r->sq_entries)
		return NULL;
	idx = r->sq_local_tail++ & (r->sq_entries - 1);
	if (r->sq_array)
		r->sq_array[idx] = idx;
	memset(&r->sqes[idx], 0, sizeof(r->sqes[idx]));
	return &r->sqes[idx];
}

/* Make the queued SQEs visible to the kernel; returns how many are pending */
static inline unsigned int iou_flush_sq(struct iou_ring *r)
{
	__atomic_store_n(r->sq_tail, r->sq_local_tail, __ATOMIC_RELEASE);
	return r->sq_local_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
}

static inline int iou_submit(struct iou_ring *r, unsigned int wait)
{
	unsigned int n = iou_flush_sq(r);

	return iou_enter(r->fd, n, wait, wait ? IORING_ENTER_GETEVENTS : 0);
}

static inline void iou_prep_nop(struct io_uring_sqe *sqe, uint64_t user_data)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_NOP;
	sqe->user_data = user_data;
}

static inline unsigned int iou_cq_ready(struct iou_ring *r)
{
	return __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE) - *r->cq_head;
}

/* Pop one CQE into @cqe; false if the CQ is empty */
static inline bool iou_pop_cqe(struct iou_ring *r, struct io_uring_cqe *cqe)
{
	unsigned int head = *r->cq_head;

	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return false;
	*cqe = r->cqes[head & (r->cq_entries - 1)];
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return true;
}

/* Register @size bytes at @addr (user memory) or kernel memory if !addr */
static inline int iou_register_region(struct iou_ring *r, void *addr,
				      uint64_t size, struct io_uring_region_desc *rd)
{
	struct io_uring_mem_region_reg reg;

	memset(rd, 0, sizeof(*rd));
	rd->user_addr = (uintptr_t)addr;
	rd->size = size;
	rd->flags = addr ? IORING_MEM_REGION_TYPE_USER : 0;
	memset(&reg, 0, sizeof(reg));
	reg.region_uptr = (uintptr_t)rd;
	return iou_register(r->fd, IORING_REGISTER_MEM_REGION, &reg, 1);
}

static inline double iou_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Anonymous page-aligned memory for a user region */
static inline void *iou_alloc_region(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#endif
