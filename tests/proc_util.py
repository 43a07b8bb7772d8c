"""proc_util.py - helpers for tests that start programs and servers, and signal them.

proc_start_time(pid), alive(pid): whether a PID is a live process (and when it started, to tell a
reused PID apart); run_dir_in_use(top): whether the run that made a server's directory (its
"owner" file: PID and start time) is alive, for the harnesses that clean up after dead runs;
install_sigterm_exit(): SIGTERM raises SystemExit, so the harnesses' atexit still stops servers.

env_without_pg(**kw): the environment without PG* variables (they would change what libpq
connects to), plus kw as strings. run_summary(stderr): a binary's "done: in= out= dead= dropped="
counts.

wait_handler(proc): waits until a started program has installed its handler for a signal (the
kernel's SigCgt mask in /proc/PID/status says so), so a SIGTERM sent next reaches the handler
and not the default action of a process still starting up (slow under sanitizers). An output
file is no sign of that: a restarted run finds the previous run's files.
"""
import os
import signal
import threading
import time


def wait_handler(proc, sig=signal.SIGTERM, timeout=20):
    deadline = time.time() + timeout
    while proc.poll() is None and time.time() < deadline:
        try:
            with open("/proc/%d/status" % proc.pid) as f:
                caught = next((int(line.split()[1], 16) for line in f if line.startswith("SigCgt:")), 0)
        except OSError:
            return
        if caught >> (sig - 1) & 1:
            return
        time.sleep(0.001)


def proc_start_time(pid):
    """The start time (clock ticks since boot) of a live, non-zombie process, else None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def alive(pid):
    return pid is not None and proc_start_time(pid) is not None


def env_without_pg(**kw):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    e.update({k: str(v) for k, v in kw.items()})
    return e


def run_summary(stderr):
    for line in reversed(stderr.splitlines()):
        if " done: in=" in line:
            parts = dict(p.split("=", 1) for p in line.split(" done: ", 1)[1].split() if "=" in p)
            return {k: int(parts[k]) for k in ("in", "out", "dead", "dropped")}
    raise AssertionError("no summary line in:\n" + stderr[-3000:])


def run_dir_in_use(top):
    """True when top/owner names a live process, or when there is no owner file yet and the
    directory is new (a run setting it up right now); unreadable: in use, to be safe."""
    try:
        with open(os.path.join(top, "owner")) as f:
            opid, ostart = f.read().split()
        return proc_start_time(int(opid)) == ostart
    except (OSError, ValueError):
        try:
            return time.time() - os.stat(top).st_mtime < 300
        except OSError:
            return True


_sigterm_installed = False


def install_sigterm_exit():
    """Turns SIGTERM into SystemExit (when nothing else handles it) so that atexit still stops
    the test servers when the run is terminated."""
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    _sigterm_installed = True
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        def handler(signum, frame):
            raise SystemExit(128 + signum)
        signal.signal(signal.SIGTERM, handler)
