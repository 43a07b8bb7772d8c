"""suite_kafka.py - the kafka source against the test broker (tests/kafkaserver.py: librdkafka's
mock cluster over TCP), fed by kcat, a client we did not write.

- JSON messages in 8 partitions into PostgreSQL (tests/kafka/to_postgres.yaml), killed with
  SIGKILL 10 times while it reads and restarted: every valid message exactly one row, every bad
  one exactly one dead-letter row with its topic/partition/offset, the offsets in the sink's
  checkpoint; a rerun reads nothing; more messages later are read once.
- CSV messages into a file sink with a checkpoint dir: SIGTERM and restart, the output equals the
  input; the offsets in the checkpoint file; at least once without a checkpoint (group commits).
"""
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkaserver  # noqa: E402
import pgserver  # noqa: E402
from proc_util import env_without_pg as _env, run_summary as _summary, wait_handler  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def _run(binary, env, args=(), timeout=240):
    p = subprocess.run([binary] + list(args), env=env, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, "exit %d\n%s" % (p.returncode, p.stderr[-4000:])
    return p


def _produce(ks, topic, lines, tmp):
    """Produces one message per line with kcat (keys none: the partitioner spreads them)."""
    path = os.path.join(tmp, "produce.txt")
    with open(path, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    subprocess.run(["kcat", "-P", "-b", ks.bootstrap(), "-t", topic, "-z", "lz4", "-l", path],
                   check=True, timeout=300)


def _start_after_assignment(binary, env):
    """Starts the binary and returns (proc, lines, event): event is set once it logged its
    partition assignment (the group takes a few seconds to settle after a killed member)."""
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines, assigned = [], threading.Event()

    def reader():
        for line in proc.stderr:
            lines.append(line)
            if "kafka: assigned" in line:
                assigned.set()
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    return proc, lines, assigned, t


def _messages(n, seed):
    rng = random.Random(seed)
    good, bad = {}, {}
    out = []
    for i in range(n):
        if i % 1009 == 7:
            out.append('{"id": %d, "user": "u%d", "amount": -1}' % (i, i % 300))   # breaks the rule
            bad[i] = "amount_not_negative"
        elif i % 2003 == 11:
            out.append('{"id": %d, "user": ' % i)                                   # not JSON
            bad[i] = "parse"
        else:
            amount = rng.randrange(0, 100000) / 100
            out.append(json.dumps({"id": i, "user": "u%d" % (i % 300), "amount": amount}))
            good[i] = amount
    return out, good, bad


def test_to_postgres_exactly_once_across_10_sigkills(ctx):
    """Done-when of the Kafka issue: messages in 8 partitions into PostgreSQL, SIGKILL 10 times."""
    if not kafkaserver.available() or not pgserver.available():
        raise AssertionError("needs the test broker and PostgreSQL (make deps)")
    ks = kafkaserver.server()
    srv = pgserver.server()
    db = srv.new_db("kafka")
    topic = ks.new_topic("events", 8)
    n = 200000 if ctx.san else 1000000
    assert ks.retention_bytes >= 64 << 20, "the test broker keeps only %d bytes per partition: %s" % (
        ks.retention_bytes, ks.retention_note)
    lines, good, bad = _messages(n, seed=5)
    # 90% first, the rest while the runs are killed
    first = n * 9 // 10
    _produce(ks, topic, lines[:first], ctx.tmp)
    produced = first
    binary = ctx.build_pipeline(os.path.join(HERE, "kafka", "to_postgres.yaml"))
    env = _env(KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP=topic + "_g", PG_DSN=srv.dsn(db))
    rng = random.Random(11)
    kills, mid_stream, logs = 0, 0, []
    for attempt in range(30):
        if kills >= 10:
            break
        if attempt == 5:
            _produce(ks, topic, lines[first:], ctx.tmp)
            produced = n
        proc, out, assigned, reader = _start_after_assignment(binary, env)
        wait_handler(proc)
        assigned.wait(60)
        time.sleep(rng.uniform(0.02, 0.35))   # the run reads at some 100k messages a second
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        reader.join(10)
        logs.append("".join(out))
        assert proc.returncode in (0, -9), "run %d: exit %r\n%s" % (attempt, proc.returncode, logs[-1][-3000:])
        rows = int(srv.psql("SELECT count(*) FROM events", db=db)[0][0])
        mid_stream += rows < sum(1 for i in good if i < produced)
    with open(os.path.join(ctx.tmp, "runs.log"), "w") as f:
        f.write("\n----\n".join(logs))
    assert kills == 10, "only %d runs could be killed" % kills
    assert mid_stream >= 5, "only %d kills came before the run had everything" % mid_stream
    _run(binary, env, args=["--once"])
    got = srv.psql("SELECT id, amount::text FROM events", db=db)
    ids = [int(r[0]) for r in got]
    assert len(ids) == len(set(ids)), "%d rows twice" % (len(ids) - len(set(ids)))
    assert set(ids) == set(good), "missing %d, unexpected %d" % (len(set(good) - set(ids)), len(set(ids) - set(good)))
    assert all(float(a) == good[int(i)] for i, a in got)
    dead = srv.psql("SELECT position, reason, raw FROM rejected", db=db)
    assert len(dead) == len(bad), (len(dead), len(bad))
    for pos, reason, raw in dead:
        t, part, off = pos.rsplit("/", 2)
        assert t == topic and 0 <= int(part) < 8 and int(off) >= 0, pos
        i = int(raw.split(":", 1)[1].split(",", 1)[0])
        assert bad[i] == reason, (raw, reason)
    # the pipeline may share its group (pipec explain: instances), so the offsets are per
    # partition in table pipec_kafka_offsets, not in a checkpoint: each partition that got
    # messages (kcat's partitioner may leave one empty) at its end
    offsets = srv.psql("SELECT topic, partition, next_offset FROM pipec_kafka_offsets WHERE key = 'kafka_to_pg/events'", db=db)
    ends = {p: hi for p, (lo, hi) in ks.watermarks(topic).items() if hi > 0}
    assert all(o[0] == topic for o in offsets), offsets
    assert {int(o[1]): int(o[2]) for o in offsets} == ends, (offsets, ends)
    assert sum(ends.values()) == n, ends
    # nothing new: nothing read; new messages: read once
    assert _summary(_run(binary, env, args=["--once"]).stderr)["in"] == 0
    more, good2, _ = _messages(n + 500, seed=6)
    _produce(ks, topic, more[n:], ctx.tmp)
    assert _summary(_run(binary, env, args=["--once"]).stderr)["in"] == 500
    assert int(srv.psql("SELECT count(*) FROM events", db=db)[0][0]) == len(good) + sum(1 for i in good2 if i >= n)


def _events(n, seed, base_ms=1700000000000):
    """_messages with an event time (2 ms apart, so some 40 ten-second windows per user)."""
    lines, good, bad = _messages(n, seed)
    out, ts = [], {}
    for i, line in enumerate(lines):
        if i in bad and bad[i] == "parse":
            out.append(line)
            continue
        rec = json.loads(line)
        rec["ts"] = ts[i] = base_ms + 2 * i
        out.append(json.dumps(rec))
    return out, good, bad, ts


def _window_totals(good, ts, users=300):
    """What tests/kafka/shared_windows.yaml must store: per (window start ms, user)."""
    acc = {}
    for i, amount in good.items():
        k = (ts[i] - ts[i] % 10000, "u%d" % (i % users))
        a = acc.setdefault(k, [0, 0.0, amount, amount])
        a[0] += 1
        a[1] += amount
        a[2] = min(a[2], amount)
        a[3] = max(a[3], amount)
    return acc


def _check_totals(srv, db, want, label):
    got = srv.psql("SELECT (extract(epoch FROM window_start) * 1000)::bigint, \"user\", n, total, lo, hi, mean "
                   "FROM totals", db=db)
    assert len(got) == len(want), "%s: %d window rows, expected %d" % (label, len(got), len(want))
    bad = []
    for start, user, n, total, lo, hi, mean in got:
        w = want.get((int(start), user))
        if w is None:
            bad.append(("unexpected", start, user))
            continue
        ok = (int(n) == w[0] and float(lo) == w[2] and float(hi) == w[3] and
              math.isclose(float(total), w[1], rel_tol=1e-9) and math.isclose(float(mean), w[1] / w[0], rel_tol=1e-9))
        if not ok:
            bad.append(((start, user), (n, total, lo, hi, mean), w))
    assert not bad, "%s: %d window rows differ, e.g. %r" % (label, len(bad), bad[:5])


def test_two_instances_share_the_group(ctx):
    """Done-when of the Kafka issue: two instances of one binary in one group share the
    partitions; killed (SIGKILL, sometimes SIGTERM) and restarted at random while messages keep
    coming, they leave exactly the rows, and through merge exactly the window totals, of a single
    clean run. Two pipelines run side by side on the same topic, two instances each: rows into an
    insert sink (tests/kafka/to_postgres.yaml) and 10-second totals into a merge sink
    (tests/kafka/shared_windows.yaml). The expected rows and totals are computed here from the
    messages produced, and a clean single run into another database must match them too."""
    if not kafkaserver.available() or not pgserver.available():
        raise AssertionError("needs the test broker and PostgreSQL (make deps)")
    ks = kafkaserver.server()
    srv = pgserver.server()
    db, clean_db = srv.new_db("shared"), srv.new_db("clean")
    topic = ks.new_topic("shared", 8)
    n = 40000 if ctx.san else 160000
    lines, good, bad, ts = _events(n, seed=21)
    want = _window_totals(good, ts)
    bins = {"rows": ctx.build_pipeline(os.path.join(HERE, "kafka", "to_postgres.yaml")),
            "win": ctx.build_pipeline(os.path.join(HERE, "kafka", "shared_windows.yaml"))}
    env = {kind: _env(KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP="%s_%s" % (topic, kind), PG_DSN=srv.dsn(db))
           for kind in bins}
    quarter = n // 4
    _produce(ks, topic, lines[:quarter], ctx.tmp)
    produced = quarter
    procs, logs = {}, []

    def start(slot):
        procs[slot] = _start_after_assignment(bins[slot[0]], env[slot[0]])
        wait_handler(procs[slot][0])

    def stop(slot, sig):
        proc, out, _, reader = procs.pop(slot)
        if proc.poll() is None:
            proc.send_signal(sig)
        proc.wait(timeout=60)
        reader.join(10)
        logs.append("%s: %s\n%s" % (slot, sig, "".join(out)))
        ok = (0, -9) if sig == signal.SIGKILL else (0,)
        assert proc.returncode in ok, "%s: exit %r\n%s" % (slot, proc.returncode, logs[-1][-3000:])

    rng = random.Random(12)
    slots = [(kind, i) for kind in bins for i in range(2)]
    for slot in slots:
        start(slot)
    kills = terms = mid_stream = 0
    try:
        for round_ in range(12):
            time.sleep(rng.uniform(0.4, 1.6))
            if round_ in (2, 5, 8):
                _produce(ks, topic, lines[produced:produced + quarter], ctx.tmp)
                produced += quarter
            slot = rng.choice(slots)
            sig = signal.SIGTERM if rng.random() < 0.3 else signal.SIGKILL
            stop(slot, sig)
            kills += sig == signal.SIGKILL
            terms += sig == signal.SIGTERM
            rows = int(srv.psql("SELECT count(*) FROM events", db=db)[0][0]) if slot[0] == "rows" else None
            mid_stream += rows is not None and rows < len(good)
            start(slot)
    finally:
        for slot in list(procs):
            stop(slot, signal.SIGTERM)
        with open(os.path.join(ctx.tmp, "runs.log"), "w") as f:
            f.write("\n----\n".join(logs))
    assert produced == n
    shared = [l for l in logs if re.search(r"kafka: assigned [1-7] partitions?\n", l)]
    assert shared, "the two instances never shared the partitions (see runs.log)"
    assert kills >= 5 and mid_stream >= 2, (kills, terms, mid_stream)
    for kind in bins:   # what is left, by one instance
        _run(bins[kind], env[kind], args=["--once"])
    clean_env = {kind: dict(env[kind], GROUP="%s_%s_clean" % (topic, kind), PG_DSN=srv.dsn(clean_db)) for kind in bins}
    for kind in bins:
        _run(bins[kind], clean_env[kind], args=["--once"])
    for d, label in ((db, "shared"), (clean_db, "clean")):
        ids = [int(r[0]) for r in srv.psql("SELECT id FROM events", db=d)]
        assert len(ids) == len(set(ids)), "%s: %d rows twice" % (label, len(ids) - len(set(ids)))
        assert set(ids) == set(good), "%s: missing %d, unexpected %d" % (label, len(set(good) - set(ids)), len(set(ids) - set(good)))
        for table in ("rejected",):   # both pipelines dead-letter the same messages, once each
            got = srv.psql("SELECT count(*) FROM %s" % table, db=d)[0][0]
            assert int(got) == 2 * len(bad), (label, got, len(bad))
        _check_totals(srv, d, want, label)


def test_csv_to_file_sigterm_and_group_commits(ctx):
    ks = kafkaserver.server()
    topic = ks.new_topic("csv", 3)
    lines = ["%d,name %d,%s" % (i, i, "" if i % 10 == 0 else str(i * 1.5)) for i in range(3000)]
    _produce(ks, topic, lines, ctx.tmp)
    spec = os.path.join(ctx.tmp, "csv.yaml")
    with open(spec, "w") as f:
        f.write('''pipeline: kafka_csv
source:
  kafka:
    brokers: "${KAFKA_BROKERS}"
    topic: "${TOPIC}"
    group: "${GROUP}"
    properties: {session.timeout.ms: "6000", fetch.wait.max.ms: "20"}
  format:
    csv: {}
schema:
  id: int64
  name: string
  x: {type: float64, nullable: true}
sinks:
  out:
    file: {path: "${OUT}/out.csv", format: csv}
dead_letter:
  file: {path: "${OUT}/dead.jsonl", format: jsonl}
checkpoint: {path: "${CKPT:-}", every: 100ms}
''')
    binary = ctx.build_pipeline(spec)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    env = _env(KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP=topic + "_a", OUT=out,
               CKPT=os.path.join(ctx.tmp, "ck"))
    proc, logs, assigned, reader = _start_after_assignment(binary, env)
    wait_handler(proc)
    assert assigned.wait(60), "".join(logs)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    reader.join(10)
    assert proc.returncode == 0, "".join(logs)[-3000:]
    _run(binary, env, args=["--once"])
    with open(os.path.join(out, "out.csv")) as f:
        rows = f.read().splitlines()
    assert rows[0] == "id,name,x"
    got = sorted(rows[1:], key=lambda r: int(r.split(",")[0]))
    want = ["%d,name %d,%s" % (i, i, "" if i % 10 == 0 else repr(i * 1.5).rstrip("0").rstrip(".")) for i in range(3000)]
    assert got == want, (got[:3], want[:3])
    with open(os.path.join(ctx.tmp, "ck", "checkpoint")) as f:
        offsets = [l.split() for l in f if l.startswith("kafka ")]
    # kcat's partitioner may leave a partition empty: no message read, no offset kept for it
    assert set(int(o[1]) for o in offsets) <= {0, 1, 2} and sum(int(o[2]) for o in offsets) == 3000, offsets
    # without a checkpoint the group's committed offsets are the position (at least once)
    env2 = _env(KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP=topic + "_b", OUT=out + "2", CKPT="")
    os.makedirs(out + "2")
    p = _run(binary, env2, args=["--once"])
    assert _summary(p.stderr)["in"] == 3000
    p = _run(binary, env2, args=["--once"])
    assert _summary(p.stderr)["in"] == 0, p.stderr[-2000:]


def test_kafka_lag_metric(ctx):
    """pipec_source_lag{kind="kafka"}: the messages behind the partitions' high watermarks, more
    than zero while a backlog is read and zero once it is; in = out on the same endpoint."""
    ks = kafkaserver.server()
    topic = ks.new_topic("lag", 2)
    n = 500000
    _produce(ks, topic, ["%d,n%d" % (i, i) for i in range(n)], ctx.tmp)
    spec = os.path.join(ctx.tmp, "lag.yaml")
    with open(spec, "w") as f:
        f.write('''pipeline: kafka_lag
source:
  kafka: {brokers: "${KAFKA_BROKERS}", topic: "${TOPIC}", group: "${TOPIC}", properties: {fetch.wait.max.ms: "20"}}
  format:
    csv: {}
schema:
  id: int64
  name: string
sinks:
  out:
    file: {path: "${OUT}/out.csv", format: csv}
metrics: {listen: "127.0.0.1:0"}
''')
    binary = ctx.build_pipeline(spec)
    proc, logs, assigned, reader = _start_after_assignment(binary, _env(KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, OUT=ctx.tmp))
    wait_handler(proc)
    try:
        deadline = time.time() + 120
        while not any("metrics: listening on" in l for l in logs):
            assert time.time() < deadline and proc.poll() is None, "".join(logs)
            time.sleep(0.01)
        url = re.search(r"listening on (http://[0-9.:]+)", "".join(logs)).group(1) + "/metrics"
        max_lag, samples = 0, {}
        while True:
            with urllib.request.urlopen(url, timeout=10) as r:
                samples = dict(re.findall(r'^(pipec_records_in_total|pipec_records_out_total|pipec_source_lag)\{[^}]*\} (\d+)$',
                                          r.read().decode(), re.M))
            lag = int(samples.get("pipec_source_lag", -1))
            max_lag = max(max_lag, lag)
            if samples["pipec_records_in_total"] == str(n) and lag == 0:
                break
            assert time.time() < deadline and proc.poll() is None, (samples, "".join(logs)[-2000:])
            time.sleep(0.01)
        assert max_lag > 0 and samples["pipec_records_out_total"] == str(n), (max_lag, samples)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        reader.join(10)
    assert proc.returncode == 0, "".join(logs)[-3000:]


def test_kafka_sink_and_dead_letter(ctx):
    """Rows to a topic (JSON values, keys, headers naming the pipeline and the source position),
    a window's rows as CSV messages, rejected records to a dead-letter topic; read back with
    confluent_kafka. A kill and a rerun may send rows again (at least once), never lose one."""
    ks = kafkaserver.server()
    src = ks.new_topic("in", 4)
    out, counts, dead = ks.new_topic("out", 4), ks.new_topic("counts", 1), ks.new_topic("dead", 1)
    lines = ['{"id": %d, "user": "u%d", "amount": %s}' % (i, i % 7, "null" if i % 50 == 0 else i / 4)
             for i in range(2000)] + ['{"id": "x"}', "not json"]
    ks.produce(src, lines)
    spec = os.path.join(ctx.tmp, "sink.yaml")
    with open(spec, "w") as f:
        f.write('''pipeline: kafka_sink
source:
  kafka:
    brokers: "${KAFKA_BROKERS}"
    topic: "${SRC}"
    group: "${SRC}_g"
    properties: {session.timeout.ms: "6000", fetch.wait.max.ms: "20"}
  format:
    json: {}
schema:
  id: int64
  user: string
  amount: {type: float64, nullable: true}
windows:
  per_user:
    tumbling: 1h
    group_by: [user]
    select:
      n: count()
      total: sum(amount)
sinks:
  rows:
    kafka: {brokers: "${KAFKA_BROKERS}", topic: "${OUT}", key: user, format: json}
  totals:
    from: per_user
    kafka: {brokers: "${KAFKA_BROKERS}", topic: "${COUNTS}", key: "user || '/' || cast(n as string)", format: csv}
dead_letter:
  kafka: {brokers: "${KAFKA_BROKERS}", topic: "${DEAD}"}
checkpoint: {path: "${CKPT}", every: 100ms}
''')
    p = subprocess.run([os.path.join(ctx.root, "bin", "pipec"), "explain", spec], capture_output=True, text=True)
    assert "guarantee: at least once" in p.stdout, p.stdout
    binary = ctx.build_pipeline(spec)
    env = _env(KAFKA_BROKERS=ks.bootstrap(), SRC=src, OUT=out, COUNTS=counts, DEAD=dead,
               CKPT=os.path.join(ctx.tmp, "ck"))
    s = _summary(_run(binary, env, args=["--once"]).stderr)
    assert s == {"in": 2002, "out": 2000, "dead": 2, "dropped": 0}, s
    rows = ks.consume(out, n=2000)
    assert len(rows) == 2000
    by_id = {}
    for r in rows:
        v = json.loads(r.value)
        assert r.key == v["user"], r
        h = dict(r.headers)
        assert h["pipec.pipeline"] == "kafka_sink"
        t, part, off = h["pipec.position"].rsplit("/", 2)
        assert t == src and 0 <= int(part) < 4 and int(off) >= 0, h
        by_id[v["id"]] = v
    assert sorted(by_id) == list(range(2000))
    assert all(by_id[i]["amount"] == (None if i % 50 == 0 else i / 4) for i in range(2000))
    totals = ks.consume(counts, n=7)
    assert len(totals) == 7
    for r in totals:
        start, end, user, n, total = r.value.split(",")
        ids = [i for i in range(2000) if i % 7 == int(user[1:])]
        assert int(n) == len(ids) and r.key == "%s/%s" % (user, n), r
        assert abs(float(total) - sum(i / 4 for i in ids if i % 50)) < 1e-6, r
    dl = ks.consume(dead, n=2)
    assert sorted(json.loads(r.value)["raw"] for r in dl) == sorted(lines[-2:])
    assert all(json.loads(r.value)["position"].startswith(src + "/") for r in dl)
    # a rerun reads nothing new and sends nothing
    assert _summary(_run(binary, env, args=["--once"]).stderr)["in"] == 0
    assert len(ks.consume(out)) == 2000
