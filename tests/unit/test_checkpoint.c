/* test_checkpoint.c - unit tests of rt_checkpoint.c: write/read round trip (with awkward paths),
 * no checkpoint, malformed files, unknown lines ignored, the atomic replace leaving no temp file,
 * format versions 1, 2 and 3, the state line, CRC-32, and window state files (write, verified read,
 * missing/short/corrupt refused, cleanup of the others); v3: seq, the finished marker, inline
 * state after the end line, prt_ckpt_format/prt_ckpt_parse (the text stored in databases). */
#include "check.h"
#include "rt_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static void put_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* The names in dir starting with "state", sorted, joined by spaces. */
static void state_files(const char *dir, char *out, size_t cap) {
    char names[16][256];
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (strncmp(de->d_name, "state", 5) == 0 && n < 16) snprintf(names[n++], 256, "%s", de->d_name);
    if (d) closedir(d);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char t[256];
                memcpy(t, names[i], 256);
                memcpy(names[i], names[j], 256);
                memcpy(names[j], t, 256);
            }
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strncat(out, " ", cap - strlen(out) - 1);
        strncat(out, names[i], cap - strlen(out) - 1);
    }
}

static void test_state_files(const char *dir) {
    CHECK(prt_crc32("123456789", 9) == 0xcbf43926u);   /* the standard check value */
    CHECK(prt_crc32("", 0) == 0);
    const char *data = "window\0state bytes";
    size_t n = 18;
    CHECK_INT(prt_state_file_write(dir, 7, data, n), 0);
    char path[400], list[512];
    snprintf(path, sizeof path, "%s/state.7.tmp", dir);
    CHECK(access(path, F_OK) != 0);
    prt_ckpt c = {.has_state = true, .state_seq = 7, .state_len = n, .state_crc = prt_crc32(data, n)};
    prt_buf b = {0};
    CHECK_INT(prt_state_file_read(dir, &c, &b), 0);
    CHECK(b.len == n && memcmp(b.data, data, n) == 0);
    fprintf(stderr, "(three window-state errors expected below)\n");
    c.state_len = n + 1;                              /* length differs */
    CHECK_INT(prt_state_file_read(dir, &c, &b), -1);
    c.state_len = n;
    c.state_crc ^= 1;                                 /* CRC differs */
    CHECK_INT(prt_state_file_read(dir, &c, &b), -1);
    c.state_crc ^= 1;
    c.state_seq = 8;                                  /* missing */
    CHECK_INT(prt_state_file_read(dir, &c, &b), -1);
    CHECK_INT(prt_state_file_write(dir, 8, "", 0), 0);   /* empty state is a state */
    c.state_len = 0;
    c.state_crc = prt_crc32("", 0);
    CHECK_INT(prt_state_file_read(dir, &c, &b), 0);
    CHECK_INT(b.len, 0);
    /* cleanup: every other state.N and state.N.tmp goes, other names stay */
    snprintf(path, sizeof path, "%s/state.9.tmp", dir);
    put_file(path, "left by a crash");
    snprintf(path, sizeof path, "%s/state.notes", dir);
    put_file(path, "not ours");
    snprintf(path, sizeof path, "%s/state.12", dir);
    put_file(path, "newer, never named");
    state_files(dir, list, sizeof list);
    CHECK_STR(list, "state.12 state.7 state.8 state.9.tmp state.notes");
    prt_state_file_cleanup(dir, 8, true);
    state_files(dir, list, sizeof list);
    CHECK_STR(list, "state.8 state.notes");
    prt_state_file_cleanup(dir, 0, false);
    state_files(dir, list, sizeof list);
    CHECK_STR(list, "state.notes");
    prt_buf_free(&b);
}

static void test_format_parse(void) {
    prt_ckpt_sink sinks[1] = {{(char *)"out", 99}};
    const char st[] = "bin\0ary\nstate";
    char *publish[2] = {(char *)"lake/day=2024-05-01/part-000042-0000.parquet", (char *)"lake/a\\b\nc d.parquet"};
    prt_ckpt w = {.pipeline = (char *)"p q", .fingerprint = 0xabc, .has_source = true, .publish = publish, .npublish = 2,
                  .src_path = (char *)"in/a.csv", .src_offset = 10, .src_line = 3, .src_ino = 5,
                  .nsinks = 1, .sinks = sinks, .seq = 42, .run_finished = true, .has_state = true,
                  .state_seq = 42, .state_len = sizeof st, .state_crc = prt_crc32(st, sizeof st),
                  .state_inline = true, .state_data = (char *)st};
    prt_buf b = {0};
    prt_ckpt_format(&w, &b);
    const char *head = "pipec-checkpoint 3\npipeline p q\nfingerprint 0000000000000abc\nseq 42\n"
                       "source 10 3 0 5 in/a.csv\nsink 99 out\n"
                       "publish lake/day=2024-05-01/part-000042-0000.parquet\npublish lake/a\\\\b\\nc d.parquet\n";
    CHECK(b.len > strlen(head) && memcmp(b.data, head, strlen(head)) == 0);
    prt_ckpt c;
    CHECK_INT(prt_ckpt_parse(b.data, b.len, &c, "test"), 1);
    CHECK(c.seq == 42 && c.run_finished && c.has_state && c.state_inline);
    CHECK(c.state_len == sizeof st && c.state_data && memcmp(c.state_data, st, sizeof st) == 0);
    CHECK_STR(c.pipeline, "p q");
    CHECK(c.has_source && c.src_offset == 10 && c.nsinks == 1);
    CHECK_INT(c.npublish, 2);
    CHECK_STR(c.publish[0], publish[0]);
    CHECK_STR(c.publish[1], publish[1]);
    prt_ckpt_free(&c);
    fprintf(stderr, "(four malformed-checkpoint errors expected below)\n");
    CHECK_INT(prt_ckpt_parse(b.data, b.len - 1, &c, "short state"), -1);   /* inline state cut */
    b.data[b.len - 1] ^= 1;
    CHECK_INT(prt_ckpt_parse(b.data, b.len, &c, "bad crc"), -1);
    CHECK_INT(prt_ckpt_parse("pipec-checkpoint 3\nseq x\nend\n", 29, &c, "bad seq"), -1);
    /* no state, not finished: neither line; a v2 text has seq 0 */
    w.has_state = w.run_finished = false;
    b.len = 0;
    prt_ckpt_format(&w, &b);
    CHECK_INT(prt_ckpt_parse(b.data, b.len, &c, "test"), 1);
    CHECK(c.seq == 42 && !c.run_finished && !c.has_state && c.state_data == NULL);
    prt_ckpt_free(&c);
    const char *v2 = "pipec-checkpoint 2\npipeline p\nfingerprint 1\nstate 7 0 00000000\nend\n";
    CHECK_INT(prt_ckpt_parse(v2, strlen(v2), &c, "v2"), 1);
    CHECK(c.seq == 0 && c.has_state && c.state_seq == 7 && !c.state_inline);
    prt_ckpt_free(&c);
    CHECK_INT(prt_ckpt_parse(NULL, 0, &c, "empty"), -1);
    prt_buf_free(&b);
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
    CHECK(!c.has_state);
    prt_ckpt_free(&c);

    /* the state line round trip */
    w.has_state = true;
    w.state_seq = 123456789012ULL;
    w.state_len = 1ULL << 33;
    w.state_crc = 0xdeadbeefu;
    CHECK_INT(prt_ckpt_write(sub, &w), 0);
    CHECK_INT(prt_ckpt_read(sub, &c), 1);
    CHECK(c.has_state && c.state_seq == 123456789012ULL && c.state_len == 1ULL << 33);
    CHECK(c.state_crc == 0xdeadbeefu);
    prt_ckpt_free(&c);
    {
        FILE *f = fopen(file, "r");
        char line[100] = "";
        CHECK(f && fgets(line, sizeof line, f));
        CHECK_STR(line, "pipec-checkpoint 3\n");
        while (f && fgets(line, sizeof line, f) && strncmp(line, "state ", 6) != 0) {}
        CHECK_STR(line, "state 123456789012 8589934592 deadbeef\n");
        if (f) fclose(f);
    }
    w.has_state = false;

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

    /* version 1 (before window state) is still read */
    put_file(file, "pipec-checkpoint 1\npipeline p\nfingerprint 1f\nsink 3 s\nend\n");
    CHECK_INT(prt_ckpt_read(sub, &c), 1);
    CHECK(c.fingerprint == 0x1f && !c.has_state && c.nsinks == 1);
    prt_ckpt_free(&c);

    /* malformed ones are refused (errors go to the log) */
    fprintf(stderr, "(seven malformed-checkpoint errors expected below)\n");
    put_file(file, "pipec-checkpoint 1\npipeline p\nfingerprint ff\n");              /* no end */
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    put_file(file, "pipec-checkpoint 4\nend\n");                                       /* version */
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    put_file(file, "pipec-checkpoint 0\nend\n");
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    put_file(file, "pipec-checkpoint 2\nstate 1 2\nend\n");                            /* no CRC */
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    put_file(file, "pipec-checkpoint 2\nstate 1 2 1ffffffff\nend\n");                  /* > 32 bits */
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    put_file(file, "hello\nend\n");
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    put_file(file, "pipec-checkpoint 1\nsource 1 x 0 1 /p\nend\n");
    CHECK_INT(prt_ckpt_read(sub, &c), -1);
    CHECK(c.pipeline == NULL && c.sinks == NULL);

    test_state_files(sub);
    test_format_parse();

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    return check_report();
}
