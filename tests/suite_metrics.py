"""suite_metrics.py - the metrics endpoint (spec key `metrics`, runtime/rt_metrics.c) of a running
binary: counters that match the records fed to it exactly and obey in = out + dead + dropped,
checked by Prometheus' own promtool; /health, /ready, 404 and 405; listen errors and spec errors.
The pipeline is tests/e2e/metrics.yaml (a hot folder), its endpoint on a free port (port 0)."""
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "e2e", "metrics.yaml")
LISTEN_RE = re.compile(r"metrics: listening on http://([0-9.]+):(\d+) ")
SAMPLE_RE = re.compile(r'^(pipec_[a-z_]+)\{pipeline="e2e_metrics"(?:,(\w+)="([^"]*)")?\} (\S+)$')


def _get(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def _samples(text):
    """{(name, label value or None): value} of the exposition text."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE_RE.match(line)
        assert m, "unexpected line %r" % line
        out[(m.group(1), m.group(3))] = float(m.group(4))
    return out


def _start(binary, env):
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = LISTEN_RE.search(line)
    if not m:
        p.kill()
        raise AssertionError("no listening line: %r %s" % (line, p.stderr.read()[-2000:]))
    return p, "http://%s:%s" % (m.group(1), m.group(2))


def _orders(path, start, n):
    """n orders from id start: every 7th has a negative amount (dead), every 5th country XX
    (dropped, unless dead first); returns (out, dead, dropped)."""
    out = dead = dropped = 0
    with open(path + ".tmp", "w") as f:
        f.write("id,amount,country\n")
        for i in range(start, start + n):
            neg, xx = i % 7 == 0, i % 5 == 0
            f.write("%d,%s,%s\n" % (i, "-1.5" if neg else "%d.25" % (i % 100), "XX" if xx else "DE"))
            dead += neg
            dropped += xx and not neg
            out += not neg and not xx
    os.rename(path + ".tmp", path)   # the glob sees only whole files
    return out, dead, dropped


def test_metrics_endpoint_counts_exactly(ctx):
    binary = ctx.build_pipeline(SPEC)
    inbox, out, state = (os.path.join(ctx.tmp, d) for d in ("in", "out", "state"))
    for d in (inbox, out, state):
        os.makedirs(d)
    env = dict(os.environ, INBOX=inbox, OUT=out, STATE_DIR=state, METRICS_LISTEN="127.0.0.1:0")
    p, base = _start(binary, env)
    try:
        status, ctype, body = _get(base + "/metrics")
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
        assert _samples(body)[("pipec_records_in_total", None)] == 0
        assert _get(base + "/health")[:1] == (200,) and _get(base + "/ready")[0] == 200
        want = [0, 0, 0]
        for k in range(3):
            got = _orders(os.path.join(inbox, "orders%d.csv" % k), k * 10000, 10000)
            want = [a + b for a, b in zip(want, got)]
            deadline = time.time() + 60
            while True:
                s = _samples(_get(base + "/metrics")[2])
                if s[("pipec_records_in_total", None)] == (k + 1) * 10000 and s[("pipec_checkpoint_age_seconds", None)] == 0:
                    break
                assert time.time() < deadline, s
                time.sleep(0.05)
            assert (s[("pipec_records_out_total", None)], s[("pipec_records_dead_total", None)],
                    s[("pipec_records_dropped_total", None)]) == tuple(want), (s, want)
            assert s[("pipec_sink_rows_total", "orders")] == want[0]
            assert s[("pipec_dead_letters_total", "amount_not_negative")] == want[1]
        # while records keep coming, every scrape obeys in = out + dead + dropped
        _orders(os.path.join(inbox, "big.csv"), 30000, 200000)
        deadline = time.time() + 60
        while True:
            s = _samples(_get(base + "/metrics")[2])
            n = s[("pipec_records_in_total", None)]
            assert n == sum(s[(k, None)] for k in (
                "pipec_records_out_total", "pipec_records_dead_total", "pipec_records_dropped_total")), s
            if n == 230000:
                break
            assert time.time() < deadline, s
            time.sleep(0.005)
        assert s[("pipec_process_resident_memory_bytes", None)] > 1e6 and s[("pipec_process_open_fds", None)] >= 3
        text = _get(base + "/metrics")[2]
        promtool = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert promtool.returncode == 0, promtool.stdout + promtool.stderr
        assert _get(base + "/nowhere")[0] == 404
        assert _get(base + "/metrics", method="POST")[0] == 405
    finally:
        p.send_signal(signal.SIGTERM)
        rest = p.communicate(timeout=60)[1]
    assert p.returncode == 0, rest[-2000:]
    assert "done: in=230000 " in rest, rest[-2000:]
    port = int(base.rsplit(":", 1)[1])
    with socket.socket() as sk:   # the endpoint closed with the process
        assert sk.connect_ex(("127.0.0.1", port)) != 0


def test_metrics_listen_errors(ctx):
    binary = ctx.build_pipeline(SPEC)
    inbox = os.path.join(ctx.tmp, "in")
    os.makedirs(inbox)
    env = dict(os.environ, INBOX=inbox, OUT=ctx.tmp, STATE_DIR=os.path.join(ctx.tmp, "state"))
    for listen, msg in (("nonsense", "expected HOST:PORT"), ("no.such.host.invalid:80", "cannot listen on")):
        r = subprocess.run([binary], env=dict(env, METRICS_LISTEN=listen), capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and msg in r.stderr, (listen, r.returncode, r.stderr)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        r = subprocess.run([binary], env=dict(env, METRICS_LISTEN="127.0.0.1:%d" % taken.getsockname()[1]),
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "cannot listen on" in r.stderr, r.stderr


def test_metrics_spec_errors_and_explain(ctx):
    spec = open(SPEC).read()
    for bad, msg in (("metrics:\n  listen: \"${METRICS_LISTEN:-127.0.0.1:9464}\"\n", None),
                     ("metrics:\n  tls: {cert: a.pem}\n", "tls"),
                     ("metrics: 9464\n", "metrics is a map")):
        path = os.path.join(ctx.tmp, "m.yaml")
        with open(path, "w") as f:
            f.write(spec.replace("metrics:\n  listen: \"${METRICS_LISTEN:-127.0.0.1:9464}\"\n", bad))
        r = subprocess.run([ctx.pipec, "check", path], capture_output=True, text=True)
        if msg is None:
            assert r.returncode == 0, r.stderr
        else:
            assert r.returncode != 0 and re.search(r"m\.yaml:\d+:\d+: error: .*" + re.escape(msg), r.stderr), r.stderr
    with open(path, "w") as f:
        f.write(spec.replace("  listen: \"${METRICS_LISTEN:-127.0.0.1:9464}\"\n", "  {}\n").replace("metrics:\n  {}", "metrics: {}"))
    r = subprocess.run([ctx.pipec, "explain", path], capture_output=True, text=True)
    assert r.returncode == 0 and "metrics: http://127.0.0.1:9464: " in r.stdout, r.stdout + r.stderr
