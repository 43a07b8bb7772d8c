/* test_tmpl.c - unit tests of the template engine (compiler/tmpl*.c): every construct, every
 * filter and every error. Errors are checked through the diagnostics' text, captured with
 * diag_set_output on an open_memstream; diag_reset before each render keeps the error cap away.
 * All renders share one arena, freed at the end (diag keeps pointers to the template texts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "diag.h"
#include "tmpl.h"

static Arena arena;
static char *diag_text;   /* everything diag printed during the last render (malloc'd) */

/* Renders text with model; returns the output, or NULL when the render failed. */
static const char *render(const char *text, const TVal *model) {
    free(diag_text);
    diag_text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&diag_text, &len);
    diag_set_output(f);
    diag_reset();
    SBuf out = {0};
    bool ok = tmpl_render_string(&arena, "t.tmpl", text, model, &out);
    diag_set_output(stderr);
    fclose(f);
    const char *result = ok ? arena_strdup(&arena, sbuf_cstr(&out)) : NULL;
    sbuf_free(&out);
    return result;
}

/* The first line of the diagnostic a failing render printed ("" when it did not fail). */
static const char *render_error(const char *text, const TVal *model) {
    if (render(text, model)) return "(rendered without error)";
    size_t n = strcspn(diag_text, "\n");
    return arena_strndup(&arena, diag_text, n);
}

/* A model used by most tests. */
static TVal *sample_model(void) {
    Arena *a = &arena;
    TVal *m = tv_map(a);
    tv_set_str(a, m, "name", "Trip");
    tv_set_int(a, m, "n", 42);
    tv_set_bool(a, m, "yes", true);
    tv_set_bool(a, m, "no", false);
    tv_set(a, m, "nothing", tv_none(a));
    tv_set_str(a, m, "empty", "");
    TVal *list = tv_list(a);
    tv_push(a, list, tv_str(a, "a"));
    tv_push(a, list, tv_str(a, "b"));
    tv_push(a, list, tv_str(a, "c"));
    tv_set(a, m, "list", list);
    tv_set(a, m, "nolist", tv_list(a));
    tv_set(a, m, "nomap", tv_map(a));
    TVal *opts = tv_map(a);
    tv_set_str(a, opts, "path", "/in.csv");
    tv_set_int(a, opts, "skip", 2);
    tv_set(a, m, "opts", opts);
    TVal *fields = tv_list(a);
    const char *names[] = {"id", "fare", "city"};
    for (int i = 0; i < 3; i++) {
        TVal *f = tv_map(a);
        tv_set_str(a, f, "name", names[i]);
        tv_set_bool(a, f, "nullable", i > 0);
        tv_push(a, fields, f);
    }
    tv_set(a, m, "fields", fields);
    return m;
}

static void test_values(void) {
    Arena *a = &arena;
    char buf[8] = "abc";
    TVal *s = tv_str(a, buf);
    buf[0] = 'x';
    CHECK_STR(s->s, "abc");
    CHECK(tv_none(a)->kind == TV_NONE);
    CHECK(tv_bool(a, true)->b);
    CHECK_INT(tv_int(a, -5)->i, -5);
    TVal *m = tv_map(a);
    for (int i = 0; i < 20; i++) tv_set_int(a, m, arena_printf(a, "k%d", i), i);
    tv_set_int(a, m, "k3", 33);
    CHECK_INT(m->npairs, 20);
    CHECK_INT(tv_get(m, "k3")->i, 33);
    CHECK_STR(m->pairs[19].key, "k19");
    CHECK(tv_get(m, "absent") == NULL);
    CHECK(tv_get(s, "k1") == NULL);
    TVal *l = tv_list(a);
    for (int i = 0; i < 20; i++) tv_push(a, l, tv_int(a, i));
    CHECK_INT(l->nitems, 20);
    CHECK_INT(l->items[19]->i, 19);
}

static void test_text_and_output(void) {
    TVal *m = sample_model();
    CHECK_STR(render("", m), "");
    CHECK_STR(render("plain { } {x} }} %} #}\n", m), "plain { } {x} }} %} #}\n");
    CHECK_STR(render("{{ name }}-{{ n }}", m), "Trip-42");
    CHECK_STR(render("{{ yes }} {{ no }} {{ nothing }} {{ true }} {{ False }} {{ none }}", m), "True False None True False None");
    CHECK_STR(render("{{ list }} {{ opts }} {{ nolist }} {{ nomap }}", m),
              "['a', 'b', 'c'] {'path': '/in.csv', 'skip': 2} [] {}");
    CHECK_STR(render("{{ [\"it's\", 'say \"x\"', 'both \\' \"', 'a\\\\b\\n', none, true, [1]] }}", m),
              "[\"it's\", 'say \"x\"', 'both \\' \"', 'a\\\\b\\n', None, True, [1]]");
    CHECK_STR(render("{{ -n }} {{ 0 }} {{ 9223372036854775807 }}", m), "-42 0 9223372036854775807");
    CHECK_STR(render("a\r\nb\rc\n", m), "a\nb\nc\n");
    CHECK(render("{{ name }}", NULL) == NULL);
}

static void test_literals_and_lookup(void) {
    TVal *m = sample_model();
    CHECK_STR(render("{{ 'single' }} {{ \"double\" }} {{ 'adj' \"acent\" }} {{ 1_000 }}", m), "single double adjacent 1000");
    CHECK_STR(render("{{ 'a\\tb\\nc\\\\d\\'e\\\"f\\x41\\101\\u00e9\\q' }}", m), "a\tb\nc\\d'e\"fAA\xc3\xa9\\q");
    CHECK_STR(render("{{ opts.path }} {{ opts['skip'] }} {{ list[0] }} {{ list[-1] }} {{ list.1 }}", m), "/in.csv 2 a c b");
    CHECK_STR(render("{{ fields[1].name }} {{ fields.2['name'] }} {{ 'héllo'[1] }} {{ [1, [2, 3]][1][0] }}", m),
              "fare city é 2");
    CHECK_STR(render("{% set k = 'path' %}{{ opts[k] }}", m), "/in.csv");
}

static void test_operators(void) {
    TVal *m = sample_model();
    CHECK_STR(render("{{ 1 + 2 - 4 }} {{ n + 1 }} {{ true + 1 }} {{ 'a' + 'b' }} {{ [1] + [2] }}", m), "-1 43 2 ab [1, 2]");
    CHECK_STR(render("{{ 'a' ~ 1 ~ none ~ true ~ list }}", m), "a1NoneTrue['a', 'b', 'c']");
    CHECK_STR(render("{{ n == 42 }} {{ n != 42 }} {{ n < 43 }} {{ n > 43 }} {{ n <= 42 }} {{ n >= 43 }}", m),
              "True False True False True False");
    CHECK_STR(render("{{ 1 == true }} {{ '1' == 1 }} {{ none == none }} {{ [1, 'a'] == [1, 'a'] }} {{ opts == opts }}", m),
              "True False True True True");
    CHECK_STR(render("{{ 'abc' < 'abd' }} {{ [1, 2] < [1, 2, 0] }} {{ 1 < n < 50 }} {{ 1 < n < 5 }}", m),
              "True True True False");
    CHECK_STR(render("{{ 'b' in 'abc' }} {{ 'b' in list }} {{ 'path' in opts }} {{ 'x' not in opts }} {{ 1 in [1] }}", m),
              "True True True True True");
    CHECK_STR(render("{{ '' or 'd' }} {{ 'x' or 'y' }} {{ 0 and 1 }} {{ 1 and 'z' }} {{ not 0 }} {{ not list }}", m),
              "d x 0 z True False");
    /* precedence as in Jinja2 */
    CHECK_STR(render("{{ not n == 41 }} {{ 'a' ~ 'b' | upper }} {{ ('a' ~ 'b') | upper }} {{ 2 - 1 - 1 }}", m),
              "True aB AB 0");
    CHECK_STR(render("{{ -(list | length) }} {{ 10 - -2 }} {{ yes and not no }} {{ no or nothing or 'last' }}", m),
              "-3 12 True last");
    /* `and` short-circuits past what would be an error */
    CHECK_STR(render("{{ no and undefined_name }}|{{ yes or undefined_name }}", m), "False|True");
    CHECK_STR(render("{{ no and undefined_name }}", m), "False");
}

static void test_truthiness(void) {
    TVal *m = sample_model();
    CHECK_STR(render("{% for v in [0, 1, '', 'x', [], [0], none, true, false] %}{% if v %}T{% else %}F{% endif %}{% endfor %}", m),
              "FTFTFTFTF");
    CHECK_STR(render("{% if nomap %}T{% else %}F{% endif %}{% if opts %}T{% endif %}{% if empty %}T{% else %}F{% endif %}", m),
              "FTF");
}

static void test_if(void) {
    TVal *m = sample_model();
    const char *t = "{% if n < 10 %}small{% elif n < 100 %}medium{% elif n < 1000 %}large{% else %}huge{% endif %}";
    CHECK_STR(render(t, m), "medium");
    CHECK_STR(render("{% if no %}a{% elif nothing %}b{% else %}c{% endif %}", m), "c");
    CHECK_STR(render("{% if no %}a{% elif yes %}b{% endif %}", m), "b");
    CHECK_STR(render("{% if no %}a{% endif %}", m), "");
    CHECK_STR(render("{% if yes %}{% if no %}x{% else %}y{% endif %}{% endif %}", m), "y");
}

static void test_for(void) {
    TVal *m = sample_model();
    CHECK_STR(render("{% for x in list %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", m),
              "1a,2b,3c");
    CHECK_STR(render("{% for x in list %}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
                     "{{ loop.revindex }}{{ loop.revindex0 }};{% endfor %}", m),
              "0TrueFalse332;1FalseFalse321;2FalseTrue310;");
    CHECK_STR(render("{% for x in nolist %}x{% else %}none{% endfor %}", m), "none");
    CHECK_STR(render("{% for x in list %}{{ x }}{% else %}none{% endfor %}", m), "abc");
    CHECK_STR(render("{% for k, v in opts | items %}{{ k }}={{ v }};{% endfor %}", m), "path=/in.csv;skip=2;");
    CHECK_STR(render("{% for k in opts %}{{ k }};{% endfor %}", m), "path;skip;");
    CHECK_STR(render("{% for c in 'hé!' %}[{{ c }}]{% endfor %}", m), "[h][é][!]");
    CHECK_STR(render("{% for a, b, c in [[1, 2, 3], [4, 5, 6]] %}{{ a + b + c }} {% endfor %}", m), "6 15 ");
    CHECK_STR(render("{% for f in fields %}{% set outer = loop %}{% for x in list %}{% if loop.last and outer.last %}"
                     "{{ f.name }}{{ x }}{{ outer.index }}{{ loop.index }}{% endif %}{% endfor %}{% endfor %}", m),
              "cityc33");
    CHECK_STR(render("{% for x in [1] %}{% for y in [1, 2] %}{% endfor %}{{ loop.length }}{% endfor %}", m), "1");
}

static void test_set_and_scope(void) {
    TVal *m = sample_model();
    CHECK_STR(render("{% set x = n + 1 %}{{ x }}{% set x = x ~ '!' %}{{ x }}", m), "4343!");
    CHECK_STR(render("{% set name = 'shadow' %}{{ name }}", m), "shadow");
    CHECK_STR(render("{% if yes %}{% set x = 1 %}{% endif %}{{ x }}", m), "1");
    /* a loop body's set lasts one iteration, and never leaks out */
    CHECK_STR(render("{% set c = 0 %}{% for i in [1, 2] %}{{ c }}{% set c = i %}{{ c }}{% endfor %}{{ c }}", m), "01020");
    CHECK_STR(render_error("{% for i in [1, 2] %}{% if i == 2 %}{{ c }}{% endif %}{% set c = i %}{% endfor %}", m),
              "t.tmpl:1:40: error: 'c' is undefined");
    CHECK_STR(render_error("{% for i in [1] %}{% endfor %}{{ i }}", m), "t.tmpl:1:34: error: 'i' is undefined");
    CHECK_STR(render_error("{{ loop.index }}", m), "t.tmpl:1:4: error: 'loop' is undefined");
}

static void test_whitespace(void) {
    TVal *m = sample_model();
    /* trim_blocks and lstrip_blocks */
    CHECK_STR(render("a\n{% if yes %}\nb\n{% endif %}\nc\n", m), "a\nb\nc\n");
    CHECK_STR(render("a\n    {% if yes %}\n    b\n    {% endif %}\nc\n", m), "a\n    b\nc\n");
    CHECK_STR(render("  {{ n }}\n", m), "  42\n");
    CHECK_STR(render("x  {% if yes %}y{% endif %}\n", m), "x  y");
    CHECK_STR(render("{% if yes %}  \ny{% endif %}", m), "  \ny");
    CHECK_STR(render("\t {% if yes %}y{% endif %}", m), "y");
    /* - and + */
    CHECK_STR(render("a  \n {%- if yes -%} \n b \n {%- endif -%}\n  c", m), "abc");
    CHECK_STR(render("a {{- n -}} \n b", m), "a42b");
    CHECK_STR(render("  {%+ if yes %}x{% endif +%}\ny", m), "  x\ny");
    CHECK_STR(render("{{ -1 }} {{-1}}", m), "-11");
    /* comments */
    CHECK_STR(render("a{# c #}b\n  {# own line #}\nc{#\n{{ nope }} {% if %}\n#}d", m), "ab\ncd");
    CHECK_STR(render("a {#- x -#} b", m), "ab");
    CHECK_STR(render("{#- x #}", m), "");
}

static void test_filters(void) {
    TVal *m = sample_model();
    CHECK_STR(render("{{ name | upper }} {{ name | lower }} {{ n | upper }} {{ 'é' | upper }}", m), "TRIP trip 42 é");
    CHECK_STR(render("{{ name | length }} {{ list | length }} {{ opts | length }} {{ 'hé' | length }}", m), "4 3 2 2");
    CHECK_STR(render("{{ list | join(', ') }}|{{ list | join }}|{{ [1, none] | join('-') }}|{{ opts | join('/') }}", m),
              "a, b, c|abc|1-None|path/skip");
    CHECK_STR(render("{{ missing | default('d') }} {{ name | default('d') }} {{ missing | default }}|"
                     "{{ '' | default('e', true) }} {{ '' | default('e') }}| {{ opts.nope | default(1) }}", m),
              "d Trip |e | 1");
    CHECK_STR(render("{{ list | first }} {{ list | last }} {{ 'xyz' | first }} {{ 'xyz' | last }} {{ opts | last }}", m),
              "a c x z skip");
    CHECK_STR(render("{{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '.') }}"
                     " {{ 123 | replace(2, 5) }} {{ 'x' | replace('x', '') }}", m),
              "a+b+c bba .a.b. 153 ");
    CHECK_STR(render("[{{ ' \t x y \n' | trim }}] [{{ '--x--' | trim('-') }}] [{{ '   ' | trim }}]", m), "[x y] [x] []");
    CHECK_STR(render("{{ 'a\nb\n\nc' | indent }}", m), "a\n    b\n\n    c");
    CHECK_STR(render("{{ 'a\nb' | indent(2, true) }}|{{ 'a\n\nb\n' | indent(1, false, true) }}|{{ 'a\nb' | indent('> ') }}", m),
              "  a\n  b|a\n \n b\n |a\n> b");
    CHECK_STR(render("{{ 'x\r\ny' | indent(1) }}|{{ '' | indent }}|{{ 'a\n' | indent }}", m), "x\n y||a\n");
    CHECK_STR(render("{{ opts | items }}", m), "[['path', '/in.csv'], ['skip', 2]]");
    CHECK_STR(render("{{ 'say \"hi\"\\\\\n\t' | c_string }}", m), "\"say \\\"hi\\\"\\\\\\n\\t\"");
    CHECK_STR(render("{{ '\x01\x7fé\\r' | c_string }} {{ '?\?=?\?\?' | c_string }} {{ n | c_string }}", m),
              "\"\\001\\177\\303\\251\\015\" \"?\\?=?\\?\\?\" \"42\"");
    CHECK_STR(render("{{ list | first | upper | c_string }}", m), "\"A\"");
}

static void check_error(const char *text, const char *want) {
    CHECK_STR(render_error(text, sample_model()), want);
}

static void test_syntax_errors(void) {
    check_error("a\n  {{ n", "t.tmpl:2:3: error: unclosed tag: missing '}}'");
    check_error("{% if yes", "t.tmpl:1:1: error: unclosed tag: missing '%}'");
    check_error("x\n{# never closed", "t.tmpl:2:1: error: unclosed comment: missing '#}'");
    check_error("{{ 'abc }}", "t.tmpl:1:4: error: unterminated string literal");
    check_error("{{ n ? 1 }}", "t.tmpl:1:6: error: unexpected character '?' in tag");
    check_error("{{ 1.5 }}", "t.tmpl:1:4: error: floating-point numbers are not supported");
    check_error("{{ 99999999999999999999 }}", "t.tmpl:1:4: error: integer literal too large");
    check_error("{{ }}", "t.tmpl:1:4: error: expected an expression, got end of tag '}}'");
    check_error("{{ n n }}", "t.tmpl:1:6: error: expected end of tag '}}', got 'n'");
    check_error("{{ (n }}", "t.tmpl:1:1: error: unclosed tag: missing '}}'");
    check_error("{{ list[1:2] }}", "t.tmpl:1:10: error: expected ']' (slices are not supported), got ':'");
    check_error("{{ name.upper() }}", "t.tmpl:1:14: error: calls are not supported in templates");
    check_error("{{ n * 2 }}", "t.tmpl:1:6: error: operator '*' is not supported");
    check_error("{{ n is defined }}", "t.tmpl:1:6: error: tests ('is') are not supported");
    check_error("{{ n | nosuch }}", "t.tmpl:1:8: error: unknown filter 'nosuch'");
    check_error("{{ n | replace('a') }}", "t.tmpl:1:8: error: filter 'replace' takes 2 to 3 arguments, got 1");
    check_error("{{ n | upper(1) }}", "t.tmpl:1:8: error: filter 'upper' takes 0 to 0 arguments, got 1");
    check_error("{{ n | 1 }}", "t.tmpl:1:8: error: expected a filter name after '|', got an integer");
    check_error("{{ n. }}", "t.tmpl:1:7: error: expected an attribute name after '.', got end of tag '}}'");
    check_error("{% %}", "t.tmpl:1:4: error: expected a statement name after '{%', got end of tag '%}'");
    check_error("a\n{% include 'x' %}", "t.tmpl:2:4: error: unknown statement 'include'");
    check_error("x\n\n {% endfor %}", "t.tmpl:3:5: error: 'endfor' without matching 'for'");
    check_error("{% endif %}", "t.tmpl:1:4: error: 'endif' without matching 'if'");
    check_error("{% else %}", "t.tmpl:1:4: error: 'else' without matching 'if' or 'for'");
    check_error("{% elif x %}", "t.tmpl:1:4: error: 'elif' without matching 'if'");
    check_error("a\n{% for x in list %}\n{{ x }}", "t.tmpl:2:1: error: 'for' is never closed: expected '{% endfor %}'");
    check_error("{% if yes %}\n{% elif no %}\n", "t.tmpl:1:1: error: 'if' is never closed: expected '{% endif %}'");
    check_error("{% if yes %}\n{% for x in list %}\n{% endif %}",
                "t.tmpl:3:4: error: unexpected 'endif': the 'for' at line 2 is not closed yet (expected '{% endfor %}')");
    check_error("{% if yes %}{% else %}{% else %}{% endif %}",
                "t.tmpl:1:26: error: unexpected 'else': the 'if' at line 1 is not closed yet (expected '{% endif %}')");
    check_error("{% if yes %}{% endif x %}", "t.tmpl:1:22: error: expected end of statement '%}', got 'x'");
    check_error("{% for in list %}{% endfor %}", "t.tmpl:1:11: error: expected 'in', got 'list'");
    check_error("{% for 1 in list %}{% endfor %}", "t.tmpl:1:8: error: expected a loop variable name, got an integer");
    check_error("{% set x %}y{% endset %}",
                "t.tmpl:1:10: error: expected '=' after 'set x' (block set and multiple targets are not supported)");
    check_error("{% set 'x' = 1 %}", "t.tmpl:1:8: error: expected a variable name after 'set', got a string");
    check_error("{% raw %}{% endraw %}", "t.tmpl:1:4: error: unknown statement 'raw'");
    /* a syntax error in a branch that is never rendered is still an error */
    check_error("{% if no %}{{ n | nosuch }}{% endif %}", "t.tmpl:1:19: error: unknown filter 'nosuch'");
}

static void test_render_errors(void) {
    check_error("line 1\n  {{ nmae }}", "t.tmpl:2:6: error: 'nmae' is undefined");
    check_error("{{ opts.nope }}", "t.tmpl:1:8: error: 'opts' has no attribute 'nope'");
    check_error("{% for f in fields %}{{ f.nmae }}{% endfor %}", "t.tmpl:1:26: error: 'f' has no attribute 'nmae'");
    check_error("{{ fields[0].x.y }}", "t.tmpl:1:13: error: 'dict object' has no attribute 'x'");
    check_error("{{ opts['nope'] }}", "t.tmpl:1:8: error: 'opts' has no key 'nope'");
    check_error("{{ list[3] }}", "t.tmpl:1:8: error: 'list' has no element 3");
    check_error("{{ list['a'] }}", "t.tmpl:1:8: error: cannot index 'list' (list) with a str");
    check_error("{{ name.x }}", "t.tmpl:1:8: error: 'name' has no attribute 'x'");
    check_error("{{ nolist | first }}", "t.tmpl:1:13: error: No first item, sequence was empty.");
    check_error("{{ '' | last }}", "t.tmpl:1:9: error: No last item, sequence was empty.");
    check_error("{% if missing %}{% endif %}", "t.tmpl:1:7: error: 'missing' is undefined");
    check_error("{% for x in missing %}{% endfor %}", "t.tmpl:1:13: error: 'missing' is undefined");
    check_error("{% set x = missing %}", "t.tmpl:1:12: error: 'missing' is undefined");
    check_error("{{ missing | upper }}", "t.tmpl:1:4: error: 'missing' is undefined");
    check_error("{{ missing ~ 'x' }}", "t.tmpl:1:4: error: 'missing' is undefined");
    check_error("{{ 'x' == missing }}", "t.tmpl:1:11: error: 'missing' is undefined");
    check_error("{{ missing | default(other) }}", "t.tmpl:1:22: error: 'other' is undefined");
    check_error("{{ 'a' < 1 }}", "t.tmpl:1:4: error: '<' not supported between instances of 'str' and 'int'");
    check_error("{{ 1 + 'a' }}", "t.tmpl:1:4: error: unsupported operand type(s) for +: 'int' and 'str'");
    check_error("{{ 1 + 2 ~ 3 }}", "t.tmpl:1:4: error: unsupported operand type(s) for +: 'int' and 'str'");
    check_error("{{ 'a' - 'b' }}", "t.tmpl:1:4: error: unsupported operand type(s) for -: 'str' and 'str'");
    check_error("{{ -name }}", "t.tmpl:1:4: error: bad operand type for unary -: 'str'");
    check_error("{{ 9223372036854775807 + 1 }}", "t.tmpl:1:4: error: integer overflow");
    check_error("{{ 1 in 'abc' }}", "t.tmpl:1:4: error: 'in <string>' requires string as left operand, not int");
    check_error("{{ 1 in 2 }}", "t.tmpl:1:4: error: argument of type 'int' is not iterable");
    check_error("{{ [] in opts }}", "t.tmpl:1:4: error: unhashable type: 'list'");
    check_error("{% for x in n %}{% endfor %}", "t.tmpl:1:13: error: 'int' object is not iterable");
    check_error("{% for a, b in list %}{% endfor %}", "t.tmpl:1:16: error: cannot unpack a str into 2 loop variables");
    check_error("{{ n | length }}", "t.tmpl:1:8: error: object of type 'int' has no len()");
    check_error("{{ n | join }}", "t.tmpl:1:8: error: 'int' object is not iterable");
    check_error("{{ list | items }}", "t.tmpl:1:11: error: filter 'items' needs a map, got a list");
    check_error("{{ n | indent }}", "t.tmpl:1:8: error: filter 'indent' needs a str, got a int");
    check_error("{{ 'x' | indent(none) }}", "t.tmpl:1:10: error: filter 'indent' needs an int or str width, got a NoneType");
    check_error("{{ 'x' | replace('a', 'b', 'c') }}", "t.tmpl:1:10: error: filter 'replace' needs an int count, got a str");
}

/* Failures do not touch what the output buffer already held; diag shows the source line. */
static void test_error_output(void) {
    SBuf out = {0};
    sbuf_puts(&out, "kept");
    FILE *f = tmpfile();
    diag_set_output(f);
    diag_reset();
    CHECK(!tmpl_render_string(&arena, "e.tmpl", "partial {{ missing }} more", sample_model(), &out));
    CHECK(tmpl_render_string(&arena, "e.tmpl", " ok", sample_model(), &out));
    diag_set_output(stderr);
    CHECK_STR(sbuf_cstr(&out), "kept ok");
    CHECK_INT(diag_error_count(), 1);
    char text[512] = {0};
    rewind(f);
    CHECK(fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    CHECK_STR(text, "e.tmpl:1:12: error: 'missing' is undefined\npartial {{ missing }} more\n           ^\n");
    sbuf_free(&out);
}

static void test_render_file(void) {
    char path[] = "/tmp/test_tmpl_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{% for f in fields %}\n{{ f.name }}{% if f.nullable %}?{% endif %}\n{% endfor %}", f);
    fclose(f);
    SBuf out = {0};
    CHECK(tmpl_render_file(&arena, path, sample_model(), &out));
    CHECK_STR(sbuf_cstr(&out), "idfare?city?");   /* %} eats its newline */
    remove(path);
    diag_reset();
    FILE *capture = tmpfile();
    diag_set_output(capture);
    CHECK(!tmpl_render_file(&arena, path, sample_model(), &out));
    diag_set_output(stderr);
    fclose(capture);
    CHECK_INT(diag_error_count(), 1);
    sbuf_free(&out);
}

/* A 1000-line template renders in well under a second (it is parsed once). */
static void test_large_template(void) {
    SBuf text = {0};
    for (int i = 0; i < 250; i++)
        sbuf_printf(&text, "{%% for f in fields %%}\n  {%% if f.nullable %%}\n  %d {{ f.name | upper }}{{ loop.index }}\n"
                           "  {%% endif %%}\n{%% endfor %%}\n", i);
    clock_t t0 = clock();
    const char *out = render(sbuf_cstr(&text), sample_model());
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(out != NULL);
    CHECK(out && strstr(out, "249 CITY3\n") != NULL);
    CHECK(secs < 0.5);
    sbuf_free(&text);
}

int main(void) {
    test_values();
    test_text_and_output();
    test_literals_and_lookup();
    test_operators();
    test_truthiness();
    test_if();
    test_for();
    test_set_and_scope();
    test_whitespace();
    test_filters();
    test_syntax_errors();
    test_render_errors();
    test_error_output();
    test_render_file();
    test_large_template();
    free(diag_text);
    arena_free(&arena);
    return check_report();
}
