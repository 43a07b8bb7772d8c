/* test_diag.c - unit tests for diag.c: the exact text of errors, warnings and notes (location,
 * source line, caret under tabs and UTF-8), the messages without a location or past the text, the
 * ten-error limit with its single "too many errors" line, diag_reset, several registered files. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* open_memstream */
#endif
#include "check.h"
#include "diag.h"
#include <stdlib.h>

static char *cap_buf;
static size_t cap_size;
static FILE *cap_out;

static void cap_begin(void) {
    cap_out = open_memstream(&cap_buf, &cap_size);
    diag_set_output(cap_out);
    diag_reset();
}

/* The captured text; valid until the next cap_begin. */
static const char *cap_end(void) {
    static char *last;
    fclose(cap_out);
    diag_set_output(stderr);
    free(last);
    last = cap_buf;
    return last;
}

static const char *spec =
    "name: orders\n"
    "schema:\n"
    "  price: int64\n"
    "        prize: 3\n"
    "\tkey:\tv\n"
    "h\xC3\xA9llo: x\n"
    "crlf: y\r\n"
    "last line";

static void test_error_format(void) {
    diag_add_source("orders.yaml", spec);
    cap_begin();
    diag_error((SrcLoc){"orders.yaml", 4, 9}, "unknown field '%s' (did you mean '%s'?)", "prize", "price");
    CHECK_STR(cap_end(),
              "orders.yaml:4:9: error: unknown field 'prize' (did you mean 'price'?)\n"
              "        prize: 3\n"
              "        ^\n");
    CHECK_INT(diag_error_count(), 1);

    cap_begin();
    diag_warning((SrcLoc){"orders.yaml", 1, 1}, "unused %s", "name");
    CHECK_STR(cap_end(), "orders.yaml:1:1: warning: unused name\nname: orders\n^\n");
    CHECK_INT(diag_error_count(), 0);   /* warnings are not errors */

    cap_begin();
    diag_note((SrcLoc){"orders.yaml", 3, 3}, "declared here");
    CHECK_STR(cap_end(), "orders.yaml:3:3: note: declared here\n  price: int64\n  ^\n");
    CHECK_INT(diag_error_count(), 0);
}

static void test_caret_alignment(void) {
    /* tabs are copied so the caret lines up whatever the tab width */
    cap_begin();
    diag_error((SrcLoc){"orders.yaml", 5, 7}, "here");
    CHECK_STR(cap_end(), "orders.yaml:5:7: error: here\n\tkey:\tv\n\t    \t^\n");
    cap_begin();
    diag_error((SrcLoc){"orders.yaml", 5, 1}, "tab");
    CHECK_STR(cap_end(), "orders.yaml:5:1: error: tab\n\tkey:\tv\n^\n");
    /* col counts bytes; a two-byte character takes one space in the caret line */
    cap_begin();
    diag_error((SrcLoc){"orders.yaml", 6, 8}, "utf8");
    CHECK_STR(cap_end(), "orders.yaml:6:8: error: utf8\nh\xC3\xA9llo: x\n      ^\n");
    /* "\r\n" is not part of the line; the last line may lack its newline */
    cap_begin();
    diag_error((SrcLoc){"orders.yaml", 7, 7}, "crlf");
    CHECK_STR(cap_end(), "orders.yaml:7:7: error: crlf\ncrlf: y\n      ^\n");
    cap_begin();
    diag_error((SrcLoc){"orders.yaml", 8, 6}, "last");
    CHECK_STR(cap_end(), "orders.yaml:8:6: error: last\nlast line\n     ^\n");
    /* a column just past the end (e.g. "unexpected end") */
    cap_begin();
    diag_error((SrcLoc){"orders.yaml", 8, 10}, "end");
    CHECK_STR(cap_end(), "orders.yaml:8:10: error: end\nlast line\n         ^\n");
}

static void test_no_location(void) {
    cap_begin();
    diag_error((SrcLoc){0}, "cannot read '%s': %s", "x.yaml", "No such file or directory");
    CHECK_STR(cap_end(), "pipec: error: cannot read 'x.yaml': No such file or directory\n");
    CHECK_INT(diag_error_count(), 1);
    cap_begin();
    diag_warning((SrcLoc){0}, "w");
    diag_note((SrcLoc){0}, "n");
    CHECK_STR(cap_end(), "pipec: warning: w\npipec: note: n\n");
    /* line beyond the text: the message only */
    cap_begin();
    diag_error((SrcLoc){"orders.yaml", 9, 1}, "past the end");
    diag_error((SrcLoc){"orders.yaml", 500, 3}, "far past");
    CHECK_STR(cap_end(), "orders.yaml:9:1: error: past the end\norders.yaml:500:3: error: far past\n");
    /* a file never registered: the message only */
    cap_begin();
    diag_error((SrcLoc){"other.yaml", 1, 1}, "unregistered");
    CHECK_STR(cap_end(), "other.yaml:1:1: error: unregistered\n");
    /* whole-file and whole-line locations */
    cap_begin();
    diag_error((SrcLoc){"orders.yaml", 0, 0}, "empty spec");
    diag_error((SrcLoc){"orders.yaml", 1, 0}, "line only");
    CHECK_STR(cap_end(), "orders.yaml: error: empty spec\norders.yaml:1: error: line only\nname: orders\n");
    /* "a\n" has one line; the text "" none */
    diag_add_source("one.yaml", "a\n");
    diag_add_source("none.yaml", "");
    cap_begin();
    diag_error((SrcLoc){"one.yaml", 2, 1}, "x");
    diag_error((SrcLoc){"none.yaml", 1, 1}, "y");
    diag_error((SrcLoc){"one.yaml", 1, 2}, "z");
    CHECK_STR(cap_end(), "one.yaml:2:1: error: x\nnone.yaml:1:1: error: y\none.yaml:1:2: error: z\na\n ^\n");
}

static void test_too_many(void) {
    diag_add_source("m.yaml", "k: v\n");
    cap_begin();
    for (int i = 1; i <= 10; i++) diag_error((SrcLoc){0}, "e%d", i);
    diag_note((SrcLoc){0}, "note of e10");
    diag_error((SrcLoc){"m.yaml", 1, 1}, "e11");
    diag_note((SrcLoc){0}, "note of e11");
    diag_warning((SrcLoc){0}, "warning after the stop");
    diag_error((SrcLoc){0}, "e12");
    CHECK_STR(cap_end(),
              "pipec: error: e1\npipec: error: e2\npipec: error: e3\npipec: error: e4\n"
              "pipec: error: e5\npipec: error: e6\npipec: error: e7\npipec: error: e8\n"
              "pipec: error: e9\npipec: error: e10\npipec: note: note of e10\n"
              "pipec: error: too many errors, stopping\n");
    CHECK_INT(diag_error_count(), 12);   /* still counted */

    /* reset: counting and printing start over */
    cap_begin();
    CHECK_INT(diag_error_count(), 0);
    diag_error((SrcLoc){0}, "fresh");
    CHECK_STR(cap_end(), "pipec: error: fresh\n");
    CHECK_INT(diag_error_count(), 1);

    /* warnings do not count toward the limit */
    cap_begin();
    for (int i = 0; i < 20; i++) diag_warning((SrcLoc){0}, "w");
    diag_error((SrcLoc){0}, "still shown");
    const char *out = cap_end();
    CHECK(strstr(out, "pipec: error: still shown\n") != NULL);
    CHECK(strstr(out, "too many") == NULL);
}

static void test_several_files(void) {
    diag_add_source("a.yaml", "alpha: 1\n");
    diag_add_source("b.yaml", "beta: 2\n");
    cap_begin();
    diag_error((SrcLoc){"b.yaml", 1, 7}, "in b");
    diag_note((SrcLoc){"a.yaml", 1, 8}, "in a");
    CHECK_STR(cap_end(), "b.yaml:1:7: error: in b\nbeta: 2\n      ^\na.yaml:1:8: note: in a\nalpha: 1\n       ^\n");
    /* registering a name again: the newest text wins */
    diag_add_source("a.yaml", "again: 3\n");
    cap_begin();
    diag_error((SrcLoc){"a.yaml", 1, 1}, "new");
    CHECK_STR(cap_end(), "a.yaml:1:1: error: new\nagain: 3\n^\n");
    /* the registry copies the name: a location may use another pointer to the same name */
    char name[] = "b.yaml";
    cap_begin();
    diag_error((SrcLoc){name, 1, 1}, "copy");
    CHECK_STR(cap_end(), "b.yaml:1:1: error: copy\nbeta: 2\n^\n");
}

static void test_tmpfile_output(void) {
    FILE *f = tmpfile();
    diag_set_output(f);
    diag_reset();
    diag_error((SrcLoc){"a.yaml", 1, 3}, "to a file");
    rewind(f);
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    diag_set_output(stderr);
    CHECK_STR(buf, "a.yaml:1:3: error: to a file\nagain: 3\n  ^\n");
}

int main(void) {
    test_error_format();
    test_caret_alignment();
    test_no_location();
    test_too_many();
    test_several_files();
    test_tmpfile_output();
    diag_reset();
    return check_report();
}
