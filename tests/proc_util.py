"""proc_util.py - helpers for tests that signal the programs they start.

wait_handler(proc): waits until a started program has installed its handler for a signal (the
kernel's SigCgt mask in /proc/PID/status says so), so a SIGTERM sent next reaches the handler
and not the default action of a process still starting up (slow under sanitizers). An output
file is no sign of that: a restarted run finds the previous run's files.
"""
import signal
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
