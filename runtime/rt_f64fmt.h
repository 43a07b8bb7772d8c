/* rt_f64fmt.h - the shortest decimal of a double (rt_f64fmt.c), for prt_buf_put_f64 and its tests.
 * Not part of the ABI. */
#ifndef PIPEC_RT_F64FMT_H
#define PIPEC_RT_F64FMT_H
#include <stdint.h>

/* For a finite a > 0: the significant digits (ASCII, no trailing zeros, 1..17 of them: *nd) of
 * the decimal with the fewest that reads back (round to nearest, ties to even) as a, and of those
 * the one closest to a (if two are equally close, the one with an even last digit), such that
 * a reads back from 0.<digits> * 10^*point. They are written somewhere in buf[0..16] (buf has
 * room for 17) and the first one is returned. */
const char *prt__f64_digits(double a, char *buf, int *nd, int *point);

#endif
