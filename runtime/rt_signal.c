/* rt_signal.c - clean shutdown: SIGTERM and SIGINT only set a flag and poke a self-pipe; the
 * driver looks at the flag between batches (finish the batch in hand, commit, exit 0). The
 * self-pipe lets an idle folder source sleep in poll() yet wake at once on a stop, without the
 * race of checking a flag and then sleeping. SIGPIPE is ignored: write errors are reported. */
#include "rt_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;
static int wake_pipe[2] = {-1, -1};

static void on_stop(int sig) {
    (void)sig;
    int saved = errno;
    stop_flag = 1;
    if (wake_pipe[1] >= 0) {
        ssize_t w = write(wake_pipe[1], "x", 1);
        (void)w;
    }
    errno = saved;
}

int prt_signal_setup(void) {
    stop_flag = 0;
    if (wake_pipe[0] < 0 && pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        prt_log_error("cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;   /* no SA_RESTART: a blocking read returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

bool prt_signal_stop_requested(void) { return stop_flag != 0; }

void prt_signal_sleep(int64_t us) {
    if (stop_flag) return;
    struct pollfd pfd = {.fd = wake_pipe[0], .events = POLLIN};
    int ms = us <= 0 ? 0 : (int)((us + 999) / 1000);
    if (us > (int64_t)1 << 40) ms = 1 << 30;
    poll(&pfd, 1, ms);   /* EINTR or a wake byte: either way back to the driver */
}

int prt_signal_fd(void) { return wake_pipe[0]; }

/* The handlers stay installed: a stop that arrives while the process is already on its way out
 * (everything committed, the summary printed) must not turn a clean exit into death by signal.
 * With the pipe closed the handler only sets the flag. */
void prt_signal_teardown(void) {
    for (int i = 0; i < 2; i++) {
        if (wake_pipe[i] >= 0) close(wake_pipe[i]);
        wake_pipe[i] = -1;
    }
}
