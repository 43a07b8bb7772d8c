/* sbuf.c - the string builder (see sbuf.h). */
#include "sbuf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sbuf_reserve(SBuf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        fprintf(stderr, "pipec: out of memory\n");
        abort();
    }
    b->s = s;
    b->cap = cap;
}

void sbuf_put(SBuf *b, const char *s, size_t n) {
    sbuf_reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sbuf_puts(SBuf *b, const char *s) { sbuf_put(b, s, strlen(s)); }

void sbuf_putc(SBuf *b, char c) { sbuf_put(b, &c, 1); }

void sbuf_vprintf(SBuf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    sbuf_reserve(b, (size_t)n);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sbuf_printf(SBuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *sbuf_cstr(SBuf *b) { return b->s ? b->s : ""; }

void sbuf_reset(SBuf *b) {
    b->len = 0;
    if (b->s) b->s[0] = 0;
}

void sbuf_free(SBuf *b) {
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void sbuf_put_c_string(SBuf *b, const char *s, size_t n) {
    sbuf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': sbuf_puts(b, "\\\""); break;
        case '\\': sbuf_puts(b, "\\\\"); break;
        case '\n': sbuf_puts(b, "\\n"); break;
        case '\t': sbuf_puts(b, "\\t"); break;
        case '?':
            /* "??" could start a trigraph: escape the second one. */
            if (i > 0 && s[i - 1] == '?') sbuf_puts(b, "\\?");
            else sbuf_putc(b, '?');
            break;
        default:
            if (c < 0x20 || c >= 0x7f) sbuf_printf(b, "\\%03o", c);
            else sbuf_putc(b, (char)c);
        }
    }
    sbuf_putc(b, '"');
}
