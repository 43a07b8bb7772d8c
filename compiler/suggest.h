/* suggest.h - "did you mean" for unknown names: the closest candidate by edit distance
 * (Damerau-Levenshtein, case-insensitive), only when it is close enough to be a likely typo
 * (distance <= max(1, strlen(word)/3)). */
#ifndef PIPEC_SUGGEST_H
#define PIPEC_SUGGEST_H

int suggest_distance(const char *a, const char *b);
/* The best of n candidates, or NULL when none is close. */
const char *suggest_closest(const char *word, const char *const *candidates, int n);

#endif
