// SPDX-License-Identifier: GPL-2.0
/*
 * A kernel thread that always sleeps inside sleepy_wait(): a live patch of that
 * function can never finish its transition (tests/vm/transition-stalls.kgp).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/delay.h>

static struct task_struct *thread;

/* Not a tail call: the function stays on the thread's stack while it sleeps. */
static noinline __attribute__((__noclone__)) unsigned long sleepy_wait(void)
{
	return msleep_interruptible(1000000) + 1;
}

static int sleepy_thread(void *data)
{
	while (!kthread_should_stop())
		sleepy_wait();
	return 0;
}

static int __init sleepy_init(void)
{
	thread = kthread_run(sleepy_thread, NULL, "kgpc-sleepy");
	return PTR_ERR_OR_ZERO(thread);
}

static void __exit sleepy_exit(void)
{
	kthread_stop(thread);
}

module_init(sleepy_init);
module_exit(sleepy_exit);
MODULE_LICENSE("GPL");
