/* rt_core.c - the runtime's memory pieces: the per-batch scratch arena and growable buffers.
 * The arena keeps its first block across resets (so a steady-state batch allocates nothing) and
 * chains overflow chunks for the rare batch that needs more; reset frees only those. */
#include "pipec_rt.h"
#include <stdio.h>
#include <stdlib.h>

struct prt_arena_chunk {
    struct prt_arena_chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

enum { PRT_ARENA_FIRST = 1 << 20 };

static void *prt_xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "pipec runtime: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

void *prt_arena_alloc(prt_arena *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    if (!a->base) {
        a->base = prt_xmalloc(PRT_ARENA_FIRST);
        a->cap = PRT_ARENA_FIRST;
        a->used = 0;
    }
    if (a->cap - a->used >= n) {
        void *p = a->base + a->used;
        a->used += n;
        return p;
    }
    struct prt_arena_chunk *c = a->extra;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > PRT_ARENA_FIRST ? n : PRT_ARENA_FIRST;
        c = prt_xmalloc(sizeof *c + cap);
        c->used = 0;
        c->cap = cap;
        c->next = a->extra;
        a->extra = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

void prt_arena_reset(prt_arena *a) {
    a->used = 0;
    while (a->extra) {
        struct prt_arena_chunk *next = a->extra->next;
        free(a->extra);
        a->extra = next;
    }
}

void prt_arena_free(prt_arena *a) {
    prt_arena_reset(a);
    free(a->base);
    a->base = NULL;
    a->cap = 0;
}

void prt_buf_grow(prt_buf *b, size_t need) {
    if (b->cap - b->len >= need) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < need) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        fprintf(stderr, "pipec runtime: out of memory (%zu bytes)\n", cap);
        abort();
    }
    b->data = d;
    b->cap = cap;
}

void prt_buf_free(prt_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
