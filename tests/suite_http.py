"""suite_http.py - the http source (runtime/rt_http.c) against a real HTTP server that each test
starts on a free loopback port (Python's http.server in a thread, `Api` below): it serves a
scripted answer per request (objects, arrays, bad JSON, gzip, redirects, 500s, dropped
connections, slow answers) and records when each request started and with which headers.

- objects and arrays into a jsonl file sink, compared exactly; the dead letter (positions
  URL#poll=N[I] without the query, reasons, details, raw) for non-object elements, bad JSON,
  too-long answers and records that fail to decode or a rule; counts add up;
- failed requests (500, 503, a dropped connection, a timeout) counted in the summary and the
  metrics endpoint's pipec_source_errors_total, retried after 0.1, 0.2, 0.4 s (the backoff),
  logged once per streak, then the source recovers and polls at its interval again;
- the interval, from the start of one request to the start of the next, with a slow server;
- headers with ${VAR} values arrive, with User-Agent pipec/VERSION and gzip accepted; secrets
  appear neither in logs nor in --help; an unset variable and a bad URL exit 2 before any request;
- SIGTERM during a slow request: exit 0 at once, earlier answers committed; --once polls once
  (exit 1 when that request fails);
- SIGKILL at a random moment with a checkpoint dir, then a restart: whole lines, no record twice,
  nothing missing but the answer in hand at the kill (and the request the final SIGTERM
  abandons);
- the seed api_to_kafka (pipelines/api_to_kafka.yaml, the seed with the documented changes) into
  the Kafka test broker (tests/kafkaserver.py): the topic read back with confluent_kafka holds
  exactly the records the server served, in order, and the server saw requests at the interval.
"""
import gzip
import http.server
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEEDS = "/work/shared/design/examples"
sys.path.insert(0, HERE)
import kafkaserver  # noqa: E402
from proc_util import run_summary, wait_handler  # noqa: E402

LISTEN_RE = re.compile(r"metrics: listening on http://([0-9.]+):(\d+) ")


# -- the test server ------------------------------------------------------------------------

def obj(value, status=200):
    """An answer: the JSON text of value."""
    return {"status": status, "body": json.dumps(value).encode()}


def raw(body, status=200, **kw):
    return dict({"status": status, "body": body if isinstance(body, bytes) else body.encode()}, **kw)


class Api:
    """A threaded HTTP server on 127.0.0.1:PORT. Requests to /feed... take the next answer of
    `script` (the last one repeats); each answer is a dict: status, body (bytes), headers (dict),
    delay (seconds before answering), gzip (compress when the client accepts it), drop (close
    the connection without an answer). Every request is recorded in `requests` as (monotonic
    start, path, headers dict)."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # HTTP/1.0: a connection per request, so a dropped one is a failed request (curl
            # retries a request on a reused connection that turns out closed)
            def log_message(self, *a):
                pass

            def do_GET(self):
                t = time.monotonic()
                if self.path.startswith("/old"):   # a redirect to the feed
                    self.send_response(302)
                    self.send_header("Location", "/feed" + self.path[4:])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with api.cond:
                    n = len(api.requests)
                    api.requests.append((t, self.path, dict(self.headers.items())))
                    a = api.script[min(n, len(api.script) - 1)] if api.script else obj([])
                    api.cond.notify_all()
                if a.get("delay"):
                    time.sleep(a["delay"])
                if a.get("drop"):
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                body = a.get("body", b"")
                headers = dict(a.get("headers", {}))
                if a.get("gzip") and "gzip" in self.headers.get("Accept-Encoding", ""):
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self.send_response(a.get("status", 200))
                headers.setdefault("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None   # dropped and abandoned answers
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/feed"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait_requests(self, n, timeout=30):
        """Waits until n requests arrived; returns them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the server saw %d requests, not %d, within %ss" % (len(self.requests), n, timeout))
                self.cond.wait(left)
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# -- the pipeline under test ----------------------------------------------------------------

SPEC = """# suite_http.py: an http source into a jsonl file, with a rule and a file dead letter.
pipeline: http_e2e
source:
  http:
    url: "${URL}"
    every: "${EVERY:-200ms}"
    timeout: %(timeout)s
    max_record: %(max_record)s
    headers: {X-Api-Key: "${API_KEY}", X-Client: pipec-test}
schema:
  id: int64
  name: string
  price: {type: float64, nullable: true}
  at: {type: timestamp, nullable: true}
rules:
  price_not_negative: price >= 0
sinks:
  out:
    file: {path: "${OUT}/out.jsonl"}
dead_letter:
  file: {path: "${OUT}/dead.jsonl"}
%(extra)s"""

SECRET = "k3y-s3cret-4711"


def _build(ctx, timeout="2s", extra="", max_record="4KiB"):
    spec = os.path.join(ctx.tmp, "http_e2e.yaml")
    with open(spec, "w") as f:
        f.write(SPEC % {"timeout": timeout, "extra": extra, "max_record": max_record})
    return ctx.build_pipeline(spec)


def _env(ctx, api, path="/feed", **kw):
    e = {k: v for k, v in os.environ.items() if k not in ("URL", "EVERY", "API_KEY", "OUT")}
    e.update(URL=api.url(path), OUT=ctx.tmp, API_KEY=SECRET)
    e.update({k: str(v) for k, v in kw.items()})
    return e


def _start(binary, env, args=()):
    """Starts the binary, its stderr into the file p.log (next to its outputs)."""
    log = os.path.join(env["OUT"] if "OUT" in env else os.path.dirname(binary), "stderr.log")
    with open(log, "w") as f:
        p = subprocess.Popen([binary] + list(args), env=env, stdout=subprocess.DEVNULL, stderr=f, text=True)
    p.log = log
    wait_handler(p)
    return p


def _stop(p, timeout=20):
    """SIGTERM; (exit code, stderr, seconds it took to exit)."""
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise AssertionError("still running %ss after SIGTERM:\n%s" % (timeout, open(p.log).read()[-3000:]))
    return p.returncode, open(p.log).read(), time.monotonic() - t0


def _lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def _dead(ctx):
    """The dead letters as (position, reason, detail, raw)."""
    return [(d["position"], d["reason"], d["detail"], d["raw"]) for d in _lines(os.path.join(ctx.tmp, "dead.jsonl"))]


def _http_errors(stderr):
    m = re.search(r" done: .* http_errors=(\d+)", stderr)
    return int(m.group(1)) if m else 0


def _row(id, name, price=None, at=None):
    return {"id": id, "name": name, "price": price, "at": at}


# -- tests ----------------------------------------------------------------------------------

def test_objects_and_arrays(ctx):
    """An object is one record, an array one per element; elements that are no object, records
    that do not decode and rule failures go to the dead letter at URL#poll=N[I]; [] and an empty
    body are no record."""
    nested = '{"id": 7, "name": "n}e[st", "extra": {"a": [1, {"b": "}]"}], "c": "\\"]"}, "price": 0}'
    script = [
        obj({"id": 1, "name": "one", "price": 1.5, "at": "2024-05-01T10:00:00Z"}),
        obj([{"id": 2, "name": "two"}, {"id": 3, "name": "three", "price": 2.25}, {"id": 4, "name": "four", "price": None}]),
        obj([]),
        raw(b"", status=204),
        raw('[5, "s", {"id": "x", "name": "bad id"}, {"id": 5, "name": "neg", "price": -1}, null, [1], '
            + nested + ', true, {"id": 8, "name": "\\u00e9t\\u00e9"}, nope]'),
        obj({"id": 9, "name": "last"}),
        obj([]),
    ]
    api = Api(script)
    try:
        binary = _build(ctx)
        p = _start(binary, _env(ctx, api, path="/feed?token=hidden", EVERY="100ms"))
        api.wait_requests(len(script) + 1)
        rc, err, _ = _stop(p)
    finally:
        api.close()
    assert rc == 0, err[-3000:]
    got = _lines(os.path.join(ctx.tmp, "out.jsonl"))
    want = [_row(1, "one", 1.5, "2024-05-01T10:00:00Z"), _row(2, "two"), _row(3, "three", 2.25), _row(4, "four"),
            _row(7, "n}e[st", 0.0), _row(8, "\u00e9t\u00e9"), _row(9, "last")]
    assert got == want, got
    base = api.url("/feed") + "#poll=5"
    want_dead = [
        (base + "[0]", "parse", "array element 0 is a number, not an object", "5"),
        (base + "[1]", "parse", "array element 1 is a string, not an object", '"s"'),
        (base + "[4]", "parse", "array element 4 is null, not an object", "null"),
        (base + "[5]", "parse", "array element 5 is an array, not an object", "[1]"),
        (base + "[7]", "parse", "array element 7 is a boolean, not an object", "true"),
        (base + "[9]", "parse", "array element 9 is not JSON", "nope"),
        (base + "[2]", "parse", "field 'id': expected a number, got a string", '{"id": "x", "name": "bad id"}'),
        (base + "[3]", "price_not_negative", "price >= 0 is false for price=-1", '{"id": 5, "name": "neg", "price": -1}'),
    ]
    assert _dead(ctx) == want_dead, _dead(ctx)
    s = run_summary(err)
    assert s == {"in": 15, "out": 7, "dead": 8, "dropped": 0}, s
    assert "token=hidden" not in err and "hidden" not in open(os.path.join(ctx.tmp, "dead.jsonl")).read()
    assert all(r[1] == "/feed?token=hidden" for r in api.requests), api.requests[:2]
    assert "stopped by signal; everything read is committed" in err, err


def test_bad_answers(ctx):
    """Answers that are not JSON go to the dead letter whole, with where the JSON breaks; a body
    over max_record keeps its first KiB; a gzip answer and a redirect are followed; a BOM is
    skipped."""
    big = json.dumps([{"id": i, "name": "x" * 40} for i in range(100)])
    assert len(big) > 4096
    script = [
        raw('{"id": 1, "name": "cut'),
        raw("not json at all"),
        raw('[{"id": 2, "name": "a"} {"id": 3, "name": "b"}]'),
        raw('{"id": 4, "name": "a"} trailing'),
        raw('"a string"'),
        raw('[{"id": 5, "name": "open"}'),
        raw(big),
        raw(json.dumps([{"id": 6, "name": "zipped"}]), gzip=True),
        raw(b'\xef\xbb\xbf {"id": 7, "name": "bom"}\n'),
        obj([]),
    ]
    api = Api(script)
    try:
        binary = _build(ctx)
        p = _start(binary, _env(ctx, api, path="/old", EVERY="100ms"))
        api.wait_requests(len(script) + 1)
        rc, err, _ = _stop(p)
    finally:
        api.close()
    assert rc == 0, err[-3000:]
    assert _lines(os.path.join(ctx.tmp, "out.jsonl")) == [_row(6, "zipped"), _row(7, "bom")]
    u = api.url("/old") + "#poll="   # the URL asked for, not the one redirected to
    want = [
        (u + "1", "the answer is not valid JSON: the object does not end", '{"id": 1, "name": "cut'),
        (u + "2", "the answer is not a JSON object or array (it starts with 'n')", "not json at all"),
        (u + "3", "the answer is not valid JSON: a malformed array at byte 24", '[{"id": 2, "name": "a"} {"id": 3, "name": "b"}]'),
        (u + "4", "the answer is not valid JSON: text after the object at byte 23", '{"id": 4, "name": "a"} trailing'),
        (u + "5", "the answer is not a JSON object or array (it starts with '\"')", '"a string"'),
        (u + "6", "the answer is not valid JSON: a malformed array at byte 26", '[{"id": 5, "name": "open"}'),
        (u + "7", "answer of more than 4096 bytes is longer than max_record (the first 1024 bytes are kept)", big[:1024]),
    ]
    got = [(d[0], d[2], d[3]) for d in _dead(ctx)]
    assert got == want, got
    assert all(d[1] == "parse" for d in _dead(ctx))
    assert run_summary(err) == {"in": 9, "out": 2, "dead": 7, "dropped": 0}, err[-2000:]
    assert "gzip" in api.requests[7][2].get("Accept-Encoding", ""), api.requests[7]


def test_errors_retried_with_backoff(ctx):
    """500, 503, a dropped connection and a timeout are no records: counted (summary and
    pipec_source_errors_total), logged once for the streak, retried after 0.1, 0.2, 0.4, 0.8 s
    (from the end of the failed request), then the answers come through and the interval (1 s)
    holds again."""
    script = [
        obj({"id": 1, "name": "before"}),
        obj({"error": "down"}, status=500),
        raw("busy " * 2000, status=503),   # longer than max_record: still a failed request
        {"drop": True},
        dict(obj({"id": 99, "name": "too late"}), delay=1.5),
        obj([{"id": 2, "name": "after"}]),
        obj([]),
    ]
    api = Api(script)
    try:
        binary = _build(ctx, timeout="500ms", extra='metrics: {listen: "127.0.0.1:0"}\n')
        p = _start(binary, _env(ctx, api, EVERY="1s"))
        reqs = api.wait_requests(7, timeout=60)
        metrics = _scrape(p)
        rc, err, _ = _stop(p)
    finally:
        api.close()
    assert rc == 0, err[-3000:]
    assert _lines(os.path.join(ctx.tmp, "out.jsonl")) == [_row(1, "before"), _row(2, "after")]
    assert _dead(ctx) == []
    assert _http_errors(err) == 4, err[-2000:]
    assert 'pipec_source_errors_total{pipeline="http_e2e"} 4' in metrics, metrics
    t = [r[0] for r in reqs]
    gaps = [b - a for a, b in zip(t, t[1:])]
    # 1 s after the good one; 0.1 after the 500; 0.2 after the 503; 0.4 after the drop; the
    # timed-out request took 0.5 s, then 0.8; then 1 s from the start of the good one
    lo = [0.9, 0.08, 0.18, 0.38, 0.5 + 0.78, 0.9]
    hi = [1.3, 0.4, 0.5, 0.7, 0.5 + 1.2, 1.4]
    for i, g in enumerate(gaps):
        assert lo[i] <= g <= hi[i], "gap %d is %.3f s, not in [%s, %s]: %s" % (i, g, lo[i], hi[i], gaps)
    warns = [line for line in err.splitlines() if " warn: source: http GET " in line]
    assert len(warns) == 1 and "the server answered HTTP 500 (retrying in 0.1 s)" in warns[0], warns
    assert "answers again after 4 failed requests" in err, err


def _scrape(p, timeout=20):
    """The metrics text of a running binary whose endpoint listens on a port it logged."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = LISTEN_RE.search(open(p.log).read())
        if m:
            return urllib.request.urlopen("http://%s:%s/metrics" % m.groups(), timeout=5).read().decode()
        time.sleep(0.05)
    raise AssertionError("no listening line in %r" % open(p.log).read())


def test_interval_from_request_start(ctx):
    """With a server that takes 150 ms to answer and every 400ms, requests start 400 ms apart
    (not 550): about 10 requests in 4 s."""
    api = Api([dict(obj({"id": 1, "name": "slowish"}), delay=0.15)])
    try:
        binary = _build(ctx)
        p = _start(binary, _env(ctx, api, EVERY="400ms"))
        api.wait_requests(1)
        time.sleep(4.0)
        reqs = list(api.requests)
        rc, err, _ = _stop(p)
    finally:
        api.close()
    assert rc == 0, err[-3000:]
    t = [r[0] for r in reqs]
    gaps = sorted(b - a for a, b in zip(t, t[1:]))
    assert 9 <= len(t) <= 12, (len(t), gaps)
    median = gaps[len(gaps) // 2]
    assert 0.36 <= median <= 0.47, gaps
    assert all(0.3 <= g <= 0.8 for g in gaps), gaps
    n = len(_lines(os.path.join(ctx.tmp, "out.jsonl")))
    assert n == run_summary(err)["out"] and len(t) - 1 <= n <= len(t), (n, len(t))


def test_headers_and_environment(ctx):
    """Header values with ${VAR} arrive expanded, with User-Agent pipec/VERSION, Accept:
    application/json and gzip accepted; the secret is in no log line and not in --help; an unset
    variable and a URL that is not http(s) stop the binary with exit code 2 before any request."""
    api = Api([obj({"id": 1, "name": "h"})])
    try:
        binary = _build(ctx)
        p = ctx.run([binary, "--once"], env=_env(ctx, api))
        assert len(api.requests) == 1, api.requests
        h = api.requests[0][2]
        assert h["X-Api-Key"] == SECRET and h["X-Client"] == "pipec-test", h
        assert h["User-Agent"] == "pipec/0.1.0" and h["Accept"] == "application/json", h
        assert "gzip" in h["Accept-Encoding"], h
        assert SECRET not in p.stderr and SECRET not in p.stdout
        assert _lines(os.path.join(ctx.tmp, "out.jsonl")) == [_row(1, "h")]
        help_text = ctx.run([binary, "--help"], env=_env(ctx, api)).stdout
        assert SECRET not in help_text and "API_KEY (required)" in help_text and "URL (required)" in help_text, help_text
        assert "Source: http GET ${URL} every ${EVERY:-200ms}" in help_text, help_text
        env = _env(ctx, api)
        del env["API_KEY"]
        r = ctx.run([binary, "--once"], env=env, check=False)
        assert r.returncode == 2 and "environment variable API_KEY is not set (used by source.headers.X-Api-Key)" in r.stderr, r.stderr
        r = ctx.run([binary, "--once"], env=_env(ctx, api, EVERY="soon"), check=False)
        assert r.returncode == 2 and "source.every: 'soon' is not a positive duration" in r.stderr, r.stderr
        for url in ("ftp://127.0.0.1/feed", "127.0.0.1 feed"):
            r = ctx.run([binary, "--once"], env=dict(_env(ctx, api), URL=url), check=False)
            assert r.returncode == 2 and "cannot be polled" in r.stderr, r.stderr
        assert len(api.requests) == 1, api.requests
        explain = ctx.run([ctx.pipec, "explain", os.path.join(ctx.tmp, "http_e2e.yaml")]).stdout
        assert "headers X-Api-Key, X-Client;" in explain and SECRET not in explain, explain
        assert "guarantee: no replay" in explain, explain
    finally:
        api.close()


def test_sigterm_during_slow_request(ctx):
    """A SIGTERM while a request waits for a slow server ends the run at once with exit 0; the
    earlier answers are committed."""
    api = Api([obj([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]), dict(obj({"id": 3, "name": "never"}), delay=30)])
    try:
        binary = _build(ctx, timeout="60s")
        p = _start(binary, _env(ctx, api, EVERY="100ms"))
        api.wait_requests(2)
        time.sleep(0.3)
        rc, err, secs = _stop(p)
    finally:
        api.close()
    assert rc == 0, err[-3000:]
    assert secs < (5 if ctx.san else 2), secs
    assert _lines(os.path.join(ctx.tmp, "out.jsonl")) == [_row(1, "a"), _row(2, "b")]
    assert run_summary(err) == {"in": 2, "out": 2, "dead": 0, "dropped": 0}
    assert "stopped by signal; everything read is committed" in err, err


def test_once_polls_once(ctx):
    """--once makes exactly one request and ends: exit 0 with its records (an array of 10000,
    handed out in several batches), exit 1 when it fails (an error answer, nobody listening)."""
    recs = [{"id": i, "name": "n%d" % i} for i in range(10000)]
    recs[4500]["id"] = "bad"
    api = Api([obj(recs)])
    try:
        binary = _build(ctx, max_record="1MiB")
        p = ctx.run([binary, "--once"], env=_env(ctx, api, EVERY="50ms"))
        time.sleep(0.3)
        assert len(api.requests) == 1, api.requests
        assert _lines(os.path.join(ctx.tmp, "out.jsonl")) == [_row(i, "n%d" % i) for i in range(10000) if i != 4500]
        assert [d[0] for d in _dead(ctx)] == [api.url("/feed") + "#poll=1[4500]"], _dead(ctx)
        assert run_summary(p.stderr) == {"in": 10000, "out": 9999, "dead": 1, "dropped": 0}
        api.script = [obj({"error": "x"}, status=500)]
        r = ctx.run([binary, "--once"], env=_env(ctx, api), check=False)
        assert r.returncode == 1 and "the server answered HTTP 500" in r.stderr, r.stderr
        assert len(api.requests) == 2, api.requests
    finally:
        api.close()
    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = ctx.run([binary, "--once"], env=dict(_env(ctx, api), URL="http://127.0.0.1:%d/feed" % port), check=False)
    assert r.returncode == 1 and "source: http GET http://127.0.0.1:%d/feed: " % port in r.stderr, r.stderr


def test_sigkill_with_checkpoint(ctx):
    """With a checkpoint dir, SIGKILL at a random moment and a restart: the file holds whole
    lines, no record twice, and of the first run's answers at most the one in hand at the kill
    is missing (each answer is committed before the next request); the second run's are all
    there."""
    script = [obj([{"id": 10 * i + k, "name": "r%d" % i} for k in range(3)]) for i in range(400)]
    api = Api(script)
    extra = 'checkpoint: {path: "${OUT}/ckpt", every: 10s}\n'
    try:
        binary = _build(ctx, extra=extra)
        env = _env(ctx, api, EVERY="30ms")
        p = _start(binary, env)
        api.wait_requests(8)
        time.sleep(random.uniform(0, 0.1))
        p.kill()
        p.wait()
        first = len(api.requests)
        p = _start(binary, env)
        api.wait_requests(first + 6)
        rc, err, _ = _stop(p)
        total = len(api.requests)
    finally:
        api.close()
    assert rc == 0, err[-3000:]
    with open(os.path.join(ctx.tmp, "out.jsonl")) as f:
        text = f.read()
    assert text.endswith("\n"), text[-200:]
    ids = [json.loads(line)["id"] for line in text.splitlines()]
    assert len(ids) == len(set(ids)), "a record twice: %s" % ids
    served = {10 * i + k for i in range(total) for k in range(3)}
    assert set(ids) <= served, sorted(set(ids) - served)
    missing = served - set(ids)
    # at most the answer in hand at the kill, and the request a SIGTERM abandons (its answer
    # was never read)
    may_miss = {10 * i + k for i in (first - 1, total - 1) for k in range(3)}
    assert missing <= may_miss, (sorted(missing), first, total)
    assert run_summary(err)["out"] == len([i for i in ids if i >= 10 * first]), err[-2000:]


# -- the seed api_to_kafka -------------------------------------------------------------------

SEED_CHANGES = [('every: 1s}', 'every: "${API_EVERY:-1s}"}'), ("topic: api_events,", 'topic: "${API_TOPIC:-api_events}",')]


def _spec_lines(path):
    """The spec without comment lines and without its inline tests (the last top-level key)."""
    with open(path) as f:
        text = "".join(line for line in f if not line.lstrip().startswith("#"))
    return text.split("\ntests:\n", 1)[0].rstrip("\n") + "\n"


def test_seed_api_to_kafka(ctx):
    """The seed polls the test server at its interval (250 ms from the environment) and publishes
    every record it served, in order, to its topic (read back with confluent_kafka); a 503 in
    between is counted and retried; a record that does not decode goes to standard error."""
    want = _spec_lines(os.path.join(SEEDS, "api_to_kafka.yaml"))
    for old, new in SEED_CHANGES:
        assert want.count(old) == 1, old
        want = want.replace(old, new)
    spec = os.path.join(ROOT, "pipelines", "api_to_kafka.yaml")
    assert _spec_lines(spec) == want, "pipelines/api_to_kafka.yaml is not the seed with the documented changes"
    assert ": ok (pipeline api_to_kafka)" in ctx.run([ctx.pipec, "check", os.path.join(SEEDS, "api_to_kafka.yaml")]).stdout
    if not kafkaserver.available():
        raise AssertionError("needs the Kafka test broker, kcat and python3-confluent-kafka (make deps)")
    ks = kafkaserver.server()
    topic = ks.new_topic("api_events", 1)
    served, script = [], []
    for i in range(12):
        t = "2024-05-01T10:00:%02dZ" % i
        if i == 4:
            script.append(raw("unavailable", status=503))
        elif i % 3 == 0:
            rec = {"ts": t, "value": i + 0.25}
            served.append(rec)
            script.append(obj(rec))
        elif i == 7:
            script.append(obj([{"ts": t, "value": "abc"}, {"ts": t, "value": None}]))
            served.append({"ts": t, "value": None})
        else:
            recs = [{"ts": t, "value": i * 1.5}, {"ts": t.replace("Z", ".5Z"), "value": -i}]
            served.extend(recs)
            script.append(obj(recs))
    script.append(obj([]))
    api = Api(script)
    try:
        binary = ctx.build_pipeline(spec)
        env = dict(os.environ, API_URL=api.url("/stream"), API_EVERY="250ms", API_TOPIC=topic,
                   KAFKA_BROKERS=ks.bootstrap(), METRICS_LISTEN="127.0.0.1:0")
        p = _start(binary, env)
        reqs = api.wait_requests(len(script) + 2, timeout=60)
        got = ks.consume(topic, n=len(served), timeout=30)
        rc, err, _ = _stop(p)
    finally:
        api.close()
    assert rc == 0, err[-3000:]
    values = [json.loads(r.value) for r in got]
    want_values = [{"ts": r["ts"], "value": None if r["value"] is None else float(r["value"])} for r in served]
    assert values == want_values, values
    assert len(ks.consume(topic)) == len(served)
    dead = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(d["position"], d["reason"]) for d in dead] == [(api.url("/stream") + "#poll=8[0]", "parse")], dead
    s = run_summary(err)
    assert s == {"in": len(served) + 1, "out": len(served), "dead": 1, "dropped": 0}, s
    assert _http_errors(err) == 1, err[-2000:]
    t = [r[0] for r in reqs]
    gaps = [b - a for a, b in zip(t, t[1:])]
    # gap 4 follows the 503: the 0.1 s retry; gap 0 can be longer: the first commit waits for
    # the producer to connect (each answer's messages are delivered before the next request)
    normal = [g for i, g in enumerate(gaps) if i not in (0, 4)]
    assert 0.08 <= gaps[4] <= 0.3, gaps
    assert all(0.2 <= g <= 0.5 for g in normal) and gaps[0] >= 0.2, gaps
    assert 0.23 <= sorted(normal)[len(normal) // 2] <= 0.3, gaps
