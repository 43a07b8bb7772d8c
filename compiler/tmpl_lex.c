/* tmpl_lex.c - splits a template into tokens: DATA text, and inside {{ }} / {% %} tags the
 * names, literals and operators of expressions. Comments {# #} produce nothing.
 * Whitespace control happens here, as in Jinja2's lexer with trim_blocks and lstrip_blocks:
 *   - `{%-` `{{-` `{#-` strip all whitespace before the tag; `-%}` `-}}` `-#}` all after it;
 *   - `%}` and `#}` eat one newline right after them (trim_blocks), `+%}` keeps it;
 *   - spaces and tabs between a line start and `{%` / `{#` are dropped (lstrip_blocks), `{%+`
 *     keeps them.
 * Invariant: DATA tokens hold exactly the text to output; the token list ends with TK_EOF. */
#include "tmpl_internal.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct Lexer {
    Arena *a;
    const TSource *src;
    const char *s;
    size_t n;
    bool line_starting;   /* the last tag ended at a line start (or nothing was lexed yet) */
    TokVec *out;
} Lexer;

static void lex_error(Lexer *lx, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lex_error(Lexer *lx, size_t pos, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(tsrc_loc(lx->src, pos), "%s", msg);
}

static Token *push_token(Lexer *lx, TokKind kind, size_t pos, const char *text, size_t len) {
    TokVec *v = lx->out;
    if (v->len == v->cap) {
        int cap = v->cap ? v->cap * 2 : 64;
        Token *items = arena_alloc(lx->a, sizeof *items * (size_t)cap);
        if (v->len) memcpy(items, v->items, sizeof *items * (size_t)v->len);
        v->items = items;
        v->cap = cap;
    }
    Token *t = &v->items[v->len++];
    *t = (Token){kind, pos, text, len, 0};
    return t;
}

static bool starts_with(const Lexer *lx, size_t pos, const char *lit) {
    size_t k = strlen(lit);
    return pos + k <= lx->n && memcmp(lx->s + pos, lit, k) == 0;
}

static size_t skip_spaces(const Lexer *lx, size_t pos) {
    while (pos < lx->n && tmpl_is_space((unsigned char)lx->s[pos])) pos++;
    return pos;
}

/* After a tag's closing marker: `-` strips all whitespace, a block or comment eats one newline
 * unless the marker had `+`. */
static size_t after_tag_end(const Lexer *lx, size_t pos, char ctl, bool is_var) {
    if (ctl == '-') return skip_spaces(lx, pos);
    if (ctl != '+' && !is_var && pos < lx->n && lx->s[pos] == '\n') return pos + 1;
    return pos;
}

static size_t find_tag_start(const Lexer *lx, size_t from) {
    for (size_t i = from; i + 1 < lx->n; i++)
        if (lx->s[i] == '{' && (lx->s[i + 1] == '{' || lx->s[i + 1] == '%' || lx->s[i + 1] == '#')) return i;
    return lx->n;
}

/* Where the text [from, tag) before a tag ends once the tag's whitespace control is applied. */
static size_t text_end_before_tag(const Lexer *lx, size_t from, size_t tag, char kind, char ctl) {
    if (ctl == '-') {
        while (tag > from && tmpl_is_space((unsigned char)lx->s[tag - 1])) tag--;
        return tag;
    }
    if (ctl == '+' || kind == '{') return tag;
    size_t line = tag;
    while (line > from && lx->s[line - 1] != '\n') line--;
    if (line == from && !lx->line_starting) return tag;
    for (size_t i = line; i < tag; i++)
        if (!tmpl_is_space((unsigned char)lx->s[i])) return tag;
    return line;
}

static size_t lex_comment(Lexer *lx, size_t tag, size_t body) {
    const char *end = strstr(lx->s + body, "#}");
    if (!end) {
        lex_error(lx, tag, "unclosed comment: missing '#}'");
        return 0;
    }
    size_t close = (size_t)(end - lx->s);
    char ctl = close > body && (lx->s[close - 1] == '-' || lx->s[close - 1] == '+') ? lx->s[close - 1] : 0;
    return after_tag_end(lx, close + 2, ctl, false);
}

/* ---- tokens inside a tag ---- */

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

/* Reads up to `max` digits of base 8 or 16 at s[*i]; returns how many were read. */
static int read_code(const char *s, size_t *i, int base, int max, unsigned *cp) {
    int k = 0;
    *cp = 0;
    for (; k < max; k++, (*i)++) {
        int c = (unsigned char)s[*i], d;
        if (c >= '0' && c <= '7') d = c - '0';
        else if (base == 16 && isxdigit(c)) d = isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10);
        else break;
        *cp = *cp * (unsigned)base + (unsigned)d;
    }
    return k;
}

static const char simple_escapes[] = "a\ab\bf\fn\nr\rt\tv\v\\\\''\"\"";

/* Python's string escapes; an unknown escape keeps its backslash, as in Python. */
static void decode_escape(SBuf *b, const char *s, size_t *i, size_t close) {
    char c = s[*i + 1];
    const char *simple = c ? strchr(simple_escapes, c) : NULL;
    if (simple && (simple - simple_escapes) % 2 == 0) {
        sbuf_putc(b, simple[1]);
        *i += 2;
        return;
    }
    if (c == '\n') {   /* line continuation */
        *i += 2;
        return;
    }
    size_t j = *i + 1;
    unsigned cp;
    int want = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (c >= '0' && c <= '7') {
        read_code(s, &j, 8, 3, &cp);
        put_utf8(b, cp);
        *i = j;
        return;
    }
    j++;
    if (want && j + (size_t)want <= close && read_code(s, &j, 16, want, &cp) == want && cp <= 0x10ffff) {
        put_utf8(b, cp);
        *i = j;
        return;
    }
    sbuf_putc(b, '\\');
    *i += 1;
}

static size_t lex_string(Lexer *lx, size_t start) {
    char quote = lx->s[start];
    size_t close = start + 1;
    while (close < lx->n && lx->s[close] != quote) close += lx->s[close] == '\\' ? 2 : 1;
    if (close >= lx->n) {
        lex_error(lx, start, "unterminated string literal");
        return 0;
    }
    SBuf b = {0};
    for (size_t i = start + 1; i < close;) {
        if (lx->s[i] == '\\') decode_escape(&b, lx->s, &i, close);
        else sbuf_putc(&b, lx->s[i++]);
    }
    push_token(lx, TK_STRING, start, arena_strndup(lx->a, sbuf_cstr(&b), b.len), b.len);
    sbuf_free(&b);
    return close + 1;
}

static size_t lex_int(Lexer *lx, size_t start) {
    int64_t v = 0;
    size_t i = start;
    for (; i < lx->n && (isdigit((unsigned char)lx->s[i]) || (lx->s[i] == '_' && isdigit((unsigned char)lx->s[i + 1]))); i++) {
        if (lx->s[i] == '_') continue;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, lx->s[i] - '0', &v)) {
            lex_error(lx, start, "integer literal too large");
            return 0;
        }
    }
    bool after_dot = start > 0 && lx->s[start - 1] == '.';
    if (!after_dot && i + 1 < lx->n && (lx->s[i] == '.' || lx->s[i] == 'e') && isdigit((unsigned char)lx->s[i + 1])) {
        lex_error(lx, start, "floating-point numbers are not supported");
        return 0;
    }
    push_token(lx, TK_INT, start, lx->s + start, i - start)->ival = v;
    return i;
}

static size_t lex_name(Lexer *lx, size_t start) {
    size_t i = start;
    while (i < lx->n && (isalnum((unsigned char)lx->s[i]) || lx->s[i] == '_')) i++;
    push_token(lx, TK_NAME, start, arena_strndup(lx->a, lx->s + start, i - start), i - start);
    return i;
}

static const char *const operators[] = {
    "//", "**", "==", "!=", "<=", ">=",
    "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";",
};

/* Returns 0 after reporting a character that starts no token. */
static size_t lex_operator(Lexer *lx, size_t start, int *depth) {
    for (size_t k = 0; k < sizeof operators / sizeof *operators; k++) {
        if (!starts_with(lx, start, operators[k])) continue;
        size_t len = strlen(operators[k]);
        char c = operators[k][0];
        if (len == 1 && strchr("([{", c)) (*depth)++;
        if (len == 1 && strchr(")]}", c) && *depth > 0) (*depth)--;
        push_token(lx, TK_OP, start, operators[k], len);
        return start + len;
    }
    char ch[2] = {lx->s[start], 0};
    lex_error(lx, start, "unexpected character '%s' in tag", ch);
    return 0;
}

/* The closing marker of a tag at pos, with its control character: returns its length or 0. */
static size_t tag_close_at(const Lexer *lx, size_t pos, bool is_var, char *ctl) {
    const char *close = is_var ? "}}" : "%}";
    *ctl = 0;
    if (starts_with(lx, pos, close)) return 2;
    char c = lx->s[pos];
    if ((c == '-' || (c == '+' && !is_var)) && starts_with(lx, pos + 1, close)) {
        *ctl = c;
        return 3;
    }
    return 0;
}

static size_t lex_tag_token(Lexer *lx, size_t i, int *depth) {
    unsigned char c = (unsigned char)lx->s[i];
    if (c == '"' || c == '\'') return lex_string(lx, i);
    if (isdigit(c)) return lex_int(lx, i);
    if (isalpha(c) || c == '_') return lex_name(lx, i);
    return lex_operator(lx, i, depth);
}

/* Lexes a {{ }} or {% %} tag whose contents start at body; returns where the text after it
 * starts, or 0 after an error. Inside brackets the closing marker is not recognized (as in Jinja2). */
static size_t lex_tag(Lexer *lx, size_t tag, size_t body, bool is_var) {
    push_token(lx, is_var ? TK_VAR_BEGIN : TK_BLOCK_BEGIN, tag, NULL, 0);
    int depth = 0;
    size_t i = body;
    for (;;) {
        i = skip_spaces(lx, i);
        if (i >= lx->n) {
            lex_error(lx, tag, "unclosed tag: missing '%s'", is_var ? "}}" : "%}");
            return 0;
        }
        char ctl;
        size_t close_len = depth == 0 ? tag_close_at(lx, i, is_var, &ctl) : 0;
        if (close_len) {
            push_token(lx, is_var ? TK_VAR_END : TK_BLOCK_END, i, NULL, 0);
            return after_tag_end(lx, i + close_len, ctl, is_var);
        }
        i = lex_tag_token(lx, i, &depth);
        if (!i) return 0;
    }
}

static void push_data(Lexer *lx, size_t from, size_t to) {
    if (to > from) push_token(lx, TK_DATA, from, lx->s + from, to - from);
}

bool tmpl_lex(Arena *a, const TSource *src, TokVec *out) {
    Lexer lx = {a, src, src->text, src->len, true, out};
    size_t pos = 0;
    for (;;) {
        size_t tag = find_tag_start(&lx, pos);
        if (tag == lx.n) {
            push_data(&lx, pos, lx.n);
            break;
        }
        char kind = lx.s[tag + 1];
        char ctl = lx.s[tag + 2] == '-' || lx.s[tag + 2] == '+' ? lx.s[tag + 2] : 0;
        push_data(&lx, pos, text_end_before_tag(&lx, pos, tag, kind, ctl));
        size_t body = tag + 2 + (ctl ? 1 : 0);
        pos = kind == '#' ? lex_comment(&lx, tag, body) : lex_tag(&lx, tag, body, kind == '{');
        if (!pos) return false;
        lx.line_starting = lx.s[pos - 1] == '\n';
    }
    push_token(&lx, TK_EOF, lx.n, NULL, 0);
    return true;
}
