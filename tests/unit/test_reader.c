/* test_reader.c - unit tests of rt_reader.c: record framing (CSV quote-aware and JSON lines),
 * terminators, BOM, blank lines, unterminated quotes, too-long records and resume at an offset,
 * each run with every tiny chunk size so records straddle chunk boundaries everywhere. */
#include "check.h"
#include "rt_internal.h"
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

/* Frames `data` and renders each record as "LINE:text" (flags as "!u"/"!l<len>") joined by '|';
 * also returns the final offset and line. */
static void frame(const char *data, size_t n, bool csv, size_t max_record, size_t chunk,
                  uint64_t start_off, uint64_t start_line, prt_buf *out, uint64_t *end_off,
                  uint64_t *end_line) {
    char path[] = "/tmp/test_reader_XXXXXX";
    int fd = mkstemp(path);
    if (write(fd, data, n) != (ssize_t)n) abort();
    lseek(fd, (off_t)start_off, SEEK_SET);
    unlink(path);
    prt_reader r;
    prt_reader_init(&r, csv, ',', '"', max_record, chunk);
    prt_reader_start(&r, fd, start_off, start_line);
    out->len = 0;
    prt_rd_rec rr;
    for (;;) {
        int k = prt_reader_next(&r, &rr);
        if (k == PRT_RD_EOF) break;
        if (k == PRT_RD_REFILL) {
            if (prt_reader_fill(&r) != 0) abort();
            continue;
        }
        char t[64];
        int m = snprintf(t, sizeof t, "%" PRIu64 ":", rr.rec.line);
        prt_buf_put(out, t, (size_t)m);
        prt_buf_put(out, rr.rec.p, rr.rec.n);
        if (rr.flags & PRT_RECF_UNTERMINATED) prt_buf_lit(out, "!u");
        if (rr.flags & PRT_RECF_TOO_LONG) {
            m = snprintf(t, sizeof t, "!l%" PRIu64, rr.full_len);
            prt_buf_put(out, t, (size_t)m);
        }
        prt_buf_putc(out, '|');
    }
    *end_off = prt_reader_offset(&r);
    *end_line = prt_reader_line(&r);
    prt_buf_putc(out, 0);
    prt_reader_free(&r);
    close(fd);
}

/* Checks the framing with chunks of 1..9 bytes and the default. */
static void expect(const char *data, bool csv, size_t max_record, const char *want, int line) {
    prt_buf out = {0};
    size_t chunks[] = {1, 2, 3, 4, 5, 7, 9, 64, 0};
    for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
        uint64_t off, ln;
        frame(data, strlen(data), csv, max_record, chunks[i], 0, 1, &out, &off, &ln);
        if (strcmp(out.data, want) != 0) {
            fprintf(stderr, "line %d, chunk %zu:\n", line, chunks[i]);
            CHECK_STR(out.data, want);
        } else {
            check_passed++;
        }
        CHECK_INT(off, strlen(data));
    }
    prt_buf_free(&out);
}

#define EXPECT(data, csv, max, want) expect(data, csv, max, want, __LINE__)

static void test_basic(void) {
    EXPECT("a,b\nc,d\n", true, 0, "1:a,b|2:c,d|");
    EXPECT("a,b\nc,d", true, 0, "1:a,b|2:c,d|");          /* no final newline */
    EXPECT("a\r\nb\r\n", true, 0, "1:a|2:b|");              /* CRLF */
    EXPECT("a\r\nb\r", true, 0, "1:a|2:b|");
    EXPECT("\xEF\xBB\xBFid\nx\n", true, 0, "1:id|2:x|");    /* BOM */
    EXPECT("\xEF\xBB", true, 0, "1:\xEF\xBB|");              /* a BOM prefix only */
    EXPECT("x\xEF\xBB\xBF\n", true, 0, "1:x\xEF\xBB\xBF|");  /* not at the start: kept */
    EXPECT("a\n\n\r\n\nb\n\n", true, 0, "1:a|5:b|");        /* blank lines skipped, counted */
    EXPECT("", true, 0, "");
    EXPECT("\n\n", false, 0, "");
}

static void test_quotes(void) {
    EXPECT("1,\"x\ny\",2\n3,z\n", true, 0, "1:1,\"x\ny\",2|3:3,z|");
    EXPECT("\"a\"\"\nb\"\nc\n", true, 0, "1:\"a\"\"\nb\"|3:c|");   /* "" inside quotes */
    EXPECT("\"\"\n\"\"\"\"\nx\n", true, 0, "1:\"\"|2:\"\"\"\"|3:x|");
    EXPECT("a\"b\nc\n", true, 0, "1:a\"b|2:c|");            /* a quote mid-field is literal */
    EXPECT("\"a\"b\nc\n", true, 0, "1:\"a\"b|2:c|");        /* text after a closing quote */
    EXPECT("\"x\r\ny\"\r\nz\r\n", true, 0, "1:\"x\r\ny\"|3:z|");
    EXPECT("1,\"open\nrest\n", true, 0, "1:1,\"open\nrest\n!u|");   /* unterminated at EOF */
    EXPECT("a\n\"x\n\n", true, 0, "1:a|2:\"x\n\n!u|");
    /* JSON lines: quotes mean nothing to the framer */
    EXPECT("{\"a\":\"x\n{\"b\":1}\n", false, 0, "1:{\"a\":\"x|2:{\"b\":1}|");
}

static void test_too_long(void) {
    /* max_record 8: records of 9+ bytes are flagged with their full length; the raw kept is
     * their first min(1 KiB, max_record) bytes */
    EXPECT("12345678\n123456789\nok\n", true, 8, "1:12345678|2:12345678!l9|3:ok|");
    EXPECT("abcdefghijklmnopqrstuvwxyz\r\nok", false, 8, "1:abcdefgh!l26|2:ok|");
    EXPECT("\"a\nbcdefghijkl\"\nok\n", true, 8, "1:\"a\nbcdef!l15|3:ok|");
    EXPECT("x\nabcdefghijklmnop", true, 8, "1:x|2:abcdefgh!l16|");
    /* too long and unterminated at EOF: the rest, as it is */
    EXPECT("x\n\"abcdefghijklmnop\n\n", true, 8, "1:x|2:\"abcdefg!l19|");
    /* longer than the kept head: only PRT_READER_KEEP bytes come back */
    size_t big = 5000;
    char *data = malloc(big + 8);
    memset(data, 'q', big);
    memcpy(data + big, "\nend\n", 6);
    prt_buf out = {0};
    size_t chunks[] = {1, 100, 4096, 0};
    for (size_t i = 0; i < 4; i++) {
        uint64_t off, ln;
        frame(data, strlen(data), true, 2000, chunks[i], 0, 1, &out, &off, &ln);
        const char *bar = strchr(out.data, '|');
        CHECK(bar != NULL);
        CHECK(strncmp(out.data, "1:qqq", 5) == 0);
        CHECK_INT(bar - out.data, 2 + PRT_READER_KEEP + 6);   /* "1:" + keep + "!l5000" */
        CHECK_STR(bar, "|2:end|");
        CHECK_INT(off, big + 5);
        CHECK_INT(ln, 3);
    }
    free(data);
    prt_buf_free(&out);
}

static void test_resume(void) {
    const char *data = "id,x\n1,\"a\nb\"\n2,c\n\n3,d\n";
    prt_buf out = {0};
    uint64_t off, ln;
    /* offsets and lines after each record match a resume from there */
    frame(data, strlen(data), true, 0, 3, 0, 1, &out, &off, &ln);
    CHECK_STR(out.data, "1:id,x|2:1,\"a\nb\"|4:2,c|6:3,d|");
    CHECK_INT(off, strlen(data));
    CHECK_INT(ln, 7);
    size_t at = strlen("id,x\n1,\"a\nb\"\n");
    frame(data, strlen(data), true, 0, 2, at, 4, &out, &off, &ln);
    CHECK_STR(out.data, "4:2,c|6:3,d|");
    /* a resume at offset > 0 does not strip a BOM-looking start */
    const char *bom = "a\n\xEF\xBB\xBFz\n";
    frame(bom, strlen(bom), true, 0, 0, 2, 2, &out, &off, &ln);
    CHECK_STR(out.data, "2:\xEF\xBB\xBFz|");
    prt_buf_free(&out);
}

/* Offsets reported between records: reading stops after each REC, positions are exact. */
static void test_offsets(void) {
    const char *data = "a\r\n\r\nbb\n\"c\nc\"\nd";
    char path[] = "/tmp/test_reader_XXXXXX";
    int fd = mkstemp(path);
    if (write(fd, data, strlen(data)) != (ssize_t)strlen(data)) abort();
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    prt_reader r;
    prt_reader_init(&r, true, ',', '"', 0, 2);
    prt_reader_start(&r, fd, 0, 1);
    uint64_t offs[8], lines[8];
    int n = 0;
    prt_rd_rec rr;
    for (;;) {
        int k = prt_reader_next(&r, &rr);
        if (k == PRT_RD_EOF) break;
        if (k == PRT_RD_REFILL) {
            prt_reader_fill(&r);
            continue;
        }
        offs[n] = prt_reader_offset(&r);
        lines[n++] = prt_reader_line(&r);
    }
    CHECK_INT(n, 4);
    CHECK_INT(offs[0], 3);   /* after "a\r\n"; the blank line is not consumed yet */
    CHECK_INT(lines[0], 2);
    CHECK_INT(offs[1], 8);
    CHECK_INT(lines[1], 4);
    CHECK_INT(offs[2], 14);
    CHECK_INT(lines[2], 6);
    CHECK_INT(offs[3], 15);
    prt_reader_free(&r);
    close(fd);
}

/* While a too-long record is skipped, the position stays at its start (a commit then resumes
 * there, not in its middle). */
static void test_position_while_skipping(void) {
    const char *data = "ok\nabcdefghijklmnopqrstuvwxyz\nend\n";
    char path[] = "/tmp/test_reader_XXXXXX";
    int fd = mkstemp(path);
    if (write(fd, data, strlen(data)) != (ssize_t)strlen(data)) abort();
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    prt_reader r;
    prt_reader_init(&r, false, ',', '"', 4, 3);
    prt_reader_start(&r, fd, 0, 1);
    prt_rd_rec rr;
    int recs = 0, checked = 0;
    for (;;) {
        int k = prt_reader_next(&r, &rr);
        if (k == PRT_RD_EOF) break;
        if (k == PRT_RD_REC) {
            recs++;
            continue;
        }
        if (recs == 1) {   /* between "ok" and the long record's end */
            CHECK_INT(prt_reader_offset(&r), 3);
            CHECK_INT(prt_reader_line(&r), 2);
            checked++;
        }
        prt_reader_fill(&r);
    }
    CHECK(checked > 3);
    CHECK_INT(recs, 3);
    CHECK_INT(prt_reader_offset(&r), strlen(data));
    CHECK_INT(prt_reader_line(&r), 4);
    prt_reader_free(&r);
    close(fd);
}

int main(void) {
    test_position_while_skipping();
    test_basic();
    test_quotes();
    test_too_long();
    test_resume();
    test_offsets();
    return check_report();
}
