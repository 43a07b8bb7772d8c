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
