/* render_main.c - test-only driver for the differential test (tests/suite_tmpl.py): renders a
 * template file with a model read from a JSON file and writes the result to stdout.
 *   usage: render_main TEMPLATE MODEL.json
 * Exit 0 on success, 1 when the template fails (diagnostics on stderr), 2 on bad usage or JSON.
 * The JSON reader takes the subset the fixtures use: objects (key order kept), arrays, strings
 * (with \uXXXX as UTF-8; surrogate pairs joined), integers, true, false, null. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "sbuf.h"
#include "tmpl.h"

typedef struct Json {
    Arena *a;
    const char *s;
    size_t pos;
    const char *path;
} Json;

static _Noreturn void json_fail(const Json *j, const char *what) {
    fprintf(stderr, "%s: bad JSON at byte %zu: %s\n", j->path, j->pos, what);
    exit(2);
}

static void skip_ws(Json *j) {
    while (isspace((unsigned char)j->s[j->pos])) j->pos++;
}

static void expect_char(Json *j, char c) {
    skip_ws(j);
    if (j->s[j->pos] != c) json_fail(j, "unexpected character");
    j->pos++;
}

static void put_utf8(SBuf *b, unsigned cp) {
    if (cp < 0x80) {
        sbuf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        sbuf_putc(b, (char)(0xc0 | cp >> 6));
        sbuf_putc(b, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        sbuf_putc(b, (char)(0xe0 | cp >> 12));
        sbuf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
        sbuf_putc(b, (char)(0x80 | (cp & 0x3f)));
    } else {
        sbuf_putc(b, (char)(0xf0 | cp >> 18));
        sbuf_putc(b, (char)(0x80 | (cp >> 12 & 0x3f)));
        sbuf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
        sbuf_putc(b, (char)(0x80 | (cp & 0x3f)));
    }
}

static unsigned read_hex4(Json *j) {
    unsigned cp = 0;
    for (int k = 0; k < 4; k++) {
        char c = j->s[j->pos++];
        if (!isxdigit((unsigned char)c)) json_fail(j, "bad \\u escape");
        cp = cp * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10);
    }
    return cp;
}

static void read_escape(Json *j, SBuf *b) {
    char c = j->s[j->pos++];
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) {
        sbuf_putc(b, to[hit - from]);
        return;
    }
    if (c != 'u') json_fail(j, "bad escape");
    unsigned cp = read_hex4(j);
    if (cp >= 0xd800 && cp < 0xdc00 && j->s[j->pos] == '\\' && j->s[j->pos + 1] == 'u') {
        j->pos += 2;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (read_hex4(j) - 0xdc00);
    }
    put_utf8(b, cp);
}

static char *read_string(Json *j) {
    expect_char(j, '"');
    SBuf b = {0};
    for (;;) {
        char c = j->s[j->pos++];
        if (c == 0) json_fail(j, "unterminated string");
        if (c == '"') break;
        if (c == '\\') read_escape(j, &b);
        else sbuf_putc(&b, c);
    }
    char *s = arena_strndup(j->a, sbuf_cstr(&b), b.len);
    sbuf_free(&b);
    return s;
}

static bool skip_word(Json *j, const char *word) {
    size_t n = strlen(word);
    if (strncmp(j->s + j->pos, word, n) != 0) return false;
    j->pos += n;
    return true;
}

static TVal *read_value(Json *j);

static TVal *read_array(Json *j) {
    TVal *list = tv_list(j->a);
    expect_char(j, '[');
    skip_ws(j);
    if (j->s[j->pos] == ']') {
        j->pos++;
        return list;
    }
    for (;;) {
        tv_push(j->a, list, read_value(j));
        skip_ws(j);
        if (j->s[j->pos] == ']') break;
        expect_char(j, ',');
    }
    j->pos++;
    return list;
}

static TVal *read_object(Json *j) {
    TVal *map = tv_map(j->a);
    expect_char(j, '{');
    skip_ws(j);
    if (j->s[j->pos] == '}') {
        j->pos++;
        return map;
    }
    for (;;) {
        skip_ws(j);
        char *key = read_string(j);
        expect_char(j, ':');
        tv_set(j->a, map, key, read_value(j));
        skip_ws(j);
        if (j->s[j->pos] == '}') break;
        expect_char(j, ',');
    }
    j->pos++;
    return map;
}

static TVal *read_value(Json *j) {
    skip_ws(j);
    char c = j->s[j->pos];
    if (c == '{') return read_object(j);
    if (c == '[') return read_array(j);
    if (c == '"') return tv_str(j->a, read_string(j));
    if (skip_word(j, "true")) return tv_bool(j->a, true);
    if (skip_word(j, "false")) return tv_bool(j->a, false);
    if (skip_word(j, "null")) return tv_none(j->a);
    if (c == '-' || isdigit((unsigned char)c)) {
        char *end;
        long long v = strtoll(j->s + j->pos, &end, 10);
        j->pos = (size_t)(end - j->s);
        return tv_int(j->a, v);
    }
    json_fail(j, "unexpected character");
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    SBuf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sbuf_put(&b, chunk, n);
    fclose(f);
    return b.s ? b.s : calloc(1, 1);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: render_main TEMPLATE MODEL.json\n");
        return 2;
    }
    Arena a = {0};
    char *json = slurp(argv[2]);
    Json j = {&a, json, 0, argv[2]};
    TVal *model = read_value(&j);
    skip_ws(&j);
    if (j.s[j.pos] || model->kind != TV_MAP) json_fail(&j, "the model must be one object");
    SBuf out = {0};
    bool ok = tmpl_render_file(&a, argv[1], model, &out);
    fwrite(sbuf_cstr(&out), 1, out.len, stdout);
    sbuf_free(&out);
    free(json);
    arena_free(&a);
    return ok ? 0 : 1;
}
