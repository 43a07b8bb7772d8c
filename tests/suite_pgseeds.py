"""suite_pgseeds.py - the seed pipelines pipelines/taxi_batch_daily.yaml and
pipelines/bitcoin_daily_avg.yaml, run against a real PostgreSQL and checked against DuckDB.

Each test builds the seed spec as it is in pipelines/, generates realistic input with
tests/gen_seeds.py (fixed seeds), runs the binary against a fresh database of the throwaway
server of tests/pgserver.py, reads the table back with psql and compares every row with what
DuckDB (tests/oracle/sql.mjs, the suite's independent oracle) computes from the same bytes:

- the record fates: which lines do not read (`parse`, by the grammar of docs/spec.md written as
  regular expressions and DuckDB casts), which break a rule (in rule order), which the filter
  drops, which are late (the running maximum of event time in arrival order minus the lateness,
  against the end of the record's window), cross-checked with the generator's own intent;
- the window rows: tumbling 1-day windows, for the taxi on New York days (DuckDB's ICU time
  zones; the pickup text has no offset, so it is read as UTC, as the spec says patterns do), for
  bitcoin on UTC days; counts exact, min/max exact, sums and averages within 1e-9 relative;
- the summary line ("done: in=... out=... dead=... dropped=..." and the per-reason counts), the
  dead letter (taxi: the JSON-lines file; bitcoin: the default, standard error) line by line;
- the table PostgreSQL got: its column types and key (create: true): a primary key, or for the
  taxi, whose group key (payment) can be NULL, UNIQUE NULLS NOT DISTINCT, so the NULL payment
  rows are stored and replaced like the others;
- a second run of the same binary on the same input: the database checkpoint of a finished run
  makes it start over, and upsert leaves exactly the same rows (no duplicates, nothing added).
"""
import datetime
import json
import math
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORACLE = os.path.join(HERE, "oracle")
sys.path.insert(0, HERE)
import gen_seeds  # noqa: E402
import kafkaserver  # noqa: E402
import pgserver  # noqa: E402
from suite_oracle import duckdb as _duckdb, q as _q  # noqa: E402  (the DuckDB oracle runner)

REL = 1e-9
HOUR_US = 3600 * 1000000
DAY_US = 24 * HOUR_US
SUMMARY_RE = re.compile(r" done: in=(\d+) out=(\d+) dead=(\d+) dropped=(\d+)(.*)$")


# -- running -----------------------------------------------------------------------------------
def _env(**kw):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k not in ("INPUT", "DLQ_PATH")}
    e.update({k: str(v) for k, v in kw.items()})
    return e


def _run(binary, env, cwd, args=()):
    p = subprocess.run([binary] + list(args), env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "%s exited %d\n%s" % (binary, p.returncode, p.stderr[-4000:])
    return p


def _summary(stderr):
    """The summary line: {"in", "out", "dead", "dropped"} as ints, "sinks" and "reasons" dicts."""
    for line in reversed(stderr.splitlines()):
        m = SUMMARY_RE.search(line)
        if not m:
            continue
        s = dict(zip(("in", "out", "dead", "dropped"), map(int, m.groups()[:4])))
        sinks, reasons, part = {}, {}, None
        for word in m.group(5).split():
            if word in ("sinks:", "dead:"):
                part = sinks if word == "sinks:" else reasons
            elif "=" in word and part is not None:
                k, v = word.split("=", 1)
                part[k] = int(v)
        s["sinks"], s["reasons"] = sinks, reasons
        return s
    raise AssertionError("no summary line in:\n" + stderr[-3000:])


def _need_server():
    assert pgserver.available(), "PostgreSQL 15 is not installed (make deps installs it)"
    return pgserver.server()


def _columns(srv, db, table):
    return dict(srv.psql("SELECT column_name, data_type FROM information_schema.columns "
                         "WHERE table_name = '%s'" % table, db=db))


def _primary_key(srv, db, table):
    return [r[0] for r in srv.psql(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
        "a.attnum = ANY(i.indkey) WHERE i.indrelid = '%s'::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey, a.attnum)" % table, db=db)]


# -- the oracle --------------------------------------------------------------------------------

# The value grammar of docs/spec.md ("How values are read"), for the oracle's own decoding.
MACROS = r"""
CREATE MACRO is_int32(x) AS regexp_full_match(x, '[+-]?[0-9]+') AND TRY_CAST(x AS INTEGER) IS NOT NULL;
CREATE MACRO is_float(x) AS regexp_full_match(x, '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?');
"""


def taxi_sql(csv_path):
    cols = ", ".join("%s: 'VARCHAR'" % _q(c) for c in gen_seeds.TAXI_HEADER.split(","))
    ny = "'America/New_York'"
    return MACROS + """
CREATE TABLE raw AS SELECT * FROM read_csv({path}, header = true, auto_detect = false,
    columns = {{{cols}}}, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false);
-- rowid is the file order (one thread, insertion order kept): line = rowid + 2 (the header is 1)
CREATE TABLE st AS SELECT rowid + 2 AS line, tpep_pickup_datetime AS pickup_text,
    CAST(try_strptime(tpep_pickup_datetime, '%Y-%m-%d %H:%M:%S') AS TIMESTAMPTZ) AS ts,
    TRY_CAST(payment_type AS INTEGER) AS payment, TRY_CAST(trip_distance AS DOUBLE) AS distance,
    TRY_CAST(fare_amount AS DOUBLE) AS fare, TRY_CAST(tip_amount AS DOUBLE) AS tip,
    TRY_CAST(total_amount AS DOUBLE) AS total,
    CASE WHEN try_strptime(tpep_pickup_datetime, '%Y-%m-%d %H:%M:%S') IS NULL THEN 'parse'
         WHEN passenger_count IS NOT NULL AND NOT is_int32(passenger_count) THEN 'parse'
         WHEN trip_distance IS NULL OR NOT is_float(trip_distance) THEN 'parse'
         WHEN payment_type IS NOT NULL AND NOT is_int32(payment_type) THEN 'parse'
         WHEN fare_amount IS NULL OR NOT is_float(fare_amount) THEN 'parse'
         WHEN tip_amount IS NULL OR NOT is_float(tip_amount) THEN 'parse'
         WHEN total_amount IS NULL OR NOT is_float(total_amount) THEN 'parse'
         WHEN TRY_CAST(fare_amount AS DOUBLE) < 0 THEN 'fare_not_negative'
         WHEN NOT (TRY_CAST(trip_distance AS DOUBLE) BETWEEN 0 AND 500) THEN 'distance_sane'
    END AS bad
  FROM raw;
CREATE TABLE en AS SELECT *,
    max(epoch_us(ts)) OVER (ORDER BY line ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - {day} AS wm,
    epoch_us(timezone({ny}, date_trunc('day', timezone({ny}, ts)))) AS ws,
    epoch_us(timezone({ny}, date_trunc('day', timezone({ny}, ts)) + INTERVAL 1 DAY)) AS we
  FROM st WHERE bad IS NULL;
SELECT ws AS window_start, we AS window_end, payment, count(*) AS trips, sum(total) AS revenue,
       avg(tip) AS avg_tip, max(distance) AS max_distance
  FROM en WHERE we > wm GROUP BY ws, we, payment ORDER BY ws, payment NULLS LAST;
SELECT st.line, st.pickup_text,
       CASE WHEN st.bad IS NOT NULL THEN st.bad WHEN en.we <= en.wm THEN 'late' ELSE 'out' END AS fate
  FROM st LEFT JOIN en USING (line) ORDER BY st.line;
""".format(path=_q(csv_path), cols=cols, ny=ny, day=DAY_US)


# bitcoin_daily_avg's windows and each record's fate, over a table st(line, bad, t, open, high,
# low, close, volume_btc): 1-day windows, lateness 1 hour, rows without close filtered.
BTC_WINDOWS_SQL = """CREATE TABLE en AS SELECT *,
    max(t) OVER (ORDER BY line ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - {hour} AS wm,
    (t // {day}) * {day} AS ws, (t // {day}) * {day} + {day} AS we
  FROM st WHERE bad IS NULL AND close IS NOT NULL;
SELECT ws AS window_start, we AS window_end, avg(open) AS avg_open, avg(close) AS avg_close,
       max(high) AS high, min(low) AS low, sum(volume_btc) AS volume, count(*) AS samples
  FROM en WHERE we > wm GROUP BY ws, we ORDER BY ws;
SELECT st.line,
       CASE WHEN st.bad IS NOT NULL THEN st.bad WHEN st.close IS NULL THEN 'filter'
            WHEN en.we <= en.wm THEN 'late' ELSE 'out' END AS fate
  FROM st LEFT JOIN en USING (line) ORDER BY st.line;
""".format(hour=HOUR_US, day=DAY_US)


def bitcoin_sql(jsonl_path):
    num = " AND ".join("coalesce(json_type(txt, '$.%s'), 'NULL') IN ('NULL', 'DOUBLE', 'BIGINT', 'UBIGINT')" % k
                       for k in ("open", "high", "low", "close", "volume_btc"))
    value = ", ".join("CASE WHEN bad IS NULL THEN CAST(json_extract(txt, '$.%s') AS DOUBLE) END AS %s" % (k, k)
                      for k in ("open", "high", "low", "close", "volume_btc"))
    return """
CREATE TABLE ln AS SELECT unnest(range(1, len(l) + 1)) AS line, unnest(l) AS txt
  FROM (SELECT string_split(content, chr(10)) AS l FROM read_text({path}));
CREATE TABLE st0 AS SELECT line, txt,
    CASE WHEN NOT json_valid(txt) THEN 'parse'
         WHEN json_type(txt) <> 'OBJECT' THEN 'parse'
         WHEN coalesce(json_type(txt, '$.timestamp'), 'NULL') <> 'VARCHAR' THEN 'parse'
         WHEN TRY_CAST(json_extract_string(txt, '$.timestamp') AS TIMESTAMPTZ) IS NULL THEN 'parse'
         WHEN NOT ({num}) THEN 'parse'
    END AS bad
  FROM ln WHERE txt <> '';
CREATE TABLE st AS SELECT line, bad,
    CASE WHEN bad IS NULL THEN epoch_us(CAST(json_extract_string(txt, '$.timestamp') AS TIMESTAMPTZ)) END AS t,
    {value}
  FROM st0;
{windows}""".format(path=_q(jsonl_path), num=num, value=value, windows=BTC_WINDOWS_SQL)


# -- comparing ---------------------------------------------------------------------------------
def _same(kind, got, want):
    if got is None or want is None:
        return got is None and want is None
    if kind == "int":
        return int(got) == int(want)
    g, w = float(got), float(want)
    if kind == "exact":
        return g == w
    return abs(g - w) <= REL * max(abs(g), abs(w)) or (math.isnan(g) and math.isnan(w))


def _us_text(us):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _compare_rows(got, want, key_cols, kinds, label):
    """got, want: lists of dicts. Keys must be unique on both sides; every value compared."""
    problems = []

    def index(rows, side):
        out = {}
        for r in rows:
            k = tuple(r[c] for c in key_cols)
            if k in out:
                problems.append("%s: key %s twice" % (side, k))
            out[k] = r
        return out
    g, w = index(got, "PostgreSQL"), index(want, "oracle")
    for k in sorted(set(w) - set(g), key=str)[:8]:
        problems.append("missing row (the oracle has it, the table does not): %s" % (w[k],))
    for k in sorted(set(g) - set(w), key=str)[:8]:
        problems.append("extra row (the table has it, the oracle does not): %s" % (g[k],))
    bad = 0
    for k in sorted(set(g) & set(w), key=str):
        for c, kind in kinds.items():
            if not _same(kind, g[k][c], w[k][c]):
                bad += 1
                if bad <= 12:
                    problems.append("%s: %s = %r, oracle %r" % (
                        ", ".join("%s=%s" % (kc, _us_text(v) if kc.startswith("window") else v)
                                  for kc, v in zip(key_cols, k)), c, g[k][c], w[k][c]))
    if problems:
        raise AssertionError("%s: the table differs from the DuckDB oracle (%d rows, oracle %d):\n  %s"
                             % (label, len(got), len(want), "\n  ".join(problems)))


def _compare_fates(oracle_fates, gen_fates, label):
    """The oracle's reading of the input against the generator's intent, line by line."""
    got = {r["line"]: r["fate"] for r in oracle_fates}
    if got != gen_fates:
        diff = sorted(k for k in set(got) | set(gen_fates) if got.get(k) != gen_fates.get(k))
        raise AssertionError("%s: the oracle reads %d lines differently from what the generator meant, "
                             "e.g. %s" % (label, len(diff), [(k, got.get(k), gen_fates.get(k)) for k in diff[:8]]))


def _dead_by_line(dead, path):
    """{line: reason} of dead letters whose position is PATH:LINE; the other ones apart."""
    by_line, other = {}, []
    for d in dead:
        pos = d.get("position", "")
        p, _, line = pos.rpartition(":")
        if p == path and line.isdigit():
            assert int(line) not in by_line, "dead letter for line %s twice" % line
            by_line[int(line)] = d["reason"]
        else:
            other.append(d)
    return by_line, other


def _expected_summary(fates, reasons_of_dead=("parse", "late", "fare_not_negative", "distance_sane")):
    counts = {}
    for f in fates.values():
        counts[f] = counts.get(f, 0) + 1
    return {"in": len(fates), "out": counts.get("out", 0),
            "dead": sum(n for f, n in counts.items() if f in reasons_of_dead),
            "dropped": counts.get("filter", 0)}, counts


# -- taxi_batch_daily ------------------------------------------------------------------------
TAXI_SQL = ("SELECT (extract(epoch FROM window_start) * 1000000)::bigint, "
            "(extract(epoch FROM window_end) * 1000000)::bigint, payment, trips, revenue::text, "
            "avg_tip::text, max_distance::text FROM taxi_agg ORDER BY 1, 3")
TAXI_KINDS = {"window_end": "int", "trips": "int", "revenue": "float", "avg_tip": "float",
              "max_distance": "exact"}


def _taxi_table(srv, db):
    return [{"window_start": int(a), "window_end": int(b), "payment": None if p is None else int(p),
             "trips": int(n), "revenue": r, "avg_tip": t, "max_distance": d}
            for a, b, p, n, r, t, d in srv.psql(TAXI_SQL, db=db)]


def _read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_taxi_batch_daily(ctx):
    """The taxi seed on a week of trips across the spring-forward of 2024-03-10, twice."""
    srv = _need_server()
    db = srv.new_db("taxi")
    binary = ctx.build_pipeline(os.path.join(ROOT, "pipelines", "taxi_batch_daily.yaml"))
    text, gen_fates = gen_seeds.taxi(seed=11)
    data = os.path.join(ctx.tmp, "yellow_tripdata_2024-03.csv")
    with open(data, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    dlq = os.path.join(ctx.tmp, "out", "taxi.dead.jsonl")
    env = _env(PG_DSN=srv.dsn(db), INPUT=data, DLQ_PATH=dlq)

    want_rows, fates = _duckdb(ctx, taxi_sql(data), "taxi")
    _compare_fates(fates, gen_fates, "taxi input")
    # the data exercises what it is meant to
    assert len(want_rows) >= 30, len(want_rows)
    lengths = {r["window_end"] - r["window_start"] for r in want_rows}
    assert 23 * HOUR_US in lengths and DAY_US in lengths, sorted(lengths)
    null_groups = [r for r in want_rows if r["payment"] is None]
    assert len(null_groups) >= 5, null_groups
    want_sum, counts = _expected_summary(gen_fates)
    assert counts["late"] == 5 and counts["parse"] >= 20 and counts["out"] > 3500, counts

    p = _run(binary, env, cwd=ctx.tmp)
    s = _summary(p.stderr)
    assert {k: s[k] for k in want_sum} == want_sum, (s, want_sum)

    # the table: every row, the NULL payment ones too
    got = _taxi_table(srv, db)
    _compare_rows(got, want_rows, ["window_start", "payment"], TAXI_KINDS, "taxi_agg")
    assert s["sinks"] == {"taxi_agg": len(got)}, s
    assert _columns(srv, db, "taxi_agg") == {
        "window_start": "timestamp with time zone", "window_end": "timestamp with time zone",
        "payment": "integer", "trips": "bigint", "revenue": "double precision",
        "avg_tip": "double precision", "max_distance": "double precision"}
    assert _primary_key(srv, db, "taxi_agg") == [], "a primary key cannot hold a NULL payment"
    nnd = srv.psql("SELECT indnullsnotdistinct, indisunique FROM pg_index WHERE indrelid = 'taxi_agg'::regclass", db=db)
    assert nnd == [["t", "t"]], nnd

    # the dead letter: every bad or late line with its reason, nothing else
    dead = _read_jsonl(dlq)
    by_line, other = _dead_by_line(dead, data)
    want_dead = {line: f for line, f in gen_fates.items() if f != "out"}
    if by_line != want_dead:
        diff = sorted(k for k in set(by_line) | set(want_dead) if by_line.get(k) != want_dead.get(k))
        raise AssertionError("dead letter differs at %d lines, e.g. %s" % (
            len(diff), [(k, by_line.get(k), want_dead.get(k)) for k in diff[:8]]))
    assert all(d["pipeline"] == "taxi_batch_daily" and d["raw"] for d in dead), dead[:3]
    assert other == [], other[:3]
    want_reasons = {f: n for f, n in counts.items() if f not in ("out",)}
    assert s["reasons"] == want_reasons, (s["reasons"], want_reasons)

    # a second run: the finished run's database checkpoint makes it start over; same table
    before = srv.psql("SELECT * FROM taxi_agg ORDER BY window_start, payment", db=db)
    p2 = _run(binary, env, cwd=ctx.tmp)
    assert "starting from the beginning" in p2.stderr, p2.stderr[-2000:]
    s2 = _summary(p2.stderr)
    assert s2 == s, (s2, s)
    assert srv.psql("SELECT * FROM taxi_agg ORDER BY window_start, payment", db=db) == before
    assert srv.psql("SELECT count(*) FROM taxi_agg", db=db) == [[str(len(got))]]
    dead2 = _read_jsonl(dlq)
    strip = [{k: v for k, v in d.items() if k != "at"} for d in dead]
    assert [{k: v for k, v in d.items() if k != "at"} for d in dead2] == strip, \
        "the dead letter of the rerun differs (%d lines, first run %d)" % (len(dead2), len(dead))
    assert srv.psql("SELECT key FROM pipec_checkpoint", db=db) == [["taxi_batch_daily/taxi_agg"]]


# -- bitcoin_daily_avg -----------------------------------------------------------------------
BTC_SQL = ("SELECT (extract(epoch FROM window_start) * 1000000)::bigint, "
           "(extract(epoch FROM window_end) * 1000000)::bigint, avg_open::text, avg_close::text, "
           "high::text, low::text, volume::text, samples FROM daily_avg ORDER BY 1")
BTC_KINDS = {"window_end": "int", "avg_open": "float", "avg_close": "float", "high": "exact",
             "low": "exact", "volume": "float", "samples": "int"}


def _btc_table(srv, db):
    return [{"window_start": int(a), "window_end": int(b), "avg_open": o, "avg_close": c,
             "high": h, "low": lo, "volume": v, "samples": int(n)}
            for a, b, o, c, h, lo, v, n in srv.psql(BTC_SQL, db=db)]


def _stderr_dead(stderr):
    """The default dead letter: JSON lines on standard error, between the log lines."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_bitcoin_daily_avg(ctx):
    """The bitcoin seed: three days of minute prices, out of order, with bad lines, produced into a
    Kafka topic of one partition (the order of the file) by kcat; a rerun reads nothing new."""
    srv = _need_server()
    if not kafkaserver.available():
        raise AssertionError("needs the Kafka test broker (make deps)")
    ks = kafkaserver.server()
    db = srv.new_db("bitcoin")
    spec = os.path.join(ROOT, "pipelines", "bitcoin_daily_avg.yaml")
    explain = ctx.run([ctx.pipec, "explain", spec]).stdout
    assert "checkpoint: in PostgreSQL" in explain and "upsert on window_start" in explain, explain
    assert "offsets are kept in the checkpoint" in explain, explain
    binary = ctx.build_pipeline(spec)
    text, gen_fates = gen_seeds.bitcoin(seed=7)
    data = os.path.join(ctx.tmp, "bitcoin.jsonl")
    with open(data, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    # one message per line that holds something (a JSON-lines file skips blank lines too)
    lines = [(n, l) for n, l in enumerate(text.split("\n"), 1) if l.strip()]
    assert len(lines) == len(gen_fates)
    topic = ks.new_topic("bitcoin_prices", 1)
    ks.produce(topic, [l for _, l in lines])
    env = _env(PG_DSN=srv.dsn(db), KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP=topic + "_a")

    want_rows, fates = _duckdb(ctx, bitcoin_sql(data), "bitcoin")
    _compare_fates(fates, gen_fates, "bitcoin input")
    want_sum, counts = _expected_summary(gen_fates)
    assert len(want_rows) == 3 and counts["late"] == 3 and counts["parse"] == 9 and \
        counts["filter"] > 40, (len(want_rows), counts)

    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    s = _summary(p.stderr)
    assert {k: s[k] for k in want_sum} == want_sum, (s, want_sum)
    assert s["sinks"] == {"daily_avg": 3}, s
    assert s["reasons"] == {"parse": 9, "late": 3}, s["reasons"]
    got = _btc_table(srv, db)
    _compare_rows(got, want_rows, ["window_start"], BTC_KINDS, "daily_avg")
    assert _columns(srv, db, "daily_avg") == {
        "window_start": "timestamp with time zone", "window_end": "timestamp with time zone",
        "avg_open": "double precision", "avg_close": "double precision", "high": "double precision",
        "low": "double precision", "volume": "double precision", "samples": "bigint"}
    assert _primary_key(srv, db, "daily_avg") == ["window_start"]
    # dead letters by offset, which is the position of the line among those produced
    by_line = {}
    for d in _stderr_dead(p.stderr):
        t, part, off = d["position"].rsplit("/", 2)
        assert t == topic and part == "0", d
        by_line[lines[int(off)][0]] = d["reason"]
    assert by_line == {k: f for k, f in gen_fates.items() if f in ("parse", "late")}, by_line
    ck = srv.psql("SELECT key, encode(value, 'hex') FROM pipec_checkpoint", db=db)   # with the window state
    assert [r[0] for r in ck] == ["bitcoin_daily_avg/daily_avg"], ck
    assert ("\nkafka 0 %d %s\n" % (len(lines), topic)).encode() in bytes.fromhex(ck[0][1]), ck[0][1][:400]

    # a second run (another group: the offsets come from the checkpoint) reads nothing
    before = srv.psql("SELECT * FROM daily_avg ORDER BY window_start", db=db)
    p2 = _run(binary, dict(env, GROUP=topic + "_b"), args=["--once"], cwd=ctx.tmp)
    assert _summary(p2.stderr)["in"] == 0, p2.stderr[-2000:]
    assert srv.psql("SELECT * FROM daily_avg ORDER BY window_start", db=db) == before


def test_seed_specs_and_generators(ctx):
    """Both seed specs pass `pipec check`; the generators are deterministic and realistic."""
    specs = [os.path.join(ROOT, "pipelines", n) for n in ("taxi_batch_daily.yaml", "bitcoin_daily_avg.yaml")]
    p = ctx.run([ctx.pipec, "check"] + specs)
    assert p.stdout.count(": ok (pipeline ") == 2, p.stdout
    for make in (gen_seeds.taxi, gen_seeds.bitcoin):
        a = make(seed=3)
        assert a == make(seed=3) and a[0] != make(seed=4)[0]
    text, fates = gen_seeds.taxi(seed=3)
    lines = text.splitlines()
    assert lines[0] == gen_seeds.TAXI_HEADER and len(lines) - 1 == len(fates)
    # pickups span the spring-forward, slightly out of order
    picks = [l.split(",")[1] for l, (_, f) in zip(lines[1:], sorted(fates.items())) if f == "out"]
    assert min(picks) < "2024-03-08" and max(picks) > "2024-03-12"
    assert any(b < a for a, b in zip(picks, picks[1:]))
    text, fates = gen_seeds.bitcoin(seed=3)
    assert text.endswith("}\n\n") and len(text.splitlines()) - 1 == len(fates)
