/* expr_lex.c - the expression lexer, plus the compile-time parsers of timestamp, date and interval
 * literal text.
 *
 * Invariants: tokens carry byte offsets into the scalar's text (never copies of positions), so a
 * diagnostic can point at any token; the token array always ends with TK_EOF. Keywords are not
 * distinguished here: the parser matches identifiers case-insensitively, so a field may be named
 * like a keyword where the grammar allows it (`timestamp`, `date`). */
#include "expr_internal.h"
#include "pipec_rt.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

SrcLoc expr_pos(const Expr *e, size_t off) { return yaml_scalar_loc(e->src, off); }

static bool is_ident_start(int c) { return isalpha(c) || c == '_'; }
static bool is_ident_char(int c) { return isalnum(c) || c == '_'; }

int expr_lex(Arena *a, const YNode *sc, Token **out) {
    const char *s = sc->text;
    size_t n = sc->len, i = 0;
    PtrVec toks = {0};
    bool bad = false;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        Token *t = arena_alloc(a, sizeof *t);
        t->off = i;
        ptrvec_push(a, &toks, t);
        if (i >= n) {
            t->kind = TK_EOF;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        size_t start = i;
        if (is_ident_start(c)) {
            while (i < n && is_ident_char((unsigned char)s[i])) i++;
            t->kind = TK_IDENT;
            t->text = arena_strndup(a, s + start, i - start);
            t->tlen = i - start;
        } else if (isdigit(c) || (c == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
            bool isfloat = false;
            while (i < n && isdigit((unsigned char)s[i])) i++;
            if (i < n && s[i] == '.') {
                isfloat = true;
                i++;
                while (i < n && isdigit((unsigned char)s[i])) i++;
            }
            if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                size_t j = i + 1;
                if (j < n && (s[j] == '+' || s[j] == '-')) j++;
                if (j < n && isdigit((unsigned char)s[j])) {
                    isfloat = true;
                    i = j;
                    while (i < n && isdigit((unsigned char)s[i])) i++;
                }
            }
            if (i < n && is_ident_char((unsigned char)s[i])) {
                while (i < n && is_ident_char((unsigned char)s[i])) i++;
                diag_error(yaml_scalar_loc(sc, start), "malformed number '%.*s'", (int)(i - start),
                           s + start);
                bad = true;
                t->kind = TK_INT;
            } else {
                char *txt = arena_strndup(a, s + start, i - start);
                errno = 0;
                if (isfloat) {
                    t->kind = TK_FLOAT;
                    t->fval = strtod(txt, NULL);
                    if (errno == ERANGE && (t->fval > 1 || t->fval < -1)) {
                        diag_error(yaml_scalar_loc(sc, start), "number '%s' is out of range", txt);
                        bad = true;
                    }
                } else {
                    t->kind = TK_INT;
                    unsigned long long v = strtoull(txt, NULL, 10);
                    if (errno == ERANGE || v > (unsigned long long)INT64_MAX) {
                        /* only valid as the operand of unary minus (INT64_MIN); the parser decides */
                        t->too_big = true;
                        t->ival = (errno != ERANGE && v == (unsigned long long)INT64_MAX + 1)
                                      ? INT64_MIN : 0;
                    } else {
                        t->ival = (int64_t)v;
                    }
                }
            }
        } else if (c == '\'' || c == '"') {
            /* 'text' with '' for a quote; "identifier" with "" for a double quote */
            char q = (char)c;
            SBuf buf = {0};
            i++;
            bool closed = false;
            while (i < n) {
                if (s[i] == q) {
                    if (i + 1 < n && s[i + 1] == q) {
                        sbuf_putc(&buf, q);
                        i += 2;
                        continue;
                    }
                    i++;
                    closed = true;
                    break;
                }
                sbuf_putc(&buf, s[i]);
                i++;
            }
            if (!closed) {
                diag_error(yaml_scalar_loc(sc, start), "unterminated %s",
                           q == '\'' ? "string literal" : "quoted identifier");
                bad = true;
            }
            t->tlen = buf.len;
            t->text = arena_strndup(a, buf.s ? buf.s : "", buf.len);
            sbuf_free(&buf);
            t->kind = q == '\'' ? TK_STRING : TK_QIDENT;
            if (t->kind == TK_QIDENT && t->tlen == 0 && closed) {
                diag_error(yaml_scalar_loc(sc, start), "empty quoted identifier");
                bad = true;
            }
        } else {
            i++;
            char d = i < n ? s[i] : 0;
            switch (c) {
            case '(': t->kind = TK_LPAREN; break;
            case ')': t->kind = TK_RPAREN; break;
            case ',': t->kind = TK_COMMA; break;
            case '+': t->kind = TK_PLUS; break;
            case '-': t->kind = TK_MINUS; break;
            case '*': t->kind = TK_STAR; break;
            case '/': t->kind = TK_SLASH; break;
            case '%': t->kind = TK_PERCENT; break;
            case '|':
                if (d == '|') { t->kind = TK_CONCAT; i++; break; }
                goto unknown;
            case '=':
                t->kind = TK_EQ;
                if (d == '=') i++;
                break;
            case '!':
                if (d == '=') { t->kind = TK_NE; i++; break; }
                goto unknown;
            case '<':
                if (d == '=') { t->kind = TK_LE; i++; }
                else if (d == '>') { t->kind = TK_NE; i++; }
                else t->kind = TK_LT;
                break;
            case '>':
                if (d == '=') { t->kind = TK_GE; i++; }
                else t->kind = TK_GT;
                break;
            default:
            unknown:
                if (c >= 0x80) {   /* show the whole UTF-8 character */
                    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
                }
                diag_error(yaml_scalar_loc(sc, start), "unexpected character '%.*s' in expression",
                           (int)(i - start), s + start);
                bad = true;
                toks.len--;   /* drop it and go on, to report any other bad character */
                break;
            }
        }
        t->len = i - start;
    }
    *out = arena_alloc(a, sizeof(Token) * (size_t)toks.len);
    for (int k = 0; k < toks.len; k++) (*out)[k] = *(Token *)toks.items[k];
    return bad ? -1 : toks.len;
}

/* ---- compile-time literal text ----
 * Literals are read by the runtime's own parsers, so `timestamp '...'` in a spec accepts exactly
 * what a timestamp field or a cast accepts at run time. */

bool expr_parse_date_text(const char *s, size_t n, int32_t *out) { return prt_parse_date(s, n, out); }

bool expr_parse_timestamp_text(const char *s, size_t n, int64_t *out) { return prt_parse_timestamp(s, n, out); }

/* "10 seconds", "1 hour 30 minutes", "500ms", "-2 days", "1.5 h": the runtime's grammar, so a
 * literal and a cast of the same text at run time agree. */
bool expr_parse_interval_text(const char *s, size_t n, int64_t *out) {
    return prt_str_to_interval((prt_str){s, (uint32_t)n}, out);
}
