/* rt_progress.c - the progress line of a bounded run on a terminal: records read, their rate, MB/s
 * and, when the input's size is known (one regular file), how much is done and an ETA. It is
 * drawn on standard error at most five times a second, erased before every log line (rt_log.c) and
 * at the end, and never drawn when standard error is not a terminal, when the log is JSON, or
 * when PIPEC_PROGRESS=0. */
#include "rt_internal.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define REDRAW_US 200000

static struct {
    bool on, shown;
    const char *name;
    int64_t start_us, drawn_us, redraw_us;
    uint64_t total;            /* the input's bytes, 0 = unknown */
    uint64_t before;           /* bytes of the files finished before the open one */
    uint64_t file_size;        /* the open file's size (added to `before` at the next one) */
} bar;

void prt_progress_begin(const char *pipeline, bool bounded, bool json_log) {
    const char *env = getenv("PIPEC_PROGRESS");
    bar.on = bounded && !json_log && isatty(2) && !(env && strcmp(env, "0") == 0);
    const char *ms = getenv("PIPEC_PROGRESS_MS");   /* the redraw interval, for tests */
    bar.redraw_us = ms && atoi(ms) > 0 ? (int64_t)atoi(ms) * 1000 : REDRAW_US;
    bar.name = pipeline;
    bar.start_us = bar.drawn_us = prt_now_us();   /* the first line after REDRAW_US */
}

void prt_progress_file(int fd, bool only_input) {
    struct stat st;
    bar.before += bar.file_size;
    bar.file_size = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    bar.total = only_input ? bar.file_size : 0;
}

static void put(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0) return;   /* a terminal that went away: nothing to tell */
        s += w;
        n -= (size_t)w;
    }
}

void prt_progress_erase(void) {
    if (!bar.shown) return;
    put("\r\033[K", 4);
    bar.shown = false;
}

void prt_progress_tick(uint64_t records, uint64_t file_offset) {
    if (!bar.on) return;
    int64_t now = prt_now_us();
    if (now - bar.drawn_us < bar.redraw_us) return;
    bar.drawn_us = now;
    double secs = (double)(now - bar.start_us) / 1e6;
    if (secs <= 0) return;
    uint64_t bytes = bar.before + file_offset;
    char line[200];
    int n = snprintf(line, sizeof line, "\r%s: %" PRIu64 " records, %.0f/s, %.1f MB/s", bar.name, records,
                     (double)records / secs, (double)bytes / 1e6 / secs);
    if (bar.total > 0 && bytes > 0 && bytes <= bar.total) {
        double left = secs * (double)(bar.total - bytes) / (double)bytes;
        n += snprintf(line + n, sizeof line - (size_t)n, ", %.0f%%, ETA %d:%02d", 100.0 * (double)bytes / (double)bar.total,
                      (int)(left / 60), (int)left % 60);
    }
    n += snprintf(line + n, sizeof line - (size_t)n, "\033[K");
    put(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    bar.shown = true;
}

void prt_progress_end(void) {
    prt_progress_erase();
    bar.on = false;
}
