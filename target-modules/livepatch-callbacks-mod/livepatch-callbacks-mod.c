// SPDX-License-Identifier: GPL-2.0
/*
 * A target module for livepatch callbacks, written for kgpc's VM tests: it only
 * logs its init and exit, so that a patch's callbacks for this object can be
 * seen in dmesg in relation to them (examples/livepatch-callbacks-demo.kgp).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>

static int __init callbacks_mod_init(void)
{
	pr_info("%s\n", __func__);
	return 0;
}

static void __exit callbacks_mod_exit(void)
{
	pr_info("%s\n", __func__);
}

module_init(callbacks_mod_init);
module_exit(callbacks_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A target for livepatch callbacks: logs its init and exit");
