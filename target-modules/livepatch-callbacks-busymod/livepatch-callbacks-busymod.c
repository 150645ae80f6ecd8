// SPDX-License-Identifier: GPL-2.0
/*
 * A busy target module, written for kgpc's VM tests: at load it queues a work
 * item whose function, busymod_work_func(), sleeps sleep_secs seconds. While a
 * worker sleeps in it, a patch that replaces that function cannot finish its
 * transition (examples/livepatch-callbacks-demo.kgp replaces it).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/delay.h>
#include <linux/workqueue.h>

static int sleep_secs;
module_param(sleep_secs, int, 0644);
MODULE_PARM_DESC(sleep_secs, "seconds busymod_work_func() sleeps (default 0)");

static noinline void busymod_work_func(struct work_struct *work)
{
	pr_info("%s, sleeping %d seconds ...\n", __func__, sleep_secs);
	msleep(sleep_secs * 1000);
	pr_info("%s exit\n", __func__);
}

static DECLARE_WORK(work, busymod_work_func);

static int __init busymod_init(void)
{
	pr_info("%s\n", __func__);
	schedule_work(&work);
	return 0;
}

static void __exit busymod_exit(void)
{
	flush_work(&work);
	pr_info("%s\n", __func__);
}

module_init(busymod_init);
module_exit(busymod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A busy target for livepatch callbacks: a work item that sleeps");
