/* build.c - pass 5: runs the C compiler on a generated pipeline and writes the make dependency
 * file, so `make` rebuilds a binary when its spec, a template or the runtime changes.
 * The compiler runs without a shell (fork + exec), so no path needs quoting. */
#include "build.h"
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "diag.h"

const char *pipec_home(void) {
    static char home[PATH_MAX];
    if (home[0]) return home;
    const char *env = getenv("PIPEC_HOME");
    if (env && *env) {
        snprintf(home, sizeof home, "%s", env);
        return home;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(home, sizeof home, ".");
        return home;
    }
    exe[n] = 0;
    char *dir = dirname(exe);          /* .../bin */
    snprintf(home, sizeof home, "%s", dirname(dir));
    return home;
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static bool run_command(char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) {
        diag_error((SrcLoc){0}, "cannot start %s: %s", argv[0], strerror(errno));
        return false;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "pipec: error: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return false;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    diag_error((SrcLoc){0}, "the C compiler (%s) failed on the generated code; this is a pipec bug, please report it with the spec", argv[0]);
    return false;
}

bool write_file_atomic(const char *path, const char *data, size_t len) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        diag_error((SrcLoc){0}, "cannot write '%s': %s", tmp, strerror(errno));
        return false;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        diag_error((SrcLoc){0}, "cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

static bool write_depfile(const BuildOptions *o, const char *home, const char *lib) {
    char buf[8192];
    int n = snprintf(buf, sizeof buf,
                     "%s: %s %s/templates/pipeline.c.tmpl %s/runtime/pipec_rt.h %s/runtime/rt_expr.h %s\n",
                     o->output, o->spec_file, home, home, home, lib);
    if (n < 0 || (size_t)n >= sizeof buf) return false;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", o->depfile);
    char *d = dirname(dir);
    char cmd_dir[PATH_MAX];
    snprintf(cmd_dir, sizeof cmd_dir, "%s", d);
    /* mkdir -p of the depfile's directory */
    for (char *p = cmd_dir + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(cmd_dir, 0755);
            *p = '/';
        }
    }
    mkdir(cmd_dir, 0755);
    return write_file_atomic(o->depfile, buf, (size_t)n);
}

int build_link_libs(const BuildOptions *o, const char *libs[BUILD_MAX_LIBS]) {
    int n = 0;
    libs[n++] = "-lsqlite3";
    if (o->postgres) libs[n++] = "-lpq";   /* only then: libpq brings two dozen libraries */
    if (o->kafka) libs[n++] = "-lrdkafka";
    if (o->metrics) {   /* the endpoint, its TLS and its password hashes */
        libs[n++] = "-lmicrohttpd";
        libs[n++] = "-lgnutls";
        libs[n++] = "-lcrypt";
    }
    if (o->parquet) {   /* the Parquet writer's page compression */
        libs[n++] = "-lzstd";
        libs[n++] = "-lsnappy";
    }
    if (o->http) libs[n++] = "-lcurl";   /* the http source */
    libs[n++] = "-lm";
    return n;
}

bool build_binary(const BuildOptions *o) {
    const char *home = pipec_home();
    char lib[PATH_MAX], inc[PATH_MAX];
    snprintf(lib, sizeof lib, "%s/%s/libpipec-rt.a", home, o->sanitize ? "build-san" : "build");
    snprintf(inc, sizeof inc, "-I%s/runtime", home);
    if (!file_exists(lib)) {
        diag_error((SrcLoc){0}, "the pipec runtime library is missing (%s); build it with `make%s` in %s", lib,
                   o->sanitize ? " SAN=..." : "", home);
        return false;
    }
    const char *cc = getenv("CC");
    if (!cc || !*cc) cc = "cc";
    char *argv[20 + BUILD_MAX_LIBS];
    int n = 0;
    argv[n++] = (char *)cc;
    argv[n++] = "-std=c11";
    argv[n++] = "-D_GNU_SOURCE";
    argv[n++] = "-Wall";
    argv[n++] = "-Wextra";
    if (o->sanitize) {
        argv[n++] = "-O1";
        argv[n++] = "-g";
        argv[n++] = "-fsanitize=address,undefined";
        argv[n++] = "-fno-omit-frame-pointer";
        argv[n++] = "-fno-sanitize-recover=all";
    } else {
        argv[n++] = "-O2";
    }
    argv[n++] = inc;
    argv[n++] = (char *)o->c_file;
    argv[n++] = lib;
    const char *libs[BUILD_MAX_LIBS];
    for (int i = 0, nl = build_link_libs(o, libs); i < nl; i++) argv[n++] = (char *)libs[i];
    argv[n++] = "-o";
    argv[n++] = (char *)o->output;
    argv[n] = NULL;
    if (!run_command(argv)) return false;
    if (o->depfile && !write_depfile(o, home, lib)) {
        diag_error((SrcLoc){0}, "cannot write the dependency file '%s'", o->depfile);
        return false;
    }
    return true;
}
