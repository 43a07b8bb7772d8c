"""suite_progress.py - the progress line of a bounded run (runtime/rt_progress.c): drawn on a
terminal (a pseudo-terminal here) with records, rate and the share done, erased before the log
lines; absent when standard error is a pipe, with --log-format json, and with PIPEC_PROGRESS=0."""
import os
import pty
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "..", "bench", "window_tumbling.yaml")
ROWS = 2000000


def _input(ctx):
    path = os.path.join(ctx.tmp, "readings.csv")
    with open(path, "w") as f:
        f.write("ts,device,value\n")
        for i in range(ROWS):
            f.write("2024-05-01T%02d:%02d:%02dZ,d%d,%d.5\n" % (i // 3600000, i // 60000 % 60, i // 1000 % 60, i % 1000, i % 97))
    return path


def _run(binary, env, args=(), tty=True):
    """Runs binary with standard error on a pseudo-terminal (or a pipe); returns its bytes."""
    if not tty:
        p = subprocess.run([binary] + list(args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen([binary] + list(args), env=env, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:   # EIO: the other end closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.wait(timeout=120) == 0, out[-2000:]
    return out


def test_progress_line_on_a_terminal_only(ctx):
    binary = ctx.build_pipeline(SPEC)
    data = _input(ctx)
    out_dir = os.path.join(ctx.tmp, "out")
    os.makedirs(out_dir)
    # redrawn every 10 ms (the default, 200 ms, can be longer than the whole run of 2M rows)
    env = dict(os.environ, INPUT=data, OUT=out_dir, PIPEC_PROGRESS_MS="10")
    env.pop("PIPEC_PROGRESS", None)
    if ctx.san:   # slower: a smaller share per redraw, the same checks
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "detect_leaks=1")
    got = _run(binary, env)
    lines = [l for l in got.replace(b"\r\n", b"\n").split(b"\r") if b"records" in l]
    assert lines, got[-2000:]
    for l in lines:
        assert l.startswith(b"bench_window_tumbling: ") and l.endswith(b"\x1b[K"), l
        assert b" records, " in l and b"/s, " in l and b" MB/s" in l, l
    done = [l for l in lines if b"%, ETA " in l]
    assert done, lines   # a single file: its size is known
    counts = [int(l.split(b": ", 1)[1].split(b" ", 1)[0]) for l in lines]
    assert counts == sorted(counts) and counts[-1] <= ROWS, counts
    # the line is erased before the summary, which stands alone on its line
    assert b"\r\x1b[K" + b"20" in got, got[-300:]
    summary = got.rsplit(b"\r\x1b[K", 1)[1]
    assert summary.startswith(b"20") and b"done: in=%d " % ROWS in summary and b"records" not in summary, summary
    for args, extra in (((), {}), (("--log-format", "json"), {}), ((), {"PIPEC_PROGRESS": "0"})):
        plain = _run(binary, dict(env, **extra), args, tty=bool(args or extra))
        assert b"records" not in plain and b"\x1b[K" not in plain, (args, extra, plain[-500:])
