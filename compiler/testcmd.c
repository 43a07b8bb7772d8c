/* testcmd.c - `pipec test SPEC...`: runs each spec's inline tests (docs/spec.md, "Inline
 * tests"). Per spec: check it, compile its test variant (test_variant.c: the source a local file,
 * every sink and the dead letter JSON lines) once into a temporary directory, then per test write
 * the input into a directory of its own, run the binary there, read back what each sink and the
 * dead letter got and compare it with the expected rows (test_compare.c). Prints `PASS` or `FAIL`
 * per test (with the differences), then a summary. Exit 0 when every test passed, 1 when one
 * failed, 2 when a spec has errors or its test binary could not be built or run. */
#include "testcmd.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "build.h"
#include "diag.h"
#include "emit.h"
#include "plan.h"
#include "spec.h"
#include "test_compare.h"
#include "test_variant.h"

#define TEST_TIMEOUT_S 60   /* a test binary still running after this is killed (SIGALRM) */

typedef struct Totals {
    int passed, failed, bad_specs;
} Totals;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir) { nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    SBuf b = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sbuf_put(&b, buf, n);
    fclose(f);
    char *s = strdup(sbuf_cstr(&b));
    sbuf_free(&b);
    return s;
}

/* Compiles the test variant of `spec` into dir/NAME; false after reporting through diag. */
static bool build_test_binary(Arena *a, Spec *spec, const char *dir, bool sanitize, const char **bin) {
    Ir *ir = plan_build(a, test_variant(a, spec));
    if (!ir) return false;
    const char *c_name = arena_printf(a, "%s.c", spec->name);
    char templates[4096];
    snprintf(templates, sizeof templates, "%s/templates", pipec_home());
    SBuf out = {0};
    bool ok = emit_program(a, ir, templates, c_name, true, &out);
    const char *c_file = arena_printf(a, "%s/%s", dir, c_name);
    if (ok) ok = write_file_atomic(c_file, sbuf_cstr(&out), out.len);
    sbuf_free(&out);
    *bin = arena_printf(a, "%s/%s", dir, spec->name);
    BuildOptions bo = {.c_file = c_file, .output = *bin, .sanitize = sanitize, .spec_file = spec->file};
    return ok && build_binary(&bo);
}

/* Runs `bin` in `dir` with stdout and stderr into dir/stderr; returns its wait status, or -1. */
static int run_binary(const char *bin, const char *dir) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char log[4096];
        snprintf(log, sizeof log, "%s/stderr", dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (fd < 0 || null < 0 || chdir(dir) != 0) _exit(126);
        dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        alarm(TEST_TIMEOUT_S);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return status;
}

static void indent_lines(SBuf *out, const char *text, int ind) {
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        sbuf_printf(out, "%*s%.*s\n", ind, "", (int)n, p);
        p += n + (nl != NULL);
    }
}

/* One test: true when it passed; the report of a failure goes to `diff`. */
static bool run_test(Arena *a, const TestSpec *t, int index, const char *bin, const char *root, SBuf *diff) {
    const char *dir = arena_printf(a, "%s/t%d", root, index + 1);
    const char *out_dir = arena_printf(a, "%s/" TEST_OUT_DIR, dir);
    if (mkdir(dir, 0755) != 0 || mkdir(out_dir, 0755) != 0) {
        sbuf_printf(diff, "    cannot prepare %s: %s\n", dir, strerror(errno));
        return false;
    }
    if (!write_file_atomic(arena_printf(a, "%s/" TEST_INPUT_FILE, dir), t->input, strlen(t->input))) return false;
    int status = run_binary(bin, dir);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (status != -1 && WIFSIGNALED(status))
            sbuf_printf(diff, "    the pipeline was killed by signal %d%s; its output:\n", WTERMSIG(status),
                        WTERMSIG(status) == SIGALRM ? " (it ran too long)" : "");
        else
            sbuf_printf(diff, "    the pipeline exited with status %d; its output:\n", status == -1 ? -1 : WEXITSTATUS(status));
        char *log = read_file(arena_printf(a, "%s/stderr", dir));
        indent_lines(diff, log ? log : "", 6);
        free(log);
        return false;
    }
    bool ok = true;
    for (int i = 0; i < t->nexpects; i++) {
        const TestExpect *e = &t->expects[i];
        char *text = read_file(arena_printf(a, "%s/%s.jsonl", out_dir, e->sink));
        JRow *rows = NULL;
        int nrows = 0;
        const char *what = e->sink_index < 0 ? "dead letter" : arena_printf(a, "sink %s", e->sink);
        if (!test_read_rows(a, text ? text : "", &rows, &nrows)) {
            sbuf_printf(diff, "    %s: its captured rows are not JSON lines (a pipec bug)\n", what);
            ok = false;
        } else {
            ok &= test_compare_rows(what, e->rows, rows, nrows, 4, diff);
        }
        free(text);
    }
    return ok;
}

static void test_spec(const char *path, bool sanitize, bool keep, Totals *tot) {
    Arena a = {0};
    diag_reset();
    YNode *root = yaml_load_file(&a, path);
    Spec *spec = root ? check_spec(&a, root, path) : NULL;
    if (!spec) {
        int n = diag_error_count();
        fprintf(stderr, "%s: %d error%s\n", path, n, n == 1 ? "" : "s");
        tot->bad_specs++;
        arena_free(&a);
        return;
    }
    if (spec->ntests == 0) {
        printf("%s: no tests\n", spec->name);
        arena_free(&a);
        return;
    }
    char tmpdir[] = "/tmp/pipec-test-XXXXXX";
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "pipec: error: cannot create a temporary directory: %s\n", strerror(errno));
        tot->bad_specs++;
        arena_free(&a);
        return;
    }
    const char *bin = NULL;
    if (!build_test_binary(&a, spec, tmpdir, sanitize, &bin)) {
        fprintf(stderr, "%s: cannot build the test binary\n", path);
        tot->bad_specs++;
    } else {
        for (int i = 0; i < spec->ntests; i++) {
            SBuf diff = {0};
            bool ok = run_test(&a, &spec->tests[i], i, bin, tmpdir, &diff);
            printf("%s %s: %s\n", ok ? "PASS" : "FAIL", spec->name, spec->tests[i].name);
            fputs(sbuf_cstr(&diff), stdout);
            sbuf_free(&diff);
            if (ok) tot->passed++;
            else tot->failed++;
        }
    }
    fflush(stdout);
    if (keep) fprintf(stderr, "%s: test files kept in %s\n", path, tmpdir);
    else remove_tree(tmpdir);
    arena_free(&a);
}

int cmd_test(int argc, char **argv) {
    bool sanitize = false, keep = false;
    int nspecs = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--sanitize") == 0) sanitize = true;
        else if (strcmp(argv[i], "--keep") == 0) keep = true;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "pipec: error: unknown option '%s' for test\n", argv[i]);
            return 2;
        } else nspecs++;
    }
    if (!nspecs) {
        fprintf(stderr, "pipec: error: test needs at least one spec\n");
        return 2;
    }
    Totals tot = {0};
    for (int i = 0; i < argc; i++)
        if (argv[i][0] != '-') test_spec(argv[i], sanitize, keep, &tot);
    printf("%d passed, %d failed", tot.passed, tot.failed);
    if (tot.bad_specs) printf(", %d spec%s with errors", tot.bad_specs, tot.bad_specs == 1 ? "" : "s");
    printf("\n");
    return tot.bad_specs ? 2 : tot.failed ? 1 : 0;
}
