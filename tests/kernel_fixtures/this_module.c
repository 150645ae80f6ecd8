/*
 * A livepatch module for module `my_mod` whose code, taken from my_mod, uses
 * THIS_MODULE: the patch module defines its own `__this_module` (kbuild's
 * .mod.c does), so my_mod's is referenced as `kgpc_my_mod_this_module` and
 * recorded under that name.
 */
struct module {
	int refcnt;
};

struct module __this_module = { 0 };
extern struct module kgpc_my_mod_this_module;

void patched(void)
{
	kgpc_my_mod_this_module.refcnt++;
	__this_module.refcnt++;
}

static const char record[] __attribute__((used, section(".kgpc.klp_syms"), aligned(1))) =
	"my_mod.__this_module,0=kgpc_my_mod_this_module";
static const char object[] __attribute__((used, section(".kgpc.klp_objects"), aligned(1))) =
	"my_mod";
