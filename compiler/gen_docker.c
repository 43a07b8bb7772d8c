/* gen_docker.c - `pipec gen`'s Dockerfile: a multi-stage image of one pipeline. The build stage
 * (Debian 12) builds pipec from source and `pipec build`s the spec; the runtime stage
 * (debian:12-slim) installs only the packages of the shared libraries the binary links (from
 * build_link_libs, the facts build.c links with), runs as a non-root user, documents the spec's
 * ${VAR}s, and with a metrics endpoint EXPOSEs its port and probes /health (curl, which the image
 * then carries). Byte-reproducible: nothing depends on the machine or the date. */
#include <string.h>
#include "deploy.h"
#include "diag.h"
#include "pipec_rt.h"
#include "sbuf.h"
#include "yaml.h"

/* Each library a pipeline binary may link: its Debian 12 runtime package, and the development
 * package the build stage needs for it (pipec's runtime is compiled whole, so every one). */
static const struct {
    const char *flag, *runtime, *dev;
} LIBS[] = {
    {"-lsqlite3", "libsqlite3-0", "libsqlite3-dev"},
    {"-lpq", "libpq5", "libpq-dev"},
    {"-lrdkafka", "librdkafka1", "librdkafka-dev"},
    {"-lmicrohttpd", "libmicrohttpd12", "libmicrohttpd-dev"},
    {"-lgnutls", "libgnutls30", "libgnutls28-dev"},
    {"-lcrypt", "libcrypt1", "libcrypt-dev"},
    {"-lzstd", "libzstd1", "libzstd-dev"},
    {"-lsnappy", "libsnappy1v5", "libsnappy-dev"},
    {"-lcurl", "libcurl3-gnutls", "libcurl4-gnutls-dev"},
    {"-lm", "libc6", NULL},
};
#define NLIBS (int)(sizeof LIBS / sizeof LIBS[0])

/* Keys whose values may be secrets: their ${VAR}s are documented, never given a value in the
 * image (a default would be baked into a layer). */
static bool secret_key(const char *key) {
    return strcmp(key, "dsn") == 0 || strcmp(key, "password") == 0 || strcmp(key, "properties") == 0 ||
           strcmp(key, "headers") == 0;
}

typedef struct EnvVar {
    const char *name, *def;    /* def: the ${VAR:-default} text, or NULL (required) */
    const char *uses;          /* where it is used: "source.file.path, sinks.x.sqlite.path" */
    bool secret;
} EnvVar;

typedef struct Vars {   /* (a spec with more variables than this documents the first 64) */
    EnvVar v[64];
    int n;
} Vars;

static void add_var(Arena *a, Vars *vs, const char *name, size_t nlen, const char *def, size_t dlen,
                    const char *where, bool secret) {
    for (int i = 0; i < vs->n; i++) {
        EnvVar *e = &vs->v[i];
        if (strlen(e->name) != nlen || memcmp(e->name, name, nlen) != 0) continue;
        if (!strstr(e->uses, where)) e->uses = arena_printf(a, "%s, %s", e->uses, where);
        if (!e->def && def) e->def = arena_strndup(a, def, dlen);
        e->secret |= secret;
        return;
    }
    if (vs->n == (int)(sizeof vs->v / sizeof vs->v[0])) return;
    vs->v[vs->n++] = (EnvVar){arena_strndup(a, name, nlen), def ? arena_strndup(a, def, dlen) : NULL, where, secret};
}

/* The ${VAR} and ${VAR:-default} references in one connector string (rt_env.c's syntax). */
static void scan_text(Arena *a, Vars *vs, const char *s, const char *where, bool secret) {
    while ((s = strchr(s, '$'))) {
        if (s[1] == '$') {
            s += 2;
            continue;
        }
        if (s[1] != '{') {
            s++;
            continue;
        }
        const char *n0 = s + 2, *n1 = n0;
        while (*n1 == '_' || (*n1 >= 'A' && *n1 <= 'Z') || (*n1 >= 'a' && *n1 <= 'z') || (n1 > n0 && *n1 >= '0' && *n1 <= '9'))
            n1++;
        const char *def = NULL, *end = n1;
        if (n1[0] == ':' && n1[1] == '-') {
            def = n1 + 2;
            end = strchr(def, '}');
        }
        if (n1 == n0 || !end || *end != '}') return;   /* the checker accepted it: cannot happen */
        add_var(a, vs, n0, (size_t)(n1 - n0), def, def ? (size_t)(end - def) : 0, where, secret);
        s = end + 1;
    }
}

/* Every connector string of a subtree; in sinks, expressions and column names (columns, where,
 * partition_by, key) are skipped. */
static void scan_node(Arena *a, Vars *vs, const YNode *n, const char *where, bool in_sinks, bool secret) {
    if (!n) return;
    if (n->kind == YN_SCALAR) scan_text(a, vs, n->text, where, secret);
    for (int i = 0; i < n->nitems; i++) scan_node(a, vs, n->items[i], where, in_sinks, secret);
    for (int i = 0; n->kind == YN_MAP && i < n->npairs; i++) {
        const char *k = n->pairs[i].key->text;
        if (in_sinks && (strcmp(k, "columns") == 0 || strcmp(k, "where") == 0 || strcmp(k, "partition_by") == 0 ||
                         strcmp(k, "key") == 0))
            continue;
        scan_node(a, vs, n->pairs[i].value, arena_printf(a, "%s.%s", where, k), in_sinks, secret || secret_key(k));
    }
}

static void collect_vars(Arena *a, const Spec *s, Vars *vs) {
    YNode *root = yaml_load_file(a, s->file);   /* checked already: loads again without errors */
    static const char *const tops[] = {"source", "sinks", "dead_letter", "checkpoint", "metrics"};
    for (int i = 0; root && i < (int)(sizeof tops / sizeof tops[0]); i++) scan_node(a, vs, yaml_get(root, tops[i]), tops[i], i == 1, false);
    if (s->checkpoint_path && !yaml_get(root, "checkpoint")) scan_text(a, vs, s->checkpoint_path, "checkpoint.path (implied)", false);
}

/* A value as a double-quoted Dockerfile word: quotes and backslashes escaped, and `$`, which ENV
 * would substitute. */
static void put_word(SBuf *o, const char *s) {
    sbuf_putc(o, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\' || *s == '$') sbuf_putc(o, '\\');
        if (*s == '\n') sbuf_puts(o, "\\n");
        else sbuf_putc(o, *s);
    }
    sbuf_putc(o, '"');
}

/* The listen text inside a double-quoted sh word: the runtime's `$$` is a literal `$`. */
static void put_sh_listen(SBuf *o, const char *s) {
    for (; *s; s++) {
        if (s[0] == '$' && s[1] == '$') {
            sbuf_puts(o, "\\$");
            s++;
        } else {
            if (*s == '"' || *s == '\\' || *s == '`') sbuf_putc(o, '\\');
            sbuf_putc(o, *s);
        }
    }
}

static bool loopback_host(const char *h, size_t n) {
    return (n >= 4 && strncmp(h, "127.", 4) == 0) || (n == 9 && strncmp(h, "localhost", 9) == 0) ||
           (n == 5 && strncmp(h, "[::1]", 5) == 0) || (n == 3 && strncmp(h, "::1", 3) == 0);
}

/* The port of a listen text, as written or as its variable's default: "9464", or NULL when it
 * cannot be known before the run. */
static const char *static_port(Arena *a, const char *listen) {
    const char *t = listen;
    size_t n = strlen(t);
    if (n > 2 && t[0] == '$' && t[1] == '{' && t[n - 1] == '}' && strstr(t, ":-")) {   /* ${VAR:-HOST:PORT} */
        t = strstr(t, ":-") + 2;
        n = strlen(t) - 1;
    }
    const char *c = NULL;
    for (size_t i = 0; i < n; i++)
        if (t[i] == ':') c = t + i;
    if (!c || c + 1 >= t + n) return NULL;
    for (const char *p = c + 1; p < t + n; p++)
        if (*p < '0' || *p > '9') return NULL;
    return arena_strndup(a, c + 1, (size_t)(t + n - c - 1));
}

/* ${VAR:-HOST:PORT} with a loopback HOST: the variable, so the image can listen on every
 * interface of the container instead (else NULL). */
static const char *loopback_listen_var(Arena *a, const char *listen) {
    size_t n = strlen(listen);
    const char *d = strstr(listen, ":-");
    if (n < 6 || listen[0] != '$' || listen[1] != '{' || listen[n - 1] != '}' || !d) return NULL;
    const char *h = d + 2, *c = strrchr(listen, ':');
    if (c <= h || !loopback_host(h, (size_t)(c - h))) return NULL;
    return arena_strndup(a, listen + 2, (size_t)(d - listen - 2));
}

static void put_install(SBuf *o, const char *const *pkgs, int n, const char *extra) {
    sbuf_puts(o, "RUN apt-get update \\\n && apt-get install -y --no-install-recommends");
    for (int i = 0; i < n; i++) sbuf_printf(o, " %s", pkgs[i]);
    if (extra) sbuf_printf(o, " \\\n        %s", extra);
    sbuf_puts(o, " \\\n && rm -rf /var/lib/apt/lists/*\n");
}

bool gen_dockerfile(Arena *a, const Ir *ir, const BuildOptions *link, const char *dir) {
    const Spec *s = ir->spec;
    const char *name = s->name;
    const char *flags[BUILD_MAX_LIBS];
    int nflags = build_link_libs(link, flags);
    const char *runtime[BUILD_MAX_LIBS];
    int nrt = 0;
    for (int i = 0; i < nflags; i++) {
        int k = 0;
        while (k < NLIBS && strcmp(LIBS[k].flag, flags[i]) != 0) k++;
        if (k == NLIBS) {
            diag_error((SrcLoc){0}, "the Dockerfile: no Debian 12 package is known for %s (add it to compiler/gen_docker.c)", flags[i]);
            return false;
        }
        runtime[nrt++] = LIBS[k].runtime;
    }
    const char *dev[NLIBS + 2];
    int ndev = 0;
    dev[ndev++] = "build-essential";
    dev[ndev++] = "libyaml-dev";
    for (int k = 0; k < NLIBS; k++)
        if (LIBS[k].dev) dev[ndev++] = LIBS[k].dev;

    /* the spec: by its name inside its directory (the build's main context) */
    const char *slash = strrchr(s->file, '/');
    const char *spec_base = slash ? slash + 1 : s->file;
    const char *spec_dir = slash ? (slash == s->file ? "/" : arena_strndup(a, s->file, (size_t)(slash - s->file))) : ".";

    Vars vs = {0};
    collect_vars(a, s, &vs);
    const char *listen_var = s->metrics_listen ? loopback_listen_var(a, s->metrics_listen) : NULL;
    const char *port = s->metrics_listen ? static_port(a, s->metrics_listen) : NULL;
    bool tls = s->metrics_tls_cert != NULL;
    bool probe = s->metrics_listen && !(port && strcmp(port, "0") == 0);

    SBuf o = {0};
    sbuf_puts(&o, "# syntax=docker/dockerfile:1\n");
    sbuf_printf(&o, "# Generated by pipec %s from %s. DO NOT EDIT.\n", PRT_VERSION, s->file);
    sbuf_printf(&o, "# The container image of pipeline %s: the first stage builds pipec from source and compiles\n", name);
    sbuf_puts(&o, "# the spec; the second runs the binary on debian:12-slim with only the libraries it links.\n#\n");
    sbuf_puts(&o, "# Build it with BuildKit, the spec's directory as the context and a checkout of pipec's source\n");
    sbuf_puts(&o, "# as the named context `pipec`:\n");
    sbuf_printf(&o, "#   docker build -f THIS_DIR/Dockerfile --build-context pipec=PATH/TO/PIPEC -t %s %s\n", name, spec_dir);
    sbuf_printf(&o, "# and run it with the environment below: docker run --env-file FILE %s\n", name);
    if (vs.n) {
        sbuf_puts(&o, "#\n# Environment, read when the binary starts:\n");
        for (int i = 0; i < vs.n; i++) {
            const EnvVar *e = &vs.v[i];
            sbuf_printf(&o, "#   %s: %s; ", e->name, e->uses);
            if (!e->def) sbuf_puts(&o, "required");
            else if (e->secret) sbuf_puts(&o, "has a default in the spec");
            else sbuf_printf(&o, "default %s", e->def);
            if (e->secret) sbuf_puts(&o, "; may hold a secret: give it at run time, never in the image");
            sbuf_puts(&o, "\n");
        }
    }

    sbuf_puts(&o, "\nFROM debian:12 AS build\n");
    put_install(&o, dev, ndev, NULL);
    sbuf_puts(&o, "WORKDIR /src/pipec\n");
    sbuf_puts(&o, "COPY --from=pipec Makefile ./\n");
    sbuf_puts(&o, "COPY --from=pipec compiler ./compiler\n");
    sbuf_puts(&o, "COPY --from=pipec runtime ./runtime\n");
    sbuf_puts(&o, "COPY --from=pipec templates ./templates\n");
    sbuf_puts(&o, "RUN make -j\"$(nproc)\" all\n");
    sbuf_printf(&o, "COPY [\"%s\", \"/src/spec/%s\"]\n", spec_base, spec_base);
    sbuf_printf(&o, "RUN bin/pipec build \"/src/spec/%s\" -o /out/%s\n", spec_base, name);

    sbuf_puts(&o, "\nFROM debian:12-slim AS runtime\n");
    if (probe) sbuf_puts(&o, "# the libraries the binary links; curl for the HEALTHCHECK\n");
    else sbuf_puts(&o, "# the libraries the binary links\n");
    put_install(&o, runtime, nrt, probe ? "curl" : NULL);
    sbuf_puts(&o, "RUN groupadd --system --gid 10001 pipec \\\n"
                  " && useradd --system --uid 10001 --gid pipec --home-dir /var/lib/pipec --create-home \\\n"
                  "        --shell /usr/sbin/nologin pipec\n");
    sbuf_printf(&o, "COPY --from=build /out/%s /usr/local/bin/%s\n", name, name);
    sbuf_puts(&o, "# relative paths of the spec (outputs, checkpoints) live here; keep it on a volume so a\n"
                  "# restarted container resumes from its checkpoint\n");
    sbuf_puts(&o, "WORKDIR /var/lib/pipec\n");
    sbuf_puts(&o, "VOLUME [\"/var/lib/pipec\"]\n");
    bool any_env = false;
    for (int i = 0; i < vs.n; i++) {
        const EnvVar *e = &vs.v[i];
        bool listen = listen_var && strcmp(e->name, listen_var) == 0;
        if ((!e->def || e->secret) && !listen) continue;
        if (!any_env) {
            sbuf_puts(&o, "# the spec's defaults, made visible (override with docker run -e)");
            if (listen_var) sbuf_printf(&o, ";\n# %s on every interface of the container, so it can be scraped", listen_var);
            sbuf_puts(&o, "\nENV");
        } else {
            sbuf_puts(&o, " \\\n   ");
        }
        any_env = true;
        sbuf_printf(&o, " %s=", e->name);
        put_word(&o, listen ? arena_printf(a, "0.0.0.0:%s", port ? port : "9464") : e->def);
    }
    if (any_env) sbuf_puts(&o, "\n");
    sbuf_puts(&o, "USER 10001:10001\n");
    if (s->metrics_listen) {
        if (port && strcmp(port, "0") != 0) sbuf_printf(&o, "EXPOSE %s\n", port);
        if (!listen_var && !strchr(s->metrics_listen, '$')) {
            const char *c = strrchr(s->metrics_listen, ':');
            if (c && loopback_host(s->metrics_listen, (size_t)(c - s->metrics_listen)))
                sbuf_puts(&o, "# the spec's metrics listen is loopback: only this HEALTHCHECK reaches it; write it as\n"
                              "# ${METRICS_LISTEN:-127.0.0.1:PORT} to scrape the container from outside\n");
        }
        if (probe) {
            sbuf_puts(&o, "# /health answers without credentials; the probe connects to the listen address\n"
                          "# (loopback for 0.0.0.0 and [::])");
            if (tls) sbuf_puts(&o, " over TLS without checking the certificate, which names the service");
            sbuf_puts(&o, "\nHEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \\\n    CMD L=\"");
            put_sh_listen(&o, s->metrics_listen);
            sbuf_printf(&o, "\"; H=\"${L%%:*}\"; case \"$H\" in \"\"|0.0.0.0|localhost) H=127.0.0.1 ;; \"[::]\"|::) H=\"[::1]\" ;; esac; \\\n"
                            "        curl -fsS -o /dev/null --max-time 4 %s\"%s://$H:${L##*:}/health\" || exit 1\n",
                        tls ? "--insecure " : "", tls ? "https" : "http");
        } else {
            sbuf_puts(&o, "# no HEALTHCHECK: the metrics port is 0 (any free one), so no probe can know it\n");
        }
    }
    sbuf_puts(&o, "# SIGTERM: the binary finishes its batch, commits and exits 0\n");
    sbuf_puts(&o, "STOPSIGNAL SIGTERM\n");
    sbuf_printf(&o, "ENTRYPOINT [\"/usr/local/bin/%s\"]\n", name);

    bool ok = write_file_atomic(arena_printf(a, "%s/Dockerfile", dir), sbuf_cstr(&o), o.len);
    sbuf_free(&o);
    return ok;
}
