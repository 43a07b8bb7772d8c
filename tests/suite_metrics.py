"""suite_metrics.py - the metrics endpoint (spec key `metrics`, runtime/rt_metrics.c) of a running
binary: counters that match the records fed to it exactly and obey in = out + dead + dropped,
checked by Prometheus' own promtool; /health, /ready, 404 and 405; listen errors and spec errors.
The pipeline is tests/e2e/metrics.yaml (a hot folder), its endpoint on a free port (port 0)."""
import os
import re
import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "e2e", "metrics.yaml")
LISTEN_RE = re.compile(r"metrics: listening on (https?)://([0-9.]+):(\d+) ")
SAMPLE_RE = re.compile(r'^(pipec_[a-z_]+)\{pipeline="e2e_metrics[a-z_]*"((?:,\w+="[^"]*")*)\} (\S+)$')
LABEL_RE = re.compile(r',(\w+)="([^"]*)"')


def _get(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def _samples(text):
    """{(name, label value or None): value} of the exposition text; with two labels besides the
    pipeline's (a sink's histogram buckets), (name, value, le)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE_RE.match(line)
        assert m, "unexpected line %r" % line
        values = tuple(v for _, v in LABEL_RE.findall(m.group(2)))
        out[(m.group(1),) + (values or (None,))] = float(m.group(3))
    return out


def _histogram_ok(s, name, *labels):
    """Buckets cumulative and ending at the count; returns the count."""
    buckets = sorted(((float(k[-1]), v) for k, v in s.items() if k[0] == name + "_bucket" and k[1:-1] == labels))
    assert buckets and buckets[-1][0] == float("inf"), (name, labels, buckets)
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets
    count = s[(name + "_count",) + (labels or (None,))]
    assert buckets[-1][1] == count and s[(name + "_sum",) + (labels or (None,))] >= 0, (buckets, count)
    return count


def _start(binary, env):
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = LISTEN_RE.search(line)
    if not m:
        p.kill()
        raise AssertionError("no listening line: %r %s" % (line, p.stderr.read()[-2000:]))
    return p, "%s://%s:%s" % m.groups()


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
        # while records keep coming, every scrape obeys in = out + dead + dropped; the folder
        # lag counts the files waiting behind big.csv (zz*.csv sort after it; at least two of
        # them wait, since at most one can be taken before big.csv is there)
        for k in range(3):
            _orders(os.path.join(inbox, "zz%d.csv" % k), 1300000 + 1000 * k, 1000)
        _orders(os.path.join(inbox, "big.csv"), 30000, 1000000)
        deadline = time.time() + 120
        max_lag = 0
        while True:
            s = _samples(_get(base + "/metrics")[2])
            n = s[("pipec_records_in_total", None)]
            assert n == sum(s[(k, None)] for k in (
                "pipec_records_out_total", "pipec_records_dead_total", "pipec_records_dropped_total")), s
            max_lag = max(max_lag, s[("pipec_source_lag", "folder")])
            if n == 1033000 and s[("pipec_checkpoint_age_seconds", None)] == 0:
                break
            assert time.time() < deadline, s
            time.sleep(0.005)
        assert max_lag >= 2 and s[("pipec_source_lag", "folder")] == 0, (max_lag, s)
        assert _histogram_ok(s, "pipec_batch_seconds") >= 1033000 // 4096
        commits = _histogram_ok(s, "pipec_commit_seconds")
        assert commits >= 4 and _histogram_ok(s, "pipec_sink_flush_seconds", "orders") == commits, s
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
    assert "done: in=1033000 " in rest, rest[-2000:]
    port = int(base.rsplit(":", 1)[1])
    with socket.socket() as sk:   # the endpoint closed with the process
        assert sk.connect_ex(("127.0.0.1", port)) != 0


def test_window_metrics(ctx):
    """Open entries, late records and the watermark delay of a tumbling window of a minute with
    30 s lateness: after records up to 10:02:40, the windows of 10:02 (three countries) are open
    (10:01 closed at the watermark 10:02:10) and records of 10:00 are late."""
    binary = ctx.build_pipeline(os.path.join(HERE, "e2e", "metrics_windows.yaml"))
    inbox, out, state = (os.path.join(ctx.tmp, d) for d in ("win_in", "win_out", "win_state"))
    for d in (inbox, out, state):
        os.makedirs(d)
    env = dict(os.environ, INBOX=inbox, OUT=out, STATE_DIR=state, METRICS_LISTEN="127.0.0.1:0")

    def drop(name, rows):
        with open(os.path.join(inbox, name + ".tmp"), "w") as f:
            f.write("id,ts,country\n" + "".join("%d,2024-05-01T%s,%s\n" % r for r in rows))
        os.rename(os.path.join(inbox, name + ".tmp"), os.path.join(inbox, name))

    def wait_for(pred):
        deadline = time.time() + 60
        while True:
            s = _samples(_get(base + "/metrics")[2])
            if pred(s):
                return s
            assert time.time() < deadline, s
            time.sleep(0.05)

    p, base = _start(binary, env)
    try:
        s = _samples(_get(base + "/metrics")[2])
        assert s[("pipec_open_windows", "per_minute")] == 0 and s[("pipec_late_records_total", "per_minute")] == 0
        assert ("pipec_watermark_delay_seconds", "per_minute") not in s   # no record yet
        drop("a.csv", [(i, "10:%02d:%02d" % (i // 60, i % 60), ("DE", "FR", "IT")[i % 3]) for i in range(0, 161)])
        s = wait_for(lambda s: s[("pipec_records_in_total", None)] == 161)
        assert s[("pipec_open_windows", "per_minute")] == 3, s
        assert s[("pipec_sink_rows_total", "minutes")] == 6, s   # 10:00 and 10:01, three countries each
        drop("b.csv", [(1000 + i, "10:00:%02d" % i, "DE") for i in range(5)] + [(2000, "10:02:50", "ES")])
        s = wait_for(lambda s: s[("pipec_records_in_total", None)] == 167)
        assert s[("pipec_late_records_total", "per_minute")] == 5 and s[("pipec_records_dead_total", None)] == 5, s
        assert s[("pipec_open_windows", "per_minute")] == 4, s
        watermark = 1714557770 - 30   # 2024-05-01T10:02:50Z minus the lateness
        delay = s[("pipec_watermark_delay_seconds", "per_minute")]
        assert abs(delay - (time.time() - watermark)) < 60, (delay, time.time() - watermark)
        promtool = subprocess.run(["promtool", "check", "metrics"], input=_get(base + "/metrics")[2],
                                  capture_output=True, text=True)
        assert promtool.returncode == 0, promtool.stdout + promtool.stderr
    finally:
        p.send_signal(signal.SIGTERM)
        rest = p.communicate(timeout=60)[1]
    assert p.returncode == 0, rest[-2000:]


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


AUTH_BLOCK = '''metrics:
  listen: "${METRICS_LISTEN}"
  tls: {cert: "${TLS_CERT}", key: "${TLS_KEY}"}
  basic_auth: {user: prometheus, %s}
'''


def _secure_spec(ctx, password_line):
    spec = open(SPEC).read().replace('metrics:\n  listen: "${METRICS_LISTEN:-127.0.0.1:9464}"\n', AUTH_BLOCK % password_line)
    path = os.path.join(ctx.tmp, "secure_%d.yaml" % abs(hash(password_line)))
    with open(path, "w") as f:
        f.write(spec)
    return path


def _cert(ctx):
    """A self-signed certificate for 127.0.0.1 (openssl), as (cert, key) paths."""
    cert, key = os.path.join(ctx.tmp, "cert.pem"), os.path.join(ctx.tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def _curl(url, cacert, user=None):
    args = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--cacert", cacert, url]
    if user:
        args += ["-u", user]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_over_tls_with_basic_auth(ctx):
    """HTTPS with basic auth, the password from the environment, a file, a SHA-256 and a bcrypt
    hash: curl with the right credentials gets the metrics, wrong or none get 401, /health is
    open; no secret in the log, --help, the generated C or the binary; and a real Prometheus
    server scrapes it over TLS with basic auth, its stored counters obeying the conservation law."""
    import crypt   # noqa: E402 (deprecated, still in Python 3.11: bcrypt hashes for the test)
    import hashlib
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    secret = "s3cret-%d" % os.getpid()
    cert, key = _cert(ctx)
    pw_file = os.path.join(ctx.tmp, "password")
    with open(pw_file, "w") as f:
        f.write(secret + "\n")
    variants = [('password: "${METRICS_PASSWORD}"', {"METRICS_PASSWORD": secret}),
                ('password_file: "${PW_FILE}"', {"PW_FILE": pw_file}),
                ('password: "sha256:%s"' % hashlib.sha256(secret.encode()).hexdigest(), {}),
                ("password: '%s'" % crypt.crypt(secret, crypt.mksalt(crypt.METHOD_BLOWFISH)), {})]
    for k, (line, extra) in enumerate(variants):
        spec = _secure_spec(ctx, line)
        gen_dir = os.path.join(ctx.tmp, "gen%d" % k)
        binary = ctx.build_pipeline(spec)
        ctx.run([ctx.pipec, "gen", spec, "-o", gen_dir])
        inbox = os.path.join(ctx.tmp, "in%d" % k)
        os.makedirs(inbox)
        port = _free_port()
        env = dict(os.environ, INBOX=inbox, OUT=ctx.tmp, STATE_DIR=os.path.join(ctx.tmp, "state%d" % k),
                   METRICS_LISTEN="127.0.0.1:%d" % port, TLS_CERT=cert, TLS_KEY=key, **extra)
        p, base = _start(binary, env)
        try:
            url = "https://127.0.0.1:%d" % port
            assert base == url, base
            _orders(os.path.join(inbox, "a.csv"), 0, 1000)
            deadline = time.time() + 30
            while True:
                code, body = _curl(url + "/metrics", cert, "prometheus:" + secret)
                assert code == 200, (line, code, body)
                if 'pipec_records_in_total{pipeline="e2e_metrics"} 1000' in body:
                    break
                assert time.time() < deadline, body
                time.sleep(0.05)
            for user in ("prometheus:wrong", "someone:" + secret, None, "prometheus:" + secret[:-1]):
                assert _curl(url + "/metrics", cert, user)[0] == 401, (line, user)
                assert _curl(url + "/ready", cert, user)[0] == 401, (line, user)
            assert _curl(url + "/ready", cert, "prometheus:" + secret)[0] == 200
            assert _curl(url + "/health", cert)[0] == 200
            plain = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url.replace("https", "http") + "/health"],
                                   capture_output=True, text=True, timeout=30).stdout
            assert plain != "200", plain   # no plain HTTP beside HTTPS
            if k == 0:
                _prometheus_scrapes(ctx, port, cert, secret)
        finally:
            p.send_signal(signal.SIGTERM)
            log = p.communicate(timeout=60)[1]
        assert p.returncode == 0, log[-2000:]
        helptext = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
        c_text = "".join(open(os.path.join(gen_dir, f), errors="replace").read() for f in os.listdir(gen_dir))
        for where, text in (("log", log), ("--help", helptext), ("generated C", c_text),
                            ("binary", open(binary, "rb").read().decode("latin-1"))):
            assert secret not in text, (line, where)
        assert "basic auth" in helptext and "https://" in helptext, helptext


def _prometheus_scrapes(ctx, port, cert, secret):
    """A real Prometheus server scrapes the endpoint every 200 ms over TLS with basic auth."""
    web = _free_port()
    pw = os.path.join(ctx.tmp, "prom_password")
    with open(pw, "w") as f:
        f.write(secret)
    conf = os.path.join(ctx.tmp, "prometheus.yml")
    with open(conf, "w") as f:
        f.write("global: {scrape_interval: 200ms, scrape_timeout: 200ms}\n"
                "scrape_configs:\n"
                "  - job_name: pipec\n"
                "    scheme: https\n"
                "    tls_config: {ca_file: %s}\n"
                "    basic_auth: {username: prometheus, password_file: %s}\n"
                "    static_configs: [{targets: ['127.0.0.1:%d']}]\n" % (cert, pw, port))
    prom = subprocess.Popen(["prometheus", "--config.file=" + conf, "--storage.tsdb.path=" + os.path.join(ctx.tmp, "tsdb"),
                             "--web.listen-address=127.0.0.1:%d" % web], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        query = "http://127.0.0.1:%d/api/v1/query?query=" % web
        expr = urllib.request.quote("pipec_records_in_total - pipec_records_out_total - pipec_records_dead_total - pipec_records_dropped_total")
        deadline = time.time() + 60
        while True:
            try:
                up = json.loads(_get(query + "up")[2])["data"]["result"]
                got = json.loads(_get(query + "pipec_records_in_total")[2])["data"]["result"]
            except (OSError, ValueError, KeyError):
                up, got = [], []
            if up and got and up[0]["value"][1] == "1" and got[0]["value"][1] == "1000":
                break
            assert time.time() < deadline and prom.poll() is None, (up, got, prom.poll())
            time.sleep(0.2)
        diff = json.loads(_get(query + expr)[2])["data"]["result"]
        assert diff and diff[0]["value"][1] == "0", diff
    finally:
        prom.terminate()
        err = prom.communicate(timeout=30)[1]
    assert prom.returncode in (0, -15), err[-2000:]
