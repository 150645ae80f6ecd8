/* The "vmlinux" of kgpc's kernel-facts tests: linked by build.sh with
 * fixture.lds, like the kernel, from core.c and other.c built with
 * -pg -mfentry -mrecord-mcount -g. */
struct seq_file;

const char linux_banner[] = "Linux version 6.1.0-999-fixture (kgpc@tests) (gcc) #1 SMP\n";
char *saved_command_line = "console=ttyS0";
int exported_counter;
/* What EXPORT_SYMBOL leaves in the symbol table. */
const int __ksymtab_exported_counter = 0;

__attribute__((no_instrument_function)) void __fentry__(void) { }
int klp_enable_patch(void *patch) { return patch != 0; }

/* A local name that other.c has too. */
static __attribute__((noinline)) int dup_fn(int x) { return x + 1; }
int use_core_dup(int x) { return dup_fn(x) * 2; }

/* Inlined into two callers, never emitted on its own. */
static inline __attribute__((always_inline)) int inlined_helper(int x) { return x * 3 + 1; }
int caller_one(int x) { return inlined_helper(x) + 1; }
int caller_two(int x) { return inlined_helper(x) - 1; }

/* Recursive: gcc inlines it into its own out-of-line copy, which is no inlined copy elsewhere. */
struct node { struct node *left, *right; int v; };
int tree_sum(struct node *n)
{
	if (!n)
		return 0;
	return n->v + tree_sum(n->left) + tree_sum(n->right);
}

/* Its unlikely path goes to a clone of its own, cloned.cold. */
void report(int x) __attribute__((cold));
__attribute__((noinline)) int cloned(int x)
{
	if (__builtin_expect(x < 0, 0)) {
		report(x);
		report(x + 1);
		return -1;
	}
	return x * 2;
}
int use_clone(int x) { return cloned(x) + 1; }

/* Always called with the same constant: only only_clone.constprop.0 exists. */
static __attribute__((noinline)) int only_clone(int x, int y) { return x * y + (x ^ y) + y; }
int use_only_clone(int x) { return only_clone(x, 7) + only_clone(x + 1, 7); }

__attribute__((section(".init.text"), noinline)) int init_fn(void) { return 1; }
__attribute__((no_instrument_function, noinline)) int notrace_fn(int x) { return x - 1; }

/* An array parameter, and an array variable, whose size the kernel's source writes as a macro. */
unsigned char fixture_mac[6];
int set_mac(unsigned char addr[6], int n) { fixture_mac[0] = addr[0]; return addr[n]; }

/* A system call as SYSCALL_DEFINE1 builds it on x86_64 without compat: the
 * body, without an ftrace call site, and its one entry wrapper. */
struct pt_regs;
__attribute__((no_instrument_function, noinline)) long __do_sys_fixture(long x) { return x + 2; }
long __x64_sys_fixture(const struct pt_regs *regs) { return __do_sys_fixture((long)regs); }

int show(struct seq_file *m, void *v) { return m == v; }
/* Named like the kernel's, but only the census of a real kernel says a task rests in it. */
int kthread(void *data) { for (;;) if (!data) return 0; }
/* A scheduler function, as __sched places it: sleeping tasks are inside it. */
__attribute__((section(".sched.text"), noinline)) int sched_fn(int x) { return x + 2; }
