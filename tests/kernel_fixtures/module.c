/* The fixture module `fixture_mod`, used as an object file like a .ko. */
int mod_fn(int a, long b) { return a + (int)b; }
static __attribute__((noinline)) int mod_local(int x) { return x * 5; }
int mod_user(int x) { return mod_local(x); }
__attribute__((section(".init.text"))) int init_module(void) { return 0; }
