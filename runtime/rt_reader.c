/* rt_reader.c - reads a file descriptor in large chunks and frames records.
 * CSV framing is quote-aware (a quote opens only at a field's start; inside quotes a newline
 * belongs to the record and "" is an escaped quote); JSON lines split on '\n'. Terminators "\n" and
 * "\r\n" are stripped, a UTF-8 BOM at offset 0 is removed, blank lines ("" or "\r") are skipped.
 * Invariants: records are slices of one buffer of max_record + chunk bytes, allocated once; the
 * buffer is compacted (memmove of the partial tail) only in prt_reader_fill, so every record
 * returned since the last fill stays valid until the next one. A record longer than max_record
 * is never buffered whole: its first PRT_READER_KEEP bytes are kept, the rest skipped. */
#include "rt_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { ST_FIELD_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTED_QUOTE };
enum { DEFAULT_SIZE = 1 << 20 };

void prt_reader_init(prt_reader *r, bool csv, char delim, char quote, size_t max_record,
                     size_t chunk) {
    memset(r, 0, sizeof *r);
    r->csv = csv && quote != 0;
    r->delim = delim ? delim : ',';
    r->quote = quote;
    r->max_record = max_record ? max_record : DEFAULT_SIZE;
    r->chunk = chunk ? chunk : DEFAULT_SIZE;
    r->cap = r->max_record + r->chunk;
    r->buf = malloc(r->cap);
    if (!r->buf) {
        fprintf(stderr, "pipec runtime: out of memory (%zu bytes)\n", r->cap);
        abort();
    }
    r->fd = -1;
}

void prt_reader_start(prt_reader *r, int fd, uint64_t offset, uint64_t line) {
    r->fd = fd;
    r->base = offset;
    r->start = r->end = r->scan = 0;
    r->start_line = r->scan_line = line;
    r->state = ST_FIELD_START;
    r->eof = false;
    r->bom_pending = offset == 0;
    r->skipping = false;
    r->skip_total = 0;
    r->err = 0;
}

void prt_reader_free(prt_reader *r) {
    free(r->buf);
    r->buf = NULL;
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* The first '\n' in b[i..end) when no byte q comes before it: its index; -1 otherwise (no
 * newline, or q first). Sixteen bytes at a time: records are short, so this beats memchr calls. */
static inline long plain_newline(const char *b, size_t i, size_t end, char q) {
    const __m128i vn = _mm_set1_epi8('\n'), vq = _mm_set1_epi8(q);
    for (; i + 16 <= end; i += 16) {
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        unsigned mn = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, vn));
        unsigned mq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, vq));
        if (!(mn | mq)) continue;
        if (!mn || (mq && __builtin_ctz(mq) < __builtin_ctz(mn))) return -1;
        return (long)(i + (size_t)__builtin_ctz(mn));
    }
    for (; i < end; i++) {
        if (b[i] == '\n') return (long)i;
        if (b[i] == q) return -1;
    }
    return -1;
}
#endif

/* Scans buf[scan..end) for the end of the current record; returns its '\n' index or -1. */
static long scan_to_end(prt_reader *r) {
    char *b = r->buf;
    size_t i = r->scan, end = r->end;
#if defined(__SSE2__)
    if (!r->csv || r->state == ST_FIELD_START || r->state == ST_UNQUOTED) {
        long nl = plain_newline(b, i, end, r->csv ? r->quote : '\n');
        if (nl >= 0) return nl;
    }
#endif
    if (!r->csv) {
        char *nl = memchr(b + i, '\n', end - i);
        if (!nl) {
            r->scan = end;
            return -1;
        }
        return (long)(nl - b);
    }
    int st = r->state;
    const char q = r->quote, d = r->delim;
    /* The common case: no quote before the next newline, so the newline ends the record and
     * the state machine is not needed (two memchr scans instead of a byte loop). */
    if (st == ST_FIELD_START || st == ST_UNQUOTED) {
        char *nl = memchr(b + i, '\n', end - i);
        if (nl && !memchr(b + i, q, (size_t)(nl - (b + i)))) return (long)(nl - b);
    }
    for (; i < end; i++) {
        char c = b[i];
        switch (st) {
        case ST_FIELD_START:
            if (c == q) st = ST_QUOTED;
            else if (c == '\n') goto found;
            else if (c != d) st = ST_UNQUOTED;
            break;
        case ST_UNQUOTED:
            if (c == d) st = ST_FIELD_START;
            else if (c == '\n') goto found;
            break;
        case ST_QUOTED:
            if (c == q) st = ST_QUOTED_QUOTE;
            else if (c == '\n') r->scan_line++;
            break;
        default: /* ST_QUOTED_QUOTE */
            if (c == q) st = ST_QUOTED;
            else if (c == d) st = ST_FIELD_START;
            else if (c == '\n') goto found;
            else st = ST_UNQUOTED;   /* text after a closing quote: the splitter reports it */
            break;
        }
    }
    r->state = st;
    r->scan = end;
    return -1;
found:
    return (long)i;
}

/* Consumes through the terminator at index nl and resets framing state for the next record. */
static void consume_to(prt_reader *r, size_t nl) {
    r->start = r->scan = nl + 1;
    r->scan_line++;
    r->start_line = r->scan_line;
    r->state = ST_FIELD_START;
}

/* The raw of a too-long record is its first min(PRT_READER_KEEP, max_record) bytes, whichever way
 * it was found (whole in the buffer, or head kept while skipping). */
static void too_long(const prt_reader *r, prt_rd_rec *out, const char *p, size_t avail, uint64_t len,
                     uint64_t line) {
    size_t keep = r->max_record < PRT_READER_KEEP ? r->max_record : PRT_READER_KEEP;
    if (avail > keep) avail = keep;
    out->rec.p = p;
    out->rec.n = (uint32_t)(len < avail ? len : avail);
    out->rec.line = line;
    out->flags = PRT_RECF_TOO_LONG;
    out->full_len = len;
}

int prt_reader_next(prt_reader *r, prt_rd_rec *out) {
    for (;;) {
        if (r->bom_pending) {
            size_t avail = r->end - r->start;
            static const char bom[3] = {(char)0xEF, (char)0xBB, (char)0xBF};
            if (avail < 3 && !r->eof && memcmp(r->buf + r->start, bom, avail) == 0)
                return PRT_RD_REFILL;
            if (avail >= 3 && memcmp(r->buf + r->start, bom, 3) == 0) r->start = r->scan = r->start + 3;
            r->bom_pending = false;
        }
        if (r->start == r->end && !r->skipping) return r->eof ? PRT_RD_EOF : PRT_RD_REFILL;
        long nl = scan_to_end(r);
        if (r->skipping) {
            size_t stop = nl >= 0 ? (size_t)nl : r->end;
            if (nl < 0 && !r->eof) return PRT_RD_REFILL;
            uint64_t len = r->skip_total + (stop - r->start);
            char last = stop > r->start ? r->buf[stop - 1] : r->skip_last;
            if (last == '\r') len--;
            too_long(r, out, r->keep, r->keep_n, len, r->skip_line);
            if (nl >= 0) consume_to(r, (size_t)nl);
            else r->start = r->scan = r->end;
            r->skipping = false;
            return PRT_RD_REC;
        }
        size_t stop;
        int flags = 0;
        if (nl >= 0) {
            stop = (size_t)nl;
        } else {
            if (!r->eof) return PRT_RD_REFILL;
            stop = r->end;   /* the last record has no terminator */
            if (r->csv && r->state == ST_QUOTED) flags = PRT_RECF_UNTERMINATED;
        }
        const char *p = r->buf + r->start;
        size_t n = stop - r->start;
        uint64_t line = r->start_line;
        if (n && p[n - 1] == '\r') n--;
        if (nl >= 0) consume_to(r, (size_t)nl);
        else r->start = r->scan = r->end;
        if (n == 0 && !flags) continue;   /* blank line */
        if (n > r->max_record) {
            too_long(r, out, p, n, n, line);
            return PRT_RD_REC;
        }
        out->rec.p = p;
        out->rec.n = (uint32_t)n;
        out->rec.line = line;
        out->flags = flags;
        out->full_len = n;
        return PRT_RD_REC;
    }
}

int prt_reader_fill(prt_reader *r) {
    if (r->eof) return 0;
    if (r->skipping) {
        /* the middle of a too-long record: count it and drop it */
        if (r->end > r->start) {
            r->skip_total += r->end - r->start;
            r->skip_last = r->buf[r->end - 1];
        }
        r->base += r->end;
        r->start = r->end = r->scan = 0;
    } else if (r->start > 0) {
        size_t pending = r->end - r->start;
        memmove(r->buf, r->buf + r->start, pending);
        r->base += r->start;
        r->scan -= r->start;
        r->start = 0;
        r->end = pending;
    }
    if (!r->skipping && r->end - r->start > r->max_record) {
        /* the pending record cannot be kept whole: keep its head, skip the rest */
        size_t pending = r->end - r->start;
        r->keep_n = pending < PRT_READER_KEEP ? pending : PRT_READER_KEEP;
        memcpy(r->keep, r->buf + r->start, r->keep_n);
        r->skipping = true;
        r->skip_total = pending;
        r->skip_last = r->buf[r->end - 1];
        r->skip_line = r->start_line;
        r->skip_off = r->base + r->start;
        r->base += r->end;
        r->start = r->end = r->scan = 0;
    }
    size_t room = r->cap - r->end;
    if (room > r->chunk) room = r->chunk;
    ssize_t got = read(r->fd, r->buf + r->end, room);
    if (got < 0) {
        r->err = errno;
        return -1;
    }
    if (got == 0) r->eof = true;
    r->end += (size_t)got;
    return 0;
}
