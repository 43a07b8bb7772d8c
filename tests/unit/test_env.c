/* test_env.c - unit tests of rt_env.c: ${VAR} and ${VAR:-default} expansion, "$$", literal "$",
 * unset variables (their name reported) and syntax errors. */
#include "check.h"
#include "rt_internal.h"
#include <stdlib.h>

static const char *exp1(const char *in, prt_env_status want_st, char *name) {
    static char *last;
    free(last);
    last = NULL;
    char nm[64];
    prt_env_status st = prt_env_expand(in, &last, nm, sizeof nm);
    CHECK_INT(st, want_st);
    if (name) strcpy(name, nm);
    return last ? last : "(none)";
}

int main(void) {
    setenv("PRT_A", "alpha", 1);
    setenv("PRT_EMPTY", "", 1);
    unsetenv("PRT_UNSET");
    char name[64];
    CHECK_STR(exp1("plain/path", PRT_ENV_OK, NULL), "plain/path");
    CHECK_STR(exp1("", PRT_ENV_OK, NULL), "");
    CHECK_STR(exp1("/x/${PRT_A}/y", PRT_ENV_OK, NULL), "/x/alpha/y");
    CHECK_STR(exp1("${PRT_A}${PRT_A}", PRT_ENV_OK, NULL), "alphaalpha");
    CHECK_STR(exp1("${PRT_UNSET:-/tmp/d}", PRT_ENV_OK, NULL), "/tmp/d");
    CHECK_STR(exp1("${PRT_A:-/tmp/d}", PRT_ENV_OK, NULL), "alpha");
    CHECK_STR(exp1("${PRT_EMPTY:-dflt}", PRT_ENV_OK, NULL), "dflt");   /* as in the shell */
    CHECK_STR(exp1("a${PRT_EMPTY}b", PRT_ENV_OK, NULL), "ab");
    CHECK_STR(exp1("${PRT_UNSET:-}", PRT_ENV_OK, NULL), "");
    CHECK_STR(exp1("cost $5 and $$ and $", PRT_ENV_OK, NULL), "cost $5 and $ and $");
    CHECK_STR(exp1("$${PRT_A}", PRT_ENV_OK, NULL), "${PRT_A}");
    CHECK_STR(exp1("x${PRT_UNSET}y", PRT_ENV_UNSET, name), "(none)");
    CHECK_STR(name, "PRT_UNSET");
    CHECK_STR(exp1("${PRT_A}/${PRT_UNSET}", PRT_ENV_UNSET, name), "(none)");
    CHECK_STR(name, "PRT_UNSET");
    exp1("${PRT_A", PRT_ENV_SYNTAX, name);
    CHECK_STR(name, "unclosed '${'");
    exp1("${PRT_A:-x", PRT_ENV_SYNTAX, NULL);
    exp1("${}", PRT_ENV_SYNTAX, NULL);
    exp1("${1A}", PRT_ENV_SYNTAX, NULL);
    exp1("${A-B}", PRT_ENV_SYNTAX, name);
    CHECK_STR(name, "unexpected '-' in '${A'");
    exp1("", PRT_ENV_OK, NULL);   /* frees the last result */
    return check_report();
}
