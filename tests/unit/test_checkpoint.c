/* test_checkpoint.c - unit tests of rt_checkpoint.c: write/read round trip (with awkward paths),
 * no checkpoint, malformed files, unknown lines ignored, the atomic replace leaving no temp file. */
#include "check.h"
#include "rt_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void put_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

int main(void) {
    char dir[] = "/tmp/test_ckpt_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char sub[256], file[300];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    CHECK_INT(prt_mkdir_p(sub), 0);
    CHECK_INT(prt_mkdir_p(sub), 0);   /* exists: fine */
    snprintf(file, sizeof file, "%s/checkpoint", sub);

    prt_ckpt c;
    CHECK_INT(prt_ckpt_read(sub, &c), 0);   /* none yet */

    prt_ckpt_sink sinks[2] = {{(char *)"events", 12345}, {(char *)"dead_letter", 0}};
    prt_ckpt w = {
        .pipeline = (char *)"quickstart", .fingerprint = 0x00ab12cd34ef5678ULL, .has_source = true,
        .src_path = (char *)"/in/we ird\\name\nx.csv", .src_offset = 1ULL << 40, .src_line = 77,
        .src_ino = 991, .src_finished = true, .nsinks = 2, .sinks = sinks,
    };
    CHECK_INT(prt_ckpt_write(sub, &w), 0);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    CHECK(access(tmp, F_OK) != 0);
    CHECK_INT(prt_ckpt_read(sub, &c), 1);
    CHECK_STR(c.pipeline, "quickstart");
    CHECK(c.fingerprint == 0x00ab12cd34ef5678ULL);
    CHECK(c.has_source);
    CHECK_STR(c.src_path, "/in/we ird\\name\nx.csv");
    CHECK(c.src_offset == 1ULL << 40);
    CHECK_INT(c.src_line, 77);
    CHECK_INT(c.src_ino, 991);
    CHECK(c.src_finished);
    CHECK_INT(c.nsinks, 2);
    CHECK(prt_ckpt_find_sink(&c, "events") && prt_ckpt_find_sink(&c, "events")->len == 12345);
    CHECK(prt_ckpt_find_sink(&c, "dead_letter") && prt_ckpt_find_sink(&c, "dead_letter")->len == 0);
    CHECK(prt_ckpt_find_sink(&c, "nope") == NULL);
    prt_ckpt_free(&c);

    /* a rewrite replaces it; no source: no source line */
    w.has_source = false;
    w.nsinks = 1;
    CHECK_INT(prt_ckpt_write(sub, &w), 0);
    CHECK_INT(prt_ckpt_read(sub, &c), 1);
    CHECK(!c.has_source);
    CHECK_INT(c.nsinks, 1);
    prt_ckpt_free(&c);

    /* later additions are ignored */
    put_file(file, "pipec-checkpoint 1\npipeline p\nfingerprint ff\nwindow 1 2 3\n"
                   "source 10 2 0 5 /x\nsink 3 s\npartition a/0 17\nend\n");
    CHECK_INT(prt_ckpt_read(sub, &c), 1);
    CHECK(c.fingerprint == 0xff);
    CHECK_INT(c.src_offset, 10);
    CHECK(!c.src_finished);
    CHECK_STR(c.src_path, "/x");
    prt_ckpt_free(&c);

    /* malformed ones are refused (errors go to the log) */
    fprintf(stderr, "(four malformed-checkpoint errors expected below)\n");
    put_file(file, "pipec-checkpoint 1\npipeline p\nfingerprint ff\n");              /* no end */
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    put_file(file, "pipec-checkpoint 2\nend\n");                                       /* version */
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    put_file(file, "hello\nend\n");
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    put_file(file, "pipec-checkpoint 1\nsource 1 x 0 1 /p\nend\n");
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    CHECK(c.pipeline == NULL && c.sinks == NULL);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    return check_report();
}
