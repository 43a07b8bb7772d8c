/* suggest.c - "did you mean" (see suggest.h).
 * The distance is Damerau-Levenshtein in its optimal-string-alignment form (insert, delete,
 * substitute, swap two adjacent characters; no substring is edited twice), comparing bytes with
 * ASCII case folded. A candidate equal to the word byte for byte is never suggested; one that
 * differs only in case is (distance 0), since that is exactly the typo to point out. */
#include "suggest.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fold(char c) { return tolower((unsigned char)c); }

static int min3(int a, int b, int c) {
    int m = a < b ? a : b;
    return m < c ? m : c;
}

int suggest_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la == 0) return (int)lb;
    if (lb == 0) return (int)la;
    /* Three rows of the DP matrix: i-2, i-1 and i (the swap looks two rows back). */
    int *buf = malloc(sizeof(int) * 3 * (lb + 1));
    if (!buf) {
        fprintf(stderr, "pipec: out of memory\n");
        abort();
    }
    int *prev2 = buf, *prev = buf + (lb + 1), *cur = buf + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = fold(a[i - 1]) != fold(b[j - 1]);
            int d = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1]) &&
                prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
        }
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    int d = prev[lb];
    free(buf);
    return d;
}

const char *suggest_closest(const char *word, const char *const *candidates, int n) {
    if (!word || !candidates) return NULL;
    size_t lw = strlen(word);
    int limit = lw / 3 > 1 ? (int)(lw / 3) : 1;
    const char *best = NULL;
    int best_d = limit + 1;
    for (int i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c || strcmp(c, word) == 0) continue;
        size_t lc = strlen(c);
        size_t diff = lc > lw ? lc - lw : lw - lc;
        if (diff >= (size_t)best_d) continue;   /* the length difference alone is too far */
        int d = suggest_distance(word, c);
        if (d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}
