/*
 * A livepatch module for module `my_mod`, in miniature, as kbuild would leave it:
 * references to a symbol my_mod exports, to one it does not (recorded like an
 * `extern`), and to one of vmlinux, with modpost's depends= and __versions.
 */
extern int export_fn(void);
extern int other_export(void);
extern int hidden;

int patched(void)
{
	return export_fn() + other_export() + hidden;
}

static const char record[] __attribute__((used, section(".kgpc.klp_syms"), aligned(1))) =
	"my_mod.hidden,0";
static const char object[] __attribute__((used, section(".kgpc.klp_objects"), aligned(1))) =
	"my_mod";
static const char depends[] __attribute__((used, section(".modinfo"), aligned(1))) =
	"depends=my-mod,other_mod";

struct modversion_info {
	unsigned long crc;
	char name[56];
};

static const struct modversion_info versions[]
	__attribute__((used, section("__versions"), aligned(32))) = {
	{ 0x1, "module_layout" },
	{ 0x2, "export_fn" },
	{ 0x3, "other_export" },
};
