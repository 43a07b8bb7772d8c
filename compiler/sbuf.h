/* sbuf.h - a growable, NUL-terminated string builder (malloc-backed) used by the emitter, the
 * template engine and the diagnostics. */
#ifndef PIPEC_SBUF_H
#define PIPEC_SBUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct SBuf {
    char *s;      /* always NUL-terminated once anything was appended; NULL when empty */
    size_t len, cap;
} SBuf;

void sbuf_put(SBuf *b, const char *s, size_t n);
void sbuf_puts(SBuf *b, const char *s);
void sbuf_putc(SBuf *b, char c);
void sbuf_printf(SBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vprintf(SBuf *b, const char *fmt, va_list ap);
/* Appends `s` as a C string literal with its quotes: pure ASCII, escaping what C needs
 * (quotes, backslashes, control and non-ASCII bytes as octal, and "??" trigraphs). */
void sbuf_put_c_string(SBuf *b, const char *s, size_t n);
const char *sbuf_cstr(SBuf *b);   /* "" when empty */
void sbuf_reset(SBuf *b);         /* length 0, keeps storage */
void sbuf_free(SBuf *b);

#endif
