/* rt_limits.c - the memory limit of a run (spec key `limits: {memory}`).
 *
 * What grows with the input is kept within the limit by design where it can be: the kafka
 * source's prefetch queue and fetch size are derived from it (a quarter, and a sixteenth, unless
 * the spec's `properties` set them), and Parquet sinks end row groups early so that all their
 * open files together buffer at most a quarter of it. Window state cannot be bounded without
 * losing groups, so the driver checks the resident memory after every batch: beyond the limit the
 * run stops with exit code 1 and names every window's open groups, before it commits anything
 * more (a restart with a larger limit resumes from the last commit; nothing is dropped). */
#include "rt_internal.h"
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)

/* A malloc'd "key", "value" pair list: the settings derived from the limit, then `user` (which
 * librdkafka applies last, so the spec's properties win). Takes over `user`'s strings. */
char **prt_limits_kafka_props(int64_t limit, char **user) {
    int nuser = 0;
    while (user && user[nuser]) nuser++;
    char **out = calloc((size_t)nuser + 7, sizeof *out);
    if (!out) abort();
    int64_t queue_kb = limit / 4 / 1024, fetch = limit / 16;
    if (queue_kb < 1024) queue_kb = 1024;
    if (fetch < (1 << 20)) fetch = 1 << 20;
    if (fetch > 52428800) fetch = 52428800;   /* librdkafka's default fetch.max.bytes */
    int n = 0;
    if (asprintf(&out[n++], "queued.max.messages.kbytes") < 0 || asprintf(&out[n++], "%" PRId64, queue_kb) < 0 ||
        asprintf(&out[n++], "fetch.max.bytes") < 0 || asprintf(&out[n++], "%" PRId64, fetch) < 0 ||
        asprintf(&out[n++], "receive.message.max.bytes") < 0 || asprintf(&out[n++], "%" PRId64, fetch + (1 << 20)) < 0)
        abort();
    for (int i = 0; i < nuser; i++) out[n++] = user[i];
    free(user);
    prt_log_info("limits: memory %.0f MiB: the kafka prefetch queue holds at most %.0f MiB, a fetch %.0f MiB",
                 (double)limit / MIB, (double)queue_kb / 1024.0, (double)fetch / MIB);
    return out;
}

/* The resident bytes of the process, or -1. */
static int64_t resident_bytes(void) {
    static int fd = -2;
    if (fd == -2) fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = 0;
    long long size, pages;
    if (sscanf(buf, "%lld %lld", &size, &pages) != 2) return -1;
    return (int64_t)pages * sysconf(_SC_PAGESIZE);
}

int prt_limits_check(const prt_pipeline *p, prt_window_stats *scratch) {
    int64_t rss = resident_bytes();
    if (rss < 0 || rss <= p->memory_limit) return 0;
    char groups[1024] = "";
    size_t len = 0;
    if (p->window_stats) {
        p->window_stats(scratch);
        for (int i = 0; i < p->nwindows; i++) {
            int n = snprintf(groups + len, sizeof groups - len, "%swindow %s holds %" PRIu64 " open groups",
                             i ? ", " : "; ", p->window_names[i], scratch[i].open);
            if (n < 0 || (size_t)n >= sizeof groups - len) break;   /* the rest does not fit the line */
            len += (size_t)n;
        }
    }
    prt_log_error("memory: %.1f MiB resident, beyond limits.memory (%.0f MiB)%s; stopping without a commit "
                  "(nothing after the last one is lost: a restart with a larger limit, or windows with fewer "
                  "groups, resumes from it)",
                  (double)rss / MIB, (double)p->memory_limit / MIB, groups);
    return -1;
}
