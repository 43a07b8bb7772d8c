/* diag.h - gcc-style diagnostics: "file:line:col: error: message", then the source line and a caret.
 * Every source text the compiler reads is registered here so any location can show its line.
 * Errors are counted; after DIAG_MAX_ERRORS the rest are swallowed (one "too many errors" line)
 * so a run reports up to ten problems, not just the first. Output goes to the stream set by
 * diag_set_output (stderr by default), which lets the golden tests capture it. */
#ifndef PIPEC_DIAG_H
#define PIPEC_DIAG_H
#include <stdio.h>

#define DIAG_MAX_ERRORS 10

typedef struct SrcLoc {
    const char *file;   /* as given on the command line; NULL = no location */
    int line, col;      /* 1-based; col counts bytes */
} SrcLoc;

void diag_add_source(const char *file, const char *text);   /* text must outlive the run */
void diag_clear_sources(void);   /* forgets them all (a caller that checks many texts in turn) */
void diag_set_output(FILE *out);
void diag_error(SrcLoc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_warning(SrcLoc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_note(SrcLoc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int diag_error_count(void);
void diag_reset(void);   /* count back to zero (between files of one `pipec check` run) */

#endif
