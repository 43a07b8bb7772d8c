/* test_sink.c - unit tests of rt_sink.c and rt_dead.c: truncation to the committed length on open,
 * CSV headers only into empty files, psql-style tables (UTF-8 widths, numbers right-aligned),
 * dead letters as JSON lines (raw_base64 for invalid UTF-8) and CSV, counts per reason. */
#include "check.h"
#include "rt_internal.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/test_sink_XXXXXX";

static const char *slurp(const char *path) {
    static char buf[8192];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return buf;
}

static const char *const cols[] = {"id", "name"};

static void test_file_sink(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/sub/dir/out.csv", dir);
    prt_sink_desc d = {.name = "s", .kind = PRT_SINK_FILE, .encoding = PRT_ENC_CSV, .path = path,
                       .ncolumns = 2, .columns = cols};
    prt_sink *s = prt_sink_open(&d, path, -1, -1);   /* parents created */
    CHECK(s != NULL);
    prt_buf_lit(&s->buf, "1,a\n");
    prt_sink_row_done(s);
    uint64_t len = 0;
    CHECK_INT(prt_sink_commit(s, &len), 0);
    CHECK_INT(len, 12);
    prt_buf_lit(&s->buf, "2,uncommitted\n");
    CHECK_INT(prt_sink_flush(s), 0);
    prt_sink_close(s);
    CHECK_STR(slurp(path), "id,name\n1,a\n2,uncommitted\n");
    /* reopened at the committed length: the uncommitted tail is cut, no second header */
    s = prt_sink_open(&d, path, 12, -1);
    prt_buf_lit(&s->buf, "3,c\n");
    CHECK_INT(prt_sink_commit(s, &len), 0);
    CHECK_INT(len, 16);
    prt_sink_close(s);
    CHECK_STR(slurp(path), "id,name\n1,a\n3,c\n");
    /* committed length beyond the file: refused */
    fprintf(stderr, "(one 'fewer than' error expected below)\n");
    CHECK(prt_sink_open(&d, path, 1000, -1) == NULL);
    /* no checkpoint: emptied, header again */
    s = prt_sink_open(&d, path, -1, -1);
    CHECK_INT(prt_sink_commit(s, &len), 0);
    prt_sink_close(s);
    CHECK_STR(slurp(path), "id,name\n");
}

static void test_table(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/table.txt", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    prt_sink_desc d = {.name = "t", .kind = PRT_SINK_STDOUT, .encoding = PRT_ENC_TABLE,
                       .ncolumns = 2, .columns = cols};
    prt_sink *s = prt_sink_open(&d, NULL, -1, fd);
    const char *cells[][2] = {{"1", "zoë"}, {"-2.5e3", "a longer name"}, {"x1", ""}};
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 2; c++) prt_buf_put(&s->buf, cells[r][c], strlen(cells[r][c]) + 1);
        prt_sink_row_done(s);
    }
    CHECK_INT(prt_sink_commit(s, NULL), 0);
    CHECK_INT(prt_sink_finish(s), 0);   /* something was printed: no empty table */
    prt_sink_close(s);
    close(fd);
    CHECK_STR(slurp(path), "   id   |     name\n"
                           "--------+---------------\n"
                           "      1 | zoë\n"
                           " -2.5e3 | a longer name\n"
                           " x1     |\n"
                           "(3 rows)\n\n");
}

static void test_dead(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/dead.jsonl", dir);
    prt_sink_desc d = {.name = "dead_letter", .kind = PRT_SINK_FILE, .encoding = PRT_ENC_JSONL,
                       .path = path};
    prt_deadq *q = prt_deadq_open("p1", &d, path, -1, NULL, NULL);
    prt_deadq_put(q, "in.csv", 7, "a,\"b\"", 5, "parse", "bad", 3);
    prt_deadq_put(q, "stdin", 9, "\xff\x01z", 3, "rule_x", "d", 1);
    prt_deadq_put(q, "in.csv", 11, "q", 1, "parse", "again", 5);
    CHECK_INT(prt_sink_commit(prt_deadq_sink(q), NULL), 0);
    prt_buf b = {0};
    prt_deadq_summary(q, &b);
    prt_buf_putc(&b, 0);
    CHECK_STR(b.data, " parse=2 rule_x=1");
    prt_buf_free(&b);
    prt_deadq_close(q);
    const char *got = slurp(path);
    CHECK(strstr(got, "{\"pipeline\":\"p1\",\"position\":\"in.csv:7\",\"raw\":\"a,\\\"b\\\"\","
                      "\"reason\":\"parse\",\"detail\":\"bad\",\"at\":\"20") == got);
    CHECK(strstr(got, "\"position\":\"stdin:9\",\"raw\":\"\xEF\xBF\xBD\\u0001z\",\"raw_base64\":\"/wF6\","
                      "\"reason\":\"rule_x\"") != NULL);
    /* CSV encoding: the fixed header and six columns */
    snprintf(path, sizeof path, "%s/dead.csv", dir);
    d.encoding = PRT_ENC_CSV;
    q = prt_deadq_open("p1", &d, path, -1, NULL, NULL);
    prt_deadq_put(q, "f", 2, "x,y", 3, "parse", "d,e", 3);
    CHECK_INT(prt_sink_commit(prt_deadq_sink(q), NULL), 0);
    prt_deadq_close(q);
    got = slurp(path);
    CHECK(strstr(got, "pipeline,position,raw,reason,detail,at\np1,f:2,\"x,y\",parse,\"d,e\",20") == got);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    test_file_sink();
    test_table();
    test_dead();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    return check_report();
}
