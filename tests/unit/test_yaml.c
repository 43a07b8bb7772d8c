/* test_yaml.c - unit tests for yaml.c: the tree and its locations (1-based, in bytes), scalar
 * styles, duplicate and complex keys, anchors and aliases, documents, the exact text of syntax
 * and file errors, and yaml_scalar_loc for plain, quoted and block scalars, which expression
 * errors point through. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* open_memstream */
#endif
#include "check.h"
#include "yaml.h"
#include <stdlib.h>
#include <unistd.h>

static Arena arena;
static char *cap_buf;
static size_t cap_size;
static FILE *cap_out;
static char *last_out;

static void cap_begin(void) {
    cap_out = open_memstream(&cap_buf, &cap_size);
    diag_set_output(cap_out);
    diag_reset();
}

static const char *cap_end(void) {
    fclose(cap_out);
    diag_set_output(stderr);
    free(last_out);
    last_out = cap_buf;
    return last_out;
}

/* Loads `text` as t.yaml; *out gets the diagnostics printed meanwhile. */
static YNode *load(const char *text, const char **out) {
    cap_begin();
    YNode *n = yaml_load_string(&arena, "t.yaml", text);
    *out = cap_end();
    return n;
}

#define CHECK_LOC(loc, l, c) do { SrcLoc x_ = (loc); CHECK_INT(x_.line, l); CHECK_INT(x_.col, c); } while (0)

static void test_tree(void) {
    const char *out;
    YNode *r = load("name: orders\n"
                    "tags: [a, 'yes', \"q\"]\n"
                    "schema:\n"
                    "  price: int64\n"
                    "  id:   {type: int32}\n"
                    "list:\n"
                    "  - one\n"
                    "  - |\n"
                    "    lit\n"
                    "  - >-\n"
                    "    fold\n"
                    "empty:\n"
                    "tilde: ~\n", &out);
    CHECK_STR(out, "");
    CHECK(r && r->kind == YN_MAP);
    if (!r) return;
    CHECK_INT(r->npairs, 6);
    CHECK_LOC(r->loc, 1, 1);
    CHECK_STR(r->pairs[0].key->text, "name");
    CHECK_LOC(r->pairs[0].key->loc, 1, 1);
    YNode *name = yaml_get(r, "name");
    CHECK_STR(name->text, "orders");
    CHECK_INT(name->len, 6);
    CHECK_INT(name->style, YS_PLAIN);
    CHECK_LOC(name->loc, 1, 7);
    CHECK_STR(name->loc.file, "t.yaml");

    YNode *tags = yaml_get(r, "tags");
    CHECK(tags->kind == YN_SEQ && tags->nitems == 3);
    CHECK_LOC(tags->loc, 2, 7);
    CHECK_INT(tags->items[1]->style, YS_SINGLE_QUOTED);
    CHECK_STR(tags->items[1]->text, "yes");
    CHECK_LOC(tags->items[1]->loc, 2, 11);          /* the opening quote */
    CHECK_INT(tags->items[2]->style, YS_DOUBLE_QUOTED);
    CHECK_LOC(tags->items[2]->loc, 2, 18);

    YNode *schema = yaml_get(r, "schema");
    CHECK(schema->kind == YN_MAP);
    CHECK_LOC(schema->loc, 4, 3);
    CHECK_LOC(yaml_get(schema, "price")->loc, 4, 10);
    YNode *id = yaml_get(schema, "id");
    CHECK(id->kind == YN_MAP);
    CHECK_LOC(id->loc, 5, 9);
    CHECK_STR(yaml_get(id, "type")->text, "int32");

    YNode *list = yaml_get(r, "list");
    CHECK(list->kind == YN_SEQ && list->nitems == 3);
    CHECK_LOC(list->loc, 7, 3);
    CHECK_LOC(list->items[0]->loc, 7, 5);
    CHECK_INT(list->items[1]->style, YS_LITERAL);
    CHECK_STR(list->items[1]->text, "lit\n");
    CHECK_LOC(list->items[1]->loc, 8, 5);           /* the indicator */
    CHECK_INT(list->items[2]->style, YS_FOLDED);
    CHECK_STR(list->items[2]->text, "fold");

    CHECK(yaml_is_null(yaml_get(r, "empty")));
    CHECK(yaml_is_null(yaml_get(r, "tilde")));
    CHECK(!yaml_is_null(name));
    CHECK(!yaml_is_null(tags));
    CHECK(!yaml_is_null(NULL));
    CHECK(yaml_get(r, "missing") == NULL);
    CHECK(yaml_get(name, "x") == NULL);      /* not a map */
    CHECK(yaml_get(NULL, "x") == NULL);
    CHECK_STR(yaml_kind_name(YN_SCALAR), "a scalar");
    CHECK_STR(yaml_kind_name(YN_MAP), "a map");
    CHECK_STR(yaml_kind_name(YN_SEQ), "a list");
}

static void test_null_and_styles(void) {
    const char *out;
    YNode *r = load("a: null\nb: 'null'\nc: \"~\"\nd: Null\ne: NULL\nf: nil\ng: ''\n", &out);
    CHECK_STR(out, "");
    if (!r) return;
    CHECK(yaml_is_null(yaml_get(r, "a")));
    CHECK(!yaml_is_null(yaml_get(r, "b")));   /* quoted: a string */
    CHECK(!yaml_is_null(yaml_get(r, "c")));
    CHECK(yaml_is_null(yaml_get(r, "d")));
    CHECK(yaml_is_null(yaml_get(r, "e")));
    CHECK(!yaml_is_null(yaml_get(r, "f")));
    CHECK(!yaml_is_null(yaml_get(r, "g")));
    CHECK_INT(yaml_get(r, "g")->len, 0);
}

static void test_locations_are_bytes(void) {
    const char *out;
    /* libyaml counts characters; we count bytes */
    YNode *r = load("pr\xC3\xA9\xC3\xA7: caf\xC3\xA9\nk: [\xC3\xA9, x]\n", &out);
    CHECK_STR(out, "");
    if (!r) return;
    CHECK_LOC(r->pairs[0].value->loc, 1, 9);
    YNode *k = yaml_get(r, "k");
    CHECK_LOC(k->items[0]->loc, 2, 5);
    CHECK_LOC(k->items[1]->loc, 2, 9);
    /* CRLF line ends */
    r = load("a: 1\r\nb:\r\n  c: 2\r\n", &out);
    CHECK_STR(out, "");
    if (!r) return;
    CHECK_LOC(yaml_get(yaml_get(r, "b"), "c")->loc, 3, 6);
    /* a BOM is not counted by libyaml but is in the bytes */
    r = load("\xEF\xBB\xBF" "a: 1\n", &out);
    CHECK_STR(out, "");
    if (r) CHECK_LOC(yaml_get(r, "a")->loc, 1, 7);
    /* anchors and tags in front of a value: the value's position */
    r = load("a: &x foo\nb: !!str yes\nc: &m\n  d: 1\ne: &s [1]\n", &out);
    CHECK_STR(out, "");
    if (!r) return;
    CHECK_LOC(yaml_get(r, "a")->loc, 1, 7);
    CHECK_LOC(yaml_get(r, "b")->loc, 2, 10);
    CHECK_LOC(yaml_get(r, "c")->loc, 4, 3);
    CHECK_LOC(yaml_get(r, "e")->loc, 5, 7);
}

static void test_duplicate_and_complex_keys(void) {
    const char *out;
    YNode *r = load("name: a\nschema:\n  id: int64\n  id: int32\nname: b\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out,
              "t.yaml:4:3: error: duplicate key 'id'\n"
              "  id: int32\n"
              "  ^\n"
              "t.yaml:3:3: note: 'id' first appears here\n"
              "  id: int64\n"
              "  ^\n"
              "t.yaml:5:1: error: duplicate key 'name'\n"
              "name: b\n"
              "^\n"
              "t.yaml:1:1: note: 'name' first appears here\n"
              "name: a\n"
              "^\n");
    CHECK_INT(diag_error_count(), 2);
    /* same key in different maps, and keys differing by quoting style only */
    r = load("a: {x: 1}\nb: {x: 2}\n", &out);
    CHECK(r != NULL);
    CHECK_STR(out, "");
    r = load("x: 1\n'x': 2\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml:2:1: error: duplicate key 'x'\n'x': 2\n^\n"
                   "t.yaml:1:1: note: 'x' first appears here\nx: 1\n^\n");

    r = load("? [a, b]\n: 1\nok: 2\n? {k: v}\n: 3\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out,
              "t.yaml:1:3: error: a map key must be a scalar, not a list\n? [a, b]\n  ^\n"
              "t.yaml:4:3: error: a map key must be a scalar, not a map\n? {k: v}\n  ^\n");
}

static void test_aliases(void) {
    const char *out;
    YNode *r = load("base: &b\n  type: int64\n  nullable: false\n"
                    "x: *b\n"
                    "name: &n price\n"
                    "list: [*n, *b]\n"
                    "*n : key from alias\n", &out);
    CHECK_STR(out, "");
    CHECK(r != NULL);
    if (!r) return;
    YNode *base = yaml_get(r, "base");
    CHECK(yaml_get(r, "x") == base);                 /* the anchored node itself */
    YNode *list = yaml_get(r, "list");
    CHECK(list->items[0] == yaml_get(r, "name"));
    CHECK(list->items[1] == base);
    CHECK_STR(yaml_get(r, "price")->text, "key from alias");

    /* an anchor redefined: later aliases see the newest */
    r = load("a: &v 1\nb: &v 2\nc: *v\n", &out);
    CHECK(r && strcmp(yaml_get(r, "c")->text, "2") == 0);

    r = load("a: 1\nb: *nope\nc: [*also]\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml:2:4: error: unknown alias '*nope'\nb: *nope\n   ^\n"
                   "t.yaml:3:5: error: unknown alias '*also'\nc: [*also]\n    ^\n");
    CHECK_INT(diag_error_count(), 2);

    /* a node cannot contain itself: the tree stays acyclic */
    r = load("a: &r\n  b: *r\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml:2:6: error: alias '*r' refers to a node that contains it\n  b: *r\n     ^\n"
                   "t.yaml:2:3: note: '&r' is defined here\n  b: *r\n  ^\n");

    /* an alias used as a key must name a scalar */
    r = load("m: &m {a: 1}\n*m : 2\n", &out);
    CHECK(r == NULL);
    CHECK(strstr(out, "error: a map key must be a scalar, not a map\n") != NULL);

    /* billion laughs: references keep the tree small, but its expansion is bounded */
    r = load("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
             "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
             "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
             "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
             "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
             "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
             "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n", &out);
    CHECK(r == NULL);
    CHECK(strstr(out, "error: aliases expand the spec beyond 1000000 nodes\n") != NULL);
    CHECK_INT(diag_error_count(), 1);
}

static void test_documents(void) {
    const char *out;
    YNode *r = load("", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml: error: empty spec\n");
    r = load("# only a comment\n\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml: error: empty spec\n");
    r = load("---\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml: error: empty spec\n");
    r = load("~\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml: error: empty spec\n");

    r = load("--- \na: 1\n...\n", &out);
    CHECK(r != NULL);
    CHECK_STR(out, "");
    r = load("a: 1\n---\nb: 2\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml:2:1: error: a spec holds one document\n---\n^\n");
    r = load("a: 1\n...\n---\nb: 2\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml:3:1: error: a spec holds one document\n---\n^\n");

    /* a scalar or a list as the whole document is loaded; the checker judges it */
    r = load("just text\n", &out);
    CHECK(r && r->kind == YN_SCALAR);
}

static void test_syntax_errors(void) {
    const char *out;
    YNode *r = load("name: x\nsource:\n  kind: file\n    path: a.csv\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml:4:9: error: mapping values are not allowed in this context\n"
                   "    path: a.csv\n"
                   "        ^\n");
    CHECK_INT(diag_error_count(), 1);

    /* the column of a syntax error after a multi-byte character is in bytes */
    r = load("k: \xC3\xBC x: 1\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml:1:8: error: mapping values are not allowed in this context\n"
                   "k: \xC3\xBC x: 1\n"
                   "      ^\n");

    /* libyaml's context becomes a note when it points elsewhere */
    r = load("a: 1\nb: \"open\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml:3:1: error: found unexpected end of stream\n"
                   "t.yaml:2:4: note: while scanning a quoted scalar\n"
                   "b: \"open\n"
                   "   ^\n");

    r = load("a: [1, 2\nb: 3\n", &out);
    CHECK(r == NULL);
    CHECK(strstr(out, "t.yaml:2:2: error: did not find expected ',' or ']'\n") == out);

    r = load("a:\n\t- x\n", &out);
    CHECK(r == NULL);
    CHECK(strstr(out, "t.yaml:2:1: error: found character that cannot start any token\n") == out);

    /* invalid UTF-8: reported at its byte offset */
    r = load("a: 1\nb: x\xFFy\n", &out);
    CHECK(r == NULL);
    CHECK_STR(out, "t.yaml:2:5: error: invalid leading UTF-8 octet (0xFF)\n"
                   "b: x\xFFy\n"
                   "    ^\n");

    /* errors before a syntax error are reported too, then parsing stops */
    r = load("a: 1\na: 2\nb: [\n", &out);
    CHECK(r == NULL);
    CHECK(strstr(out, "t.yaml:2:1: error: duplicate key 'a'\n") == out);
    CHECK_INT(diag_error_count(), 2);
}

static void test_files(void) {
    const char *out;
    cap_begin();
    YNode *r = yaml_load_file(&arena, "/nonexistent/x.yaml");
    out = cap_end();
    CHECK(r == NULL);
    CHECK_STR(out, "pipec: error: cannot read '/nonexistent/x.yaml': No such file or directory\n");
    CHECK_INT(diag_error_count(), 1);

    cap_begin();
    r = yaml_load_file(&arena, "/tmp");
    out = cap_end();
    CHECK(r == NULL);
    CHECK_STR(out, "pipec: error: cannot read '/tmp': Is a directory\n");

    char path[] = "/tmp/pipec_test_yaml_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    const char *text = "a: 1\nb:\n  c: [x, y]\n  c: 2\n";
    CHECK_INT(write(fd, text, strlen(text)), (long long)strlen(text));
    close(fd);
    cap_begin();
    r = yaml_load_file(&arena, path);
    out = cap_end();
    CHECK(r == NULL);
    char want[512];
    snprintf(want, sizeof want,
             "%s:4:3: error: duplicate key 'c'\n  c: 2\n  ^\n%s:3:3: note: 'c' first appears here\n  c: [x, y]\n  ^\n",
             path, path);
    CHECK_STR(out, want);

    /* a big file (more than one read) with many lines */
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 5000; i++) fprintf(f, "key%d: value%d\n", i, i);
    fclose(f);
    cap_begin();
    r = yaml_load_file(&arena, path);
    out = cap_end();
    CHECK_STR(out, "");
    CHECK(r && r->npairs == 5000);
    if (r) {
        CHECK_STR(yaml_get(r, "key4321")->text, "value4321");
        CHECK_LOC(yaml_get(r, "key4321")->loc, 4322, 10);
        CHECK_STR(yaml_get(r, "key4321")->loc.file, path);
    }
    unlink(path);
}

static void test_deep_nesting(void) {
    enum { D = 20000 };
    char *s = malloc(2 * D + 2);
    for (int i = 0; i < D; i++) s[i] = '[', s[D + i] = ']';
    s[2 * D] = '\n';
    s[2 * D + 1] = 0;
    const char *out;
    YNode *r = load(s, &out);
    CHECK_STR(out, "");
    int depth = 0;
    for (YNode *n = r; n && n->kind == YN_SEQ; n = n->nitems ? n->items[0] : NULL) depth++;
    CHECK_INT(depth, D);
    free(s);
}

static void test_scalar_loc_plain_quoted(void) {
    const char *out;
    YNode *r = load("rules:\n"
                    "  r1: amount > 0 and   qty < 10\n"
                    "  r2: 'it''s || name'\n"
                    "  r3: \"a \\\" b + c\"\n"
                    "  r4: amount >\n"
                    "    0 and\n"
                    "\n"
                    "    x\n"
                    "  r5: 'quoted\n"
                    "    over lines'\n"
                    "  r6: \"caf\xC3\xA9 + x\"\n", &out);
    CHECK_STR(out, "");
    if (!r) return;
    YNode *rules = yaml_get(r, "rules");
    YNode *r1 = yaml_get(rules, "r1");
    CHECK_STR(r1->text, "amount > 0 and   qty < 10");
    CHECK_LOC(yaml_scalar_loc(r1, 0), 2, 7);
    CHECK_LOC(yaml_scalar_loc(r1, 7), 2, 14);                 /* ">" */
    CHECK_LOC(yaml_scalar_loc(r1, 17), 2, 24);                /* "qty" */
    CHECK_LOC(yaml_scalar_loc(r1, 15), 2, 22);                /* a blank inside the run */
    CHECK_LOC(yaml_scalar_loc(r1, r1->len), 2, 7 + (int)r1->len);   /* just past the end */
    CHECK_LOC(yaml_scalar_loc(r1, 999), 2, 7 + (int)r1->len);       /* clamped */

    YNode *r2 = yaml_get(rules, "r2");
    CHECK_STR(r2->text, "it's || name");
    CHECK_LOC(r2->loc, 3, 7);
    CHECK_LOC(yaml_scalar_loc(r2, 0), 3, 8);                  /* after the quote */
    CHECK_LOC(yaml_scalar_loc(r2, 3), 3, 12);                 /* "s": "''" is one quote */
    CHECK_LOC(yaml_scalar_loc(r2, 8), 3, 17);                 /* "name" */

    YNode *r3 = yaml_get(rules, "r3");
    CHECK_STR(r3->text, "a \" b + c");
    CHECK_LOC(yaml_scalar_loc(r3, 0), 4, 8);
    CHECK_LOC(yaml_scalar_loc(r3, 2), 4, 10);                 /* the escape, at its backslash */

    YNode *r4 = yaml_get(rules, "r4");                        /* multi-line plain */
    CHECK_STR(r4->text, "amount > 0 and\nx");
    CHECK_LOC(yaml_scalar_loc(r4, 0), 5, 7);
    CHECK_LOC(yaml_scalar_loc(r4, 7), 5, 14);                 /* ">" */
    CHECK_LOC(yaml_scalar_loc(r4, 9), 6, 5);                  /* "0" on the next line */
    CHECK_LOC(yaml_scalar_loc(r4, 11), 6, 7);                 /* "and" */
    CHECK_LOC(yaml_scalar_loc(r4, 15), 8, 5);                 /* "x" after a blank line */
    CHECK_LOC(yaml_scalar_loc(r4, 8), 5, 15);                 /* the folded break: end of line */
    CHECK_LOC(yaml_scalar_loc(r4, r4->len), 8, 6);

    YNode *r5 = yaml_get(rules, "r5");
    CHECK_STR(r5->text, "quoted over lines");
    CHECK_LOC(yaml_scalar_loc(r5, 0), 9, 8);
    CHECK_LOC(yaml_scalar_loc(r5, 7), 10, 5);                 /* "over" */
    CHECK_LOC(yaml_scalar_loc(r5, 12), 10, 10);               /* "lines" */

    YNode *r6 = yaml_get(rules, "r6");
    CHECK_LOC(yaml_scalar_loc(r6, 7), 11, 15);                /* "+" after a 2-byte char */
}

static void test_scalar_loc_block(void) {
    const char *out;
    YNode *r = load("rules:\n"
             "  lit: |\n"
             "    amount > 0\n"
             "      and qty < 10\n"
             "\n"
             "    or x\n"
             "  strip: |-  # a comment\n"
             "\n"
             "      first\n"
             "      second\n"
             "  fold: >\n"
             "    a +\n"
             "    b\n"
             "\n"
             "    c\n"
             "  ind: |2\n"
             "      two more\n"
             "    base\n"
             "  seq:\n"
             "    - |\n"
             "      in a list\n", &out);
    CHECK_STR(out, "");
    if (!r) return;
    YNode *rules = yaml_get(r, "rules");

    YNode *lit = yaml_get(rules, "lit");
    CHECK_STR(lit->text, "amount > 0\n  and qty < 10\n\nor x\n");
    CHECK_LOC(lit->loc, 2, 8);
    CHECK_LOC(yaml_scalar_loc(lit, 0), 3, 5);
    CHECK_LOC(yaml_scalar_loc(lit, 7), 3, 12);                /* ">" */
    CHECK_LOC(yaml_scalar_loc(lit, 10), 3, 15);               /* the newline: end of the line */
    CHECK_LOC(yaml_scalar_loc(lit, 11), 4, 5);                /* kept indentation is content */
    CHECK_LOC(yaml_scalar_loc(lit, 13), 4, 7);                /* "and" */
    CHECK_LOC(yaml_scalar_loc(lit, 17), 4, 11);               /* "qty" */
    CHECK_LOC(yaml_scalar_loc(lit, 26), 5, 5);                /* the empty line */
    CHECK_LOC(yaml_scalar_loc(lit, 27), 6, 5);                /* "or" */
    CHECK_LOC(yaml_scalar_loc(lit, 30), 6, 8);                /* "x" */

    YNode *strip = yaml_get(rules, "strip");
    CHECK_STR(strip->text, "\nfirst\nsecond");
    CHECK_LOC(yaml_scalar_loc(strip, 0), 8, 7);               /* a leading empty line */
    CHECK_LOC(yaml_scalar_loc(strip, 1), 9, 7);
    CHECK_LOC(yaml_scalar_loc(strip, 7), 10, 7);
    CHECK_LOC(yaml_scalar_loc(strip, strip->len), 10, 13);

    YNode *fold = yaml_get(rules, "fold");
    CHECK_STR(fold->text, "a + b\nc\n");
    CHECK_LOC(yaml_scalar_loc(fold, 0), 12, 5);
    CHECK_LOC(yaml_scalar_loc(fold, 2), 12, 7);               /* "+" */
    CHECK_LOC(yaml_scalar_loc(fold, 4), 13, 5);               /* "b" */
    CHECK_LOC(yaml_scalar_loc(fold, 6), 15, 5);               /* "c" */

    YNode *ind = yaml_get(rules, "ind");                      /* explicit indentation: 2 + 2 */
    CHECK_STR(ind->text, "  two more\nbase\n");
    CHECK_LOC(yaml_scalar_loc(ind, 2), 17, 7);
    CHECK_LOC(yaml_scalar_loc(ind, 6), 17, 11);
    CHECK_LOC(yaml_scalar_loc(ind, 11), 18, 5);

    YNode *seq = yaml_get(rules, "seq");
    CHECK_LOC(yaml_scalar_loc(seq->items[0], 3), 21, 10);     /* "a" of "in a list" */
}

static void test_scalar_loc_edges(void) {
    CHECK(yaml_scalar_loc(NULL, 0).file == NULL);
    /* a node made by hand (not loaded): assume one line */
    YNode n = {.kind = YN_SCALAR, .loc = {"hand.yaml", 3, 5}, .text = "abc", .len = 3,
               .style = YS_DOUBLE_QUOTED};
    CHECK_LOC(yaml_scalar_loc(&n, 2), 3, 8);
    /* a map: its own location */
    const char *out;
    YNode *r = load("a: {b: 1}\n", &out);
    if (r) CHECK_LOC(yaml_scalar_loc(yaml_get(r, "a"), 3), 1, 4);
    /* the same name loaded twice: each node still maps through its own text */
    YNode *first = load("x: abc def\n", &out);
    YNode *second = load("x:\n  - zzz\n", &out);
    CHECK(first && second);
    if (first) CHECK_LOC(yaml_scalar_loc(yaml_get(first, "x"), 4), 1, 8);
    if (second) CHECK_LOC(yaml_scalar_loc(yaml_get(second, "x")->items[0], 1), 2, 6);
}

int main(void) {
    test_tree();
    test_null_and_styles();
    test_locations_are_bytes();
    test_duplicate_and_complex_keys();
    test_aliases();
    test_documents();
    test_syntax_errors();
    test_files();
    test_deep_nesting();
    test_scalar_loc_plain_quoted();
    test_scalar_loc_block();
    test_scalar_loc_edges();
    arena_free(&arena);
    free(last_out);
    diag_reset();
    return check_report();
}
