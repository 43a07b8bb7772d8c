/* main.c - the pipec command line: check, explain, gen, build and test a pipeline spec; docs and schema.
 * Each command runs the passes in order (load, check, plan, emit, build) and stops at the first
 * pass that reported errors. Exit codes: 0 success, 1 errors in a spec or a failed build,
 * 2 bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "build.h"
#include "deploy.h"
#include "diag.h"
#include "docgen.h"
#include "emit.h"
#include "pipec_rt.h"
#include "plan.h"
#include "schema.h"
#include "spec.h"
#include "testcmd.h"
#include "yaml.h"

static const char usage[] =
    "usage: pipec <command> [options]\n"
    "\n"
    "commands:\n"
    "  check SPEC...                 check specs and report every error found\n"
    "  explain SPEC                  print the plan: record layout, decoders, rules, sinks, guarantee\n"
    "  gen SPEC -o DIR               write the generated C program into DIR, and beside it a\n"
    "                                Dockerfile, a Grafana dashboard and the tables' DDL\n"
    "  build SPEC [-o BIN]           compile the pipeline into a binary (default ./NAME)\n"
    "        [--gen-dir DIR]         keep the generated C in DIR\n"
    "        [--depfile FILE]        write a make dependency file\n"
    "        [--sanitize]            build with AddressSanitizer and UndefinedBehaviorSanitizer\n"
    "        [--no-line]             no #line directives back to the spec\n"
    "  test SPEC...                  run the specs' inline tests (sinks and dead letter captured)\n"
    "        [--sanitize] [--keep]   sanitized test binaries; keep their directories\n"
    "  docs                          print the reference of every spec key (markdown)\n"
    "  schema [-o FILE]              print the JSON Schema of the spec format (for editors)\n"
    "  --version                     print the version\n"
    "  --help                        print this help\n"
    "\n"
    "--dump-ir is another name for explain.\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "pipec: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage);
    return 2;
}

/* Passes 1-3 for one spec; NULL when it has errors (already reported). */
static Ir *load_and_plan(Arena *a, const char *path) {
    YNode *root = yaml_load_file(a, path);
    if (!root) return NULL;
    Spec *spec = check_spec(a, root, path);
    if (!spec) return NULL;
    return plan_build(a, spec);
}

static void report_count(const char *path) {
    int n = diag_error_count();
    if (n) fprintf(stderr, "%s: %d error%s\n", path, n, n == 1 ? "" : "s");
}

static int cmd_check(int argc, char **argv) {
    if (argc < 1) return usage_error("%s", "check needs at least one spec");
    int failed = 0;
    for (int i = 0; i < argc; i++) {
        Arena a = {0};
        diag_reset();
        Ir *ir = load_and_plan(&a, argv[i]);
        if (ir) printf("%s: ok (pipeline %s)\n", argv[i], ir->spec->name);
        else {
            report_count(argv[i]);
            failed++;
        }
        arena_free(&a);
    }
    return failed ? 1 : 0;
}

static int cmd_explain(int argc, char **argv) {
    if (argc != 1) return usage_error("%s", "explain takes one spec");
    Arena a = {0};
    Ir *ir = load_and_plan(&a, argv[0]);
    if (!ir) {
        report_count(argv[0]);
        return 1;
    }
    plan_explain(ir, stdout);
    arena_free(&a);
    return 0;
}

static bool make_dirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    return mkdir(buf, 0755) == 0 || errno == EEXIST;
}

/* Renders the program for `ir` into dir/NAME.c; returns the file's path or NULL. */
static const char *generate(Arena *a, const Ir *ir, const char *dir, bool lines) {
    if (!make_dirs(dir)) {
        diag_error((SrcLoc){0}, "cannot create directory '%s': %s", dir, strerror(errno));
        return NULL;
    }
    const char *c_name = arena_printf(a, "%s.c", ir->spec->name);
    SBuf out = {0};
    char templates[4096];
    snprintf(templates, sizeof templates, "%s/templates", pipec_home());
    bool ok = emit_program(a, ir, templates, c_name, lines, &out);
    const char *path = arena_printf(a, "%s/%s", dir, c_name);
    if (ok) ok = write_file_atomic(path, sbuf_cstr(&out), out.len);
    sbuf_free(&out);
    return ok ? path : NULL;
}

/* What the binary links, from the spec (build_link_libs turns it into -l flags). */
static BuildOptions link_facts(const Spec *s) {
    return (BuildOptions){.postgres = s->uses_postgres, .kafka = s->uses_kafka, .metrics = s->metrics_listen != NULL,
                          .parquet = s->uses_parquet, .http = s->uses_http};
}

static int cmd_gen(int argc, char **argv) {
    const char *spec = NULL, *dir = NULL;
    bool lines = true;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(argv[i], "--no-line") == 0) lines = false;
        else if (argv[i][0] == '-') return usage_error("unknown option '%s' for gen", argv[i]);
        else if (!spec) spec = argv[i];
        else return usage_error("gen takes one spec, got another: '%s'", argv[i]);
    }
    if (!spec || !dir) return usage_error("%s", "gen needs a spec and -o DIR");
    Arena a = {0};
    Ir *ir = load_and_plan(&a, spec);
    BuildOptions link = ir ? link_facts(ir->spec) : (BuildOptions){0};
    int rc = ir && generate(&a, ir, dir, lines) && gen_ddl(&a, ir, dir) && gen_dockerfile(&a, ir, &link, dir) &&
                     gen_grafana(&a, ir, dir)
                 ? 0
                 : 1;
    if (rc) report_count(spec);
    arena_free(&a);
    return rc;
}

static void remove_tree(const char *dir, const char *file) {
    if (file) unlink(file);
    rmdir(dir);
}

static int cmd_build(int argc, char **argv) {
    const char *spec = NULL, *out = NULL, *gen_dir = NULL, *depfile = NULL;
    bool sanitize = false, lines = true;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--gen-dir") == 0 && i + 1 < argc) gen_dir = argv[++i];
        else if (strcmp(argv[i], "--depfile") == 0 && i + 1 < argc) depfile = argv[++i];
        else if (strcmp(argv[i], "--sanitize") == 0) sanitize = true;
        else if (strcmp(argv[i], "--no-line") == 0) lines = false;
        else if (argv[i][0] == '-') return usage_error("unknown option '%s' for build", argv[i]);
        else if (!spec) spec = argv[i];
        else return usage_error("build takes one spec, got another: '%s'", argv[i]);
    }
    if (!spec) return usage_error("%s", "build needs a spec");
    Arena a = {0};
    Ir *ir = load_and_plan(&a, spec);
    if (!ir) {
        report_count(spec);
        return 1;
    }
    if (!out) out = arena_printf(&a, "./%s", ir->spec->name);
    char tmpdir[] = "/tmp/pipec-build-XXXXXX";
    bool temp = gen_dir == NULL;
    if (temp && !mkdtemp(tmpdir)) {
        fprintf(stderr, "pipec: error: cannot create a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    const char *c_file = generate(&a, ir, temp ? tmpdir : gen_dir, lines);
    bool ok = c_file != NULL;
    if (ok) {
        BuildOptions bo = link_facts(ir->spec);
        bo.c_file = c_file, bo.output = out, bo.sanitize = sanitize, bo.depfile = depfile, bo.spec_file = spec;
        ok = build_binary(&bo);
    }
    if (temp) remove_tree(tmpdir, c_file);
    arena_free(&a);
    return ok ? 0 : 1;
}

static int cmd_schema(int argc, char **argv) {
    const char *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc && !out) out = argv[++i];
        else return usage_error("unexpected argument '%s' for schema", argv[i]);
    }
    SBuf json = {0};
    schema_json(&json);
    /* write_file_atomic reports its own errors */
    bool ok = out ? write_file_atomic(out, sbuf_cstr(&json), json.len)
                  : fputs(sbuf_cstr(&json), stdout) >= 0 && fflush(stdout) == 0;
    sbuf_free(&json);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("pipec %s (runtime ABI %d)\n", PRT_VERSION, PRT_ABI_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "docs") == 0) {
        docgen_options_markdown(stdout);
        return 0;
    }
    if (strcmp(cmd, "schema") == 0) return cmd_schema(argc - 2, argv + 2);
    if (strcmp(cmd, "check") == 0) return cmd_check(argc - 2, argv + 2);
    if (strcmp(cmd, "explain") == 0 || strcmp(cmd, "--dump-ir") == 0) return cmd_explain(argc - 2, argv + 2);
    if (strcmp(cmd, "gen") == 0) return cmd_gen(argc - 2, argv + 2);
    if (strcmp(cmd, "build") == 0) return cmd_build(argc - 2, argv + 2);
    if (strcmp(cmd, "test") == 0) return cmd_test(argc - 2, argv + 2);
    return usage_error("unknown command '%s'", cmd);
}
