/* diag.c - gcc-style diagnostics (see diag.h).
 * A located diagnostic prints "file:line:col: kind: message", then the source line verbatim and a
 * caret line. The caret line copies tabs from the source line and puts one space per other
 * character (UTF-8 continuation bytes take no space), so the caret sits under the byte `col`
 * points at in any terminal. Invariants: the registry keeps its own copy of each file name and a
 * borrowed pointer to its text (the caller keeps the text alive); the newest registration of a
 * name wins. Once DIAG_MAX_ERRORS errors were printed, everything after (errors, warnings and
 * their notes) is swallowed; errors are still counted. No colour, ever. */
#include "diag.h"
#include "sbuf.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct Source {
    char *file;
    const char *text;
} Source;

static Source *sources;
static int nsources, capsources;
static FILE *output;          /* NULL means stderr (stderr is not a constant initializer) */
static int nerrors;
static bool stopped;          /* "too many errors" was printed: swallow everything after */
static bool last_dropped;     /* the last error/warning was swallowed: so are its notes */

typedef enum { K_ERROR, K_WARNING, K_NOTE } Kind;
static const char *const kind_names[] = {"error", "warning", "note"};

void diag_clear_sources(void) {
    for (int i = 0; i < nsources; i++) free((char *)sources[i].file);
    nsources = 0;
}

void diag_add_source(const char *file, const char *text) {
    if (!file || !text) return;
    if (nsources == capsources) {
        int cap = capsources ? capsources * 2 : 8;
        Source *s = realloc(sources, sizeof *s * (size_t)cap);
        if (!s) {
            fprintf(stderr, "pipec: out of memory\n");
            abort();
        }
        sources = s;
        capsources = cap;
    }
    char *copy = strdup(file);
    if (!copy) {
        fprintf(stderr, "pipec: out of memory\n");
        abort();
    }
    sources[nsources].file = copy;
    sources[nsources].text = text;
    nsources++;
}

void diag_set_output(FILE *out) { output = out; }

int diag_error_count(void) { return nerrors; }

void diag_reset(void) {
    nerrors = 0;
    stopped = false;
    last_dropped = false;
}

static const char *find_text(const char *file) {
    for (int i = nsources - 1; i >= 0; i--)
        if (strcmp(sources[i].file, file) == 0) return sources[i].text;
    return NULL;
}

/* The bytes of line `line` (1-based) without its "\n" or "\r\n"; false when the text has no such
 * line. A text "a\n" has one line: the empty rest after the final newline does not count. */
static bool find_line(const char *text, int line, const char **start, size_t *len) {
    const char *p = text;
    for (int l = 1; l < line; l++) {
        const char *nl = strchr(p, '\n');
        if (!nl) return false;
        p = nl + 1;
    }
    if (*p == 0 && (p == text || p[-1] == '\n')) return false;
    size_t n = strcspn(p, "\n");
    if (n > 0 && p[n - 1] == '\r') n--;
    *start = p;
    *len = n;
    return true;
}

static void print_source_line(SBuf *b, const char *text, int line, int col) {
    const char *s;
    size_t len;
    if (!text || line <= 0 || !find_line(text, line, &s, &len)) return;
    sbuf_put(b, s, len);
    sbuf_putc(b, '\n');
    if (col <= 0) return;
    for (size_t i = 0; i + 1 < (size_t)col; i++) {
        if (i >= len) sbuf_putc(b, ' ');                      /* past the end of the line */
        else if (s[i] == '\t') sbuf_putc(b, '\t');
        else if (((unsigned char)s[i] & 0xC0) != 0x80) sbuf_putc(b, ' ');
    }
    sbuf_puts(b, "^\n");
}

static void vreport(Kind kind, SrcLoc loc, const char *fmt, va_list ap) {
    FILE *out = output ? output : stderr;
    if (kind == K_ERROR) nerrors++;
    if (kind == K_NOTE) {
        if (last_dropped) return;
    } else if (stopped) {
        last_dropped = true;
        return;
    } else if (kind == K_ERROR && nerrors > DIAG_MAX_ERRORS) {
        fputs("pipec: error: too many errors, stopping\n", out);
        fflush(out);
        stopped = true;
        last_dropped = true;
        return;
    } else {
        last_dropped = false;
    }

    SBuf b = {0};
    if (!loc.file) sbuf_puts(&b, "pipec");
    else if (loc.line <= 0) sbuf_puts(&b, loc.file);
    else if (loc.col <= 0) sbuf_printf(&b, "%s:%d", loc.file, loc.line);
    else sbuf_printf(&b, "%s:%d:%d", loc.file, loc.line, loc.col);
    sbuf_printf(&b, ": %s: ", kind_names[kind]);
    sbuf_vprintf(&b, fmt, ap);
    sbuf_putc(&b, '\n');
    if (loc.file) print_source_line(&b, find_text(loc.file), loc.line, loc.col);
    fputs(sbuf_cstr(&b), out);
    fflush(out);
    sbuf_free(&b);
}

void diag_error(SrcLoc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(K_ERROR, loc, fmt, ap);
    va_end(ap);
}

void diag_warning(SrcLoc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(K_WARNING, loc, fmt, ap);
    va_end(ap);
}

void diag_note(SrcLoc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(K_NOTE, loc, fmt, ap);
    va_end(ap);
}
