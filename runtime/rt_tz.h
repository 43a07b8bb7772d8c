/* rt_tz.h - IANA time zones for day-aligned windows (rt_tz.c): UTC offsets, local calendar days
 * and the instants of local midnight, read from the system tz database (TZif files, RFC 8536,
 * versions 1-4, including the POSIX TZ footer rule that governs instants after the last
 * transition, with the v3 extensions: rule times from -167 to +167 hours).
 *
 * Times are int64 microseconds since the Unix epoch (UTC); offsets are seconds east of UTC; local
 * day numbers count days since 1970-01-01 in local time.
 *
 * Invariants:
 * - Day windows partition the timeline: prt_tz_day_start(us) <= us < prt_tz_day_end(us), and the
 *   end of one day is the start of the next. Day D starts at the first instant whose local time
 *   is at or after D 00:00 (so when midnight falls in a DST gap the day starts at the first
 *   instant that exists on that date, and a date skipped entirely, like Pacific/Apia 2011-12-30,
 *   is an empty window that no instant belongs to).
 * - No allocation after prt_tz_load; lookups are O(log transitions), and repeated lookups inside
 *   the same day cost two compares (a one-entry cache in the prt_tz).
 * - Because of that cache, a prt_tz must not be used by two threads at once (load one per thread).
 */
#ifndef PIPEC_RT_TZ_H
#define PIPEC_RT_TZ_H
#include <stddef.h>
#include <stdint.h>

typedef struct prt_tz prt_tz;

/* Loads a zone by IANA name: "UTC", "Etc/UTC" and "Z" need no file; other names are read from
 * $TZDIR (when set and not empty) or /usr/share/zoneinfo. Names are [A-Za-z0-9/_+-] only, not
 * absolute, at most 255 bytes. Returns NULL with a message in err (when errlen > 0) on failure,
 * e.g. "unknown time zone 'Mars/Base'". */
prt_tz *prt_tz_load(const char *name, char *err, size_t errlen);
void prt_tz_free(prt_tz *tz);
const char *prt_tz_name(const prt_tz *tz);   /* the name it was loaded by */

/* UTC offset in seconds at instant us (local = UTC + offset). */
int32_t prt_tz_offset_s(const prt_tz *tz, int64_t us);
/* Local calendar day number of us (floor((us + offset) / 1 day)). */
int32_t prt_tz_local_date(const prt_tz *tz, int64_t us);
/* Start and end (the next day's start) of the local day window containing us. A DST day is 23 or
 * 25 hours. The window's date is the local date of us except in the pathological case of a
 * backward jump across midnight, where the instants repeated before midnight stay in the day that
 * had already begun. Results saturate at INT64_MIN/INT64_MAX at the ends of the int64 range. */
int64_t prt_tz_day_start(const prt_tz *tz, int64_t us);
int64_t prt_tz_day_end(const prt_tz *tz, int64_t us);
/* Windows of ndays local days (ndays < 1 counts as 1): blocks of ndays days counted from local
 * 1970-01-01 (block = floor(day / ndays)). Returns the start of the block containing us and
 * stores its end in *end (when end is not NULL). */
int64_t prt_tz_days_start(const prt_tz *tz, int64_t us, int ndays, int64_t *end);

#endif
