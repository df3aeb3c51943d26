#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: fio 4k random read at several queue depths on a null_blk and
# on the virtio-blk disk, under the kernel's own schedulers: the subset of
# bench/ufq.sh without UFQ, its JSON in $HARNESS_SHARED/fio_sched.

DIR=$(dirname "$(readlink -f "$0")")
SCHEDULERS=${SCHEDULERS:-"none mq-deadline kyber bfq"} WORKLOADS=randread \
	NULLB=benchnull BENCH_OUT=fio_sched exec bash "$DIR/ufq.sh"
