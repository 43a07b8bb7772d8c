/* arena.h - the compiler's bump allocator.
 * Everything the compiler builds (YAML nodes, the checked spec, expression trees, the IR, template
 * values) is allocated from one arena and freed at once when the process is done with it. Allocation
 * never fails: out of memory aborts with a message. */
#ifndef PIPEC_ARENA_H
#define PIPEC_ARENA_H
#include <stddef.h>

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
    ArenaBlock *head;
} Arena;

void *arena_alloc(Arena *a, size_t n);            /* zeroed, 16-byte aligned */
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(Arena *a);                        /* frees every block; the arena is reusable */

/* A growable array of pointers, arena-backed (old storage is simply abandoned on growth). */
typedef struct PtrVec {
    void **items;
    int len, cap;
} PtrVec;
void ptrvec_push(Arena *a, PtrVec *v, void *item);

#endif
