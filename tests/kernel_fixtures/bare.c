/* A "kernel" without a banner or klp_enable_patch, for the kernel rules' unit
 * tests: add_one has both a symbol and inlined copies. */
__attribute__((no_instrument_function)) void __fentry__(void) { }
int add_one(int x) { return x + 1; }
int user_one(int x) { return add_one(x) * 2; }
int user_two(int x) { return add_one(x) * 3; }
/* A function of assembly, which DWARF does not describe. */
asm(".globl asm_fn\n.type asm_fn, @function\nasm_fn: ret\n.size asm_fn, 1\n");
