/* rt_json.c - extracting wanted fields from one JSON object per record (RFC 8259).
 * A plan compiles the schema's dotted paths into a small trie once; each extract call is a single
 * validating pass over the record that records the values found at wanted paths. Invariants: the
 * whole text is validated even where nothing is wanted (strings, escapes, UTF-8, numbers, nesting
 * <= 64); values point into the record unless a string holds escapes (then it is unescaped into
 * the scratch arena, the only memory a call uses); a wanted path seen twice is an error.
 * Records of a stream mostly share one shape: the same keys in the same order, spaced the same.
 * The plan keeps the last record's shape, the bytes between its top-level values (each key with
 * its quotes, colon, commas and spaces), and reads the next record by comparing those bytes and
 * scanning only the values. A record that differs anywhere is read the long way, and its shape
 * is kept instead; a record read by its shape has the keys of an earlier valid record, so it
 * cannot hold a duplicate, and its values are checked exactly as the long way checks them. */
#include "pipec_rt.h"
#include "rt_internal.h"
#include "rt_text_internal.h"
#include <stdio.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { JSON_MAX_DEPTH = 64 };

typedef struct jnode {
    const char *key;          /* the segment (points into the plan's own copy of the path) */
    uint32_t klen;
    int32_t first_child, last_child, next;   /* node indices, -1 = none; children in path order */
    int32_t slot;             /* first path index ending here, -1 = none */
    int32_t path;             /* the path whose copy `key` points into (for messages) */
} jnode;

/* The shape of a record: its top-level members, each the bytes from the end of the previous
 * value (or from the '{') to the start of its own, and the trie node its key is (-1: not wanted);
 * then the bytes from the last value to the '}'. */
enum {
    SHAPE_MEMBERS = 32, SHAPE_BYTES = 1024,   /* records with more are read the long way */
    SHAPE_MISSES = 8,    /* misses in a row before shapes are left alone ... */
    SHAPE_PAUSE = 1024,  /* ... for so many records (keys in a new order every record) */
};
typedef struct jshape_member {
    uint16_t off, len;        /* in shape_bytes */
    int32_t node;
} jshape_member;

struct prt_json_plan {
    int npaths, nnodes;
    jnode *nodes;             /* nodes[0] is the root (the record object) */
    int32_t *slot_next;       /* per path index: the next path index with the same path, or -1 */
    char **paths;             /* copies of the paths, for error messages */
    bool use_shape;
    int shape_n;              /* members of the kept shape; -1: none */
    jshape_member shape[SHAPE_MEMBERS + 1];   /* the last one: the bytes up to the '}' */
    char shape_bytes[SHAPE_BYTES];
    int miss_run, pause;
};

prt_json_plan *prt_json_plan_new(const char *const *paths, int npaths) {
    if (npaths < 0) return NULL;
    size_t nseg = 1;
    for (int i = 0; i < npaths; i++) {
        if (!paths[i] || !paths[i][0]) return NULL;
        for (const char *s = paths[i]; *s; s++) nseg += *s == '.';
        nseg++;
    }
    prt_json_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return NULL;
    pl->npaths = npaths;
    pl->nodes = calloc(nseg, sizeof *pl->nodes);
    pl->slot_next = calloc((size_t)npaths + 1, sizeof *pl->slot_next);
    pl->paths = calloc((size_t)npaths + 1, sizeof *pl->paths);
    if (!pl->nodes || !pl->slot_next || !pl->paths) goto fail;
    pl->nodes[0] = (jnode){"", 0, -1, -1, -1, -1, 0};
    pl->nnodes = 1;
    pl->use_shape = true;
    pl->shape_n = -1;
    for (int i = 0; i < npaths; i++) {
        pl->slot_next[i] = -1;
        pl->paths[i] = strdup(paths[i]);
        if (!pl->paths[i]) goto fail;
        int cur = 0;
        const char *seg = pl->paths[i];
        for (;;) {
            const char *dot = strchr(seg, '.');
            size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
            if (len == 0) goto fail;   /* "a..b", ".a", "a." */
            int c;
            for (c = pl->nodes[cur].first_child; c >= 0; c = pl->nodes[c].next)
                if (pl->nodes[c].klen == len && memcmp(pl->nodes[c].key, seg, len) == 0) break;
            if (c < 0) {
                c = pl->nnodes++;
                pl->nodes[c] = (jnode){seg, (uint32_t)len, -1, -1, -1, -1, i};
                if (pl->nodes[cur].last_child >= 0) pl->nodes[pl->nodes[cur].last_child].next = c;
                else pl->nodes[cur].first_child = c;
                pl->nodes[cur].last_child = c;
            }
            cur = c;
            if (!dot) break;
            seg = dot + 1;
        }
        if (pl->nodes[cur].slot < 0) {
            pl->nodes[cur].slot = i;
        } else {   /* the same path twice: chain the slots */
            int s = pl->nodes[cur].slot;
            while (pl->slot_next[s] >= 0) s = pl->slot_next[s];
            pl->slot_next[s] = i;
        }
    }
    return pl;
fail:
    if (pl->paths)
        for (int i = 0; i < npaths; i++) free(pl->paths[i]);
    free(pl->paths);
    free(pl->slot_next);
    free(pl->nodes);
    free(pl);
    return NULL;
}

void prt_json_plan_use_shape(prt_json_plan *pl, bool on) {
    pl->use_shape = on;
    pl->shape_n = -1;
    pl->miss_run = pl->pause = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The parser                                                                                   */

/* Where the top-level values of a record read the long way start and end (for its shape). */
typedef struct jmarks {
    int n;
    bool over;                /* more members than a shape holds */
    const char *start[SHAPE_MEMBERS], *end[SHAPE_MEMBERS];
    int32_t node[SHAPE_MEMBERS];
} jmarks;

typedef struct jparser {
    const char *base, *end;
    const prt_json_plan *plan;
    prt_json_val *out;
    prt_arena *scratch;
    const char *err;
    uint64_t *seen;           /* per node: an intermediate object already met */
    jmarks *marks;            /* NULL: no shape wanted from this record */
} jparser;

/* Records an error at p (the first) and returns NULL for the caller to pass up. */
static const char *fail(jparser *j, const char *msg, const char *p) {
    if (j->err) return NULL;
    j->err = msg;
    if (j->scratch) {
        size_t len = strlen(msg) + 32;
        char *s = prt_arena_alloc(j->scratch, len);
        snprintf(s, len, "%s at byte %zu", msg, (size_t)(p - j->base));
        j->err = s;
    }
    return NULL;
}

static inline const char *skip_ws(const char *p, const char *e) {
    if (p < e && (unsigned char)*p > ' ') return p;   /* the usual cases: no whitespace, */
    if (e - p >= 2 && *p == ' ' && (unsigned char)p[1] > ' ') return p + 1;   /* or one space */
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

static inline int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static inline int hex4(const char *p) {
    int a = hexval(p[0]), b = hexval(p[1]), c = hexval(p[2]), d = hexval(p[3]);
    return (a | b | c | d) < 0 ? -1 : a << 12 | b << 8 | c << 4 | d;
}

/* Validates the string at p (on its opening quote); sets its body [*b, *be) and whether it holds
 * escapes; returns the position after the closing quote, or NULL. */
static inline __attribute__((always_inline)) const char *scan_string(jparser *j, const char *p,
                                                                   const char **b, const char **be,
                                                                   bool *esc) {
    const char *e = j->end;
    const unsigned char *s = (const unsigned char *)++p;
    *b = p;
    *esc = false;
    for (;;) {
        uint64_t mask = 0;
#if defined(__SSE2__)
        /* 16 bytes at a time where SSE2 is (x86-64 always): '"', '\\', and below 0x20 or from
         * 0x80 (negative as signed bytes) in one compare */
        while (e - (const char *)s >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                     _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
            mask = (unsigned)_mm_movemask_epi8(m);
            if (mask) {
                s += __builtin_ctzll(mask);
                break;
            }
            s += 16;
        }
        if (!mask)
#endif
        while ((const char *)s + 8 <= e) {   /* 8 bytes at a time to the next special byte */
            uint64_t w = prt__load64((const char *)s);
            mask = PRT__JSON_SPECIAL(w);
            if (mask) {
                s += __builtin_ctzll(mask) >> 3;   /* the lowest flag is exact */
                break;
            }
            s += 8;
        }
        if (!mask) {
            while ((const char *)s < e && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\') s++;
            if ((const char *)s >= e) return fail(j, "unterminated string", p - 1);
        }
        unsigned c = *s;
        if (c == '"') {
            *be = (const char *)s;
            return (const char *)s + 1;
        }
        if (c == '\\') {
            *esc = true;
            if ((const char *)s + 1 >= e) return fail(j, "unterminated string", p - 1);
            switch (s[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                s += 2;
                continue;
            case 'u': {
                if (e - (const char *)s < 6) return fail(j, "bad \\u escape", (const char *)s);
                int u = hex4((const char *)s + 2);
                if (u < 0) return fail(j, "bad \\u escape", (const char *)s);
                if (u >= 0xDC00 && u <= 0xDFFF) return fail(j, "lone surrogate", (const char *)s);
                if (u >= 0xD800 && u <= 0xDBFF) {
                    int u2 = e - (const char *)s >= 12 && s[6] == '\\' && s[7] == 'u'
                                 ? hex4((const char *)s + 8) : -1;
                    if (u2 < 0xDC00 || u2 > 0xDFFF) return fail(j, "lone surrogate", (const char *)s);
                    s += 12;
                } else {
                    s += 6;
                }
                continue;
            }
            default:
                return fail(j, "bad escape", (const char *)s);
            }
        }
        if (c < 0x20) return fail(j, "control character in string", (const char *)s);
        int len = prt__utf8_seq(s, (size_t)(e - (const char *)s));
        if (len < 0) return fail(j, "invalid UTF-8 in string", (const char *)s);
        s += len;
    }
}

/* Unescapes a validated string body into scratch. */
static prt_str unescape(jparser *j, const char *b, const char *be) {
    char *o = prt_arena_alloc(j->scratch, (size_t)(be - b) + 1), *o0 = o;
    while (b < be) {
        const char *bs = memchr(b, '\\', (size_t)(be - b));
        size_t run = (size_t)((bs ? bs : be) - b);
        memcpy(o, b, run);
        o += run;
        b += run;
        if (!bs) break;
        char c = b[1];
        b += 2;
        switch (c) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t u = (uint32_t)hex4(b);
            b += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {   /* validated: a low surrogate follows */
                u = 0x10000 + ((u - 0xD800) << 10) + ((uint32_t)hex4(b + 2) - 0xDC00);
                b += 6;
            }
            if (u < 0x80) {
                *o++ = (char)u;
            } else if (u < 0x800) {
                *o++ = (char)(0xC0 | u >> 6);
                *o++ = (char)(0x80 | (u & 0x3F));
            } else if (u < 0x10000) {
                *o++ = (char)(0xE0 | u >> 12);
                *o++ = (char)(0x80 | (u >> 6 & 0x3F));
                *o++ = (char)(0x80 | (u & 0x3F));
            } else {
                *o++ = (char)(0xF0 | u >> 18);
                *o++ = (char)(0x80 | (u >> 12 & 0x3F));
                *o++ = (char)(0x80 | (u >> 6 & 0x3F));
                *o++ = (char)(0x80 | (u & 0x3F));
            }
            break;
        }
        default: *o++ = c; break;   /* " \ / */
        }
    }
    return (prt_str){o0, (uint32_t)(o - o0)};
}

static inline bool is_digit(char c) { return (unsigned)((unsigned char)c - '0') <= 9; }

/* The end of the run of digits at p: 8 bytes at a time (a byte is a digit when its high nibble
 * is 3 and its low one at most 9), so a run's length costs no branch per digit. */
static inline const char *skip_digits(const char *p, const char *e) {
    while (e - p >= 8) {
        uint64_t w = prt__load64(p);
        uint64_t bad = ((w & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL) |
                       (((w & 0x0F0F0F0F0F0F0F0FULL) + 0x0606060606060606ULL) & 0x1010101010101010ULL);
        uint64_t nz = (((bad & 0x7F7F7F7F7F7F7F7FULL) + 0x7F7F7F7F7F7F7F7FULL) | bad) & PRT__HIGHS;
        if (nz) return p + (__builtin_ctzll(nz) >> 3);   /* the first non-digit byte */
        p += 8;
    }
    while (p < e && is_digit(*p)) p++;
    return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static inline const char *scan_number(jparser *j, const char *p) {
    const char *e = j->end, *p0 = p;
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0') p++;
    else if (p < e && is_digit(*p)) p = skip_digits(p + 1, e);
    else return fail(j, "bad number", p0);
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !is_digit(*p)) return fail(j, "bad number", p0);
        p = skip_digits(p + 1, e);
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || !is_digit(*p)) return fail(j, "bad number", p0);
        p = skip_digits(p + 1, e);
    }
    return p;
}

/* Records a value found at trie node `node` in every slot of its path (member by member: a
 * prt_json_val built in two halves and copied whole stalls on the store forwarding). */
static inline void put_value(jparser *j, int node, prt_json_kind kind, const char *tp, uint32_t tn) {
    for (int s = j->plan->nodes[node].slot; s >= 0; s = j->plan->slot_next[s]) {
        j->out[s].kind = kind;
        j->out[s].text.p = tp;
        j->out[s].text.n = tn;
    }
}

static const char *parse_value(jparser *j, const char *p, int node, int depth);

/* Whether a key of the plan is the key just read: short keys inline (a call to memcmp costs more
 * than comparing a few bytes). */
static inline bool same_key(const jnode *nd, prt_str k) {
    if (nd->klen != k.n) return false;
    if (k.n > 8) return memcmp(nd->key, k.p, k.n) == 0;
    for (uint32_t i = 0; i < k.n; i++)
        if (nd->key[i] != k.p[i]) return false;
    return true;
}

/* The value of an object's member at p, at trie node `child` (-1 = not wanted): strings and
 * numbers here, as parse_value would take them; the rest there. Returns its end, or NULL. */
static inline __attribute__((always_inline)) const char *member_value(jparser *j, const char *p, int child,
                                                                    int depth) {
    const char *e = j->end;
    if (p < e && *p == '"') {
        const char *b, *be;
        bool esc;
        const char *q = scan_string(j, p, &b, &be, &esc);
        if (!q) return NULL;
        if (child >= 0 && j->plan->nodes[child].slot >= 0) {
            prt_str t = esc ? unescape(j, b, be) : (prt_str){b, (uint32_t)(be - b)};
            put_value(j, child, PRT_JSON_STRING, t.p, t.n);
        }
        return q;
    }
    if (p < e && (*p == '-' || is_digit(*p))) {
        const char *q = scan_number(j, p);
        if (q && child >= 0) put_value(j, child, PRT_JSON_NUMBER, p, (uint32_t)(q - p));
        return q;
    }
    return parse_value(j, p, child, depth);
}

/* The object at p (on '{'); `node` is the trie node whose children are wanted here, or -1. */
static const char *parse_object(jparser *j, const char *p, int node, int depth) {
    const char *e = j->end;
    const jnode *nodes = j->plan->nodes;
    if (depth > JSON_MAX_DEPTH) return fail(j, "nesting deeper than 64", p);
    bool want = node >= 0 && nodes[node].first_child >= 0;
    int hint = -1;   /* the last child matched: keys tend to come in the schema's order */
    jmarks *mk = depth == 1 ? j->marks : NULL;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}') return p + 1;
    for (;;) {
        if (p >= e || *p != '"') return fail(j, "expected string key", p);
        const char *kb, *ke;
        bool kesc;
        p = scan_string(j, p, &kb, &ke, &kesc);
        if (!p) return NULL;
        p = skip_ws(p, e);
        if (p >= e || *p != ':') return fail(j, "expected ':'", p);
        p = skip_ws(p + 1, e);
        int child = -1;
        if (want) {
            prt_str k = {kb, (uint32_t)(ke - kb)};
            if (kesc) k = unescape(j, kb, ke);
            int c = hint >= 0 ? nodes[hint].next : -1;
            if (c < 0 || !same_key(&nodes[c], k))
                for (c = nodes[node].first_child; c >= 0 && !same_key(&nodes[c], k); c = nodes[c].next) {}
            if (c >= 0) {
                hint = child = c;
                bool dup;
                if (nodes[c].slot >= 0) {
                    dup = j->out[nodes[c].slot].kind != PRT_JSON_MISSING;
                } else {
                    dup = j->seen[c >> 6] >> (c & 63) & 1;
                    j->seen[c >> 6] |= (uint64_t)1 << (c & 63);
                }
                if (dup && !j->err) {
                    /* name the path up to this key ("a" for a repeated object "a" of "a.b") */
                    const char *path = j->plan->paths[nodes[c].path];
                    int plen = (int)(nodes[c].key + nodes[c].klen - path);
                    j->err = "duplicate key";
                    if (j->scratch) {
                        size_t len = (size_t)plen + 20;
                        char *m = prt_arena_alloc(j->scratch, len);
                        snprintf(m, len, "duplicate key '%.*s'", plen, path);
                        j->err = m;
                    }
                    return NULL;
                }
            }
        }
        if (mk) {
            if (mk->n == SHAPE_MEMBERS) {
                mk->over = true;
                mk = NULL;
            } else {
                mk->start[mk->n] = p;
                mk->node[mk->n] = child;
            }
        }
        p = member_value(j, p, child, depth);
        if (!p) return NULL;
        if (mk) mk->end[mk->n++] = p;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') return p + 1;
        return fail(j, "expected ',' or '}'", p);
    }
}

static const char *parse_array(jparser *j, const char *p, int depth) {
    const char *e = j->end;
    if (depth > JSON_MAX_DEPTH) return fail(j, "nesting deeper than 64", p);
    p = skip_ws(p + 1, e);
    if (p < e && *p == ']') return p + 1;
    for (;;) {
        p = parse_value(j, p, -1, depth);
        if (!p) return NULL;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == ']') return p + 1;
        return fail(j, "expected ',' or ']'", p);
    }
}

static inline const char *literal(jparser *j, const char *p, const char *word, size_t len) {
    if ((size_t)(j->end - p) < len || memcmp(p, word, len) != 0) return fail(j, "unexpected character", p);
    return p + len;
}

/* The value at p; `node` is the trie node it sits at (-1 = not wanted). */
static const char *parse_value(jparser *j, const char *p, int node, int depth) {
    const char *e = j->end, *start = p;
    if (p >= e) return fail(j, "unexpected end", p);
    prt_json_val v = {PRT_JSON_MISSING, {p, 0}};
    switch (*p) {
    case '"': {
        const char *b, *be;
        bool esc;
        p = scan_string(j, p, &b, &be, &esc);
        if (!p) return NULL;
        if (node < 0 || j->plan->nodes[node].slot < 0) return p;
        v.kind = PRT_JSON_STRING;
        v.text = esc ? unescape(j, b, be) : (prt_str){b, (uint32_t)(be - b)};
        break;
    }
    case '{':
        p = parse_object(j, p, node, depth + 1);
        v.kind = PRT_JSON_OBJECT;
        break;
    case '[':
        p = parse_array(j, p, depth + 1);
        v.kind = PRT_JSON_ARRAY;
        break;
    case 't': p = literal(j, p, "true", 4); v.kind = PRT_JSON_TRUE; break;
    case 'f': p = literal(j, p, "false", 5); v.kind = PRT_JSON_FALSE; break;
    case 'n': p = literal(j, p, "null", 4); v.kind = PRT_JSON_NULL; break;
    default:
        if (*p != '-' && !is_digit(*p)) return fail(j, "unexpected character", p);
        p = scan_number(j, p);
        v.kind = PRT_JSON_NUMBER;
        break;
    }
    if (!p) return NULL;
    if (node >= 0) {
        if (v.kind != PRT_JSON_STRING) v.text = (prt_str){start, (uint32_t)(p - start)};
        put_value(j, node, v.kind, v.text.p, v.text.n);
    }
    return p;
}

/* a[0..n) == b[0..n), a word at a time (the last word overlapping the one before) */
static inline bool same_bytes(const char *a, const char *b, uint32_t n) {
    if (n >= 8) {
        for (uint32_t i = 0; i + 8 < n; i += 8)
            if (prt__load64(a + i) != prt__load64(b + i)) return false;
        return prt__load64(a + n - 8) == prt__load64(b + n - 8);
    }
    if (n >= 4) {
        uint32_t a0, a1, b0, b1;
        memcpy(&a0, a, 4), memcpy(&a1, a + n - 4, 4), memcpy(&b0, b, 4), memcpy(&b1, b + n - 4, 4);
        return a0 == b0 && a1 == b1;
    }
    for (uint32_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* Reads the object at p (on its '{') by the plan's shape, to the end of the record. False when the
 * record's shape differs, or it is malformed (the long way then finds the same error and tells
 * it); the values found so far are left for the caller to clear. */
static bool extract_by_shape(jparser *j, const char *p) {
    const prt_json_plan *pl = j->plan;
    const char *e = j->end;
    for (int i = 0;; i++) {
        const jshape_member *m = &pl->shape[i];
        if ((size_t)(e - p) < m->len || !same_bytes(p, pl->shape_bytes + m->off, m->len)) return false;
        p += m->len;
        if (i == pl->shape_n) break;
        p = member_value(j, p, m->node, 1);   /* as parse_object reads it */
        if (!p) return false;
    }
    return skip_ws(p, e) == e;
}

/* Keeps the shape of the object [obj, obj_end) just read the long way with marks mk. */
static void keep_shape(prt_json_plan *pl, const char *obj, const char *obj_end, const jmarks *mk) {
    pl->shape_n = -1;
    if (mk->over) return;
    size_t used = 0;
    const char *from = obj;
    for (int i = 0; i <= mk->n; i++) {
        const char *to = i < mk->n ? mk->start[i] : obj_end;
        size_t len = (size_t)(to - from);
        if (used + len > SHAPE_BYTES) return;
        memcpy(pl->shape_bytes + used, from, len);
        pl->shape[i] = (jshape_member){(uint16_t)used, (uint16_t)len, i < mk->n ? mk->node[i] : -1};
        used += len;
        if (i < mk->n) from = mk->end[i];
    }
    pl->shape_n = mk->n;
}

static void clear_found(jparser *j, size_t words) {
    if (words == 1) j->seen[0] = 0;   /* up to 64 nodes: no call */
    else memset(j->seen, 0, words * 8);
    for (int i = 0; i < j->plan->npaths; i++) j->out[i] = (prt_json_val){PRT_JSON_MISSING, {NULL, 0}};
}

bool prt_json_extract(prt_json_plan *plan, const char *rec, size_t n, prt_json_val *out,
                      prt_arena *scratch, const char **err) {
    uint64_t seen_local[8];
    jparser j = {rec, rec + n, plan, out, scratch, NULL, seen_local, NULL};
    size_t words = ((size_t)plan->nnodes + 63) / 64;
    if (words > 8) j.seen = prt_arena_alloc(scratch, words * 8);
    clear_found(&j, words);
    const char *p = skip_ws(rec, j.end);
    if (p >= j.end || *p != '{') {
        *err = p >= j.end ? "empty record" : "not a JSON object";
        return false;
    }
    jmarks marks;
    if (plan->use_shape) {
        if (plan->pause > 0) {
            plan->pause--;
        } else {
            if (plan->shape_n >= 0) {
                if (extract_by_shape(&j, p)) {
                    plan->miss_run = 0;
                    return true;
                }
                j.err = NULL;
                clear_found(&j, words);
                if (++plan->miss_run == SHAPE_MISSES) {
                    plan->miss_run = 0;
                    plan->pause = SHAPE_PAUSE;
                    plan->shape_n = -1;
                }
            }
            if (plan->pause == 0) {
                marks.n = 0;
                marks.over = false;
                j.marks = &marks;
            }
        }
    }
    const char *obj = p;
    p = parse_object(&j, p, 0, 1);
    const char *obj_end = p;
    if (p) {
        p = skip_ws(p, j.end);
        if (p != j.end) fail(&j, "trailing characters after the object", p);
    }
    if (j.err) {
        *err = j.err;
        return false;
    }
    if (j.marks) keep_shape(plan, obj, obj_end, &marks);
    return true;
}
