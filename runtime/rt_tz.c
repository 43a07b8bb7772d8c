/* rt_tz.c - IANA time zones for day windows: a TZif reader (RFC 8536 v1-v4) and POSIX TZ rules,
 * giving UTC offsets, local dates and local midnights. Does not touch the C library's time zone
 * state (no localtime, mktime, TZ).
 *
 * Model: a zone is a piecewise-constant offset function, stored as strictly increasing
 * transition instants tt[i] (whole seconds) with the offset toff[i] in force from tt[i] to
 * tt[i+1] (off0 before tt[0]); consecutive equal offsets are merged. When the footer rule has
 * DST, its transitions are expanded at load time for 405 years from the year before the last
 * explicit transition; POSIX rules repeat exactly every 400 Gregorian years (146097 days, a whole
 * number of weeks), so an instant at or after cyc_hi is shifted down by whole 400-year periods
 * into [cyc_lo, cyc_hi) (and, for a zone that is all footer, an instant before cyc_lo is shifted
 * up). The expansion reaches at least two years past cyc_hi, so every lookup window (an instant
 * plus at most 52 hours) stays inside the expanded data.
 *
 * Invariants: every offset lies in [-89999, 93599] s (RFC 8536), so the instant local midnight
 * of day D falls in [D*86400 - max_off, D*86400 - min_off]; the caches hold [lo, hi) intervals in
 * microseconds on which the answer is constant, and are only narrowed, never wrong. */
#include "rt_tz.h"
#include "pipec_rt.h"
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_S INT64_C(1000000)
#define PERIOD_S (INT64_C(146097) * 86400)   /* 400 Gregorian years */
#define OFF_MIN (-89999)
#define OFF_MAX 93599
#define MAX_FILE (1 << 20)
#define FOOTER_YEARS 405

struct prt_tz {
    int64_t *tt;          /* transition instants, seconds, strictly increasing */
    int32_t *toff;        /* offset from tt[i] until tt[i+1] */
    size_t n;
    int32_t off0;         /* offset before tt[0], or everywhere when n == 0 */
    int32_t min_off, max_off;
    bool periodic;        /* instants >= cyc_hi repeat those 400 years earlier */
    bool wrap_down;       /* also instants < cyc_lo (the zone is its footer rule only) */
    int64_t cyc_lo, cyc_hi;
    /* one-entry caches, microseconds, [lo, hi); written by lookups (hence not thread-safe) */
    int64_t o_lo, o_hi;
    int32_t o_off;
    int64_t d_lo, d_hi, d_date;
    int64_t b_lo, b_hi;
    int b_n;
    char name[];
};

/* ------------------------------------------------------------------------------------------ */
/* Arithmetic                                                                                   */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return q - ((a % b) < 0);
}

static int64_t s_to_us(int64_t s) {
    if (s > INT64_MAX / US_PER_S) return INT64_MAX;
    if (s < INT64_MIN / US_PER_S) return INT64_MIN;
    return s * US_PER_S;
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m) {
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return d[m - 1] + (m == 2 && is_leap(y));
}

/* ------------------------------------------------------------------------------------------ */
/* POSIX TZ strings: std offset [dst [offset] [,rule,rule]]                                     */

typedef struct tzrule {
    char kind;            /* 'J' (1..365, no Feb 29), 'D' (0..365), 'M' (month.week.weekday) */
    int n, m, w, d;
    int32_t time;         /* seconds after local midnight, -167h..167h */
} tzrule;

typedef struct tzposix {
    int32_t std_off, dst_off;   /* seconds east of UTC */
    bool has_dst;
    tzrule start, end;          /* to DST (in standard time), to standard (in DST time) */
} tzposix;

static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static bool is_dig(char c) { return c >= '0' && c <= '9'; }

static const char *parse_abbr(const char *s) {
    const char *b;
    if (*s == '<') {
        b = ++s;
        while (is_alpha(*s) || is_dig(*s) || *s == '+' || *s == '-') s++;
        if (*s != '>' || s - b < 3) return NULL;
        return s + 1;
    }
    b = s;
    while (is_alpha(*s)) s++;
    return s - b >= 3 ? s : NULL;
}

static const char *parse_num(const char *s, int maxdig, int lo, int hi, int *out) {
    int v = 0, k = 0;
    while (k < maxdig && is_dig(s[k])) v = v * 10 + (s[k++] - '0');
    if (k == 0 || v < lo || v > hi) return NULL;
    *out = v;
    return s + k;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh; returns seconds (signed as written). */
static const char *parse_hms(const char *s, int maxh, int32_t *out) {
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
    if (!(s = parse_num(s, 3, 0, maxh, &h))) return NULL;
    if (*s == ':') {
        if (!(s = parse_num(s + 1, 2, 0, 59, &m))) return NULL;
        if (*s == ':' && !(s = parse_num(s + 1, 2, 0, 59, &sec))) return NULL;
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return s;
}

static const char *parse_rule(const char *s, tzrule *r) {
    memset(r, 0, sizeof *r);
    if (*s == 'J') {
        r->kind = 'J';
        if (!(s = parse_num(s + 1, 3, 1, 365, &r->n))) return NULL;
    } else if (*s == 'M') {
        r->kind = 'M';
        if (!(s = parse_num(s + 1, 2, 1, 12, &r->m)) || *s != '.') return NULL;
        if (!(s = parse_num(s + 1, 1, 1, 5, &r->w)) || *s != '.') return NULL;
        if (!(s = parse_num(s + 1, 1, 0, 6, &r->d))) return NULL;
    } else {
        r->kind = 'D';
        if (!(s = parse_num(s, 3, 0, 365, &r->n))) return NULL;
    }
    r->time = 7200;
    if (*s == '/' && !(s = parse_hms(s + 1, 167, &r->time))) return NULL;
    return s;
}

static bool parse_posix(const char *s, tzposix *p) {
    memset(p, 0, sizeof *p);
    int32_t v;
    if (!(s = parse_abbr(s)) || !(s = parse_hms(s, 24, &v))) return false;
    p->std_off = -v;
    if (*s == 0) return true;
    if (!(s = parse_abbr(s))) return false;
    p->has_dst = true;
    p->dst_off = p->std_off + 3600;
    if (*s && *s != ',') {
        if (!(s = parse_hms(s, 24, &v))) return false;
        p->dst_off = -v;
    }
    if (*s == 0) s = ",M3.2.0,M11.1.0";   /* the POSIX default, as tzcode applies it */
    if (*s != ',' || !(s = parse_rule(s + 1, &p->start))) return false;
    if (*s != ',' || !(s = parse_rule(s + 1, &p->end))) return false;
    return *s == 0;
}

/* The day (since 1970-01-01) a rule names in year y. */
static int64_t rule_day(const tzrule *r, int64_t y) {
    int64_t jan1 = prt_days_from_civil(y, 1, 1);
    if (r->kind == 'J') return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
    if (r->kind == 'D') return jan1 + r->n;
    int64_t first = prt_days_from_civil(y, (unsigned)r->m, 1);
    int64_t wd = ((first + 4) % 7 + 7) % 7;           /* 1970-01-01 was a Thursday (4) */
    int64_t day = first + (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
    while (day >= first + month_days(y, r->m)) day -= 7;
    return day;
}

/* ------------------------------------------------------------------------------------------ */
/* Building the transition table                                                                */

typedef struct gtrans {
    int64_t t;
    int32_t off;
    int32_t seq;
} gtrans;

static int gtrans_cmp(const void *a, const void *b) {
    const gtrans *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Footer transitions for years y0 .. y0+FOOTER_YEARS-1, sorted; of equal instants the one
 * generated later wins (permanent DST written as "0/0,J365/25" stays DST). */
static size_t gen_footer(const tzposix *p, int64_t y0, gtrans *g) {
    size_t k = 0;
    for (int64_t y = y0; y < y0 + FOOTER_YEARS; y++) {
        g[k] = (gtrans){rule_day(&p->start, y) * 86400 + p->start.time - p->std_off, p->dst_off, (int32_t)k};
        k++;
        g[k] = (gtrans){rule_day(&p->end, y) * 86400 + p->end.time - p->dst_off, p->std_off, (int32_t)k};
        k++;
    }
    qsort(g, k, sizeof *g, gtrans_cmp);
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        if (w > 0 && g[w - 1].t == g[i].t) g[w - 1] = g[i];
        else g[w++] = g[i];
    }
    return w;
}

static void fail(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static prt_tz *tz_new(const char *name, size_t cap) {
    size_t nl = strlen(name);
    prt_tz *z = calloc(1, sizeof *z + nl + 1);
    if (!z) return NULL;
    memcpy(z->name, name, nl + 1);
    if (cap) {
        z->tt = malloc(cap * sizeof *z->tt);
        z->toff = malloc(cap * sizeof *z->toff);
        if (!z->tt || !z->toff) {
            prt_tz_free(z);
            return NULL;
        }
    }
    z->o_lo = z->d_lo = z->b_lo = INT64_MAX;
    z->o_hi = z->d_hi = z->b_hi = INT64_MIN;
    return z;
}

/* Appends a transition unless it keeps the offset in force. */
static void push(prt_tz *z, int64_t t, int32_t off) {
    int32_t cur = z->n ? z->toff[z->n - 1] : z->off0;
    if (off == cur) return;
    z->tt[z->n] = t;
    z->toff[z->n] = off;
    z->n++;
}

/* Makes `off` the offset in force from instant `last` (the last explicit transition) on. */
static void set_from(prt_tz *z, int64_t last, int32_t off) {
    if (z->n && z->tt[z->n - 1] == last) {
        z->toff[z->n - 1] = off;
        if (off == (z->n > 1 ? z->toff[z->n - 2] : z->off0)) z->n--;
    } else {
        push(z, last, off);
    }
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t be64(const uint8_t *p) {
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzhdr {
    uint32_t isut, isstd, leap, time, type, chars;
} tzhdr;

static bool read_hdr(const uint8_t *p, size_t n, tzhdr *h, size_t width, size_t *blk) {
    if (n < 44 || memcmp(p, "TZif", 4) != 0) return false;
    h->isut = be32(p + 20);
    h->isstd = be32(p + 24);
    h->leap = be32(p + 28);
    h->time = be32(p + 32);
    h->type = be32(p + 36);
    h->chars = be32(p + 40);
    if (h->isut > MAX_FILE || h->isstd > MAX_FILE || h->leap > MAX_FILE || h->time > MAX_FILE ||
        h->type > MAX_FILE || h->chars > MAX_FILE)
        return false;
    *blk = (size_t)h->time * (width + 1) + (size_t)h->type * 6 + h->chars +
           (size_t)h->leap * (width + 4) + h->isstd + h->isut;
    return *blk <= n - 44;
}

/* Builds the zone from a TZif image; returns a reason on failure. */
static const char *build(const char *name, const uint8_t *f, size_t n, prt_tz **out) {
    tzhdr h;
    size_t blk, width = 4;
    if (n < 44 || memcmp(f, "TZif", 4) != 0) return "not a TZif file";
    if (!read_hdr(f, n, &h, 4, &blk)) return "truncated data";
    const uint8_t *d = f + 44;
    const char *footer = NULL;
    size_t footer_len = 0;
    if (f[4] >= '2') {   /* skip the v1 block, use the 64-bit one and its footer */
        const uint8_t *h2 = d + blk;
        size_t rest = n - (size_t)(h2 - f);
        if (!read_hdr(h2, rest, &h, 8, &blk)) return "truncated v2 data";
        width = 8;
        d = h2 + 44;
        const uint8_t *ft = d + blk, *end = f + n;
        if (ft >= end || *ft != '\n') return "missing footer";
        const uint8_t *nl = memchr(ft + 1, '\n', (size_t)(end - ft - 1));
        if (!nl) return "unterminated footer";
        footer = (const char *)ft + 1;
        footer_len = (size_t)(nl - ft - 1);
    } else if (f[4] != 0) {
        return "unknown TZif version";
    }
    if (h.type == 0 || h.type > 256) return "bad type count";
    const uint8_t *times = d, *idx = d + (size_t)h.time * width, *types = idx + h.time;
    int32_t offs[256];
    for (uint32_t i = 0; i < h.type; i++) {
        int32_t o = (int32_t)be32(types + 6 * i);
        if (o < OFF_MIN || o > OFF_MAX) return "UTC offset out of range";
        offs[i] = o;
    }

    tzposix px;
    bool has_footer = footer_len > 0;
    char fbuf[256];
    if (has_footer) {
        if (footer_len >= sizeof fbuf || memchr(footer, 0, footer_len)) return "bad footer";
        memcpy(fbuf, footer, footer_len);
        fbuf[footer_len] = 0;
        if (!parse_posix(fbuf, &px)) return "bad footer TZ string";
        if (px.std_off < OFF_MIN || px.std_off > OFF_MAX ||
            (px.has_dst && (px.dst_off < OFF_MIN || px.dst_off > OFF_MAX)))
            return "footer UTC offset out of range";
    }
    bool dst_footer = has_footer && px.has_dst;
    size_t cap = h.time + (dst_footer ? 2 * FOOTER_YEARS : 0);
    prt_tz *z = tz_new(name, cap);
    gtrans *g = dst_footer ? malloc(2 * FOOTER_YEARS * sizeof *g) : NULL;
    if (!z || (dst_footer && !g)) {
        prt_tz_free(z);
        free(g);
        return "out of memory";
    }
    z->off0 = offs[0];   /* RFC 8536: type 0 before the first transition */
    int64_t prev = INT64_MIN, last = 0;
    for (uint32_t i = 0; i < h.time; i++) {
        int64_t t = width == 8 ? be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
        if (idx[i] >= h.type || (i > 0 && t <= prev) || t < -(INT64_C(1) << 60) || t > (INT64_C(1) << 60)) {
            prt_tz_free(z);
            free(g);
            return idx[i] >= h.type ? "bad type index" : "transitions out of order or range";
        }
        prev = last = t;
        push(z, t, offs[idx[i]]);
    }
    if (has_footer && !px.has_dst) {
        /* the footer governs after the last transition (agrees with the last type in valid data) */
        if (h.time == 0) z->off0 = px.std_off;
        else set_from(z, last, px.std_off);
    } else if (dst_footer) {
        int64_t y0 = 1969;
        if (h.time > 0) {
            int64_t yy;
            unsigned mm, dd;
            prt_civil_from_days((int32_t)floor_div(last, 86400), &yy, &mm, &dd);
            y0 = yy - 1;
        }
        size_t ng = gen_footer(&px, y0, g);
        size_t i = 0;
        if (h.time > 0) {
            int32_t state = z->n ? z->toff[z->n - 1] : z->off0;
            for (; i < ng && g[i].t <= last; i++) state = g[i].off;
            set_from(z, last, state);
        } else {
            z->off0 = px.std_off;
            z->wrap_down = true;
        }
        for (; i < ng; i++) push(z, g[i].t, g[i].off);
        z->periodic = true;
        z->cyc_lo = (int64_t)prt_days_from_civil(y0 + 2, 1, 1) * 86400;
        z->cyc_hi = z->cyc_lo + PERIOD_S;
    }
    free(g);
    z->min_off = z->max_off = z->off0;
    for (size_t i = 0; i < z->n; i++) {
        if (z->toff[i] < z->min_off) z->min_off = z->toff[i];
        if (z->toff[i] > z->max_off) z->max_off = z->toff[i];
    }
    *out = z;
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                      */

static bool valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "..") || strstr(s, "//"))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(is_alpha(c) || is_dig(c) || c == '/' || c == '_' || c == '+' || c == '-')) return false;
    }
    return true;
}

prt_tz *prt_tz_load(const char *name, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!name || !valid_name(name)) {
        fail(err, errlen, "invalid time zone name '%s'", name ? name : "(null)");
        return NULL;
    }
    if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "Z")) {
        prt_tz *z = tz_new(name, 0);
        if (!z) fail(err, errlen, "out of memory");
        return z;
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) dir = "/usr/share/zoneinfo";
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        fail(err, errlen, "time zone '%s': path too long", name);
        return NULL;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT || errno == ENOTDIR) fail(err, errlen, "unknown time zone '%s'", name);
        else fail(err, errlen, "time zone '%s': cannot open %s: %s", name, path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = malloc(MAX_FILE + 1);
    if (!buf) {
        fclose(fp);
        fail(err, errlen, "out of memory");
        return NULL;
    }
    size_t n = fread(buf, 1, MAX_FILE + 1, fp);
    int rerr = ferror(fp) ? errno : 0;
    fclose(fp);
    prt_tz *z = NULL;
    const char *why = NULL;
    if (rerr == EISDIR) fail(err, errlen, "unknown time zone '%s'", name);
    else if (rerr) fail(err, errlen, "time zone '%s': cannot read %s: %s", name, path, strerror(rerr));
    else if (n > MAX_FILE) fail(err, errlen, "time zone '%s': %s is too large", name, path);
    else if ((why = build(name, buf, n, &z)) != NULL)
        fail(err, errlen, "time zone '%s': %s: %s", name, path, why);
    free(buf);
    return z;
}

void prt_tz_free(prt_tz *tz) {
    if (!tz) return;
    free(tz->tt);
    free(tz->toff);
    free(tz);
}

const char *prt_tz_name(const prt_tz *tz) { return tz->name; }

/* ------------------------------------------------------------------------------------------ */
/* Lookups (seconds)                                                                            */

/* The whole number of 400-year periods to subtract from t to bring it into the tabulated range. */
static int64_t wrap_k(const prt_tz *z, int64_t t) {
    if (!z->periodic) return 0;
    if (t >= z->cyc_hi) return (t - z->cyc_lo) / PERIOD_S;
    if (z->wrap_down && t < z->cyc_lo) return -((z->cyc_lo - t + PERIOD_S - 1) / PERIOD_S);
    return 0;
}

/* Number of transitions at or before t: the segment holding t is that minus one (-1: before all).
 * Branch-free (the compiler emits conditional moves), so random lookups do not mispredict. */
static size_t upper(const prt_tz *z, int64_t t) {
    size_t len = z->n;
    if (len == 0) return 0;
    const int64_t *base = z->tt;
    while (len > 1) {
        size_t half = len / 2;
        base = base[half] <= t ? base + half : base;
        len -= half;
    }
    return (size_t)(base - z->tt) + (*base <= t);
}

static int32_t offset_at(const prt_tz *z, int64_t t, int64_t *seg_lo, int64_t *seg_hi) {
    int64_t k = wrap_k(z, t);
    size_t u = upper(z, t - k * PERIOD_S);
    *seg_lo = u ? z->tt[u - 1] + k * PERIOD_S : INT64_MIN;
    *seg_hi = u < z->n ? z->tt[u] + k * PERIOD_S : INT64_MAX;
    return u ? z->toff[u - 1] : z->off0;
}

/* The first instant at or after which local time reaches `mid` (local midnight, in the frame
 * already shifted by whole periods), scanning segments from u = upper(mid - max_off). */
static int64_t begin_from(const prt_tz *z, int64_t mid, size_t u) {
    for (size_t i = u;; i++) {   /* segment i-1 (i == 0: before the first transition) */
        int64_t a = i ? z->tt[i - 1] : INT64_MIN;
        int64_t b = i < z->n ? z->tt[i] : INT64_MAX;
        int32_t off = i ? z->toff[i - 1] : z->off0;
        int64_t c = mid - off > a ? mid - off : a;
        if (c < b) return c;
    }
}

/* The first instant whose local time is at or after local midnight starting day D. */
static int64_t day_begin(const prt_tz *z, int64_t day) {
    int64_t mid = day * 86400;
    int64_t shift = wrap_k(z, mid - z->max_off) * PERIOD_S;
    return begin_from(z, mid - shift, upper(z, mid - shift - z->max_off)) + shift;
}

/* day_begin of day and day + 1 with one binary search when both lie in the same frame. */
static void day_pair(const prt_tz *z, int64_t day, int64_t *s, int64_t *e) {
    int64_t mid = day * 86400;
    int64_t k = wrap_k(z, mid - z->max_off);
    if (wrap_k(z, mid + 86400 - z->max_off) != k) {
        *s = day_begin(z, day);
        *e = day_begin(z, day + 1);
        return;
    }
    int64_t shift = k * PERIOD_S;
    mid -= shift;
    size_t u = upper(z, mid - z->max_off);
    *s = begin_from(z, mid, u) + shift;
    int64_t lo2 = mid + 86400 - z->max_off;
    while (u < z->n && z->tt[u] <= lo2) u++;
    *e = begin_from(z, mid + 86400, u) + shift;
}

/* The day window holding instant t (seconds): [*s, *e) and its day number. */
static int64_t day_window(const prt_tz *z, int64_t t, int64_t *s, int64_t *e) {
    int64_t a, b;
    int64_t day = floor_div(t + offset_at(z, t, &a, &b), 86400);
    day_pair(z, day, s, e);
    while (*e <= t) {   /* an empty (skipped) date, or a backward jump across midnight */
        day++;
        *s = *e;
        *e = day_begin(z, day + 1);
    }
    return day;
}

/* ------------------------------------------------------------------------------------------ */
/* Public lookups (microseconds, cached)                                                        */

int32_t prt_tz_offset_s(const prt_tz *tz, int64_t us) {
    if (us >= tz->o_lo && us < tz->o_hi) return tz->o_off;
    prt_tz *m = (prt_tz *)tz;   /* the caches are the only mutable part */
    int64_t a, b;
    int32_t off = offset_at(tz, floor_div(us, US_PER_S), &a, &b);
    m->o_lo = s_to_us(a);
    m->o_hi = s_to_us(b);
    m->o_off = off;
    return off;
}

int32_t prt_tz_local_date(const prt_tz *tz, int64_t us) {
    int64_t t = floor_div(us, US_PER_S);
    return (int32_t)floor_div(t + prt_tz_offset_s(tz, us), 86400);
}

static void fill_day(const prt_tz *tz, int64_t us) {
    prt_tz *m = (prt_tz *)tz;
    int64_t s, e;
    m->d_date = day_window(tz, floor_div(us, US_PER_S), &s, &e);
    m->d_lo = s_to_us(s);
    m->d_hi = s_to_us(e);
}

int64_t prt_tz_day_start(const prt_tz *tz, int64_t us) {
    if (!(us >= tz->d_lo && us < tz->d_hi)) fill_day(tz, us);
    return tz->d_lo;
}

int64_t prt_tz_day_end(const prt_tz *tz, int64_t us) {
    if (!(us >= tz->d_lo && us < tz->d_hi)) fill_day(tz, us);
    return tz->d_hi;
}

int64_t prt_tz_days_start(const prt_tz *tz, int64_t us, int ndays, int64_t *end) {
    if (ndays <= 1) {
        if (!(us >= tz->d_lo && us < tz->d_hi)) fill_day(tz, us);
        if (end) *end = tz->d_hi;
        return tz->d_lo;
    }
    if (!(us >= tz->b_lo && us < tz->b_hi && tz->b_n == ndays)) {
        if (!(us >= tz->d_lo && us < tz->d_hi)) fill_day(tz, us);
        prt_tz *m = (prt_tz *)tz;
        int64_t blk = floor_div(tz->d_date, ndays);
        m->b_lo = s_to_us(day_begin(tz, blk * ndays));
        m->b_hi = s_to_us(day_begin(tz, (blk + 1) * ndays));
        m->b_n = ndays;
    }
    if (end) *end = tz->b_hi;
    return tz->b_lo;
}
