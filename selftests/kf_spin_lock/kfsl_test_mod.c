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
 * At load time the module also tries to register a set in which one kfunc
 * has both KF_SPIN_LOCK and KF_SLEEPABLE, which the kernel must refuse; the
 * result is in /sys/module/kfsl_test_mod/parameters/bad_set_err.
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

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(kfsl_test_kfunc_ids)
BTF_ID_FLAGS(func, kfsl_test_locked, KF_SPIN_LOCK)
BTF_ID_FLAGS(func, kfsl_test_unlocked)
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

static int __init kfsl_test_init(void)
{
	/*
	 * A different hook from the good set: should the kernel wrongly
	 * accept this set, the good one can still be registered.
	 */
	bad_set_err = register_btf_kfunc_id_set(BPF_PROG_TYPE_TRACING,
						&kfsl_test_bad_kfunc_set);

	return register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL,
					 &kfsl_test_kfunc_set);
}

static void __exit kfsl_test_exit(void)
{
}

module_init(kfsl_test_init);
module_exit(kfsl_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KF_SPIN_LOCK verifier test kfuncs");
