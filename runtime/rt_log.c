/* rt_log.c - the runtime's log: one line per message on stderr, as text
 * (`2026-11-22T02:30:00Z quickstart info: msg`) or JSON lines
 * ({"ts":...,"level":...,"pipeline":...,"msg":...}) per --log-format.
 * Each line goes out in a single write(2) so lines of concurrent writers never interleave. */
#include "rt_internal.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *log_pipeline = "pipec";
static int log_format = PRT_LOG_TEXT;
static prt_buf log_buf;

void prt_log_setup(const char *pipeline, int format) {
    log_pipeline = pipeline ? pipeline : "pipec";
    log_format = format;
}

void prt_log_teardown(void) { prt_buf_free(&log_buf); }

static void log_line(const char *level, const char *fmt, va_list ap) {
    int saved = errno;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    prt_buf *b = &log_buf;
    b->len = 0;
    if (log_format == PRT_LOG_JSON) {
        prt_buf_lit(b, "{\"ts\":\"");
        prt_buf_put(b, ts, strlen(ts));
        prt_buf_lit(b, "\",\"level\":\"");
        prt_buf_put(b, level, strlen(level));
        prt_buf_lit(b, "\",\"pipeline\":");
        prt_buf_put_json_str(b, log_pipeline, strlen(log_pipeline));
        prt_buf_lit(b, ",\"msg\":");
        prt_buf_put_json_str(b, msg, strlen(msg));
        prt_buf_lit(b, "}\n");
    } else {
        prt_buf_put(b, ts, strlen(ts));
        prt_buf_putc(b, ' ');
        prt_buf_put(b, log_pipeline, strlen(log_pipeline));
        prt_buf_putc(b, ' ');
        prt_buf_put(b, level, strlen(level));
        prt_buf_lit(b, ": ");
        for (const char *m = msg; *m; m++)   /* keep it one line */
            prt_buf_putc(b, *m == '\n' || *m == '\r' ? ' ' : *m);
        prt_buf_putc(b, '\n');
    }
    prt_progress_erase();
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(2, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;   /* nowhere left to report it */
        off += (size_t)w;
    }
    errno = saved;
}

void prt_log_info(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_line("info", fmt, ap);
    va_end(ap);
}

void prt_log_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_line("warn", fmt, ap);
    va_end(ap);
}

void prt_log_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_line("error", fmt, ap);
    va_end(ap);
}
