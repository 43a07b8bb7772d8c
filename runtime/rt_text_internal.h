/* rt_text_internal.h - helpers shared by rt_text.c, rt_csv.c and rt_json.c (not part of the ABI).
 * UTF-8 sequence checking per Unicode 15 table 3-7, and word-at-a-time byte tests. All inline so
 * the hot loops of each module keep them in registers. */
#ifndef PIPEC_RT_TEXT_INTERNAL_H
#define PIPEC_RT_TEXT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the word-at-a-time scans assume a little-endian machine"
#endif

/* The length of the well-formed UTF-8 sequence starting at s[0] (a byte >= 0x80), or minus the
 * length of its maximal invalid subpart (>= 1 byte), which a decoder replaces by one U+FFFD. */
static inline int prt__utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    unsigned lo = 0x80, hi = 0xBF;
    int len;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;          /* no overlongs */
        else if (c == 0xED) hi = 0x9F;     /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;          /* no overlongs */
        else if (c == 0xF4) hi = 0x8F;     /* nothing above U+10FFFF */
    } else return -1;
    if (n < 2 || s[1] < lo || s[1] > hi) return -1;
    for (int i = 2; i < len; i++)
        if ((size_t)i >= n || s[i] < 0x80 || s[i] > 0xBF) return -i;
    return len;
}

static inline uint64_t prt__load64(const char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

#define PRT__ONES 0x0101010101010101ULL
#define PRT__HIGHS 0x8080808080808080ULL
/* Non-zero iff some byte of w is < b (1 <= b <= 0x80); exact as a truth value. */
#define PRT__HAS_LESS(w, b) (((w) - PRT__ONES * (b)) & ~(w) & PRT__HIGHS)
/* Non-zero iff some byte of w equals c. */
#define PRT__HAS_BYTE(w, c) PRT__HAS_LESS((w) ^ (PRT__ONES * (unsigned char)(c)), 1)

/* Flags (little-endian: lowest set bit = first such byte, exactly) the bytes of w that a JSON
 * string body cannot copy as they are: >= 0x80, control characters, '"' and '\\'. */
#define PRT__JSON_SPECIAL(w) \
    (((w) & PRT__HIGHS) | PRT__HAS_LESS(w, 0x20) | PRT__HAS_BYTE(w, '"') | PRT__HAS_BYTE(w, '\\'))

#endif
