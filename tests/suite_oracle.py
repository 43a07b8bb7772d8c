"""suite_oracle.py - event-time windows checked against DuckDB as an independent oracle.

Each case compiles a spec of tests/oracle/specs/ with pipec, runs it on a CSV made by
tests/oracle/gen_windows.py (fixed profile and seeds: out-of-order events within a bounded
disorder, clearly late events, events on window edges, NULL keys and values, strings, spans across
the 2024 DST changes of America/New_York), and computes what it must output with SQL in DuckDB
(npm @duckdb/node-api, run by tests/oracle/sql.mjs on one thread, offline) from the same CSV:

- arrival order is the CSV order (column n); records failing a rule go to the dead letter, the
  filter drops records, the window's `where` leaves records out of the window;
- per window, max_t is the running maximum of the event time over the records that enter it
  (arrival order, the record itself included); watermark = max_t - lateness;
- tumbling [s, s + size), s = floor(t / size) * size, or local days of a time zone (ICU);
  hopping: windows [e - size, e) for every multiple e of `every` with e - size <= t < e;
- a record is late when every window holding it ends at or before the watermark at its arrival;
  otherwise it is aggregated into each window holding it whose end is after that watermark;
- aggregates: count, sum, avg, min, max, first/last by (event time, arrival), count(DISTINCT).

Compared: the window rows as a multiset keyed by (window, group keys) with no duplicates, every
value (integers and picks exact, sums and averages of floats within 1e-9 relative, NULL equal to
NULL only), window_start non-decreasing in output order, the exact set of late records in the dead
letter (and of rule failures), and the summary counts. Processing-time windows are not testable
against an oracle; session windows have no oracle case yet (tests/specs/window_session.yaml and
tests/suite_restart.py cover them).

Needs node and tests/oracle/node_modules (installed by `make deps`, tests/oracle/install.sh); a
missing install fails every test with a message saying so. No network is used at test time.
"""
import calendar
import datetime
import json
import math
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "oracle")
SPECS = os.path.join(ORACLE, "specs")
if ORACLE not in sys.path:
    sys.path.insert(0, ORACLE)
import gen_windows  # noqa: E402

SEC = 1_000_000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR
SUMMARY_RE = re.compile(r"done: in=(\d+) out=(\d+) dead=(\d+) dropped=(\d+)")
TS_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z$")
REL = 1e-9

# The CSV columns as DuckDB reads them (all text first, so that nothing is guessed).
CSV_TYPES = {"n": "BIGINT", "id": "VARCHAR", "at": "VARCHAR", "grp": "VARCHAR", "shard": "INTEGER",
             "price": "DOUBLE", "qty": "INTEGER", "big": "BIGINT", "tag": "VARCHAR"}

# Every aggregate of the specs, as DuckDB SQL over the records of one window and group, with how
# its value is compared: int (exact integer), float (1e-9 relative), exact (a double picked from
# the input: equal), str, ts (microseconds). first/last order by event time, then arrival.
AGGS = {
    "events": ("count(*)", "int"),
    "priced": ("count(price)", "int"),
    "tagged": ("count(tag)", "int"),
    "revenue": ("sum(price * qty)", "float"),
    "units": ("sum(qty)", "int"),
    "big_sum": ("sum(big)", "int"),
    "avg_price": ("avg(price)", "float"),
    "avg_qty": ("avg(qty)", "float"),
    "avg_big": ("avg(big)", "float"),
    "min_price": ("min(price)", "exact"),
    "max_price": ("max(price)", "exact"),
    "min_tag": ("min(tag)", "str"),
    "max_tag": ("max(tag)", "str"),
    "min_qty": ("min(qty)", "int"),
    "max_big": ("max(big)", "int"),
    "latest": ("epoch_us(max(ts))", "ts"),
    "earliest": ("epoch_us(min(ts))", "ts"),
    "first_id": ("first(id ORDER BY t, n)", "str"),
    "last_id": ("last(id ORDER BY t, n)", "str"),
    "first_price": ("first(price ORDER BY t, n)", "exact"),
    "last_price": ("last(price ORDER BY t, n)", "exact"),
    "first_tag": ("first(tag ORDER BY t, n)", "str"),
    "last_tag": ("last(tag ORDER BY t, n)", "str"),
    "first_qty": ("first(qty ORDER BY t, n)", "int"),
    "first_at": ("epoch_us(first(ts ORDER BY t, n))", "ts"),
    "tags": ("count(DISTINCT tag)", "int"),
    "ids": ("count(DISTINCT id)", "int"),
    "qtys": ("count(DISTINCT qty)", "int"),
    "grps": ("count(DISTINCT grp)", "int"),
}

# The cases: spec (tests/oracle/specs/NAME.yaml), generator profile and seeds, and the window as
# the oracle must see it; `rules`, `filter` and `where` are DuckDB SQL for the spec's expressions.
COMMON = dict(rules=[("price_ok", "price >= 0")], filter="coalesce(tag, '') <> 'junk'", where=None,
              tz=None, late="dead_letter")
CASES = {
    "tumble_1m": dict(COMMON, profile="tumble_1m", seeds=[1, 2], kind="tumbling", size=MIN,
                      every=MIN, lateness=30 * SEC, group_by=["grp", "shard"],
                      select=["events", "priced", "tagged", "revenue", "units", "big_sum",
                              "avg_price", "avg_qty", "avg_big", "min_price", "max_price",
                              "min_tag", "max_tag", "min_qty", "max_big", "latest", "earliest",
                              "first_id", "last_id", "first_price", "last_tag", "first_at",
                              "tags", "ids", "qtys"]),
    "tumble_10s_drop": dict(COMMON, profile="tumble_10s", seeds=[1, 2], kind="tumbling",
                            size=10 * SEC, every=10 * SEC, lateness=2 * SEC, late="drop",
                            group_by=["grp"],
                            select=["events", "units", "revenue", "last_price", "first_tag",
                                    "max_tag", "tags"]),
    "hop_1h_5m": dict(COMMON, profile="hop_1h_5m", seeds=[1, 2], kind="hopping", size=HOUR,
                      every=5 * MIN, lateness=MIN, group_by=["grp"],
                      select=["events", "priced", "revenue", "units", "big_sum", "avg_price",
                              "min_price", "max_tag", "latest", "first_id", "last_id",
                              "first_qty", "last_tag", "tags", "ids"]),
    "hop_10m_1m": dict(COMMON, profile="hop_10m_1m", seeds=[1], kind="hopping", size=10 * MIN,
                       every=MIN, lateness=20 * SEC, group_by=["shard", "tag"],
                       select=["events", "units", "avg_big", "max_price", "min_tag", "earliest",
                               "first_price", "last_id", "grps"]),
    "tz_days": dict(COMMON, profile="tz_days", seeds=[1, 2], kind="tumbling", size=DAY, every=DAY,
                    lateness=2 * HOUR, tz="America/New_York", group_by=["grp"],
                    select=["events", "priced", "revenue", "big_sum", "avg_price", "min_tag",
                            "latest", "earliest", "first_id", "last_id", "tags"]),
    "where_5m": dict(COMMON, profile="where_5m", seeds=[1, 2], kind="tumbling", size=5 * MIN,
                     every=5 * MIN, lateness=45 * SEC, where="price > 10 AND coalesce(qty, 0) <> 3",
                     group_by=["grp"],
                     select=["events", "priced", "revenue", "units", "avg_price", "min_price",
                             "first_id", "last_id", "latest", "ids"]),
}


# -- DuckDB ----------------------------------------------------------------------------------
def node_ready():
    """Fails with what to do when node or the oracle's npm packages are missing."""
    mod = os.path.join(ORACLE, "node_modules", "@duckdb", "node-api", "package.json")
    bindings = os.path.join(ORACLE, "node_modules", "@duckdb", "node-bindings")
    if not shutil.which("node"):
        raise AssertionError("node is not installed: run `make deps` (it installs nodejs and npm, "
                             "then tests/oracle/install.sh)")
    if not os.path.isfile(mod) or not os.path.isdir(bindings):
        raise AssertionError("the DuckDB oracle is not installed (tests/oracle/node_modules is "
                             "missing or incomplete): run `make deps` or sh tests/oracle/install.sh")


def duckdb(ctx, sql, name):
    """Runs SQL with tests/oracle/sql.mjs; returns the rows of each SELECT, as lists of dicts."""
    node_ready()
    path = os.path.join(ctx.tmp, name + ".sql")
    with open(path, "w", encoding="utf-8") as f:
        f.write(sql)
    p = subprocess.run(["node", os.path.join(ORACLE, "sql.mjs"), "--json", "--all", path],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("DuckDB oracle failed (%d) on %s:\n%s\n%s" % (p.returncode, path, p.stderr, sql))
    results = []
    for line in p.stdout.splitlines():
        if line.startswith("# result "):
            results.append([])
        elif line:
            results[-1].append(json.loads(line))
    return results


def q(s):
    return "'" + s.replace("'", "''") + "'"


def oracle_sql(case, csv_path):
    """The SQL for a case over a CSV file: two results, the window rows and each record's fate."""
    size, every, lat = case["size"], case["every"], case["lateness"]
    cols = ", ".join("%s: %s" % (q(c), q(t if c != "at" else "VARCHAR")) for c, t in CSV_TYPES.items())
    rules = case["rules"]
    rule_fail = "CASE " + " ".join("WHEN (%s) IS FALSE THEN %s" % (e, q(n)) for n, e in rules) + " END" \
        if rules else "NULL"
    filt = "(%s) IS TRUE" % case["filter"] if case["filter"] else "TRUE"
    where = "(%s) IS TRUE" % case["where"] if case["where"] else "TRUE"
    if case["tz"]:
        assert case["kind"] == "tumbling" and size == DAY
        tz = q(case["tz"])
        win = ("epoch_us(timezone(%s, date_trunc('day', timezone(%s, ts)))) AS ws, "
               "epoch_us(timezone(%s, date_trunc('day', timezone(%s, ts)) + INTERVAL 1 DAY)) AS last_end"
               % (tz, tz, tz, tz))
    else:
        # the last window holding t: the greatest multiple e of `every` with e - size <= t
        win = "NULL AS ws, ((t + %d) // %d) * %d AS last_end" % (size, every, every)
    prefix = """
CREATE TABLE ev AS
  SELECT *, CAST("at" AS TIMESTAMPTZ) AS ts, epoch_us(CAST("at" AS TIMESTAMPTZ)) AS t
  FROM read_csv({path}, header = true, auto_detect = false, columns = {{{cols}}},
                delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false);
CREATE TABLE st AS SELECT *, {rule_fail} AS rule_fail, {filt} AS kept, {where} AS inwin FROM ev;
CREATE TABLE en AS
  SELECT *, max(t) OVER (ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - {lat} AS wm
  FROM st WHERE rule_fail IS NULL AND kept AND inwin;
CREATE TABLE lw AS SELECT *, {win} FROM en;
CREATE TABLE ok AS SELECT * FROM lw WHERE last_end > wm;
""".format(path=q(csv_path), cols=cols, rule_fail=rule_fail, filt=filt, where=where, lat=lat, win=win)
    if case["tz"]:
        contrib = "SELECT *, ws AS w_start, last_end AS w_end FROM ok"
    else:
        contrib = """SELECT * FROM (
    SELECT *, unnest(generate_series((t // {every}) * {every} + {every}, last_end, {every})) AS w_end
    FROM ok) WHERE w_end > wm""".format(every=every)
    contrib = "SELECT *, w_end - %d AS w_start FROM (%s)" % (size, contrib) if not case["tz"] else contrib
    keys = case["group_by"]
    aggs = ",\n       ".join("%s AS %s" % (AGGS[a][0], a) for a in case["select"])
    rows_sql = prefix + """
SELECT w_start AS window_start, w_end AS window_end, {keys}
       {aggs}
FROM ({contrib}) c
GROUP BY w_start, w_end{gkeys}
ORDER BY w_start, w_end{gkeys};
""".format(keys="".join(k + ", " for k in keys), aggs=aggs, contrib=contrib,
           gkeys="".join(", " + k for k in keys))
    fates_sql = """
SELECT st.n, st.id,
       CASE WHEN st.rule_fail IS NOT NULL THEN 'rule:' || st.rule_fail
            WHEN NOT st.kept THEN 'filter'
            WHEN lw.n IS NOT NULL AND lw.last_end <= lw.wm THEN 'late'
            ELSE 'out' END AS fate
FROM st LEFT JOIN lw USING (n) ORDER BY st.n;
"""
    return rows_sql + fates_sql


# -- pipec's side ----------------------------------------------------------------------------
def ts_us(s):
    m = TS_RE.match(s) if isinstance(s, str) else None
    assert m, "not an RFC 3339 UTC timestamp: %r" % (s,)
    y, mo, d, h, mi, se, frac = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(se), 0, 0, 0))
    return secs * SEC + (int(frac.ljust(6, "0")) if frac else 0)


def us_text(t):
    return gen_windows.rfc3339(t)


def run_pipeline(ctx, case_name, csv_path, out_dir):
    binary = ctx.build_pipeline(os.path.join(SPECS, case_name + ".yaml"),
                                os.path.join(ctx.tmp, "oracle_" + case_name))
    os.makedirs(out_dir, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("INPUT", "OUT", "STATE_DIR")}
    env.update(INPUT=csv_path, OUT=out_dir)
    p = subprocess.run([binary], env=env, capture_output=True, text=True, timeout=120, cwd=ctx.tmp)
    if p.returncode != 0:
        raise AssertionError("%s exited %d\n%s" % (binary, p.returncode, p.stderr[-4000:]))
    m = SUMMARY_RE.findall(p.stderr)
    assert m, "no summary line on stderr:\n" + p.stderr[-3000:]
    summary = dict(zip(("in", "out", "dead", "dropped"), map(int, m[-1])))
    rows = []
    with open(os.path.join(out_dir, "windows.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    dead = []
    with open(os.path.join(out_dir, "dead.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                dead.append(json.loads(line))
    return rows, dead, summary


# -- comparing -------------------------------------------------------------------------------
def same(kind, got, want):
    if got is None or want is None:
        return got is None and want is None
    if kind == "ts":
        return ts_us(got) == want
    if kind == "int":
        return isinstance(got, int) and not isinstance(got, bool) and int(want) == got
    if kind == "str":
        return got == want
    g, w = float(got), float(want)
    if kind == "exact":
        return g == w
    if math.isnan(g) or math.isnan(w):
        return math.isnan(g) and math.isnan(w)
    return abs(g - w) <= REL * max(abs(g), abs(w))


def show(kind, v):
    if v is None:
        return "NULL"
    if kind == "ts":
        return us_text(v) if isinstance(v, int) else str(v)
    return repr(v)


def sort_key(k):
    """Window keys in order, NULL keys last (as pipec emits them)."""
    return tuple((1, "") if v is None else (0, v) for v in k)


def compare(case, rows, want_rows, label):
    problems = []
    keys = case["group_by"]
    # window_start never goes back in output order
    prev = None
    for i, r in enumerate(rows):
        ws = ts_us(r["window_start"])
        if prev is not None and ws < prev:
            problems.append("output row %d: window_start %s after %s" % (i, r["window_start"], us_text(prev)))
            break
        prev = ws
    expect_cols = ["window_start", "window_end"] + keys + case["select"]
    got = {}
    for i, r in enumerate(rows):
        if list(r.keys()) != expect_cols:
            problems.append("output row %d has columns %s, not %s" % (i, list(r.keys()), expect_cols))
            break
        k = (ts_us(r["window_start"]), ts_us(r["window_end"])) + tuple(r[c] for c in keys)
        if k in got:
            problems.append("window emitted twice: %s" % (r,))
        got[k] = r
    want = {}
    for r in want_rows:
        k = (int(r["window_start"]), int(r["window_end"])) + tuple(r[c] for c in keys)
        assert k not in want
        want[k] = r

    def kshow(k):
        return "[%s, %s) %s" % (us_text(k[0]), us_text(k[1]),
                                ", ".join("%s=%s" % (c, show("str", v)) for c, v in zip(keys, k[2:])))
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    for k in sorted(missing, key=sort_key)[:8]:
        problems.append("missing window (oracle has it, pipec does not): %s: %s" % (kshow(k), want[k]))
    for k in sorted(extra, key=sort_key)[:8]:
        problems.append("extra window (pipec has it, the oracle does not): %s: %s" % (kshow(k), got[k]))
    if len(missing) > 8 or len(extra) > 8:
        problems.append("(%d missing, %d extra windows in all)" % (len(missing), len(extra)))
    bad = 0
    for k in sorted(set(got) & set(want), key=sort_key):
        for c in case["select"]:
            kind = AGGS[c][1]
            if not same(kind, got[k][c], want[k][c]):
                bad += 1
                if bad <= 12:
                    problems.append("%s: %s = %s, oracle %s" % (kshow(k), c, show(kind, got[k][c]), show(kind, want[k][c])))
    if bad > 12:
        problems.append("(%d differing values in all)" % bad)
    if problems:
        raise AssertionError("%s: pipec differs from the DuckDB oracle (%d rows, oracle %d):\n  %s" % (
            label, len(rows), len(want_rows), "\n  ".join(problems)))


def compare_fates(case, dead, summary, fates, csv_path, label):
    problems = []
    late_want = {r["n"] for r in fates if r["fate"] == "late"}
    rule_want = {r["n"]: r["fate"][5:] for r in fates if r["fate"].startswith("rule:")}
    filtered = sum(1 for r in fates if r["fate"] == "filter")
    ids = {r["n"]: r["id"] for r in fates}
    late_got, rule_got = set(), {}
    for d in dead:
        m = re.match(r"^(.*):(\d+)$", d.get("position", ""))
        assert m and m.group(1) == csv_path, "dead letter position %r" % (d.get("position"),)
        n = int(m.group(2)) - 2
        assert d["raw"].split(",", 1)[0] == str(n), "dead letter raw %r at line %s" % (d["raw"], m.group(2))
        if d["reason"] == "late":
            late_got.add(n)
        else:
            rule_got[n] = d["reason"]
    if case["late"] == "drop":
        if late_got:
            problems.append("late: drop, yet %d late records in the dead letter" % len(late_got))
        late_got = None
    else:
        for n in sorted(late_want - late_got)[:10]:
            problems.append("n=%d (%s) is late by the oracle, not in pipec's dead letter" % (n, ids[n]))
        for n in sorted(late_got - late_want)[:10]:
            problems.append("n=%d (%s) is late in pipec's dead letter, not by the oracle" % (n, ids[n]))
    if rule_got != rule_want:
        problems.append("rule failures differ: pipec %d, oracle %d; e.g. %s" % (
            len(rule_got), len(rule_want),
            sorted(set(rule_got.items()) ^ set(rule_want.items()))[:5]))
    nlate = len(late_want)
    want_sum = {"in": len(fates), "out": sum(1 for r in fates if r["fate"] == "out"),
                "dead": len(rule_want) + (nlate if case["late"] != "drop" else 0),
                "dropped": filtered + (nlate if case["late"] == "drop" else 0)}
    if summary != want_sum:
        problems.append("summary %s, oracle %s" % (summary, want_sum))
    if problems:
        raise AssertionError("%s: dead letter / counts differ from the oracle:\n  %s" % (label, "\n  ".join(problems)))
    return nlate


def check_case(ctx, name):
    """Runs a case for each of its seeds; every seed runs even when one fails."""
    case = CASES[name]
    node_ready()
    failures = []
    for seed in case["seeds"]:
        try:
            check_seed(ctx, name, case, seed)
        except AssertionError as e:
            failures.append(str(e))
    if failures:
        raise AssertionError("\n\n".join(failures))


def check_seed(ctx, name, case, seed):
    label = "%s seed %d" % (name, seed)
    csv_path = os.path.join(ctx.tmp, "%s_%d.csv" % (name, seed))
    with open(csv_path, "w", encoding="utf-8", newline="") as f:
        f.write(gen_windows.make(case["profile"], seed))
    rows, dead, summary = run_pipeline(ctx, name, csv_path, os.path.join(ctx.tmp, "out_%d" % seed))
    want_rows, fates = duckdb(ctx, oracle_sql(case, csv_path), "%s_%d" % (name, seed))
    assert [r["n"] for r in fates] == list(range(len(fates))), "arrival index n is not 0..N-1"
    # the data must exercise what it is meant to
    nlate = sum(1 for r in fates if r["fate"] == "late")
    assert nlate >= 5, "%s: only %d late records" % (label, nlate)
    assert len(want_rows) >= 20, "%s: only %d windows" % (label, len(want_rows))
    for k in case["group_by"]:
        assert any(r[k] is None for r in want_rows), "%s: no NULL %s group" % (label, k)
    problems = []
    for check in (lambda: compare_fates(case, dead, summary, fates, csv_path, label),
                  lambda: compare(case, rows, want_rows, label)):
        try:
            check()
        except AssertionError as e:
            problems.append(str(e))
    if problems:
        raise AssertionError("\n".join(problems))


# -- the tests -------------------------------------------------------------------------------
def test_duckdb_oracle_works(ctx):
    """The oracle itself: one thread, ICU time zones, exact integers, shortest doubles, NULLs."""
    [rows] = duckdb(ctx, """
SELECT current_setting('threads') AS threads,
       epoch_us(timezone('America/New_York', date_trunc('day', timezone('America/New_York',
                TIMESTAMPTZ '2024-03-10 12:00:00+00')) + INTERVAL 1 DAY)) AS next_midnight,
       epoch_us(timezone('America/New_York', DATE '2024-11-03'::TIMESTAMP)) AS nov3,
       CAST(9007199254740993 AS BIGINT) AS big, 0.1::DOUBLE + 0.2::DOUBLE AS d, NULL AS nothing, '' AS empty;
""", "selftest")
    assert rows == [{"threads": 1, "next_midnight": ts_us("2024-03-11T04:00:00Z"),
                     "nov3": ts_us("2024-11-03T04:00:00Z"), "big": 9007199254740993,
                     "d": 0.30000000000000004, "nothing": None, "empty": ""}], rows


def test_generator_deterministic(ctx):
    """Same profile and seed, same bytes; n is the line order; the tz data spans both changes."""
    a = gen_windows.make("tz_days", 1)
    assert a == gen_windows.make("tz_days", 1)
    assert a != gen_windows.make("tz_days", 2)
    lines = a.splitlines()
    assert [int(l.split(",", 1)[0]) for l in lines[1:]] == list(range(len(lines) - 1))
    ts = [ts_us(l.split(",")[2]) for l in lines[1:]]
    for change in ("2024-03-10T07:00:00Z", "2024-11-03T06:00:00Z"):
        c = ts_us(change)
        assert min(ts) < c - DAY and max(ts) > c + DAY


def test_tumbling_1m_all_aggregates(ctx):
    check_case(ctx, "tumble_1m")


def test_tumbling_10s_late_drop(ctx):
    check_case(ctx, "tumble_10s_drop")


def test_hopping_1h_every_5m(ctx):
    check_case(ctx, "hop_1h_5m")


def test_hopping_10m_every_1m(ctx):
    check_case(ctx, "hop_10m_1m")


def test_tumbling_1d_new_york_dst(ctx):
    check_case(ctx, "tz_days")


def test_tumbling_5m_where(ctx):
    check_case(ctx, "where_5m")
