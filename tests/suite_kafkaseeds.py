"""suite_kafkaseeds.py - the Kafka seed pipelines run end to end against the test broker
(tests/kafkaserver.py) and a real PostgreSQL (tests/pgserver.py), each checked with tools we did
not write: DuckDB (tests/oracle/sql.mjs, the suite's oracle), psql, kcat and confluent_kafka.

- bitcoin_to_kafka -> topic -> bitcoin_daily_avg -> PostgreSQL: the Kaggle-style CSV of
  tests/gen_seeds.py goes through both seed binaries; the daily table is compared with what DuckDB
  computes from the original CSV (its own reading of every line, the lateness of the watermark
  in arrival order); the topic in between is read with confluent_kafka: one message per good
  line, in file order, its key the epoch second, its value a JSON object of exactly the schema's
  fields with DuckDB's values, headers pipec.pipeline and pipec.position (PATH:LINE); both
  binaries' dead letters (standard error) by line.
- taxi_speed_layer: JSON trip events (bad distances, malformed and empty messages, late events
  at the window edges) produced by kcat, the binary run with --once into PostgreSQL: the merged
  10-second table (and its hidden avg columns) against DuckDB; the dead-letter topic read with
  confluent_kafka, one message per dead record with its reason, raw text and position; a rerun
  reads nothing; a second batch later is merged into the rows of the windows it shares.
- orders_lake: Debezium change events of the PostgreSQL connector written by hand (wrapped and
  bare; c, u, d, r; tombstones, null and empty; t and an unknown op; malformed ones), produced
  with confluent_kafka; the day-partitioned Parquet lake through DuckDB (count(*) and
  sum(amount) exactly, every row, each in its day's folder) and hyparquet (every file), the
  dead letters, the dropped count; a rerun resumes from the checkpoint.
- the pipelines/ copies differ from the seeds in /work/shared/design/examples only as their
  comments say, and pass `pipec check`.

The bitcoin and taxi inputs are one-partition topics, so the arrival order (and with it which
records are late) is the order of the file; bitcoin_daily_avg's own table checks are in
suite_pgseeds.py, whose helpers this suite imports.
"""
import datetime
import decimal
import difflib
import glob
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEEDS = "/work/shared/design/examples"
sys.path.insert(0, HERE)
import gen_seeds  # noqa: E402
import kafkaserver  # noqa: E402
from suite_oracle import duckdb as _duckdb, q as _q  # noqa: E402  (the DuckDB oracle runner)
from suite_pgseeds import (BTC_KINDS, BTC_WINDOWS_SQL, _btc_table, _columns, _compare_fates,  # noqa: E402
                           _compare_rows, _env, _need_server, _primary_key, _run, _stderr_dead,
                           _summary)

SEC_US = 1000000
BTC_FIELDS = ["timestamp", "open", "high", "low", "close", "volume_btc"]


def _need_broker():
    if not kafkaserver.available():
        raise AssertionError("needs the Kafka test broker, kcat and python3-confluent-kafka (make deps)")
    return kafkaserver.server()


def _us_iso(us):
    """RFC 3339 text of epoch microseconds as pipec writes it: fraction only when not zero, its
    trailing zeros removed (docs/spec.md, Output encoding)."""
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    frac = ("%06d" % (us % SEC_US)).rstrip("0")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ("." + frac if frac else "") + "Z"


def _iso_us(text):
    """Epoch microseconds of an RFC 3339 UTC text ending in Z (what pipec writes)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z", text)
    assert m, "not an RFC 3339 UTC timestamp: %r" % text
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * SEC_US + int((m.group(2) or "").ljust(6, "0"))


def _dead_offsets(dead, topic):
    """{offset: reason} of dead letters positioned TOPIC/0/OFFSET (one partition)."""
    out = {}
    for d in dead:
        t, part, off = d["position"].rsplit("/", 2)
        assert t == topic and part == "0", d
        assert int(off) not in out, "two dead letters for offset %s" % off
        out[int(off)] = d["reason"]
    return out


# -- bitcoin_to_kafka -> bitcoin_daily_avg ----------------------------------------------------

# The value grammar of docs/spec.md ("How values are read") for the CSV: epoch seconds with an
# optional fraction, floats with optional fraction and exponent, NULL for empty or "NaN".
BTC_CSV_MACROS = r"""
CREATE MACRO is_float(x) AS regexp_full_match(x, '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?');
CREATE MACRO is_epoch(x) AS regexp_full_match(x, '[0-9]+([.][0-9]+)?');
CREATE MACRO nul(x) AS x IS NULL OR x = '' OR x = 'NaN';
CREATE MACRO f64(x) AS CASE WHEN nul(x) THEN NULL ELSE CAST(x AS DOUBLE) END;
"""


def bitcoin_csv_sql(csv_path):
    """DuckDB's reading of the Kaggle CSV (no quoting in it: fields split at commas) and what
    bitcoin_daily_avg must make of the records bitcoin_to_kafka sends on, in file order: three
    results, the daily window rows, every line's fate and every good line's values."""
    floats = ("open", "high", "low", "close", "volume_btc")
    bad_float = " OR ".join("NOT (nul(p[%d]) OR is_float(p[%d]))" % (i, i) for i in range(2, 7))
    values = ", ".join("CASE WHEN bad IS NULL THEN f64(p[%d]) END AS %s" % (i + 2, k) for i, k in enumerate(floats))
    return BTC_CSV_MACROS + """
CREATE TABLE ln AS SELECT unnest(range(1, len(l) + 1)) AS line, unnest(l) AS txt
  FROM (SELECT string_split(content, chr(10)) AS l FROM read_text({path}));
CREATE TABLE f AS SELECT line, string_split(txt, ',') AS p FROM ln WHERE line > 1 AND txt <> '';
CREATE TABLE st0 AS SELECT line, p,
    CASE WHEN len(p) <> 8 THEN 'parse'
         WHEN nul(p[1]) OR NOT is_epoch(p[1]) THEN 'parse'
         WHEN {bad_float} THEN 'parse'
    END AS bad
  FROM f;
CREATE TABLE st AS SELECT line, bad, p[1] AS stamp,
    CASE WHEN bad IS NULL THEN CAST(split_part(p[1], '.', 1) AS BIGINT) * 1000000
         + CAST(left(rpad(split_part(p[1], '.', 2), 6, '0'), 6) AS BIGINT) END AS t,
    {values}
  FROM st0;
{windows}SELECT line, stamp, t, open, high, low, close, volume_btc FROM st WHERE bad IS NULL ORDER BY line;
""".format(path=_q(csv_path), bad_float=bad_float, values=values, windows=BTC_WINDOWS_SQL)


def _check_price_messages(msgs, good, data, topic):
    """The topic bitcoin_to_kafka wrote: one message per good line, in file order."""
    assert len(msgs) == len(good), "%d messages in %s, %d good lines" % (len(msgs), topic, len(good))
    problems = []
    for m, g in zip(msgs, good):
        where = "offset %d (line %d)" % (m.offset, g["line"])
        try:
            v = json.loads(m.value)
        except (TypeError, ValueError) as e:
            problems.append("%s: the value is not JSON (%s): %r" % (where, e, m.value))
            continue
        if not isinstance(v, dict) or list(v) != BTC_FIELDS:
            problems.append("%s: not an object of the schema's fields in order: %r" % (where, m.value))
            continue
        # the key: cast(epoch(timestamp) as string), whole seconds rounded down
        if m.key != str(g["t"] // SEC_US):
            problems.append("%s: key %r, want %r (Timestamp %s)" % (where, m.key, str(g["t"] // SEC_US), g["stamp"]))
        if v["timestamp"] != _us_iso(g["t"]):
            problems.append("%s: timestamp %r, want %r" % (where, v["timestamp"], _us_iso(g["t"])))
        for k in BTC_FIELDS[1:]:
            if (v[k] is None) != (g[k] is None) or v[k] is not None and float(v[k]) != float(g[k]):
                problems.append("%s: %s = %r, DuckDB read %r" % (where, k, v[k], g[k]))
        h = dict(m.headers)
        if len(m.headers) != 2 or h.get("pipec.pipeline") != "bitcoin_to_kafka" or \
                h.get("pipec.position") != "%s:%d" % (data, g["line"]):
            problems.append("%s: headers %r" % (where, m.headers))
        if len(problems) > 12:
            break
    if problems:
        raise AssertionError("topic %s:\n  %s" % (topic, "\n  ".join(problems)))


def test_bitcoin_to_kafka_to_daily_avg(ctx):
    """Seed 000 whole: the CSV into Kafka by bitcoin_to_kafka, the topic into PostgreSQL by
    bitcoin_daily_avg; the table against DuckDB on the CSV, the topic read back."""
    srv = _need_server()
    ks = _need_broker()
    db = srv.new_db("btc_kafka")
    to_kafka = ctx.build_pipeline(os.path.join(ROOT, "pipelines", "bitcoin_to_kafka.yaml"))
    daily = ctx.build_pipeline(os.path.join(ROOT, "pipelines", "bitcoin_daily_avg.yaml"))
    text, gen_fates = gen_seeds.bitcoin_csv(seed=7)
    data = os.path.join(ctx.tmp, "bitstampUSD_1-min_data.csv")
    with open(data, "w", encoding="utf-8", newline="") as f:
        f.write(text)

    want_rows, fates, good = _duckdb(ctx, bitcoin_csv_sql(data), "bitcoin_csv")
    _compare_fates(fates, gen_fates, "bitcoin CSV")
    counts = {}
    for fate in gen_fates.values():
        counts[fate] = counts.get(fate, 0) + 1
    # the data exercises what it is meant to
    assert len(want_rows) == 3 and counts["parse"] == 8 and counts["late"] == 2 and \
        counts["filter"] > 100, (len(want_rows), counts)
    assert any("." in g["stamp"] and not g["stamp"].endswith(".0") for g in good)

    # stage 1: the file into the topic
    topic = ks.new_topic("bitcoin_prices", 1)
    p1 = _run(to_kafka, _env(INPUT=data, KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic), cwd=ctx.tmp)
    s1 = _summary(p1.stderr)
    n_good = len(gen_fates) - counts["parse"]
    assert {k: s1[k] for k in ("in", "out", "dead", "dropped")} == \
        {"in": len(gen_fates), "out": n_good, "dead": counts["parse"], "dropped": 0}, s1
    assert s1["sinks"] == {"prices": n_good} and s1["reasons"] == {"parse": counts["parse"]}, s1
    dead1 = {}
    for d in _stderr_dead(p1.stderr):
        path, _, line = d["position"].rpartition(":")
        assert path == data and d["pipeline"] == "bitcoin_to_kafka" and d["raw"], d
        dead1[int(line)] = d["reason"]
    assert dead1 == {n: f for n, f in gen_fates.items() if f == "parse"}, dead1
    msgs = ks.consume(topic, n=n_good)
    _check_price_messages(msgs, good, data, topic)

    # stage 2: the topic into PostgreSQL
    env = _env(PG_DSN=srv.dsn(db), KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP=topic + "_daily")
    p2 = _run(daily, env, args=["--once"], cwd=ctx.tmp)
    s2 = _summary(p2.stderr)
    assert {k: s2[k] for k in ("in", "out", "dead", "dropped")} == \
        {"in": n_good, "out": counts["out"], "dead": counts["late"], "dropped": counts["filter"]}, s2
    assert s2["sinks"] == {"daily_avg": 3} and s2["reasons"] == {"late": counts["late"]}, s2
    _compare_rows(_btc_table(srv, db), want_rows, ["window_start"], BTC_KINDS, "daily_avg")
    assert _primary_key(srv, db, "daily_avg") == ["window_start"]
    # the late ones by offset: the offset of a message is its good line's place in the file
    dead2 = _dead_offsets(_stderr_dead(p2.stderr), topic)
    assert {good[o]["line"]: r for o, r in dead2.items()} == \
        {n: f for n, f in gen_fates.items() if f == "late"}, dead2
    assert srv.psql("SELECT key FROM pipec_checkpoint", db=db) == [["bitcoin_daily_avg/daily_avg"]]


# -- taxi_speed_layer -------------------------------------------------------------------------

def taxi_events_sql(path, runs=(0,)):
    """DuckDB's reading of the messages (one a line in PATH, in offset order; an empty line is an
    empty message) by the grammar of docs/spec.md, and the 10-second windows per vendor with a
    lateness of 2 s in arrival order: two results, the window rows (with the sum and count behind
    the avg, as merge stores them) and every message's fate. runs: the first offset each run of
    the binary reads; a run starts without a watermark (the windows of a run that reached the
    end of the topic were all emitted, and merge adds a later run's rows of the same window)."""
    run = "CASE %s ELSE 0 END" % " ".join("WHEN off >= %d THEN %d" % (o, o) for o in sorted(runs, reverse=True))
    def jt(k):
        return "coalesce(json_type(txt, '$.%s'), 'NULL')" % k

    def int32(k):
        return ("(%s IN ('BIGINT', 'UBIGINT') AND TRY_CAST(json_extract(txt, '$.%s') AS INTEGER) IS NOT NULL)"
                % (jt(k), k))
    num = "('DOUBLE', 'BIGINT', 'UBIGINT')"
    return """
CREATE TABLE ln AS SELECT unnest(range(0, len(l))) AS off, unnest(l) AS txt
  FROM (SELECT string_split(content, chr(10)) AS l FROM read_text({path}));
CREATE TABLE st0 AS SELECT off, txt,
    CASE WHEN txt = '' OR NOT json_valid(txt) THEN 'parse'
         WHEN json_type(txt) <> 'OBJECT' THEN 'parse'
         WHEN {ts} <> 'VARCHAR' OR TRY_CAST(json_extract_string(txt, '$.ts') AS TIMESTAMPTZ) IS NULL THEN 'parse'
         WHEN NOT {vendor} THEN 'parse'
         WHEN {pass_t} <> 'NULL' AND NOT {pass} THEN 'parse'
         WHEN {dist} NOT IN {num} OR {total} NOT IN {num} THEN 'parse'
         WHEN NOT (CAST(json_extract(txt, '$.distance_mi') AS DOUBLE) BETWEEN 0 AND 500) THEN 'distance_sane'
    END AS bad
  FROM ln;
CREATE TABLE st AS SELECT off, bad, {run} AS run,
    CASE WHEN bad IS NULL THEN epoch_us(CAST(json_extract_string(txt, '$.ts') AS TIMESTAMPTZ)) END AS t,
    CASE WHEN bad IS NULL THEN CAST(json_extract(txt, '$.vendor_id') AS INTEGER) END AS vendor_id,
    CASE WHEN bad IS NULL THEN CAST(json_extract(txt, '$.passengers') AS INTEGER) END AS passengers,
    CASE WHEN bad IS NULL THEN CAST(json_extract(txt, '$.distance_mi') AS DOUBLE) END AS distance,
    CASE WHEN bad IS NULL THEN CAST(json_extract(txt, '$.total') AS DOUBLE) END AS total
  FROM st0;
CREATE TABLE en AS SELECT *,
    max(t) OVER (PARTITION BY run ORDER BY off ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - {lat} AS wm,
    (t // {win}) * {win} AS ws, (t // {win}) * {win} + {win} AS we
  FROM st WHERE bad IS NULL;
SELECT ws AS window_start, we AS window_end, vendor_id, count(*) AS trips,
       sum(passengers) AS passengers, sum(total) AS revenue, avg(distance) AS avg_distance,
       sum(distance) AS avg_distance__sum, count(distance) AS avg_distance__count
  FROM en WHERE we > wm GROUP BY ws, we, vendor_id ORDER BY ws, vendor_id;
SELECT st.off,
       CASE WHEN st.bad IS NOT NULL THEN st.bad WHEN en.we <= en.wm THEN 'late' ELSE 'out' END AS fate
  FROM st LEFT JOIN en USING (off) ORDER BY st.off;
""".format(path=_q(path), run=run, ts=jt("ts"), vendor=int32("vendor_id"), pass_t=jt("passengers"),
           **{"pass": int32("passengers")}, dist=jt("distance_mi"), total=jt("total"),
           num=num, lat=2 * SEC_US, win=10 * SEC_US)


TAXI_SQL = ("SELECT (extract(epoch FROM window_start) * 1000000)::bigint, "
            "(extract(epoch FROM window_end) * 1000000)::bigint, vendor_id, trips, passengers, "
            "revenue::text, avg_distance::text, avg_distance__sum::text, avg_distance__count "
            "FROM taxi_realtime_tumbling ORDER BY 1, 3")
TAXI_KINDS = {"window_end": "int", "trips": "int", "passengers": "int", "revenue": "float",
              "avg_distance": "float", "avg_distance__sum": "float", "avg_distance__count": "int"}


def _taxi_table(srv, db):
    return [{"window_start": int(a), "window_end": int(b), "vendor_id": int(v), "trips": int(n),
             "passengers": None if p is None else int(p), "revenue": r, "avg_distance": ad,
             "avg_distance__sum": s, "avg_distance__count": int(c)}
            for a, b, v, n, p, r, ad, s, c in srv.psql(TAXI_SQL, db=db)]


def _write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines))


def _check_dlq(records, messages, fates, topic, pipeline):
    """One dead-letter message per dead record: its JSON names the record's position, reason
    and raw text; no key; the headers say the same pipeline and position."""
    want = {o: f for o, f in fates.items() if f not in ("out", "filter")}
    got, problems = {}, []
    for r in records:
        try:
            d = json.loads(r.value)
        except (TypeError, ValueError):
            problems.append("offset %d of the dead-letter topic is not JSON: %r" % (r.offset, r.value))
            continue
        t, part, off = d["position"].rsplit("/", 2)
        off = int(off)
        if t != topic or part != "0" or off in got:
            problems.append("position %r (twice, or not of %s/0)" % (d["position"], topic))
            continue
        got[off] = d["reason"]
        if d["raw"] != messages[off] or d["pipeline"] != pipeline or not d.get("detail") or not d.get("at"):
            problems.append("dead letter of offset %d: %r, message %r" % (off, d, messages[off]))
        if r.key is not None or dict(r.headers) != {"pipec.pipeline": pipeline, "pipec.position": d["position"]}:
            problems.append("dead letter of offset %d: key %r headers %r" % (off, r.key, r.headers))
    if got != want:
        diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
        problems.append("dead letters differ at %d offsets: %s" % (
            len(diff), [(k, got.get(k), want.get(k), messages[k][:60]) for k in diff[:8]]))
    if problems:
        raise AssertionError("dead-letter topic:\n  " + "\n  ".join(problems[:12]))


def test_taxi_speed_layer(ctx):
    """Seed 001: trip events from kcat into the 10-second merge table and the dead-letter topic."""
    srv = _need_server()
    ks = _need_broker()
    db = srv.new_db("taxi_speed")
    binary = ctx.build_pipeline(os.path.join(ROOT, "pipelines", "taxi_speed_layer.yaml"))
    messages, gen_fates = gen_seeds.taxi_events(seed=5)
    data = os.path.join(ctx.tmp, "taxi_events.txt")
    _write_lines(data, messages)
    want_rows, fates = _duckdb(ctx, taxi_events_sql(data), "taxi_events")
    assert len(fates) == len(messages), (len(fates), len(messages))
    _compare_fates([{"line": r["off"], "fate": r["fate"]} for r in fates], gen_fates, "taxi events")
    counts = {}
    for fate in gen_fates.values():
        counts[fate] = counts.get(fate, 0) + 1
    assert counts["parse"] == 9 and counts["distance_sane"] == 3 and counts["late"] == 5, counts
    assert len(want_rows) > 150 and any(r["passengers"] is None for r in want_rows), len(want_rows)

    topic, dlq = ks.new_topic("taxi_events", 1), ks.new_topic("taxi_events_dlq", 1)
    # keys: kcat sends an empty value only with a key (the vendor, as a producer would key them)
    keys = [(re.findall(r'"vendor_id": (\w+)', m) or ["?"])[0] for m in messages]
    ks.produce(topic, messages, keys=keys)
    cert, key = os.path.join(ctx.tmp, "cert.pem"), os.path.join(ctx.tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    env = _env(PG_DSN=srv.dsn(db), KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP=topic + "_speed",
               DLQ_TOPIC=dlq, METRICS_LISTEN="127.0.0.1:0", TLS_CERT=cert, TLS_KEY=key, METRICS_PASSWORD="taxi-secret")
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    s = _summary(p.stderr)
    dead = len(messages) - counts["out"]
    assert {k: s[k] for k in ("in", "out", "dead", "dropped")} == \
        {"in": len(messages), "out": counts["out"], "dead": dead, "dropped": 0}, s
    assert s["reasons"] == {k: n for k, n in counts.items() if k != "out"}, s
    got = _taxi_table(srv, db)
    _compare_rows(got, want_rows, ["window_start", "vendor_id"], TAXI_KINDS, "taxi_realtime_tumbling")
    assert _columns(srv, db, "taxi_realtime_tumbling") == {
        "window_start": "timestamp with time zone", "window_end": "timestamp with time zone",
        "vendor_id": "integer", "trips": "bigint", "passengers": "bigint", "revenue": "double precision",
        "avg_distance": "double precision", "avg_distance__sum": "double precision",
        "avg_distance__count": "bigint"}
    assert _primary_key(srv, db, "taxi_realtime_tumbling") == ["window_start", "vendor_id"]
    _check_dlq(ks.consume(dlq, n=dead), messages, gen_fates, topic, "taxi_speed_layer")

    # a rerun (in a group of its own: the mock holds a group's rejoin for session.timeout.ms):
    # the offsets are in the database, nothing is read, nothing changes
    before = srv.psql("SELECT * FROM taxi_realtime_tumbling ORDER BY window_start, vendor_id", db=db)
    p2 = _run(binary, dict(env, GROUP=topic + "_rerun"), args=["--once"], cwd=ctx.tmp)
    assert _summary(p2.stderr)["in"] == 0, p2.stderr[-2000:]
    assert srv.psql("SELECT * FROM taxi_realtime_tumbling ORDER BY window_start, vendor_id", db=db) == before
    assert len(ks.consume(dlq)) == dead

    # a second batch later, its first minute in the last windows of the first: the second run
    # merges its partial rows of those windows into the stored ones (counts and sums added, the
    # avg from the added hidden sum and count)
    last = max(_iso_us(json.loads(m)["ts"]) for m, f in zip(messages, fates) if f["fate"] == "out")
    start2 = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + \
        datetime.timedelta(microseconds=last - 6 * SEC_US)
    more, more_fates = gen_seeds.taxi_events(seed=6, events=300, start=start2)
    n1 = len(messages)
    messages2 = messages + more
    fates2 = dict(gen_fates)
    fates2.update((n1 + o, f) for o, f in more_fates.items())
    _write_lines(data, messages2)
    want2, got_fates2 = _duckdb(ctx, taxi_events_sql(data, runs=(0, n1)), "taxi_events2")
    _compare_fates([{"line": r["off"], "fate": r["fate"]} for r in got_fates2], fates2, "taxi events, two runs")
    shared = {(r["window_start"], r["vendor_id"]) for r in want_rows} & \
        {(r["window_start"], r["vendor_id"]) for r in want2 if r not in want_rows}
    assert len(shared) >= 2, "the second batch shares no window with the first"
    ks.produce(topic, more, keys=[(re.findall(r'"vendor_id": (\w+)', m) or ["?"])[0] for m in more])
    p3 = _run(binary, dict(env, GROUP=topic + "_later"), args=["--once"], cwd=ctx.tmp)
    s3 = _summary(p3.stderr)
    assert s3["in"] == len(more) and s3["out"] == sum(1 for f in more_fates.values() if f == "out"), s3
    _compare_rows(_taxi_table(srv, db), want2, ["window_start", "vendor_id"], TAXI_KINDS,
                  "taxi_realtime_tumbling after the second batch")
    _check_dlq(ks.consume(dlq, n=len(messages2) - sum(1 for f in fates2.values() if f == "out")),
               messages2, fates2, topic, "taxi_speed_layer")


# -- orders_lake ------------------------------------------------------------------------------

LAKE_COLUMNS = ["order_id", "customer_id", "status", "amount", "updated_at", "_op", "_lsn", "_ts"]


def _produce_changes(ks, topic, events):
    """Produces (key, value) pairs with confluent_kafka into partition 0, in order; a value None
    is a real tombstone (a null value, which kcat cannot send)."""
    before = ks.watermarks(topic)[0][1]
    p = kafkaserver.ck.Producer(ks.producer_config(**{"enable.idempotence": True}))
    for k, v, _ in events:
        p.produce(topic, value=None if v is None else v.encode(), key=None if k is None else k.encode(),
                  partition=0)
    assert p.flush(30) == 0, "messages not delivered"
    assert ks.watermarks(topic)[0][1] - before == len(events)


LAKE_SQL = """SELECT order_id, customer_id, status, amount, epoch_us(updated_at) AS updated_at, _op, _lsn,
  epoch_us(_ts) AS _ts, date_updated_at::VARCHAR AS day
FROM read_parquet({glob}, hive_partitioning = true);
SELECT count(*) AS n, sum(amount::DECIMAL(18, 2))::VARCHAR AS total FROM read_parquet({glob});
"""


def _lake_files(lake):
    return sorted(glob.glob(os.path.join(lake, "**", "*.parquet"), recursive=True))


def _lake_rows(ctx, lake, name):
    """The lake's rows through DuckDB (timestamps as epoch microseconds), with count(*) and
    sum(amount); checks each row's folder and that no temp file is left."""
    temps = [f for f in glob.glob(os.path.join(lake, "**", ".*"), recursive=True) if os.path.isfile(f)]
    assert temps == [], temps
    rows, totals = _duckdb(ctx, LAKE_SQL.format(glob=_q(os.path.join(lake, "**", "*.parquet"))), name)
    for r in rows:
        day = r.pop("day")
        us = r["updated_at"]
        assert day == (None if us is None else datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
                       .strftime("%Y-%m-%d")), r
        assert list(r) == LAKE_COLUMNS
    return rows, totals[0]


def _check_lake(ctx, lake, events, name):
    """DuckDB's count(*) and sum(amount) over the lake equal the input's exactly, its rows are the
    input's rows (in any order: the folders split them), and hyparquet reads every file."""
    rows, totals = _lake_rows(ctx, lake, name)
    want = [w[1] for _, _, w in events if w[0] == "row"]
    assert totals["n"] == len(want), (totals, len(want))
    total = sum(decimal.Decimal(repr(w["amount"])).quantize(decimal.Decimal("0.01")) for w in want
                if w["amount"] is not None)
    assert decimal.Decimal(totals["total"]) == total, (totals, total)
    canon = lambda r: json.dumps(dict(r, amount=None if r["amount"] is None else float(r["amount"])), sort_keys=True)
    got, exp = sorted(map(canon, rows)), sorted(map(canon, want))
    problems = ["got %s\n    want %s" % (g, w) for g, w in zip(got, exp) if g != w][:8]
    assert not problems, "%s:\n  %s" % (lake, "\n  ".join(problems))
    files = _lake_files(lake)
    out = subprocess.run(["node", os.path.join(ROOT, "tests", "oracle", "hyparquet.mjs")] + files,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    metas = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    assert len(metas) == len(files) and sum(m["num_rows"] for m in metas) == len(want), [m["file"] for m in metas]
    assert len(out.stdout.splitlines()) == len(files) + len(want)
    return rows


def test_orders_lake_debezium(ctx):
    """Seed 002/004: Debezium change events from Kafka into the day-partitioned Parquet lake."""
    ks = _need_broker()
    binary = ctx.build_pipeline(os.path.join(ROOT, "pipelines", "orders_lake.yaml"))
    events = gen_seeds.orders_changes(seed=9)
    topic = ks.new_topic("oltp.public.orders", 1)
    _produce_changes(ks, topic, events)
    # the fixture: tombstones arrived as null values (and the one empty value as empty)
    got = ks.consume(topic, n=len(events))
    assert [r.value for r in got] == [v for _, v, _ in events], "the topic does not hold the events as produced"
    assert any(v is None for _, v, _ in events) and any(v == "" for _, v, _ in events)

    lake, state = os.path.join(ctx.tmp, "lake"), os.path.join(ctx.tmp, "state")
    env = _env(KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP=topic + "_lake", LAKE=lake, STATE_DIR=state)
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    s = _summary(p.stderr)
    kinds = [w[0] for _, _, w in events]
    dead = {o: w[1] for o, (_, _, w) in enumerate(events) if w[0] == "dead"}
    assert {k: s[k] for k in ("in", "out", "dead", "dropped")} == \
        {"in": len(events), "out": kinds.count("row"), "dead": len(dead), "dropped": kinds.count("dropped")}, s
    out = os.path.join(lake, "food", "orders")
    rows = _check_lake(ctx, out, events, "orders_lake")
    # every op and the NULLs the format makes are in the file
    assert {r["_op"] for r in rows} == {"c", "u", "d", "r"}
    assert any(r["_lsn"] is None for r in rows) and any(r["_ts"] is None for r in rows)
    assert any(r["_op"] == "d" and r["status"] is None for r in rows)
    # the dead letters (standard error): truncate and the unknown op 'schema', the rest 'parse'
    dl = _stderr_dead(p.stderr)
    assert _dead_offsets(dl, topic) == dead, _dead_offsets(dl, topic)
    assert all(d["raw"] == events[int(d["position"].rsplit("/", 1)[1])][1] and d["pipeline"] == "orders_lake"
               for d in dl), dl[:3]
    with open(os.path.join(state, "orders_lake", "checkpoint")) as f:
        offsets = [l.split() for l in f if l.startswith("kafka ")]
    assert offsets == [["kafka", "0", str(len(events)), topic]], offsets

    # a rerun (another group: the offsets come from the checkpoint) reads nothing, writes nothing
    before = {f: open(f, "rb").read() for f in _lake_files(out)}
    p2 = _run(binary, dict(env, GROUP=topic + "_lake2"), args=["--once"], cwd=ctx.tmp)
    assert _summary(p2.stderr)["in"] == 0, p2.stderr[-2000:]
    assert {f: open(f, "rb").read() for f in _lake_files(out)} == before
    # changes made later: read once, appended
    more = gen_seeds.orders_changes(seed=10, first_order=1000, orders=5, start_lsn=25000000, snapshot=False,
                                    start=datetime.datetime(2024, 6, 2, 9, 0, 0, tzinfo=datetime.timezone.utc))
    _produce_changes(ks, topic, more)
    p3 = _run(binary, dict(env, GROUP=topic + "_lake3"), args=["--once"], cwd=ctx.tmp)
    assert _summary(p3.stderr)["in"] == len(more), p3.stderr[-2000:]
    _check_lake(ctx, out, events + more, "orders_lake_more")
    assert set(before) < set(_lake_files(out)), "the earlier files stay, new ones are added"


# -- the specs ----------------------------------------------------------------------------------

# What each pipelines/ copy changes in its seed (as its comments say): (seed text, copy text),
# applied to the seed's lines without comments; anything else that differs fails the test. Every
# copy also ends with its inline tests (`tests:`, run by `pipec test`), which are not compared.
SEED_CHANGES = {
    "bitcoin_to_kafka.yaml": [("topic: bitcoin_prices,", 'topic: "${TOPIC:-bitcoin_prices}",')],
    "taxi_speed_layer.yaml": [("topic: taxi_events, group: taxi-speed}",
                               'topic: "${TOPIC:-taxi_events}", group: "${GROUP:-taxi-speed}"}'),
                              ("topic: taxi_events_dlq}", 'topic: "${DLQ_TOPIC:-taxi_events_dlq}"}')],
    "orders_lake.yaml": [("topic: oltp.public.orders, group: orders-lake}",
                          'topic: "${TOPIC:-oltp.public.orders}", group: "${GROUP:-orders-lake}"}')],
}


def _spec_lines(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.startswith("tests:") or "\ntests:" in text:   # the copy's inline tests, always last
        text = text[:text.index("tests:") if text.startswith("tests:") else text.index("\ntests:") + 1]
    return "".join(l + "\n" for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#"))


def test_seed_copies_and_specs(ctx):
    """The pipelines/ copies are their seeds with only the documented changes; they pass
    `pipec check`, and so do the seeds themselves (with no feature left out); the binaries build and
    describe themselves without a broker."""
    for name, changes in SEED_CHANGES.items():
        want = _spec_lines(os.path.join(SEEDS, name))
        for old, new in changes:
            assert want.count(old) == 1, "%s: the seed no longer holds %r" % (name, old)
            want = want.replace(old, new)
        got = _spec_lines(os.path.join(ROOT, "pipelines", name))
        assert got == want, "pipelines/%s is not its seed with the documented changes:\n%s" % (name, "".join(
            difflib.unified_diff(want.splitlines(True), got.splitlines(True), "seed", "copy")))
    specs = [os.path.join(ROOT, "pipelines", n) for n in SEED_CHANGES]
    p = ctx.run([ctx.pipec, "check"] + specs)
    assert p.stdout.count(": ok (pipeline ") == 3, p.stdout
    for name in SEED_CHANGES:
        p = ctx.run([ctx.pipec, "check", os.path.join(SEEDS, name)])
        assert ": ok (pipeline %s)" % name[:-5] in p.stdout, p.stdout
    explain = ctx.run([ctx.pipec, "explain", specs[2]]).stdout
    assert "format: Debezium change events" in explain and "offsets are kept in the checkpoint" in explain, explain
    # no broker, no database: the binaries build (make pipelines does the same) and print --help
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for spec in specs:
        binary = ctx.build_pipeline(spec)
        h = subprocess.run([binary, "--help"], env=env, capture_output=True, text=True, timeout=30)
        assert h.returncode == 0 and "KAFKA_BROKERS (required)" in h.stdout, h.stdout + h.stderr
        r = subprocess.run([binary, "--once"], env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "KAFKA_BROKERS is not set" in r.stderr, r.stderr
