"""suite_faults.py - the fault suite behind `make faults` (tests/run.py --faults; `make test`
skips it): pipelines of tests/faults/*.yaml killed with SIGKILL at random points and inside
commits, restarted until their input is consumed, then checked with exact counts by readers of
our own (plain file reads, the sqlite3 program, psql, DuckDB for Parquet, confluent_kafka):

- every source: folder (sinks.yaml), file (kafka_sink.yaml, disk_full.yaml), Kafka
  (kafka_source.yaml), PostgreSQL poll (pg_poll.yaml) and CDC (pg_cdc.yaml);
- every sink: file, SQLite, Parquet and PostgreSQL in one pipeline (sinks.yaml), Kafka
  (kafka_sink.yaml, at least once: every record, duplicates allowed, as docs/delivery.md says);
- the PostgreSQL server stopped and started mid-run (PostgreSQL sink, poll and CDC sources), the
  test broker taken down and up mid-run (Kafka source and sink);
- a full tmpfs under the file and the Parquet sink: ENOSPC with the path, exit 1, a restart
  with space resumes exactly;
- SIGTERM while idle, while reading, during a commit and as windows close: exit 0, the restart
  continues exactly.

FAULT_SEED=N repeats a run (the seed is printed first), FAULT_ROUNDS=N sets the kills per test.
"""
import datetime
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
import kafkaserver  # noqa: E402
import pgserver  # noqa: E402
from proc_util import run_summary  # noqa: E402

print("fault suite: FAULT_SEED=%d FAULT_ROUNDS=%d" % (fl.seed(), fl.rounds()), flush=True)


def _spec(name):
    return os.path.join(fl.SPECS, name + ".yaml")


def _pg():
    if not pgserver.available():
        raise AssertionError("needs PostgreSQL 15 (make deps)")
    return pgserver.server()


def _kafka():
    if not kafkaserver.available():
        raise AssertionError("needs the test broker (make deps)")
    return kafkaserver.server()


# --- every database and file sink from a folder ---------------------------------------------

def _folder(ctx):
    d = {k: os.path.join(ctx.tmp, k.lower()) for k in ("INBOX", "ARCHIVE", "OUT")}
    for v in d.values():
        os.makedirs(v, exist_ok=True)
    return d


def _check_sinks(ctx, srv, db, d, recs):
    good, bad = fl.good_bad(recs)
    out = d["OUT"]
    fl.exact(fl.jsonl_ids(os.path.join(out, "rows.jsonl")), good, "file sink")
    fl.exact(fl.sqlite_ids(os.path.join(out, "rows.db"), "rows"), good, "sqlite sink")
    fl.exact(fl.duckdb_ids(os.path.join(out, "lake"), ctx.tmp), good, "parquet sink")
    fl.exact([int(r[0]) for r in srv.psql("SELECT id FROM rows", db=db)], good, "postgres sink")
    fl.exact(fl.dead_ids(os.path.join(out, "dead.jsonl")), bad, "dead letter")
    assert os.listdir(d["INBOX"]) == [], os.listdir(d["INBOX"])
    assert len(os.listdir(d["ARCHIVE"])) == len({r[0] // 10000 for r in recs}), "archive: %d files" % len(os.listdir(d["ARCHIVE"]))


def test_sinks_sigkill(ctx):
    """A hot folder into file, SQLite, Parquet and PostgreSQL sinks: SIGKILL at random points
    and the moment a checkpoint is being written, files dropped between runs; afterwards every
    sink holds each good record once, the dead letter each bad one, every file archived."""
    r = fl.rng("sinks_sigkill")
    srv = _pg()
    db = srv.new_db("faults_sinks")
    d = _folder(ctx)
    binary = ctx.build_pipeline(_spec("sinks"))
    run = fl.Runner(binary, fl.env(PG_DSN=srv.dsn(db), PIPEC_RT_CHUNK=65536, **d), ctx.tmp, args=["--once"])
    recs = []
    nfile = 0
    # a run of a few files can end within a few milliseconds on an idle machine: short delays,
    # and as many attempts as it takes for the kills to land
    for k in range(fl.rounds() * 10):
        for _ in range(r.randint(1, 3)):
            new = fl.records(nfile * 10000, r.randint(500, 8000), r)
            fl.drop_csv(d["INBOX"], "f%04d.csv" % nfile, new, ctx.tmp)
            recs += new
            nfile += 1
        run.start()
        run.kill_somewhen(r, delay=(0.002, 0.12), phase_file=os.path.join(d["OUT"], "state", "checkpoint.tmp"))
        if sum(run.kills.values()) >= fl.rounds() * 2:
            break
    run.run()
    assert sum(run.kills.values()) >= fl.rounds(), "only %r kills landed" % dict(run.kills)
    _check_sinks(ctx, srv, db, d, recs)
    print("    sinks: %d records in %d files, kills %r" % (len(recs), nfile, dict(run.kills)))


def test_sinks_pg_server_restart(ctx):
    """The same pipeline, running on, while the PostgreSQL server is stopped and started twice:
    the sink reconnects and redoes its transaction; exact counts everywhere after a stop."""
    r = fl.rng("sinks_pg_server_restart")
    srv = _pg()
    db = srv.new_db("faults_pgdown")
    d = _folder(ctx)
    binary = ctx.build_pipeline(_spec("sinks"))
    run = fl.Runner(binary, fl.env(PG_DSN=srv.dsn(db), **d), ctx.tmp)
    recs = []
    run.start()
    try:
        for i in range(8):
            new = fl.records(i * 10000, r.randint(300, 900), r)
            fl.drop_csv(d["INBOX"], "f%04d.csv" % i, new, ctx.tmp)
            recs += new
            time.sleep(r.uniform(0.05, 0.3))
            if i in (2, 5):
                srv.stop(mode=r.choice(["fast", "immediate"]))
                time.sleep(r.uniform(0.5, 2.0))
                srv.start()
        assert fl.wait_for(lambda: not os.listdir(d["INBOX"]), 120, 0.1), "inbox not drained"
        time.sleep(0.3)
    finally:
        run.signal(signal.SIGTERM, "stop")
        rc = run.wait()
    err = run.stderr()
    assert rc == 0, "exit %r\n%s" % (rc, err[-3000:])
    assert "retrying" in err or "connection was lost" in err, "the outage was not noticed:\n" + err[-3000:]
    _check_sinks(ctx, srv, db, d, recs)


# --- Kafka: sink and source -----------------------------------------------------------------

def _topic_ids(ks, topic):
    return [json.loads(m.value)["id"] for m in ks.consume(topic, timeout=60)]


def test_kafka_sink_sigkill(ctx):
    """A CSV file into a Kafka topic and a file, SIGKILLed at random points: the file holds every
    good record once; the topic every good record at least once (a crash before a commit sends
    that commit's messages again, docs/delivery.md), and a rerun after the end sends nothing."""
    r = fl.rng("kafka_sink_sigkill")
    ks = _kafka()
    topic = ks.new_topic("faults_sink", 4)
    inp, out = os.path.join(ctx.tmp, "in.csv"), os.path.join(ctx.tmp, "out")
    recs = fl.records(0, 60000, r)
    with open(inp, "w") as f:
        f.write(fl.csv_text(recs))
    binary = ctx.build_pipeline(_spec("kafka_sink"))
    run = fl.Runner(binary, fl.env(INPUT=inp, OUT=out, KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic), ctx.tmp)
    for _ in range(fl.rounds() * 3):
        run.start()
        if run.kill_somewhen(r, delay=(0.05, 0.5), phase_file=os.path.join(out, "state", "checkpoint.tmp")) == 0:
            break
    run.run()
    assert sum(run.kills.values()) >= 2, "only %r kills landed" % dict(run.kills)
    good, bad = fl.good_bad(recs)
    fl.exact(fl.jsonl_ids(os.path.join(out, "rows.jsonl")), good, "file sink")
    fl.exact(fl.dead_ids(os.path.join(out, "dead.jsonl")), bad, "dead letter")
    dups = fl.exact(_topic_ids(ks, topic), good, "kafka sink", dup_ok=True)
    print("    kafka sink: %d kills %r, %d duplicates (at least once)" % (sum(run.kills.values()), dict(run.kills), dups))


def _produce(ks, topic, recs):
    return ks.produce(topic, [json.dumps({"id": i, "grp": g, "amount": a}) for i, g, a in recs])


def test_kafka_source_sigkill(ctx):
    """JSON messages of a topic into a file, SIGKILLed at random points while more are produced:
    every good message once in the file, every bad one once in the dead letter."""
    r = fl.rng("kafka_source_sigkill")
    ks = _kafka()
    topic = ks.new_topic("faults_src", 4)
    out = os.path.join(ctx.tmp, "out")
    recs = fl.records(0, 40000, r)
    _produce(ks, topic, recs)
    binary = ctx.build_pipeline(_spec("kafka_source"))
    run = fl.Runner(binary, fl.env(OUT=out, KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP=topic + "_g"), ctx.tmp)
    for k in range(fl.rounds()):
        run.start()
        # the group's first assignment takes 2-3 s on the test broker: kill after it, while reading
        fl.wait_for(lambda: fl.file_size(os.path.join(out, "rows.jsonl")) > 0 or run.proc.poll() is not None, 30)
        run.kill_somewhen(r, delay=(0.0, 0.5), phase_file=os.path.join(out, "state", "checkpoint.tmp"))
        new = fl.records(len(recs), r.randint(1000, 5000), r)
        _produce(ks, topic, new)
        recs += new
    run.run(args=["--once"])
    good, bad = fl.good_bad(recs)
    fl.exact(fl.jsonl_ids(os.path.join(out, "rows.jsonl")), good, "file sink")
    fl.exact(fl.dead_ids(os.path.join(out, "dead.jsonl")), bad, "dead letter")
    assert sum(run.kills.values()) >= fl.rounds() // 2, "only %r kills landed" % dict(run.kills)


def test_kafka_broker_down_and_up(ctx):
    """The broker drops every connection and refuses new ones for 4.5-6.5 s while a Kafka
    source and a Kafka sink pipeline run: both wait and retry; after the outage the source's file
    holds every record once and the topic every record at least once. (Regression: a partition
    revoked and assigned again to the same process once restarted at the group's offset, and the
    records since were written twice.)"""
    r = fl.rng("kafka_broker_down_and_up")
    ks = _kafka()
    src_topic, sink_topic = ks.new_topic("faults_down_src", 4), ks.new_topic("faults_down_sink", 4)
    recs = fl.records(0, 20000, r)
    _produce(ks, src_topic, recs)
    src_out, sink_out = os.path.join(ctx.tmp, "src"), os.path.join(ctx.tmp, "sink")
    inp = os.path.join(ctx.tmp, "in.csv")
    sink_recs = fl.records(0, 200000, r)
    with open(inp, "w") as f:
        f.write(fl.csv_text(sink_recs))
    os.makedirs(os.path.join(ctx.tmp, "a"))
    os.makedirs(os.path.join(ctx.tmp, "b"))
    src = fl.Runner(ctx.build_pipeline(_spec("kafka_source")), fl.env(
        OUT=src_out, KAFKA_BROKERS=ks.bootstrap(), TOPIC=src_topic, GROUP=src_topic + "_g"), os.path.join(ctx.tmp, "a"))
    sink = fl.Runner(ctx.build_pipeline(_spec("kafka_sink")), fl.env(
        INPUT=inp, OUT=sink_out, KAFKA_BROKERS=ks.bootstrap(), TOPIC=sink_topic, PIPEC_RT_CHUNK=65536),
        os.path.join(ctx.tmp, "b"))
    outage = lambda: (time.sleep(r.uniform(4.5, 6.5)), ks.broker_up())   # noqa: E731
    # longer than the source's session.timeout.ms (4 s): the group drops the member, and after
    # the outage assigns it the partitions again; they must resume at the checkpoint's offsets,
    # not at the group's (whose asynchronous commits may not have arrived)
    src.start()
    try:
        # the outage begins as the source has its first rows, before its first commit's offsets
        # are surely in the group
        fl.wait_for(lambda: fl.file_size(os.path.join(src_out, "rows.jsonl")) > 0, 30, 0.0005)
        time.sleep(r.uniform(0.0, 0.02))
        ks.broker_down()
        outage()
        more = fl.records(len(recs), 3000, r)
        _produce(ks, src_topic, more)
        good, _ = fl.good_bad(recs + more)
        fl.wait_for(lambda: len(fl.jsonl_ids(os.path.join(src_out, "rows.jsonl"))) >= len(good), 120, 0.2)
        time.sleep(0.3)
    finally:
        src.signal(signal.SIGTERM, "stop")
        src.wait()
    sink.start()
    fl.wait_for(lambda: fl.file_size(os.path.join(sink_out, "rows.jsonl")) > 0, 30, 0.001)
    ks.broker_down()
    assert sink.proc.poll() is None, "the kafka sink run ended before the outage:\n" + sink.stderr()[-2000:]
    outage()
    rc = sink.wait(180)
    assert rc == 0, "kafka sink run: exit %r\n%s" % (rc, sink.stderr()[-3000:])
    assert src.proc.returncode == 0, "kafka source run: exit %r\n%s" % (src.proc.returncode, src.stderr()[-3000:])
    for what, run in (("source", src), ("sink", sink)):
        refused = sum("Connection refused" in line for line in run.stderr().splitlines())
        assert refused, "the kafka %s run did not notice the outage:\n%s" % (what, run.stderr()[-2000:])
    assigned = src.stderr().count("kafka: assigned")
    assert assigned >= 2, "the source was not assigned its partitions again after the outage:\n" + src.stderr()[-3000:]
    fl.exact(fl.jsonl_ids(os.path.join(src_out, "rows.jsonl")), good, "kafka source into a file")
    gs, _ = fl.good_bad(sink_recs)
    fl.exact(fl.jsonl_ids(os.path.join(sink_out, "rows.jsonl")), gs, "file sink beside the kafka sink")
    fl.exact(_topic_ids(ks, sink_topic), gs, "kafka sink", dup_ok=True)


# --- PostgreSQL sources ---------------------------------------------------------------------

ITEMS_DDL = "CREATE TABLE items (id bigint PRIMARY KEY, grp text, amount bigint, updated_at timestamptz)"


def _insert_items(srv, db, recs, t):
    """Inserts recs in one transaction, all with updated_at t (seconds): ties on the cursor."""
    srv.psql("INSERT INTO items VALUES " + ", ".join(
        "(%d, '%s', %d, to_timestamp(%d))" % (i, g, a, t) for i, g, a in recs), db=db)


def test_pg_poll_sigkill_and_server_restart(ctx):
    """The poll source into a file while rows arrive (many sharing one cursor value), SIGKILLed
    at random points; one run sees the server stopped and started: every row once."""
    r = fl.rng("pg_poll")
    srv = _pg()
    db = srv.new_db("faults_poll")
    srv.psql(ITEMS_DDL, db=db)
    out = os.path.join(ctx.tmp, "out")
    run = fl.Runner(ctx.build_pipeline(_spec("pg_poll")), fl.env(PG_DSN=srv.dsn(db), OUT=out), ctx.tmp)
    recs, t = [], 1714550400
    for k in range(fl.rounds() + 1):
        run.start()
        for _ in range(r.randint(2, 6)):
            new = fl.records(len(recs), r.randint(1, 300), r)
            t += r.choice([0, 0, 1])
            _insert_items(srv, db, new, t)
            recs += new
            time.sleep(r.uniform(0, 0.05))
        if k == fl.rounds():     # the last run lives through a server restart and is stopped
            srv.stop(mode=r.choice(["fast", "immediate"]))
            time.sleep(r.uniform(0.5, 1.5))
            srv.start()
            new = fl.records(len(recs), 500, r)
            _insert_items(srv, db, new, t + 1)
            recs += new
            good, _ = fl.good_bad(recs)
            fl.wait_for(lambda: len(fl.jsonl_ids(os.path.join(out, "rows.jsonl"))) >= len(good), 60, 0.1)
            run.signal(signal.SIGTERM, "stop")
            rc = run.wait()
            err = run.stderr()
            assert rc == 0, "exit %r across the server restart\n%s" % (rc, err[-3000:])
            assert "connected again" in err, "the outage was not noticed:\n" + err[-3000:]
        else:
            run.kill_somewhen(r, delay=(0.0, 0.3), phase_file=os.path.join(out, "state", "checkpoint.tmp"))
    run.run(args=["--once"])
    good, bad = fl.good_bad(recs)
    fl.exact(fl.jsonl_ids(os.path.join(out, "rows.jsonl")), good, "file sink")
    fl.exact(fl.dead_ids(os.path.join(out, "dead.jsonl")), bad, "dead letter")
    assert run_summary(run.run(args=["--once"]))["in"] == 0, "a rerun read rows again"


def test_pg_cdc_sigkill_and_server_restart(ctx):
    """Logical replication of inserts into a file, SIGKILLed at random points (the snapshot taken
    first, whole), one run across a server restart: every row once."""
    r = fl.rng("pg_cdc")
    srv = _pg()
    db = srv.new_db("faults_cdc")
    srv.psql(ITEMS_DDL, db=db)
    out = os.path.join(ctx.tmp, "out")
    run = fl.Runner(ctx.build_pipeline(_spec("pg_cdc")), fl.env(PG_DSN=srv.dsn(db), OUT=out), ctx.tmp)
    drop = "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'faults_slot'"
    srv.psql(drop, db=db)
    recs = fl.records(0, 500, r)
    _insert_items(srv, db, recs, 1714550400)
    try:
        run.run(args=["--once"])          # the snapshot (a crash in it takes it again: at least once)
        for k in range(fl.rounds()):
            run.start()
            for _ in range(r.randint(2, 8)):
                new = fl.records(len(recs), r.randint(1, 200), r)
                _insert_items(srv, db, new, 1714550400 + k)
                recs += new
                time.sleep(r.uniform(0, 0.05))
            if k == fl.rounds() // 2:    # this run lives through a server restart and is stopped
                srv.stop(mode=r.choice(["fast", "immediate"]))
                time.sleep(r.uniform(0.5, 1.5))
                srv.start()
                new = fl.records(len(recs), 300, r)
                _insert_items(srv, db, new, 1714550400 + k)
                recs += new
                good, _ = fl.good_bad(recs)
                fl.wait_for(lambda: len(fl.jsonl_ids(os.path.join(out, "rows.jsonl"))) >= len(good), 60, 0.1)
                run.signal(signal.SIGTERM, "stop")
                rc, err = run.wait(), run.stderr()
                assert rc == 0, "exit %r across the server restart\n%s" % (rc, err[-3000:])
                assert "replication resumed" in err, "the outage was not noticed:\n" + err[-3000:]
                continue
            run.kill_somewhen(r, delay=(0.0, 0.3), phase_file=os.path.join(out, "state", "checkpoint.tmp"))
        run.run(args=["--once"])
        good, bad = fl.good_bad(recs)
        fl.exact(fl.jsonl_ids(os.path.join(out, "rows.jsonl")), good, "file sink")
        fl.exact(fl.dead_ids(os.path.join(out, "dead.jsonl")), bad, "dead letter")
        assert run_summary(run.run(args=["--once"]))["in"] == 0, "a rerun read changes again"
    finally:
        srv.psql(drop, db=db)


# --- a full disk ----------------------------------------------------------------------------

def _disk_full(ctx, which):
    r = fl.rng("disk_full_" + which)
    d = {k: os.path.join(ctx.tmp, k.lower()) for k in ("FILE_OUT", "PQ_OUT", "STATE")}
    inp = os.path.join(ctx.tmp, "in.csv")
    recs = fl.records(0, 600000, r)
    with open(inp, "w") as f:
        f.write(fl.csv_text(recs))
    run = fl.Runner(ctx.build_pipeline(_spec("disk_full")), fl.env(INPUT=inp, PIPEC_RT_CHUNK=65536, **d), ctx.tmp)
    full = d["FILE_OUT" if which == "file" else "PQ_OUT"]
    with fl.tmpfs(full, "%dk" % (r.randint(3000, 6000) if which == "file" else r.randint(800, 2000))) as remount:
        err = run.run(rc=1)
        print("    " + "\n    ".join(line for line in err.splitlines() if "error" in line))
        path = os.path.join(full, "rows.jsonl") if which == "file" else os.path.join(full, "lake")
        assert "No space left on device" in err and path in err, "no clear ENOSPC error naming %s:\n%s" % (path, err[-3000:])
        assert os.path.exists(os.path.join(d["STATE"], "ckpt", "checkpoint")), "no commit before the disk was full"
        remount("64m")
        err = run.run()
        assert "resuming from checkpoint" in err, err[-2000:]
        good, bad = fl.good_bad(recs)
        fl.exact(fl.jsonl_ids(os.path.join(d["FILE_OUT"], "rows.jsonl")), good, "file sink")
        fl.exact(fl.duckdb_ids(os.path.join(d["PQ_OUT"], "lake"), ctx.tmp), good, "parquet sink")
        fl.exact(fl.dead_ids(os.path.join(d["STATE"], "dead.jsonl")), bad, "dead letter")


def test_disk_full_file_sink(ctx):
    """The file sink's folder a small tmpfs: ENOSPC with the path, exit 1; remounted bigger, the
    restart resumes and every sink is exact."""
    _disk_full(ctx, "file")


def test_disk_full_parquet_sink(ctx):
    """The same with the Parquet sink's folder full."""
    _disk_full(ctx, "parquet")


# --- SIGTERM in each phase ------------------------------------------------------------------

def test_sigterm_phases(ctx):
    """A hot folder with a tumbling window, stopped by SIGTERM while idle, while reading a large
    file, while a checkpoint is being written and right as a file closes the open windows; each
    stop exits 0 having committed, the restart goes on, and at the end the rows and the window
    totals are exact."""
    r = fl.rng("sigterm_phases")
    d = _folder(ctx)
    run = fl.Runner(ctx.build_pipeline(_spec("windows")), fl.env(PIPEC_RT_CHUNK=65536, **d), ctx.tmp)
    out = d["OUT"]
    recs = []          # (id, grp, amount, at)
    nfile = [0]

    def drop(n, step):
        t0 = recs[-1][3] if recs else 1714550400
        new = [(i, g, a, t0 + (k * step) // 1000) for k, (i, g, a) in enumerate(fl.records(len(recs), n, r))]
        src = os.path.join(ctx.tmp, ".f")
        with open(src, "w") as f:
            f.write("id,grp,amount,at\n" + "".join("%d,%s,%d,%d\n" % x for x in new))
        os.rename(src, os.path.join(d["INBOX"], "f%04d.csv" % nfile[0]))
        nfile[0] += 1
        recs.extend(new)

    def stop(phase):
        assert run.signal(signal.SIGTERM, phase), "%s: the run had already ended:\n%s" % (phase, run.stderr()[-2000:])
        rc = run.wait()
        err = run.stderr()
        assert rc == 0 and "stopped by signal" in err, "SIGTERM %s: exit %r\n%s" % (phase, rc, err[-3000:])

    rows = os.path.join(out, "rows.jsonl")
    for k in range(max(1, fl.rounds() // 2)):
        # idle: everything read and committed, the folder polled
        run.start()
        drop(r.randint(100, 2000), 50)
        fl.wait_for(lambda: not os.listdir(d["INBOX"]), 30)
        time.sleep(r.uniform(0.1, 0.4))
        stop("while idle")
        # reading: a large file, stopped once rows are coming out
        run.start()
        before = fl.file_size(rows)
        drop(r.randint(300000, 400000), 100)
        assert fl.wait_for(lambda: fl.file_size(rows) > before, 30, 0.0005), "no rows came out"
        time.sleep(r.uniform(0, 0.01))
        stop("while reading")
        assert os.listdir(d["INBOX"]), "the large file was read whole before the stop"
        # committing: the moment the checkpoint's temp file exists
        run.start()
        drop(r.randint(50000, 100000), 100)
        assert fl.wait_for(lambda: os.path.exists(os.path.join(out, "state", "checkpoint.tmp")), 30, 0.0002), \
            "never saw a commit under way"
        stop("during a commit")
        # window close: a file whose records are past every open window, stopped as it lands
        run.start()
        fl.wait_for(lambda: not os.listdir(d["INBOX"]), 60)
        totals = fl.file_size(os.path.join(out, "totals.jsonl"))
        drop(r.randint(1, 50), 20000)
        assert fl.wait_for(lambda: fl.file_size(os.path.join(out, "totals.jsonl")) > totals, 10, 0.0005), \
            "no window closed"
        stop("as windows close")
    run.run(args=["--once"])
    good = [x for x in recs if x[2] >= 0]
    fl.exact(fl.jsonl_ids(rows), [x[0] for x in good], "rows")
    fl.exact(fl.dead_ids(os.path.join(out, "dead.jsonl")), [x[0] for x in recs if x[2] < 0], "dead letter")
    want = {}
    for i, g, a, t in good:
        key = (t - t % 10, g)
        n, s = want.get(key, (0, 0))
        want[key] = (n + 1, s + a)
    got = {}
    with open(os.path.join(out, "totals.jsonl")) as f:
        for line in f:
            w = json.loads(line)
            ts = int(datetime.datetime.fromisoformat(w["window_start"].replace("Z", "+00:00")).timestamp())
            key = (ts, w["grp"])
            assert key not in got, "window %r emitted twice" % (key,)
            got[key] = (w["n"], w["total"])
    assert got == want, "window totals differ: %d windows, %d expected; e.g. %r" % (
        len(got), len(want), [(k, got.get(k), want.get(k)) for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)][:3])
