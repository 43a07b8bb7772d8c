/* rt_env.c - ${VAR} and ${VAR:-default} substitution in connector strings, done once at start-up
 * so one binary serves every environment. Values are only ever copied into the result: they are
 * never logged (they may be secrets). Names are [A-Za-z_][A-Za-z0-9_]*. */
#include "rt_internal.h"
#include <stdio.h>
#include <stdlib.h>

static bool name_char(char c, bool first) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (!first && c >= '0' && c <= '9');
}

prt_env_status prt_env_expand(const char *in, char **out, char *name, size_t namecap) {
    prt_buf b = {0};
    *out = NULL;
    if (namecap) name[0] = 0;
    for (const char *s = in; *s;) {
        if (s[0] != '$' || (s[1] != '{' && s[1] != '$')) {
            prt_buf_putc(&b, *s++);
            continue;
        }
        if (s[1] == '$') {
            prt_buf_putc(&b, '$');
            s += 2;
            continue;
        }
        const char *n0 = s + 2, *n1 = n0;
        while (*n1 && name_char(*n1, n1 == n0)) n1++;
        const char *def = NULL, *end;
        if (n1 == n0) {
            snprintf(name, namecap, "bad variable name after '${'");
            goto syntax;
        }
        if (n1[0] == '}') {
            end = n1;
        } else if (n1[0] == ':' && n1[1] == '-') {
            def = n1 + 2;
            end = strchr(def, '}');
            if (!end) goto unclosed;
        } else if (!n1[0]) {
            goto unclosed;
        } else {
            snprintf(name, namecap, "unexpected '%c' in '${%.*s'", n1[0], (int)(n1 - n0), n0);
            goto syntax;
        }
        char var[256];
        if ((size_t)(n1 - n0) >= sizeof var) {
            snprintf(name, namecap, "variable name too long");
            goto syntax;
        }
        memcpy(var, n0, (size_t)(n1 - n0));
        var[n1 - n0] = 0;
        const char *val = getenv(var);
        if (def && (!val || !*val)) {
            if (end > def) prt_buf_put(&b, def, (size_t)(end - def));
        } else if (!val) {
            snprintf(name, namecap, "%s", var);
            prt_buf_free(&b);
            return PRT_ENV_UNSET;
        } else if (*val) {   /* (prt_buf_put of 0 bytes to an empty buffer would memcpy NULL) */
            prt_buf_put(&b, val, strlen(val));
        }
        s = end + 1;
    }
    prt_buf_putc(&b, 0);
    *out = b.data;
    return PRT_ENV_OK;
unclosed:
    snprintf(name, namecap, "unclosed '${'");
syntax:
    prt_buf_free(&b);
    return PRT_ENV_SYNTAX;
}
