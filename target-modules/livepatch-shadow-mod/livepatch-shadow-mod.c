// SPDX-License-Identifier: GPL-2.0
/*
 * A target module for shadow-variable live patches, written for kgpc's VM tests.
 *
 * It keeps a list of `struct dummy` objects. A periodic work allocates one every
 * alloc_ms milliseconds, together with an int that it leaks on purpose: nothing
 * keeps the pointer. Another work frees every dummy older than EXPIRE_SECS every
 * cleanup_ms milliseconds. dummy_alloc(), dummy_free() and dummy_check() are
 * separate, never inlined functions, so that live patches can replace them:
 * examples/livepatch-shadow-fix1.kgp plugs the leak with a shadow variable and
 * examples/livepatch-shadow-fix2.kgp counts the checks of each dummy.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#define EXPIRE_SECS 4

static unsigned int alloc_ms = 250;
module_param(alloc_ms, uint, 0444);
MODULE_PARM_DESC(alloc_ms, "milliseconds between allocations (default 250)");

static unsigned int cleanup_ms = 500;
module_param(cleanup_ms, uint, 0444);
MODULE_PARM_DESC(cleanup_ms, "milliseconds between cleanups (default 500)");

/* The layout the live patches repeat in their `data` blocks. */
struct dummy {
	struct list_head list;
	unsigned long jiffies_expire;
};

static LIST_HEAD(dummies);
static DEFINE_MUTEX(dummies_lock);

static noinline __attribute__((__noclone__)) struct dummy *dummy_alloc(void)
{
	struct dummy *d;
	int *leak;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return NULL;
	d->jiffies_expire = jiffies + msecs_to_jiffies(1000 * EXPIRE_SECS);

	/* The leak: the int is allocated and forgotten. */
	leak = kzalloc(sizeof(*leak), GFP_KERNEL);
	if (!leak) {
		kfree(d);
		return NULL;
	}
	pr_info("%s: dummy @ %p, expires @ %lx\n", __func__, d, d->jiffies_expire);
	return d;
}

static noinline __attribute__((__noclone__)) void dummy_free(struct dummy *d)
{
	pr_info("%s: dummy @ %p, expired = %lx\n", __func__, d, d->jiffies_expire);
	kfree(d);
}

static noinline __attribute__((__noclone__)) bool dummy_check(struct dummy *d, unsigned long now)
{
	return time_after(now, d->jiffies_expire);
}

static void alloc_work_func(struct work_struct *work);
static DECLARE_DELAYED_WORK(alloc_work, alloc_work_func);

static void alloc_work_func(struct work_struct *work)
{
	struct dummy *d = dummy_alloc();

	if (d) {
		mutex_lock(&dummies_lock);
		list_add(&d->list, &dummies);
		mutex_unlock(&dummies_lock);
	}
	schedule_delayed_work(&alloc_work, msecs_to_jiffies(alloc_ms));
}

static void cleanup_work_func(struct work_struct *work);
static DECLARE_DELAYED_WORK(cleanup_work, cleanup_work_func);

static void cleanup_work_func(struct work_struct *work)
{
	struct dummy *d, *next;
	unsigned long now = jiffies;

	mutex_lock(&dummies_lock);
	list_for_each_entry_safe(d, next, &dummies, list) {
		if (dummy_check(d, now)) {
			list_del(&d->list);
			dummy_free(d);
		}
	}
	mutex_unlock(&dummies_lock);
	schedule_delayed_work(&cleanup_work, msecs_to_jiffies(cleanup_ms));
}

static int __init shadow_mod_init(void)
{
	if (!alloc_ms || !cleanup_ms)
		return -EINVAL;
	schedule_delayed_work(&alloc_work, 0);
	schedule_delayed_work(&cleanup_work, msecs_to_jiffies(cleanup_ms));
	return 0;
}

static void __exit shadow_mod_exit(void)
{
	struct dummy *d, *next;

	cancel_delayed_work_sync(&alloc_work);
	cancel_delayed_work_sync(&cleanup_work);
	mutex_lock(&dummies_lock);
	list_for_each_entry_safe(d, next, &dummies, list) {
		list_del(&d->list);
		dummy_free(d);
	}
	mutex_unlock(&dummies_lock);
}

module_init(shadow_mod_init);
module_exit(shadow_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A target for shadow-variable live patches: leaks an int per dummy");
