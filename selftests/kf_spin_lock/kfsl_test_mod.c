// SPDX-License-Identifier: GPL-2.0
/*
 * Module kfuncs for the KF_SPIN_LOCK verifier tests.
 *
 * kfsl_test_locked() and kfsl_test_unlocked() are the same function, one
 * flagged KF_SPIN_LOCK and one not, registered for BPF_PROG_TYPE_SYSCALL.
 * Both return (a << 1) | irqs_disabled(), so a test program run through
 * BPF_PROG_TEST_RUN shows that the call really happened inside the
 * bpf_spin_lock critical section, where interrupts are disabled.
 *
 * At load time the module also tries to register kfunc sets that the kernel
 * must refuse, each on a hook of its own (a module registers one set per
 * hook), and keeps each result in a parameter under
 * /sys/module/kfsl_test_mod/parameters/ (1: not tried):
 *
 *   bad_set_err             KF_SPIN_LOCK | KF_SLEEPABLE in one set
 *   iter_set_err            KF_SPIN_LOCK | KF_ITER_NEW in one set
 *   cross_sleepable_err     KF_SLEEPABLE on a kfunc that the good set
 *                           registered KF_SPIN_LOCK
 *   cross_locked_err        KF_SPIN_LOCK on a kfunc that the good set
 *                           registered KF_SLEEPABLE
 *
 * The cross-set ones are tried after the good set; they must not undo it.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/init.h>
#include <linux/irqflags.h>
#include <linux/module.h>

static int bad_set_err = 1;
module_param(bad_set_err, int, 0444);
MODULE_PARM_DESC(bad_set_err,
		 "Result of registering a KF_SPIN_LOCK | KF_SLEEPABLE kfunc (1: not tried)");
static int iter_set_err = 1;
module_param(iter_set_err, int, 0444);
MODULE_PARM_DESC(iter_set_err,
		 "Result of registering a KF_SPIN_LOCK | KF_ITER_NEW kfunc (1: not tried)");
static int cross_sleepable_err = 1;
module_param(cross_sleepable_err, int, 0444);
MODULE_PARM_DESC(cross_sleepable_err,
		 "Result of registering a KF_SPIN_LOCK kfunc KF_SLEEPABLE in another set (1: not tried)");
static int cross_locked_err = 1;
module_param(cross_locked_err, int, 0444);
MODULE_PARM_DESC(cross_locked_err,
		 "Result of registering a KF_SLEEPABLE kfunc KF_SPIN_LOCK in another set (1: not tried)");

/* A well-formed iterator, so that only KF_SPIN_LOCK makes its set wrong */
struct bpf_iter_kfsl {
	u64 __opaque[1];
} __aligned(8);

__bpf_kfunc_start_defs();

__bpf_kfunc u64 kfsl_test_locked(u64 a)
{
	return (a << 1) | !!irqs_disabled();
}

__bpf_kfunc u64 kfsl_test_unlocked(u64 a)
{
	return (a << 1) | !!irqs_disabled();
}

__bpf_kfunc u64 kfsl_test_sleepable_locked(u64 a)
{
	might_sleep();
	return a;
}

__bpf_kfunc u64 kfsl_test_sleepable(u64 a)
{
	might_sleep();
	return a;
}

__bpf_kfunc int bpf_iter_kfsl_new(struct bpf_iter_kfsl *it)
{
	it->__opaque[0] = 0;
	return 0;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(kfsl_test_kfunc_ids)
BTF_ID_FLAGS(func, kfsl_test_locked, KF_SPIN_LOCK)
BTF_ID_FLAGS(func, kfsl_test_unlocked)
BTF_ID_FLAGS(func, kfsl_test_sleepable, KF_SLEEPABLE)
BTF_KFUNCS_END(kfsl_test_kfunc_ids)

static const struct btf_kfunc_id_set kfsl_test_kfunc_set = {
	.owner = THIS_MODULE,
	.set   = &kfsl_test_kfunc_ids,
};

BTF_KFUNCS_START(kfsl_test_bad_kfunc_ids)
BTF_ID_FLAGS(func, kfsl_test_sleepable_locked, KF_SPIN_LOCK | KF_SLEEPABLE)
BTF_KFUNCS_END(kfsl_test_bad_kfunc_ids)

static const struct btf_kfunc_id_set kfsl_test_bad_kfunc_set = {
	.owner = THIS_MODULE,
	.set   = &kfsl_test_bad_kfunc_ids,
};

BTF_KFUNCS_START(kfsl_test_iter_kfunc_ids)
BTF_ID_FLAGS(func, bpf_iter_kfsl_new, KF_ITER_NEW | KF_SPIN_LOCK)
BTF_KFUNCS_END(kfsl_test_iter_kfunc_ids)

static const struct btf_kfunc_id_set kfsl_test_iter_kfunc_set = {
	.owner = THIS_MODULE,
	.set   = &kfsl_test_iter_kfunc_ids,
};

BTF_KFUNCS_START(kfsl_test_cross_sleepable_ids)
BTF_ID_FLAGS(func, kfsl_test_locked, KF_SLEEPABLE)
BTF_KFUNCS_END(kfsl_test_cross_sleepable_ids)

static const struct btf_kfunc_id_set kfsl_test_cross_sleepable_set = {
	.owner = THIS_MODULE,
	.set   = &kfsl_test_cross_sleepable_ids,
};

BTF_KFUNCS_START(kfsl_test_cross_locked_ids)
BTF_ID_FLAGS(func, kfsl_test_sleepable, KF_SPIN_LOCK)
BTF_KFUNCS_END(kfsl_test_cross_locked_ids)

static const struct btf_kfunc_id_set kfsl_test_cross_locked_set = {
	.owner = THIS_MODULE,
	.set   = &kfsl_test_cross_locked_ids,
};

static int __init kfsl_test_init(void)
{
	int err;

	/*
	 * Hooks other than the good set's: should the kernel wrongly accept
	 * one of these sets, the good one can still be registered and no
	 * program the tests load can call the wrongly registered kfunc.
	 */
	bad_set_err = register_btf_kfunc_id_set(BPF_PROG_TYPE_TRACING,
						&kfsl_test_bad_kfunc_set);
	iter_set_err = register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP,
						 &kfsl_test_iter_kfunc_set);

	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL,
					&kfsl_test_kfunc_set);
	if (err)
		return err;

	cross_sleepable_err =
		register_btf_kfunc_id_set(BPF_PROG_TYPE_SCHED_CLS,
					  &kfsl_test_cross_sleepable_set);
	cross_locked_err =
		register_btf_kfunc_id_set(BPF_PROG_TYPE_CGROUP_SKB,
					  &kfsl_test_cross_locked_set);
	return 0;
}

static void __exit kfsl_test_exit(void)
{
}

module_init(kfsl_test_init);
module_exit(kfsl_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KF_SPIN_LOCK verifier test kfuncs");
