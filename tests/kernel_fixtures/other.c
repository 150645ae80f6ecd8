/* The second unit of the fixture vmlinux. */
static __attribute__((noinline)) int dup_fn(int x) { return x - 1; }
int use_other_dup(int x) { return dup_fn(x) / 2; }

__attribute__((cold, noinline)) void report(int x) { static volatile int last; last = x; }

#include "fixture.h"
int use_header_inline(int x) { return header_inline(x) + 2; }
