"""Window pipelines killed and restarted: a long input through a tumbling, a hopping and a session
window with a checkpoint; SIGKILL at random moments (and SIGTERM) with restarts until the run
completes must leave the window output and the dead letter byte-identical to an uninterrupted run
(exactly once: window state and sink lengths are restored together)."""
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proc_util import wait_handler  # noqa: E402


def _input(ctx, rows=1000000, seed=5):
    """The shared input (made once, deterministic): bursts of events with quiet gaps, so sessions
    open and close; some disorder within the lateness, some clearly late events."""
    path = os.path.join(ctx.build, "restart-input-%d.csv" % rows)
    if os.path.exists(path):
        return path
    rnd = random.Random(seed)
    t = 1714557600.0  # 2024-05-01T10:00:00Z
    tmp = path + ".tmp"
    os.makedirs(ctx.build, exist_ok=True)
    with open(tmp, "w") as f:
        f.write("k,at,v,s\n")
        for i in range(rows):
            t += 0.01 if i % 500 else 90.0                   # a quiet minute and a half every 500
            e = t + rnd.uniform(-20, 0)                       # disorder within the lateness
            if i % 997 == 0:
                e -= 600                                      # clearly late
            k = rnd.choice(["a", "b", "c", "d", ""])
            v = "" if i % 13 == 0 else str(rnd.randint(-1000, 1000))
            f.write("%s,%s.%06dZ,%s,%s\n" % (k, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(e)),
                                              int((e % 1) * 1e6), v, rnd.choice(["x", "yy", "zzz", "w\u00e9"])))
    os.rename(tmp, path)
    return path


def _run(binary, data, out, env_extra=None, kill_after=None, sig=signal.SIGKILL):
    env = dict(os.environ, INPUT=data, OUT=out, PIPEC_RT_CHUNK="256")
    env.update(env_extra or {})
    p = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        if sig != signal.SIGKILL:
            wait_handler(p)   # else a slow start (sanitizers) dies of the signal's default action
        time.sleep(kill_after)
        if p.poll() is None:
            p.send_signal(sig)
    out_, err = p.communicate(timeout=300)
    return p.returncode, err.decode()


def _check(ctx, kind, sig):
    spec = os.path.join(ctx.root, "tests", "restart", kind + ".yaml")
    binary = ctx.build_pipeline(spec)
    data = _input(ctx)
    ref = os.path.join(ctx.tmp, "ref")
    rc, err = _run(binary, data, ref)
    assert rc == 0, err
    out = os.path.join(ctx.tmp, "out")
    rnd = random.Random(len(kind) * 7919 + sig)
    interrupted = 0
    for attempt in range(8):                  # each run gets a short while, then the signal
        rc, err = _run(binary, data, out, kill_after=rnd.uniform(0.01, 0.08), sig=sig)
        assert "Sanitizer" not in err and "runtime error" not in err, err
        if rc == 0 and "done:" in err and sig == signal.SIGKILL:
            break
        assert rc in (0, -signal.SIGKILL), (rc, err)
        interrupted += 1
    rc, err = _run(binary, data, out)         # then one run to the end
    assert rc == 0, err
    assert interrupted >= 2, "too few interruptions landed (%d)" % interrupted
    for name in ("windows.jsonl", "dead.jsonl"):
        # a dead letter's `at` is when it was rejected: the one field that may differ
        a = re.sub(rb'"at":"[^"]*"', b'', open(os.path.join(ref, name), "rb").read())
        b = re.sub(rb'"at":"[^"]*"', b'', open(os.path.join(out, name), "rb").read())
        assert a == b, "%s differs after restarts: %d vs %d bytes" % (name, len(a), len(b))
    assert len(open(os.path.join(ref, "windows.jsonl")).read().splitlines()) > 10


def test_tumbling_sigkill(ctx):
    _check(ctx, "tumbling", signal.SIGKILL)


def test_hopping_sigkill(ctx):
    _check(ctx, "hopping", signal.SIGKILL)


def test_session_sigkill(ctx):
    _check(ctx, "session", signal.SIGKILL)


def test_session_sigterm(ctx):
    _check(ctx, "session", signal.SIGTERM)


def test_hopping_sigterm(ctx):
    _check(ctx, "hopping", signal.SIGTERM)
