// SPDX-License-Identifier: GPL-2.0
/*
 * the stripe target claiming 100 bytes more in CONTINUE than the piece
 * it queued: the I/O fails with EIO once the aio already attached to it
 * is done
 */
#define SPLIT_CLAIM(bytes)	((bytes) + 100)
#include "ublk_stripe.bpf.c"
