/* A header of the fixture kernel: each unit that uses its static inline gets its own copy. */
static inline __attribute__((always_inline)) int header_inline(int x) { return (x ^ 5) + 1; }
