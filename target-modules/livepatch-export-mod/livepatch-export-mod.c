// SPDX-License-Identifier: GPL-2.0
/*
 * A target module that exports a symbol, written for kgpc's VM tests. It shows
 * /proc/livepatch_export_mod through export_mod_show(), exports
 * export_mod_answer() and keeps a counter, export_mod_reads, that it does not
 * export. A patch of export_mod_show() that uses both must load while this
 * module is absent (tests/vm/module-absent.kgp).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

/* How often the file was read; not exported. */
unsigned int export_mod_reads;

int export_mod_answer(void)
{
	return 42;
}
EXPORT_SYMBOL_GPL(export_mod_answer);

static int export_mod_show(struct seq_file *m, void *v)
{
	export_mod_reads++;
	seq_puts(m, "export-mod: original\n");
	return 0;
}

static int __init export_mod_init(void)
{
	if (!proc_create_single("livepatch_export_mod", 0444, NULL, export_mod_show))
		return -ENOMEM;
	pr_info("%s\n", __func__);
	return 0;
}

static void __exit export_mod_exit(void)
{
	remove_proc_entry("livepatch_export_mod", NULL);
}

module_init(export_mod_init);
module_exit(export_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A target that exports a symbol: shows /proc/livepatch_export_mod");
