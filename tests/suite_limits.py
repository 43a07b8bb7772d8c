"""suite_limits.py - limits.memory (runtime/rt_limits.c): window state beyond the limit stops the
run loudly, with exit 1, naming the open groups, before a commit, and a restart with a larger
limit ends with every group exactly once; a kafka source with a backlog reads it within the
limit."""
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kafkaserver  # noqa: E402
from proc_util import env_without_pg as _env, run_summary as _summary  # noqa: E402

SPEC = os.path.join(HERE, "e2e", "limits_window.yaml")


def _drop(inbox, name, keys):
    path = os.path.join(inbox, name)
    with open(path + ".tmp", "w") as f:
        f.write("key,ts,n\n")
        for i in keys:
            f.write("key-%07d,2024-05-01T%02d:%02d:%02dZ,%d\n" % (i, (i // 3600) % 24, (i // 60) % 60, i % 60, i % 10))
    os.rename(path + ".tmp", path)


def test_window_state_beyond_the_limit_stops_and_resumes(ctx):
    small = ctx.build_pipeline(SPEC)
    big_spec = os.path.join(ctx.tmp, "limits_big.yaml")
    with open(SPEC) as f:
        text = f.read()
    assert "limits: {memory: 32MiB}" in text
    with open(big_spec, "w") as f:
        f.write(text.replace("limits: {memory: 32MiB}", "limits: {memory: 1GiB}"))
    big = ctx.build_pipeline(big_spec)
    inbox, out, state = (os.path.join(ctx.tmp, d) for d in ("in", "out", "state"))
    for d in (inbox, out):
        os.makedirs(d)
    env = _env(INBOX=inbox, OUT=out, STATE_DIR=state)
    proc = subprocess.Popen([small], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _drop(inbox, "a.csv", range(1000))   # fits: read and committed (the file is then deleted)
        deadline = time.time() + 60
        while os.path.exists(os.path.join(inbox, "a.csv")) or not os.path.exists(os.path.join(state, "checkpoint")):
            assert time.time() < deadline and proc.poll() is None, "a.csv not committed"
            time.sleep(0.02)
        _drop(inbox, "b.csv", range(1000, 601000))   # 600,000 more groups: far beyond 32 MiB
        err = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err[-3000:]
    m = re.search(r"memory: ([\d.]+) MiB resident, beyond limits\.memory \(32(\.0)? MiB\); window per_day holds (\d+) open groups", err)
    assert m and float(m.group(1)) >= 32 and 1000 < int(m.group(3)) <= 601000, err[-3000:]
    assert os.path.exists(os.path.join(inbox, "b.csv")), "b.csv was retired without a commit"
    assert os.path.getsize(os.path.join(out, "days.jsonl")) == 0   # windows close only at the end
    p = subprocess.run([big, "--once"], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    # resumed after the last commit: a.csv, and b.csv up to where the first run had committed
    assert 0 < _summary(p.stderr)["in"] <= 600000 and "restored window state" in p.stderr, p.stderr[-2000:]
    rows = {}
    with open(os.path.join(out, "days.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            assert r["key"] not in rows, "%s twice" % r["key"]
            rows[r["key"]] = (r["window_start"], r["events"], r["total"])
    assert len(rows) == 601000
    for i in (0, 999, 1000, 345678, 600999):
        assert rows["key-%07d" % i] == ("2024-05-01T00:00:00Z", 1, i % 10), (i, rows["key-%07d" % i])


def _peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))


def test_kafka_prefetch_within_the_limit(ctx):
    """A backlog of 200 MB in 1 KB messages read with limits.memory 64MiB: the prefetch queue and
    fetch size derived from it are logged, the whole process stays below 64 MiB (peak resident)
    and reads everything. (librdkafka's defaults allow 64 MiB of queue and 50 MiB fetches; this
    pipeline keeps up with the test broker, so without the limit it stays small too.)"""
    ks = kafkaserver.server()
    topic = ks.new_topic("limits", 4)
    n = 200000
    path = os.path.join(ctx.tmp, "produce.txt")
    with open(path, "w") as f:
        for i in range(n):
            f.write("%d,%s\n" % (i, "x" * 1000))
    subprocess.run(["kcat", "-P", "-b", ks.bootstrap(), "-t", topic, "-l", path], check=True, timeout=300)
    # AddressSanitizer's shadow memory and quarantine make resident memory meaningless: the
    # sanitized run takes a larger limit and checks only that everything is read
    limit = "512MiB" if ctx.san else "64MiB"
    spec = os.path.join(ctx.tmp, "kafka_limits.yaml")
    with open(spec, "w") as f:
        f.write('''pipeline: kafka_limits
source:
  kafka: {brokers: "${KAFKA_BROKERS}", topic: "${TOPIC}", group: "${GROUP}"}
  format:
    csv: {}
schema:
  id: int64
  pad: string
sinks:
  ids:
    columns: {id: id}
    file: {path: "${OUT}/ids.csv", format: csv}
limits: {memory: %s}
''' % limit)
    binary = ctx.build_pipeline(spec)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    env = _env(KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP=topic, OUT=out)
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ids = os.path.join(out, "ids.csv")
    deadline = time.time() + 240
    while not os.path.exists(ids) or sum(1 for _ in open(ids)) < n + 1:
        assert time.time() < deadline and proc.poll() is None, "not all messages read"
        time.sleep(0.2)
    peak = _peak_rss_kib(proc.pid)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 0, err[-3000:]
    assert _summary(err)["in"] == n, err[-2000:]
    if ctx.san:
        assert "limits: memory 512 MiB: the kafka prefetch queue holds at most 128 MiB, a fetch 32 MiB" in err, err[-2000:]
    else:
        assert "limits: memory 64 MiB: the kafka prefetch queue holds at most 16 MiB, a fetch 4 MiB" in err, err[-2000:]
        assert peak < 64 * 1024, peak


def test_limits_spec_errors(ctx):
    with open(SPEC) as f:
        text = f.read()
    for bad, msg in (("limits: {memory: 1MiB}", "memory must be at least 16MiB"),
                     ("limits: {memory: lots}", "memory must be a size such as 512MiB or 2GiB"),
                     ("limits: {memory: 99999999999999GiB}", "memory must be a size"),
                     ("limits: {memroy: 1GiB}", "memory"),
                     ("limits: 1GiB", "limits is a map")):
        path = os.path.join(ctx.tmp, "bad_limits.yaml")
        with open(path, "w") as f:
            f.write(text.replace("limits: {memory: 32MiB}", bad))
        r = subprocess.run([ctx.pipec, "check", path], capture_output=True, text=True)
        assert r.returncode == 1 and re.search(r"bad_limits\.yaml:\d+:\d+: error: .*" + re.escape(msg), r.stderr), (bad, r.stderr)
