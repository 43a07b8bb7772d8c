/* test_suggest.c - unit tests for suggest.c: the optimal-string-alignment distance (case folded)
 * and the choice of a "did you mean" candidate (threshold, ties, identical words). */
#include "check.h"
#include "suggest.h"

static void test_distance(void) {
    CHECK_INT(suggest_distance("", ""), 0);
    CHECK_INT(suggest_distance("", "abc"), 3);
    CHECK_INT(suggest_distance("abc", ""), 3);
    CHECK_INT(suggest_distance("price", "price"), 0);
    CHECK_INT(suggest_distance("prize", "price"), 1);      /* substitution */
    CHECK_INT(suggest_distance("pric", "price"), 1);       /* insertion */
    CHECK_INT(suggest_distance("prices", "price"), 1);     /* deletion */
    CHECK_INT(suggest_distance("fliter", "filter"), 1);    /* adjacent swap */
    CHECK_INT(suggest_distance("ca", "ac"), 1);
    CHECK_INT(suggest_distance("abc", "ca"), 3);           /* OSA, not unrestricted DL (2) */
    CHECK_INT(suggest_distance("kitten", "sitting"), 3);
    CHECK_INT(suggest_distance("Price", "pRICE"), 0);      /* case-insensitive */
    CHECK_INT(suggest_distance("FLITER", "filter"), 1);
    CHECK_INT(suggest_distance("abcdef", "badcfe"), 3);
    CHECK_INT(suggest_distance("a", "b"), 1);
    CHECK_INT(suggest_distance("sink", "sources"), 6);
    CHECK_INT(suggest_distance("tiemstamp", "timestamp"), 1);
}

static void test_closest(void) {
    const char *const fields[] = {"name", "price", "quantity", "timestamp"};
    CHECK_STR(suggest_closest("prize", fields, 4), "price");
    CHECK_STR(suggest_closest("PRICE", fields, 4), "price");       /* case differs: suggested */
    CHECK_STR(suggest_closest("tiemstamp", fields, 4), "timestamp");
    CHECK_STR(suggest_closest("quanity", fields, 4), "quantity");
    CHECK(suggest_closest("price", fields, 4) == NULL);            /* identical: never itself */
    CHECK(suggest_closest("colour", fields, 4) == NULL);
    CHECK(suggest_closest("prize", fields, 0) == NULL);
    CHECK(suggest_closest("", fields, 4) == NULL);                 /* "name" is 4 away */

    /* threshold max(1, len/3): 2 letters -> 1, 6 -> 2, 9 -> 3 */
    const char *const short_c[] = {"ab"};
    CHECK_STR(suggest_closest("ax", short_c, 1), "ab");
    CHECK(suggest_closest("xy", short_c, 1) == NULL);
    const char *const six[] = {"filter"};
    CHECK(suggest_closest("fltr", six, 1) == NULL);     /* 4 letters: limit 1, distance 2 */
    CHECK_STR(suggest_closest("fiter_", six, 1), "filter");   /* 6 letters: limit 2 */
    CHECK(suggest_closest("fxtxr_", six, 1) == NULL);         /* distance 3 */
    const char *const nine[] = {"watermark"};
    CHECK(suggest_closest("wxtxrmxrx", nine, 1) == NULL);            /* 4 > 3 */
    CHECK_STR(suggest_closest("wotermirk", nine, 1), "watermark");   /* 2 <= 3 */

    /* ties: the first of equally close candidates; a closer later one still wins */
    const char *const ties[] = {"cat", "car", "cab"};
    CHECK_STR(suggest_closest("caz", ties, 3), "cat");
    const char *const later[] = {"cart", "cat"};
    CHECK_STR(suggest_closest("cat_", later, 2), "cat");     /* cart is 2 away, cat 1 */
    const char *const tie2[] = {"carts", "cat"};
    CHECK_STR(suggest_closest("cats", tie2, 2), "carts");    /* both 1 away: the first */
    const char *const withnull[] = {NULL, "price"};
    CHECK_STR(suggest_closest("prise", withnull, 2), "price");
}

int main(void) {
    test_distance();
    test_closest();
    return check_report();
}
