#!/usr/bin/python3
"""run.py - the benchmarks behind `make bench` (the suite of issue 8): compiled pipelines against
baselines run in the same invocation, on the same file, on the same core. Every case prints its
table, the done-when targets of issue 8 with met or MISSED (informational: nothing fails) and
appends to bench/results.csv; the run ends with a summary table of every target. bench/README.md
says what each contender does exactly; docs/performance.md keeps the numbers.

Case 1, rowpath: bench/data/events.csv (5M shop events, a few bad rows, tests/gen_events.py),
  pipeline      bench/rowpath.yaml (CSV -> rules -> derive -> filter -> JSON lines)
  wc -l         reading the file once: the floor of any line-oriented tool
  awk           the same job in awk (less validation: no timestamp, integer range or UTF-8
                checks, no CSV quoting)
  duckdb        node bench/duckdb_bench.mjs, DuckDB threads=1: read_csv with the types, the rule and
                one_of as WHERE, the derive, the filter, COPY TO json lines (ROWPATH_SQL); the
                whole node process, and "duckdb query", the COPY alone
Case 2, window_tumbling: bench/data/windows.csv made by DuckDB (5M readings of 1000 devices over
  3 days, in time order up to 2 s of jitter); bench/window_tumbling.yaml (1-minute tumbling
  windows per device, count, sum, avg) against DuckDB's GROUP BY time_bucket over read_csv.
Case 3, window_json: the same rows as JSON lines (bench/data/windows.jsonl);
  bench/window_json.yaml against the same GROUP BY over read_json.
Case 4, window_hopping: the same CSV, windows of 1 hour every minute (bench/window_hopping.yaml)
  against case 2's pipeline (the hopping/tumbling cost) and DuckDB by panes.
Case 5, kafka_window_pg: --kafka-rows JSON readings produced into a topic of 8 partitions of the
  Kafka test broker (tests/kafkaserver.py); bench/kafka_window_pg.yaml --once (windows into
  PostgreSQL, its wall from its partition assignment) against kcat -C of the same topic.
Case 6, pg_insert and pg_upsert: --pg-rows valid events into a throwaway PostgreSQL 15
  (tests/pgserver.py), a fresh table each run: bench/pg_insert.yaml against psql \\copy,
  bench/pg_upsert.yaml against a hand-written staging-table upsert in psql.
Case 7, csv_parquet: --parquet-rows valid events; bench/csv_parquet.yaml (Parquet, zstd) against
  DuckDB's COPY TO parquet threads=1; both files read back by DuckDB and compared.
Case 8, startup: pipec build (and pipec gen) of every spec in pipelines/ (best of 3) against cc
  on a hello world; start-up of the case 1 binary on an empty input and with --help against
  /bin/true and awk (50 interleaved runs each, the median); VmRSS of pipelines/user_activity.yaml
  idle for 1 s on an empty folder against sleep; peak RSS of bench/window_groups.yaml with 100,000
  groups open in one window against the same binary with one.
For each: best wall seconds, CPU seconds (user+sys of that child, os.wait4), peak RSS (ru_maxrss),
rows/s and MB/s of input, and pipeline/contender ratios; checks that both sides produced the same
rows are printed under each table.

Options: --rows N (default 5000000, cases 1 to 4), --repeat N (default 3), --budget S (no
further run of a contender once its runs would pass S seconds, default 40), --reuse-data (keep
inputs made with the same parameters), --no-pin (do not taskset -c 0), --cases LIST (default
1,2,3,4,5,6,7,8), --pg-rows N (default 2000000, case 6), --pg-batch N (case 6: the sinks' batch
rows; default the specs' own, 100000), --kafka-rows N (default 2000000, case 5), --kafka-prop
KEY=VALUE (case 5, repeatable: a librdkafka property for both contenders, in a copy of the spec
in bench/data and as kcat -X), --parquet-rows N (default 5000000, case 7).
"""
import argparse
import csv
import datetime
import hashlib
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
DATA = os.path.join(BENCH, "data")
sys.path.insert(0, os.path.join(ROOT, "tests"))
import gen_events as gen  # noqa: E402
import kafkaserver  # noqa: E402
import pgserver  # noqa: E402

SEED = 5
SUMMARY_RE = re.compile(r"done: in=(\d+) out=(\d+) dead=(\d+) dropped=(\d+)")
SINK_RE = re.compile(r"sinks: windows=(\d+)")
DUCKDB_JS = os.path.join(BENCH, "duckdb_bench.mjs")
DUCKDB_PKG = os.path.join(ROOT, "tests", "oracle", "node_modules", "@duckdb", "node-api", "package.json")

AWK = r'''
BEGIN { FS = ","; ok["view"] = 1; ok["cart"] = 1; ok["purchase"] = 1 }
NR == 1 { next }
{ sub(/\r$/, "") }
NF == 0 { next }
NF != 7 || !($4 in ok) || $6 !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ || $3 !~ /^-?[0-9]+$/ { dead++; next }
$6 + 0 < 0 { dead++; next }
{
    q = ($7 == "") ? 1 : $7 + 0
    rev = ($4 == "purchase") ? $6 * q : 0
}
$4 == "view" && $6 + 0 < 500 { dropped++; next }
{
    printf "{\"event_id\":\"%s\",\"event_time\":\"%s\",\"user_id\":%s,\"event_type\":\"%s\",\"product_id\":%s,\"price\":%s,\"quantity\":%s,\"revenue\":%.17g}\n", $1, $2, $3, $4, $5, $6, ($7 == "" ? "null" : $7), rev
    out++
}
END { printf "awk: out=%d dead=%d dropped=%d\n", out, dead, dropped > "/dev/stderr" }
'''

# The window input: ROWS readings spread evenly over SPAN_US from START, each moved later by up to
# 2 s of pseudo-random jitter (so arrival order is event-time order within 2 s), a device out of
# GROUPS and a value with two decimals. DuckDB's hash() makes it deterministic for a DuckDB version.
WIN_START = "2024-05-01 00:00:00"
WIN_SPAN_US = 3 * 86400 * 1000000
WIN_GROUPS = 1000
WIN_JITTER_US = 2000000
GEN_SQL = """SET threads = 1;
COPY (
  SELECT strftime(TIMESTAMP '{start}'
                  + to_microseconds(CAST(i * ({span} / {rows}::DOUBLE) AS BIGINT)
                                    + CAST(hash(i * 3 + 1) % {jitter} AS BIGINT)),
                  '%Y-%m-%dT%H:%M:%S.%fZ') AS ts,
         'd' || lpad(CAST(hash(i) % {groups} AS VARCHAR), 4, '0') AS device,
         round(CAST(hash(i * 7 + 2) % 100000 AS DOUBLE) / 100, 2) AS value
  FROM range({rows}) r(i)
) TO {path} (HEADER, DELIMITER ',');
"""

# Case 1 in DuckDB: bench/rowpath.yaml as one COPY. read_csv with the spec's seven types (no
# sniffing; ignore_errors skips rows that do not cast, strict_mode off lets it go on after a bad
# quote), the one_of and the rule as a WHERE, revenue as in the spec's derive, the spec's filter,
# event_time printed as the pipeline prints it (RFC 3339 in UTC, no fraction when it is 0), JSON
# lines out. No dead letter: a bad row is skipped, not written with its reason.
ROWPATH_SQL = """SET threads = 1;
COPY (
  SELECT event_id,
         strftime(event_time, '%Y-%m-%dT%H:%M:%S') ||
           CASE WHEN microsecond(event_time) % 1000000 = 0 THEN 'Z'
                ELSE rtrim(strftime(event_time, '.%f'), '0') || 'Z' END AS event_time,
         user_id, event_type, product_id, price, quantity,
         CASE WHEN event_type = 'purchase' THEN price * coalesce(quantity, 1) ELSE 0 END AS revenue
  FROM read_csv({path}, header = true, auto_detect = false, ignore_errors = true, strict_mode = false,
                columns = {{'event_id': 'VARCHAR', 'event_time': 'TIMESTAMPTZ', 'user_id': 'BIGINT',
                            'event_type': 'VARCHAR', 'product_id': 'BIGINT', 'price': 'DOUBLE',
                            'quantity': 'INTEGER'}})
  WHERE event_type IN ('view', 'cart', 'purchase') AND price >= 0
    AND (event_type <> 'view' OR price >= 500)
) TO {out} (FORMAT json);
"""

READ_CSV = ("read_csv({path}, header = true, auto_detect = false,\n"
            "                columns = {{'ts': 'TIMESTAMP', 'device': 'VARCHAR', 'value': 'DOUBLE'}})")

# Case 2 in DuckDB: the GROUP BY of bench/window_tumbling.yaml, written to a CSV file like the
# pipeline's sink (no ORDER BY: the pipeline's order is a by-product of closing windows in time).
TUMBLE_SQL = """SET threads = 1;
COPY (
  SELECT window_start, window_start + INTERVAL '1 minute' AS window_end, device, events, total, avg_value
  FROM (SELECT time_bucket(INTERVAL '1 minute', ts) AS window_start, device,
               count(*) AS events, sum(value) AS total, avg(value) AS avg_value
        FROM """ + READ_CSV + """
        GROUP BY 1, 2)
) TO {out} (HEADER, DELIMITER ',');
"""

# Case 3 in DuckDB: case 2's GROUP BY over the JSON-lines copy of the input, read_json with the
# column types given.
READ_JSON = ("read_json({path}, format = 'newline_delimited',\n"
             "                columns = {{'ts': 'TIMESTAMP', 'device': 'VARCHAR', 'value': 'DOUBLE'}})")
TUMBLE_JSON_SQL = TUMBLE_SQL.replace(READ_CSV, READ_JSON)

# The JSON-lines copy of the window input: the same rows, ts as the same text.
JSON_GEN_SQL = """SET threads = 1;
COPY (SELECT ts, device, value
      FROM read_csv({path}, header = true, auto_detect = false,
                    columns = {{'ts': 'VARCHAR', 'device': 'VARCHAR', 'value': 'DOUBLE'}})
) TO {out} (FORMAT json);
"""

# Case 4 in DuckDB: hopping windows [e - 1h, e), e every minute, by panes: count and sum per
# device and minute, a grid of every device and minute (up to 59 minutes past the last), and a
# moving sum over the last 60 minutes; windows without records are left out. The same rows as
# joining every record to its 60 windows (unnest(generate_series(...))), without 60x the rows.
HOP_SQL = """SET threads = 1;
COPY (
  WITH p AS (SELECT device, time_bucket(INTERVAL '1 minute', ts) AS m, count(*) AS c, sum(value) AS s
             FROM """ + READ_CSV + """
             GROUP BY 1, 2),
  g AS (SELECT unnest(generate_series(min(m), max(m) + INTERVAL '59 minutes', INTERVAL '1 minute')) AS m FROM p),
  j AS (SELECT d.device, g.m, coalesce(p.c, 0) AS c, coalesce(p.s, 0) AS s
        FROM (SELECT DISTINCT device FROM p) d CROSS JOIN g LEFT JOIN p ON p.device = d.device AND p.m = g.m),
  w AS (SELECT device, m + INTERVAL '1 minute' AS window_end,
               sum(c) OVER win AS events, sum(s) OVER win AS total
        FROM j WINDOW win AS (PARTITION BY device ORDER BY m ROWS BETWEEN 59 PRECEDING AND CURRENT ROW))
  SELECT window_end - INTERVAL '1 hour' AS window_start, window_end, device, events, total,
         total / events AS avg_value
  FROM w WHERE events > 0
) TO {out} (HEADER, DELIMITER ',');
"""


def q(s):
    return "'" + s.replace("'", "''") + "'"


def git_commit():
    try:
        p = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        c = p.stdout.strip() if p.returncode == 0 else "none"
        p = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True)
        if p.returncode == 0 and p.stdout.strip():
            c += "-dirty"
        return c
    except OSError:
        return "none"


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
RSS_FILE = os.path.join(DATA, ".rusage")


def measure(argv, stdout=None, env=None, stamp=None):
    """Runs argv once; returns dict(wall, user, sys, cpu, maxrss_kb, rc, stderr).
    CPU comes from os.wait4 on the child. Peak RSS cannot: a child forked from this Python process
    inherits its high-water mark (~25 MB) across exec, so when GNU time is there it runs the
    command from its own small process and reports the command's ru_maxrss (%M).
    stamp (a bytes regex): stderr is read line by line as it comes, and "stamp_s" is the time
    from the start to the first line matching it (None when none did)."""
    if GNU_TIME:
        argv = [GNU_TIME, "-f", "%M", "-o", RSS_FILE] + argv
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=stdout if stdout is not None else subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env)
    stamp_s = None
    if stamp is None:
        err = p.stderr.read()
    else:
        lines = []
        for line in p.stderr:
            if stamp_s is None and stamp.search(line):
                stamp_s = time.perf_counter() - t0
            lines.append(line)
        err = b"".join(lines)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    rss = ru.ru_maxrss
    if GNU_TIME:
        with open(RSS_FILE) as f:
            rss = int(f.read().split()[-1])
    return {"wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime, "cpu": ru.ru_utime + ru.ru_stime,
            "maxrss_kb": rss, "rc": p.returncode, "stderr": err.decode("utf-8", "replace"),
            "stamp_s": stamp_s}


def best_of(n, argv, stdout_path=None, env=None, budget=None, keep_stdout=False, label=None,
            before=None, after=None, stamp=None, fresh=()):
    """Runs argv up to n times and returns the fastest run (peak RSS: the largest of all runs),
    with "runs" (every wall) and "all" (every run). A further run is skipped when the runs so far
    plus one more of the last one's length would pass budget seconds. keep_stdout reads each run's
    stdout (written to stdout_path) into run["stdout"]. before() runs before each run and
    after(run) after it, both untimed (case 6: a fresh table, then the table's check; case 5 also
    replaces the run's wall by the part after its stamp). stamp goes to measure. fresh: the output
    files of the contender, removed before each run (untimed), so that no contender's time
    includes freeing the previous run's output (truncating a 544 MB file is 0.12 s of kernel time
    here) and every one writes into new files."""
    runs = []
    total = 0.0
    for k in range(n):
        if k and budget is not None and total + runs[-1]["wall"] > budget:
            break
        if label:
            print("bench: %s, run %d" % (label, k + 1), file=sys.stderr, flush=True)
        for path in list(fresh) + ([stdout_path] if stdout_path else []):
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.unlink(path)
        if before:
            before()
        f = open(stdout_path, "wb") if stdout_path else None
        try:
            r = measure(argv, stdout=f, env=env, stamp=stamp)
        finally:
            if f:
                f.close()
        if r["rc"] != 0:
            sys.exit("bench: %s failed (exit %d):\n%s" % (" ".join(argv), r["rc"], r["stderr"][-2000:]))
        if keep_stdout:
            with open(stdout_path) as f:
                r["stdout"] = f.read()
        if after:
            after(r)
        runs.append(r)
        total += r["wall"]
    best = dict(min(runs, key=lambda r: r["wall"]))
    best["maxrss_kb"] = max(r["maxrss_kb"] for r in runs)
    best["runs"] = [round(r["wall"], 3) for r in runs]
    best["all"] = runs
    return best


def outputs(ctx, *names):
    """Paths of files in the output directory (what best_of's fresh removes)."""
    return [os.path.join(ctx.out_dir, n) for n in names]


def make_data(path, rows, reuse):
    stamp = path + ".params"
    params = "rows=%d seed=%d gen=%d" % (rows, SEED, int(os.path.getmtime(gen.__file__)))
    if reuse and os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == params:
        print("bench: reusing %s" % path)
        return
    t0 = time.time()
    g = gen.Generator(rows, seed=SEED, bad_rate=0.001, odd_rate=0.01, huge=False,
                      unterminated=False, bom=False)
    nrec, ndead = g.write(path, keep=False)
    with open(stamp, "w") as f:
        f.write(params)
    print("bench: generated %s: %d rows, %.1f MB, %d expected dead, in %.1f s" % (
        path, nrec, os.path.getsize(path) / 1e6, ndead, time.time() - t0))


def duckdb_json(r):
    try:
        return json.loads(r["stdout"].strip().splitlines()[-1])
    except (ValueError, IndexError, KeyError):
        sys.exit("bench: no result line from duckdb_bench.mjs:\n" + r.get("stdout", "") + r["stderr"][-2000:])


def make_window_data(path, rows, reuse):
    """bench/data/windows.csv, written by DuckDB (a few seconds for 5M rows)."""
    sql = GEN_SQL.format(start=WIN_START, span=WIN_SPAN_US, rows=rows, jitter=WIN_JITTER_US,
                         groups=WIN_GROUPS, path=q(path))
    stamp = path + ".params"
    params = "rows=%d sql=%s" % (rows, hashlib.sha1(sql.encode()).hexdigest()[:16])
    if reuse and os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == params:
        print("bench: reusing %s" % path)
        return
    sql_path = os.path.join(DATA, "gen_windows.sql")
    with open(sql_path, "w") as f:
        f.write(sql)
    t0 = time.time()
    p = subprocess.run(["node", DUCKDB_JS, sql_path], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("bench: generating %s with DuckDB failed:\n%s" % (path, p.stderr[-2000:]))
    with open(stamp, "w") as f:
        f.write(params)
    print("bench: generated %s with DuckDB: %d rows, %.1f MB, in %.1f s" % (
        path, rows, os.path.getsize(path) / 1e6, time.time() - t0))


def build(pipec, spec, binary):
    t0 = time.perf_counter()
    p = subprocess.run([pipec, "build", spec, "-o", binary], capture_output=True, text=True)
    build_s = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("bench: pipec build %s failed:\n%s" % (spec, p.stderr))
    return build_s


class Ctx:
    """What every case shares: options, pinning, the commit and where results go."""

    def __init__(self, a):
        self.a = a
        self.pipec = os.path.join(ROOT, "bin", "pipec")
        self.pin = [] if a.no_pin or not shutil.which("taskset") else ["taskset", "-c", "0"]
        self.when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.commit = git_commit()
        self.out_dir = os.path.join(DATA, "out")
        os.makedirs(self.out_dir, exist_ok=True)
        self.tumbling = None   # the case 2 pipeline's result, for case 4
        self.summary = []      # one row per done-when target, printed at the end (see target())
        self.pg = None         # the PostgreSQL server of cases 5 and 6 (PgBench), started once

    def pg_bench(self):
        if self.pg is None:
            self.pg = PgBench(self)
        return self.pg

    def head(self, title):
        return "%s  %s  commit %s  %s  %s" % (title, self.when, self.commit, platform.node(),
                                             "pinned to core 0" if self.pin else "not pinned")


def fmt(v, spec):
    return ("%" + spec) % v if v is not None else "%*s" % (int(re.match(r"\d+", spec).group()), "-")


def table(ctx, results, rows, nbytes):
    """Prints the contenders' table; fills rows_s, mb_s and the ratios to results[0]."""
    w = max([13] + [len(r["name"]) for r in results])
    hdr = "%-*s %8s %8s %8s %8s %9s %12s %8s %11s %11s" % (
        w, "", "wall s", "cpu s", "user s", "sys s", "RSS MiB", "rows/s", "MB/s", "pipe/x wall", "pipe/x cpu")
    print(hdr)
    print("-" * len(hdr))
    pipe = results[0]
    for r in results:
        r["rows_s"] = rows / r["wall"]
        r["mb_s"] = nbytes / 1e6 / r["wall"]
        r["ratio_wall"] = pipe["wall"] / r["wall"]
        r["ratio_cpu"] = pipe["cpu"] / r["cpu"] if r["cpu"] > 0 else float("nan")
        rss = r["maxrss_kb"] / 1024.0 if r.get("maxrss_kb") is not None else None
        print("%-*s %8.3f %8.3f %8.3f %8.3f %s %12.0f %8.1f %11.2f %11.2f" % (
            w, r["name"], r["wall"], r["cpu"], r["user"], r["sys"], fmt(rss, "9.1f"),
            r["rows_s"], r["mb_s"], r["ratio_wall"], r["ratio_cpu"]))


def append_results(ctx, benchmark, results, rows, nbytes, build_s):
    path = os.path.join(BENCH, "results.csv")
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["timestamp", "commit", "host", "benchmark", "contender", "rows", "bytes",
                        "wall_s", "cpu_s", "user_s", "sys_s", "maxrss_kb", "rows_per_s", "mb_per_s",
                        "pipeline_over_this_wall", "pipeline_over_this_cpu", "pinned", "build_s", "note"])
        for r in results:
            w.writerow([ctx.when, ctx.commit, platform.node(), benchmark, r["name"], rows, nbytes,
                        "%.4f" % r["wall"], "%.4f" % r["cpu"], "%.4f" % r["user"], "%.4f" % r["sys"],
                        r["maxrss_kb"] if r.get("maxrss_kb") is not None else "",
                        "%.0f" % r["rows_s"], "%.2f" % r["mb_s"],
                        "%.4f" % r["ratio_wall"], "%.4f" % r["ratio_cpu"], "yes" if ctx.pin else "no",
                        "%.3f" % build_s if build_s is not None else "", r["note"]])
    print("appended to %s" % os.path.relpath(path, ROOT))


# ---- case 1: the row path ------------------------------------------------------------------------

def case_rowpath(ctx):
    check_duckdb()
    a = ctx.a
    data = os.path.join(DATA, "events.csv")
    make_data(data, a.rows, a.reuse_data)
    nbytes = os.path.getsize(data)
    binary = os.path.join(DATA, "rowpath")
    build_s = build(ctx.pipec, os.path.join(BENCH, "rowpath.yaml"), binary)

    pin = ctx.pin
    awk = shutil.which("mawk") or shutil.which("awk")
    awk_name = os.path.basename(os.path.realpath(awk))
    env = dict(os.environ, INPUT=data, OUT=ctx.out_dir)

    results = []
    r = best_of(a.repeat, pin + [binary], env=env, budget=a.budget, label="rowpath pipeline",
                fresh=outputs(ctx, "rowpath.jsonl", "rowpath.dead.jsonl"))
    m = SUMMARY_RE.findall(r["stderr"])
    if not m:
        sys.exit("bench: no summary line from the pipeline:\n" + r["stderr"][-2000:])
    nin, nout, ndead, ndrop = map(int, m[-1])
    r.update(name="pipeline", note="in=%d out=%d dead=%d dropped=%d" % (nin, nout, ndead, ndrop))
    results.append(r)

    r = best_of(a.repeat, pin + ["wc", "-l", data], budget=a.budget)
    r.update(name="wc -l", note="")
    results.append(r)

    awk_out = os.path.join(ctx.out_dir, "awk.jsonl")
    r = best_of(a.repeat, pin + [awk, AWK, data], stdout_path=awk_out, budget=a.budget, label=awk_name)
    am = re.search(r"awk: out=(\d+) dead=(\d+) dropped=(\d+)", r["stderr"])
    r.update(name=awk_name, note="out=%s dead=%s dropped=%s" % am.groups() if am else "")
    results.append(r)

    duck, dq = run_duckdb(ctx, ROWPATH_SQL, "rowpath", data, ext="jsonl")
    results += [duck, dq]

    rows = nin
    print()
    print(ctx.head("pipec row-path benchmark (case 1)"))
    print("input: %s, %d rows, %.1f MB; pipec build %.2f s; best of up to %d runs within %.0f s" % (
        os.path.relpath(data, ROOT), rows, nbytes / 1e6, build_s, a.repeat, a.budget))
    table(ctx, results, rows, nbytes)
    print_notes(results)
    print("pipe/x < 1: the pipeline took less than x. awk validates less than the pipeline does; DuckDB "
          "skips the rows it cannot cast and writes no dead letter (see bench/README.md).")
    print("check: rows out: pipeline %d, %s %s, DuckDB %d (they differ by the odd rows each accepts)" % (
        nout, awk_name, am.group(1) if am else "?", dq["nrows"]))
    pipe = results[0]
    target(ctx, 1, "CSV -> rules -> derive -> filter -> jsonl", "%.2fM rows/s" % (rows / pipe["wall"] / 1e6),
           "-", "-", ">= 5M rows/s", rows / pipe["wall"] >= 5e6)
    target(ctx, 1, "against DuckDB threads=1 (its COPY alone)", "%.3f s" % pipe["wall"], "%.3f s" % dq["wall"],
           "%.2fx" % (dq["wall"] / pipe["wall"]), ">= 3x", dq["wall"] >= 3 * pipe["wall"])
    aw = results[2]
    target(ctx, 1, "against %s" % awk_name, "%.3f s" % pipe["wall"], "%.3f s" % aw["wall"],
           "%.2fx" % (aw["wall"] / pipe["wall"]), ">= 3x", aw["wall"] >= 3 * pipe["wall"])
    if not GNU_TIME:
        print("note: /usr/bin/time (Debian package 'time') missing: RSS includes this script's ~25 MB")
    append_results(ctx, "rowpath", results, rows, nbytes, build_s)


# ---- cases 2, 3 and 4: event-time windows -------------------------------------------------------

def check_duckdb():
    if not shutil.which("node") or not os.path.exists(DUCKDB_PKG):
        sys.exit("bench: cases 1, 2, 3, 4 and 7 need node and the DuckDB of tests/oracle "
                 "(make deps, or sh tests/oracle/install.sh); or run --cases 5,6,8")


def run_window_pipeline(ctx, spec, name, data):
    binary = os.path.join(DATA, name)
    build_s = build(ctx.pipec, os.path.join(BENCH, spec), binary)
    env = dict(os.environ, INPUT=data, OUT=ctx.out_dir)
    r = best_of(ctx.a.repeat, ctx.pin + [binary], env=env, budget=ctx.a.budget, label=name + " pipeline",
                fresh=outputs(ctx, name + ".csv", name + ".dead.jsonl"))
    m = SUMMARY_RE.findall(r["stderr"])
    s = SINK_RE.findall(r["stderr"])
    if not m or not s:
        sys.exit("bench: no summary line from %s:\n%s" % (name, r["stderr"][-2000:]))
    nin, nout, ndead, ndrop = map(int, m[-1])
    r.update(name="pipeline", nin=nin, ndead=ndead, nrows=int(s[-1]), build_s=build_s,
             note="in=%d out=%d dead=%d dropped=%d windows=%s" % (nin, nout, ndead, ndrop, s[-1]))
    return r


def run_duckdb(ctx, sql_template, name, data, ext="csv"):
    """The DuckDB contender: two results, the whole node process and the query alone. Its output
    is OUT/NAME.duckdb.EXT."""
    out = os.path.join(ctx.out_dir, name + ".duckdb." + ext)
    sql_path = os.path.join(DATA, name + ".sql")
    with open(sql_path, "w") as f:
        f.write(sql_template.format(path=q(data), out=q(out)))
    stdout_path = os.path.join(DATA, name + ".duckdb.json")
    r = best_of(ctx.a.repeat, ctx.pin + ["node", DUCKDB_JS, sql_path], stdout_path=stdout_path,
                budget=ctx.a.budget, keep_stdout=True, label=name + " duckdb", fresh=[out])
    for run in r["all"]:
        run["json"] = duckdb_json(run)
    j = duckdb_json(r)
    r.update(name="duckdb", nrows=j["rows"], version=j["version"],
             note="rows=%d startup_s=%.3f query_s=%.3f threads=1 %s" % (
                 j["rows"], j["startup_s"], j["query_s"], j["version"]))
    qbest = min(r["all"], key=lambda run: run["json"]["query_s"])["json"]
    qr = {"name": "duckdb query", "wall": qbest["query_s"], "user": qbest["query_user_s"],
          "sys": qbest["query_sys_s"], "cpu": qbest["query_user_s"] + qbest["query_sys_s"],
          "maxrss_kb": None, "nrows": qbest["rows"],
          "runs": [round(run["json"]["query_s"], 3) for run in r["all"]],
          "note": "rows=%d the COPY statement alone, timed inside node; CPU of the node process" % qbest["rows"]}
    return r, qr


def verdict(ok):
    return "met" if ok else "MISSED"


def target(ctx, case, what, value, baseline, ratio, goal, ok):
    """Prints one done-when target of issue 8 with its verdict (informational: nothing fails) and
    keeps it for the summary table at the end of the run. ok None: a measure without a target."""
    v = "-" if ok is None else verdict(ok)
    print("target, case %s: %s: %s; baseline %s; ratio %s; target %s: %s" % (case, what, value, baseline, ratio,
                                                                             goal, v))
    ctx.summary.append((case, what, value, baseline, ratio, goal, v))


def print_summary(ctx):
    """The targets of this run as a markdown table (the shape of docs/performance.md's)."""
    if not ctx.summary:
        return
    print()
    print("summary  %s  commit %s  %s  %s" % (ctx.when, ctx.commit, platform.node(),
                                            "pinned to core 0" if ctx.pin else "not pinned"))
    print("| case | measure | value | baseline | ratio | target | met |")
    print("|---|---|---|---|---|---|---|")
    for row in ctx.summary:
        print("| %s |" % " | ".join(str(c) for c in row))


def window_checks(pipe, duck):
    lines = []
    same = pipe["nrows"] == duck["nrows"]
    lines.append("check: output rows pipeline %d, DuckDB %d: %s" % (
        pipe["nrows"], duck["nrows"], "equal" if same else "DIFFERENT"))
    lines.append("check: late or rejected records in the pipeline: %d%s" % (
        pipe["ndead"], "" if pipe["ndead"] == 0 else "  (expected 0: see bench/data/out/*.dead.jsonl)"))
    return lines, same and pipe["ndead"] == 0


def print_notes(results):
    for r in results:
        if r.get("note"):
            print("  %-13s %s   (walls: %s)" % (r["name"], r["note"], r["runs"]))


def make_window_json(csv_path, path, reuse):
    """bench/data/windows.jsonl: the rows of windows.csv as JSON lines, written by DuckDB."""
    stamp = path + ".params"
    params = open(csv_path + ".params").read() + " json=%s" % hashlib.sha1(JSON_GEN_SQL.encode()).hexdigest()[:16]
    if reuse and os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == params:
        print("bench: reusing %s" % path)
        return
    sql_path = os.path.join(DATA, "gen_windows_json.sql")
    with open(sql_path, "w") as f:
        f.write(JSON_GEN_SQL.format(path=q(csv_path), out=q(path)))
    t0 = time.time()
    p = subprocess.run(["node", DUCKDB_JS, sql_path], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("bench: generating %s with DuckDB failed:\n%s" % (path, p.stderr[-2000:]))
    with open(stamp, "w") as f:
        f.write(params)
    print("bench: generated %s with DuckDB: %.1f MB, in %.1f s" % (path, os.path.getsize(path) / 1e6,
                                                                  time.time() - t0))


def window_case(ctx, case, title, pipe, sql, name, data, what, goal):
    """Cases 2 and 3: the pipeline against DuckDB's GROUP BY; the target is DuckDB's COPY alone
    over the pipeline's wall, at least goal."""
    rows, nbytes = pipe["nin"], os.path.getsize(data)
    duck, dq = run_duckdb(ctx, sql, name, data)
    results = [pipe, duck, dq]
    print()
    print(ctx.head("pipec %s benchmark (case %d)" % (title, case)))
    print("input: %s, %d rows, %.1f MB, %d devices over 3 days; 1-minute tumbling windows; "
          "pipec build %.2f s; best of up to %d runs within %.0f s" % (
              os.path.relpath(data, ROOT), rows, nbytes / 1e6, WIN_GROUPS, pipe["build_s"], ctx.a.repeat,
              ctx.a.budget))
    table(ctx, results, rows, nbytes)
    print_notes(results)
    lines, _ = window_checks(pipe, duck)
    for ln in lines:
        print(ln)
    print("DuckDB/pipeline wall: query only %.2fx, whole process %.2fx; cpu: query only %.2fx, "
          "whole process %.2fx" % (1 / dq["ratio_wall"], 1 / duck["ratio_wall"], 1 / dq["ratio_cpu"],
                                   1 / duck["ratio_cpu"]))
    target(ctx, case, what, "%.3f s, %.2fM rows/s" % (pipe["wall"], rows / pipe["wall"] / 1e6),
           "DuckDB COPY %.3f s" % dq["wall"], "%.2fx" % (dq["wall"] / pipe["wall"]), ">= %dx" % goal,
           dq["wall"] >= goal * pipe["wall"])
    append_results(ctx, name, results, rows, nbytes, pipe["build_s"])


def case_windows(ctx, cases):
    check_duckdb()
    a = ctx.a
    data = os.path.join(DATA, "windows.csv")
    make_window_data(data, a.rows, a.reuse_data)
    nbytes = os.path.getsize(data)

    if cases & {2, 4}:
        tumble = run_window_pipeline(ctx, "window_tumbling.yaml", "tumbling", data)
        ctx.tumbling = tumble
        rows = tumble["nin"]
    if 2 in cases:
        window_case(ctx, 2, "tumbling-window", tumble, TUMBLE_SQL, "window_tumbling", data,
                    "CSV -> 1-minute tumbling window, 1000 groups, against DuckDB threads=1", 3)

    if 3 in cases:
        jdata = os.path.join(DATA, "windows.jsonl")
        make_window_json(data, jdata, a.reuse_data)
        jpipe = run_window_pipeline(ctx, "window_json.yaml", "window_json", jdata)
        window_case(ctx, 3, "JSON-lines window", jpipe, TUMBLE_JSON_SQL, "window_json", jdata,
                    "JSON lines -> the same window, against DuckDB read_json threads=1", 2)

    if 4 in cases:
        hop = run_window_pipeline(ctx, "window_hopping.yaml", "hopping", data)
        tum = dict(tumble, name="tumbling", note="the case 2 pipeline: pipe/x is hopping/tumbling")
        duck, dq = run_duckdb(ctx, HOP_SQL, "hopping", data)
        results = [hop, tum, duck, dq]
        print()
        print(ctx.head("pipec hopping-window benchmark (case 4)"))
        print("input: %s, %d rows, %.1f MB; hopping windows of 1 hour every minute (60 per record); "
              "pipec build %.2f s; best of up to %d runs within %.0f s" % (
                  os.path.relpath(data, ROOT), rows, nbytes / 1e6, hop["build_s"], a.repeat, a.budget))
        table(ctx, results, rows, nbytes)
        print_notes(results)
        lines, _ = window_checks(hop, duck)
        for ln in lines:
            print(ln)
        print("hopping/tumbling pipeline cost: wall %.2fx, cpu %.2fx" % (tum["ratio_wall"], tum["ratio_cpu"]))
        print("DuckDB/pipeline wall: query only %.2fx, whole process %.2fx (DuckDB by panes: see bench/README.md)" % (
            1 / dq["ratio_wall"], 1 / duck["ratio_wall"]))
        target(ctx, 4, "hopping (1 h every 1 min) against tumbling, same data", "%.3f s" % hop["wall"],
               "tumbling %.3f s" % tum["wall"], "%.2fx" % tum["ratio_wall"], "<= 1.5x the cost",
               tum["ratio_wall"] <= 1.5)
        append_results(ctx, "window_hopping", results, rows, nbytes, hop["build_s"])


# ---- case 6: rows -> PostgreSQL --------------------------------------------------------------------

# The table of case 6, as `create: true` makes it for the pipelines' seven fields.
PG_COLUMNS = [("event_id", "text"), ("event_time", "timestamptz"), ("user_id", "bigint"),
              ("event_type", "text"), ("product_id", "bigint"), ("price", "double precision"),
              ("quantity", "integer")]
PG_COLS = ", ".join(c for c, _ in PG_COLUMNS)


def pg_ddl(table, key=False):
    return "CREATE %sTABLE %s (%s%s)" % ("TEMP " if table == "stage" else "", table,
                                        ", ".join("%s %s" % c for c in PG_COLUMNS),
                                        ", PRIMARY KEY (event_id)" if key else "")


# The table's content in a few numbers (untimed, after every run): two loads of the same file agree.
PG_FINGERPRINT = ("SELECT count(*), sum(hashtext(event_id)::bigint), sum(user_id), sum(product_id), "
                  "sum(price::numeric), count(quantity), sum(quantity), sum(extract(epoch FROM event_time)), "
                  "min(event_time), max(event_time), sum(length(event_type)) FROM events")

# The hand-written upsert: one psql session, a staging table, one INSERT ... ON CONFLICT.
HAND_UPSERT_SQL = pg_ddl("stage") + """;
\\copy stage FROM {path} WITH (FORMAT csv, HEADER true)
INSERT INTO events SELECT DISTINCT ON (event_id) """ + PG_COLS + """ FROM stage ORDER BY event_id
  ON CONFLICT (event_id) DO UPDATE SET """ + ", ".join(
    "%s = EXCLUDED.%s" % (c, c) for c, _ in PG_COLUMNS[1:]) + """;
"""


def make_pg_data(path, rows, reuse):
    """bench/data/pg_events.csv: valid rows only (no bad or awkward rows, blank lines, CRLF or BOM,
    which psql's \\copy would refuse or read differently), event ids e0..e{rows-1}, unique."""
    stamp = path + ".params"
    params = "rows=%d seed=%d gen=%d valid" % (rows, SEED, int(os.path.getmtime(gen.__file__)))
    if reuse and os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == params:
        print("bench: reusing %s" % path)
        return
    t0 = time.time()
    g = gen.Generator(rows, seed=SEED, bad_rate=0, odd_rate=0, blank_rate=0, crlf_rate=0, huge=False,
                      unterminated=False, bom=False)
    nrec, ndead = g.write(path, keep=False)
    if nrec != rows or ndead:
        sys.exit("bench: %s: %d rows, %d expected dead (wanted %d valid rows)" % (path, nrec, ndead, rows))
    with open(stamp, "w") as f:
        f.write(params)
    print("bench: generated %s: %d valid rows, %.1f MB, in %.1f s" % (
        path, nrec, os.path.getsize(path) / 1e6, time.time() - t0))


class PgBench:
    """The throwaway server of case 6 and what its contenders share."""

    def __init__(self, ctx):
        if not pgserver.available():
            sys.exit("bench: cases 5 and 6 need PostgreSQL 15 (%s, %s: make deps); or run --cases 1,2,3,4,7,8" % (
                pgserver.BIN, pgserver.PSQL))
        t0 = time.time()
        self.srv = pgserver.server()
        # No autovacuum worker analyzing the last run's table while the next one loads.
        self.srv.psql("ALTER SYSTEM SET autovacuum = off")
        self.srv.psql("SELECT pg_reload_conf()")
        self.version = self.srv.psql("SHOW server_version")[0][0].split()[0]
        print("bench: PostgreSQL %s started in %.1f s (%s, port %d)" % (
            self.version, time.time() - t0, self.srv.top, self.srv.port))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        self.env["PGCLIENTENCODING"] = "UTF8"
        self.clk = os.sysconf("SC_CLK_TCK")

    def server_cpu(self):
        """User + sys seconds of the server's exited processes (the postmaster's cutime + cstime):
        a session's backend is counted once it has exited and been reaped."""
        with open("/proc/%d/stat" % self.srv.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / self.clk

    def settle(self):
        """Waits (up to 2 s) until this server has no client backend but ours, so that the last
        session's backend has exited and its CPU is in server_cpu()."""
        deadline = time.time() + 2
        while time.time() < deadline:
            n = self.srv.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                              "AND pid <> pg_backend_pid()")
            if n[0][0] == "0":
                break
            time.sleep(0.02)
        time.sleep(0.05)   # our own psql's backend, reaped before the next reading

    def run(self, ctx, name, argv, env, db, setup, label):
        """best_of over argv, each run on a fresh table: DROP, the setup SQL, CHECKPOINT (untimed);
        after it the table's row count and fingerprint, and the backend's CPU."""
        state = {}

        def before():
            sql = "DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS pipec_checkpoint"
            self.srv.psql(sql + ("; " + setup if setup else ""), db=db)
            self.srv.psql("CHECKPOINT", db=db)
            self.settle()
            state["cpu0"] = self.server_cpu()

        def after(r):
            self.settle()
            r["server_cpu"] = self.server_cpu() - state["cpu0"]
            fp = self.srv.psql(PG_FINGERPRINT, db=db)[0]
            r["count"] = int(fp[0])
            r["fingerprint"] = tuple(fp)

        r = best_of(ctx.a.repeat, ctx.pin + argv, env=env, budget=ctx.a.budget, label=label,
                    before=before, after=after)
        r["name"] = name
        r["counts"] = [run["count"] for run in r["all"]]
        r["fingerprints"] = {run["fingerprint"] for run in r["all"]}
        return r


def pg_spec(ctx, spec, batch):
    """The spec of case 6 to build: bench/SPEC, or with --pg-batch a copy in bench/data with
    batch: {rows: N} added to its sink."""
    path = os.path.join(BENCH, spec)
    if batch is None:
        return path
    text = open(path).read()
    new = text.replace("create: true}", "create: true, batch: {rows: %d}}" % batch)
    if new == text:
        sys.exit("bench: no 'create: true}' in %s to add the batch to" % path)
    out = os.path.join(DATA, spec.replace(".yaml", ".batch%d.yaml" % batch))
    with open(out, "w") as f:
        f.write(new)
    return out


def run_pg_pipeline(ctx, pg, spec, name, data, label):
    binary = os.path.join(DATA, spec.replace(".yaml", ""))
    build_s = build(ctx.pipec, pg_spec(ctx, spec, ctx.a.pg_batch), binary)
    db = pg.srv.new_db("bench_" + name.replace(" ", "_"))
    env = dict(pg.env, PG_DSN=pg.srv.dsn(db), INPUT=data, OUT=ctx.out_dir)
    r = pg.run(ctx, name, [binary], env, db, None, label)
    m = SUMMARY_RE.findall(r["stderr"])
    if not m:
        sys.exit("bench: no summary line from %s:\n%s" % (spec, r["stderr"][-2000:]))
    nin, nout, ndead, ndrop = map(int, m[-1])
    r.update(nin=nin, nout=nout, ndead=ndead, build_s=build_s,
             note="in=%d out=%d dead=%d dropped=%d batch=%d server_cpu_s=%.3f" % (
                 nin, nout, ndead, ndrop, ctx.a.pg_batch or 100000, r["server_cpu"]))
    return r


def run_psql(ctx, pg, name, args, data, setup, label):
    db = pg.srv.new_db("bench_" + name.replace(" ", "_").replace("\\", ""))
    argv = [pgserver.PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", pg.srv.dsn(db)] + args
    r = pg.run(ctx, name, argv, pg.env, db, setup, label)
    r["note"] = "server_cpu_s=%.3f psql %s" % (r["server_cpu"], pg.version)
    return r


def pg_checks(pairs, nrows):
    """Lines checking that every run of every contender left nrows rows, and that each pair of
    contenders made the same table content; and whether all held."""
    lines, ok = [], True
    for r in [r for pair in pairs for r in pair]:
        good = all(c == nrows for c in r["counts"])
        ok = ok and good
        lines.append("check: %-15s rows in the table after each run %s: %s" % (
            r["name"], r["counts"], "all %d" % nrows if good else "DIFFERENT from %d" % nrows))
        if "nout" in r:
            good = r["nout"] == nrows and r["ndead"] == 0
            ok = ok and good
            lines.append("check: %-15s out=%d dead=%d: %s" % (
                r["name"], r["nout"], r["ndead"], "as expected" if good else
                "DIFFERENT (expected out=%d dead=0; see bench/data/out/*.dead.jsonl)" % nrows))
    for a, b in pairs:
        same = len(a["fingerprints"] | b["fingerprints"]) == 1
        ok = ok and same
        lines.append("check: table content (count, sums, hashes, min/max time) %s and %s: %s" % (
            a["name"], b["name"], "equal" if same else "DIFFERENT"))
    return lines, ok


def case_pg(ctx):
    a = ctx.a
    data = os.path.join(DATA, "pg_events.csv")
    make_pg_data(data, a.pg_rows, a.reuse_data)
    nbytes = os.path.getsize(data)
    rows = a.pg_rows
    pg = ctx.pg_bench()

    ins = run_pg_pipeline(ctx, pg, "pg_insert.yaml", "pipeline insert", data, "pg pipeline insert")
    cp = run_psql(ctx, pg, "psql \\copy",
                  ["-c", "\\copy events FROM %s WITH (FORMAT csv, HEADER true)" % q(data)],
                  data, pg_ddl("events"), "pg psql \\copy")
    ups = run_pg_pipeline(ctx, pg, "pg_upsert.yaml", "pipeline upsert", data, "pg pipeline upsert")
    sql_path = os.path.join(DATA, "pg_hand_upsert.sql")
    with open(sql_path, "w") as f:
        f.write(HAND_UPSERT_SQL.format(path=q(data)))
    hand = run_psql(ctx, pg, "hand upsert", ["-f", sql_path], data, pg_ddl("events", key=True),
                    "pg hand upsert")

    print()
    print(ctx.head("pipec PostgreSQL benchmark (case 6)"))
    print("input: %s, %d rows, %.1f MB (valid rows, unique event_id); PostgreSQL %s on this machine "
          "(127.0.0.1, fsync on, autovacuum off); pipec build %.2f s (insert), %.2f s (upsert); "
          "batch rows %d; best of up to %d runs within %.0f s" % (
              os.path.relpath(data, ROOT), rows, nbytes / 1e6, pg.version, ins["build_s"], ups["build_s"],
              a.pg_batch or 100000, a.repeat, a.budget))
    print("insert: bench/pg_insert.yaml (COPY) against psql \\copy into a table of the same columns")
    table(ctx, [ins, cp], rows, nbytes)
    print("upsert on event_id (primary key): bench/pg_upsert.yaml against one psql session "
          "(bench/data/pg_hand_upsert.sql)")
    table(ctx, [ups, hand], rows, nbytes)
    print_notes([ins, cp, ups, hand])
    print("cpu s is the client process only; the server backend's CPU is server_cpu_s in the notes.")
    lines, _ = pg_checks([(ins, cp), (ups, hand)], rows)
    for ln in lines:
        print(ln)
    ri, ru = cp["wall"] / ins["wall"], hand["wall"] / ups["wall"]
    target(ctx, 6, "rows -> PostgreSQL (insert) against psql \\copy", "%.0fk rows/s" % (rows / ins["wall"] / 1e3),
           "\\copy %.0fk rows/s" % (rows / cp["wall"] / 1e3), "%.1f%%" % (100 * ri), ">= 85%", ri >= 0.85)
    print("pipeline upsert / hand upsert rows/s (wall): %.3f; target >= 0.70: %s" % (ru, verdict(ru >= 0.70)))
    print("client + server cpu s: pipeline insert %.2f, psql \\copy %.2f, pipeline upsert %.2f, hand upsert %.2f" % (
        ins["cpu"] + ins["server_cpu"], cp["cpu"] + cp["server_cpu"], ups["cpu"] + ups["server_cpu"],
        hand["cpu"] + hand["server_cpu"]))
    append_results(ctx, "pg_insert", [ins, cp], rows, nbytes, ins["build_s"])
    append_results(ctx, "pg_upsert", [ups, hand], rows, nbytes, ups["build_s"])


# ---- case 5: Kafka -> window -> PostgreSQL ---------------------------------------------------------

# The Kafka input: message i is a reading at KAFKA_START + i ms, moved later by up to 2 s of
# pseudo-random jitter, of a device out of KAFKA_DEVICES (about one reading a second each), with a
# value of two decimals and a sequence number the pipeline does not read; keyed by device, so each
# device is in one partition, in time order up to the jitter.
KAFKA_START_S = 1714521600   # 2024-05-01T00:00:00Z
KAFKA_STEP_US = 1000
KAFKA_JITTER_US = 2000000
KAFKA_DEVICES = 1000
KAFKA_PARTITIONS = 8
KAFKA_FETCH = ["fetch.wait.max.ms=20"]   # what bench/kafka_window_pg.yaml sets too
KCAT_REPEAT = 5   # runs of kcat -C at least (see case_kafka)
ASSIGNED_RE = re.compile(rb"kafka: assigned \d+ partition")
KAFKA_PROPS_AT = '      fetch.wait.max.ms: "20"\n'   # where --kafka-prop goes in the spec


def make_kafka_data(path, rows, reuse):
    """bench/data/kafka_readings.txt: one message a line, KEY TAB VALUE (for kcat -P -K '\t' -l),
    the key the device, the value a JSON object of about 95 bytes. Returns what the run should
    find (also kept in PATH.json): rows, bytes (of the values), windows (distinct device-minute
    pairs: the rows of 1-minute tumbling windows by device), cents (the sum of the values x 100)."""
    stamp = path + ".params"
    params = "rows=%d seed=%d start=%d step=%d jitter=%d devices=%d v1" % (
        rows, SEED, KAFKA_START_S, KAFKA_STEP_US, KAFKA_JITTER_US, KAFKA_DEVICES)
    meta = path + ".json"
    if (reuse and os.path.exists(path) and os.path.exists(stamp) and os.path.exists(meta)
            and open(stamp).read() == params):
        print("bench: reusing %s" % path)
        with open(meta) as f:
            return json.load(f)
    t0 = time.time()
    rng = random.Random(SEED)
    rand = rng.randrange
    secs = {}
    windows = set()
    nbytes = cents_sum = 0
    with open(path, "w") as f:
        out = []
        for i in range(rows):
            us = i * KAFKA_STEP_US + rand(KAFKA_JITTER_US)
            d = rand(KAFKA_DEVICES)
            cents = rand(100000)
            sec, frac = divmod(us, 1000000)
            st = secs.get(sec)
            if st is None:
                st = secs[sec] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(KAFKA_START_S + sec))
            v = '{"ts": "%s.%06dZ", "device": "device-%04d", "value": %d.%02d, "seq": %d}' % (
                st, frac, d, cents // 100, cents % 100, i)
            nbytes += len(v)
            cents_sum += cents
            windows.add(d * 10000000 + sec // 60)
            out.append("device-%04d\t%s\n" % (d, v))
            if len(out) >= 100000:
                f.write("".join(out))
                out = []
        f.write("".join(out))
    exp = {"rows": rows, "bytes": nbytes, "windows": len(windows), "cents": cents_sum,
           "span_s": (rows * KAFKA_STEP_US + KAFKA_JITTER_US) / 1e6}
    with open(meta, "w") as f:
        json.dump(exp, f)
    with open(stamp, "w") as f:
        f.write(params)
    print("bench: generated %s: %d messages, %.1f MB of values (%.0f bytes each), %d device-minute "
          "windows, in %.1f s" % (path, rows, nbytes / 1e6, nbytes / rows, len(windows), time.time() - t0))
    return exp


def kafka_spec(props):
    """The spec of case 5 to build: bench/kafka_window_pg.yaml, or with --kafka-prop a copy in
    bench/data with those librdkafka properties added to its source's."""
    path = os.path.join(BENCH, "kafka_window_pg.yaml")
    if not props:
        return path
    text = open(path).read()
    if KAFKA_PROPS_AT not in text:
        sys.exit("bench: no %r in %s to add the properties to" % (KAFKA_PROPS_AT.strip(), path))
    extra = "".join('      %s: "%s"\n' % tuple(kv.split("=", 1)) for kv in props)
    out = os.path.join(DATA, "kafka_window_pg.props.yaml")
    with open(out, "w") as f:
        f.write(text.replace(KAFKA_PROPS_AT, KAFKA_PROPS_AT + extra))
    return out


def proc_cpu(pid, children=False):
    """User + sys seconds of a process (children=True: of its reaped children)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    i = 13 if children else 11
    return (int(fields[i]) + int(fields[i + 1])) / os.sysconf("SC_CLK_TCK")


def checkpoint_offsets(srv, db):
    """{partition: offset} of the kafka lines of pipec_checkpoint (the offsets stored with the
    rows), {} when there is no such table or row."""
    have = srv.psql("SELECT to_regclass('pipec_checkpoint') IS NOT NULL", db=db)[0][0]
    if have != "t":
        return {}
    out = {}
    for (v,) in srv.psql("SELECT value FROM pipec_checkpoint", db=db):
        raw = bytes.fromhex(v[2:]) if v and v.startswith("\\x") else (v or "").encode()
        for line in raw.split(b"\n"):
            if line.startswith(b"kafka "):
                parts = line.split(b" ", 3)
                if len(parts) >= 3 and parts[1].isdigit() and parts[2].isdigit():
                    out[int(parts[1])] = int(parts[2])
    return out


def case_kafka(ctx):
    a = ctx.a
    if not kafkaserver.available():
        sys.exit("bench: case 5 needs the Kafka test broker (cc, librdkafka's rdkafka_mock.h, %s, "
                 "python3-confluent-kafka: make deps); or run --cases 1,2,3,4,6,7,8" % kafkaserver.KCAT)
    data = os.path.join(DATA, "kafka_readings.txt")
    exp = make_kafka_data(data, a.kafka_rows, a.reuse_data)
    rows, nbytes = exp["rows"], exp["bytes"]
    pg = ctx.pg_bench()

    t0 = time.time()
    ks = kafkaserver.server()
    libver = kafkaserver.ck.libversion()[0]
    print("bench: Kafka test broker (librdkafka %s mock cluster) started in %.1f s (%s, %s), "
          "retention %d MiB per partition" % (libver, time.time() - t0, ks.top, ks.bootstrap(),
                                              ks.retention_bytes >> 20))
    if ks.retention_bytes < 2 * nbytes / KAFKA_PARTITIONS:
        sys.exit("bench: the test broker keeps only %d bytes per partition (%s): it would drop "
                 "messages of the %d MB input; use a smaller --kafka-rows" % (
                     ks.retention_bytes, ks.retention_note, nbytes // 1000000))
    topic = ks.new_topic("bench_readings", KAFKA_PARTITIONS)
    empty = ks.new_topic("bench_empty", KAFKA_PARTITIONS)
    t0 = time.time()
    p = subprocess.run([kafkaserver.KCAT, "-P", "-q", "-b", ks.bootstrap(), "-t", topic, "-K", "\t",
                        "-l", data], capture_output=True, text=True)
    produce_s = time.time() - t0
    if p.returncode != 0:
        sys.exit("bench: kcat -P into %s failed (exit %d):\n%s" % (topic, p.returncode, p.stderr[-2000:]))
    marks = ks.watermarks(topic)
    held = sum(hi - lo for lo, hi in marks.values())
    if held != rows:
        sys.exit("bench: topic %s holds %d messages after producing %d" % (topic, held, rows))
    per_part = [hi - lo for _, (lo, hi) in sorted(marks.items())]
    print("bench: produced %d messages into %s (%d partitions, %d..%d each) with kcat -P in %.1f s" % (
        rows, topic, KAFKA_PARTITIONS, min(per_part), max(per_part), produce_s))

    props = a.kafka_prop or []
    spec = kafka_spec(props)
    binary = os.path.join(DATA, "kafka_window_pg")
    build_s = build(ctx.pipec, spec, binary)
    db = pg.srv.new_db("bench_kafka")
    env = dict(pg.env, KAFKA_BROKERS=ks.bootstrap(), TOPIC=topic, GROUP="", PG_DSN=pg.srv.dsn(db),
               OUT=ctx.out_dir)
    dead_path = os.path.join(ctx.out_dir, "kafka_window_pg.dead.jsonl")
    state = {"run": 0}

    def before():
        pg.srv.psql("DROP TABLE IF EXISTS windows; DROP TABLE IF EXISTS pipec_checkpoint", db=db)
        pg.srv.psql("CHECKPOINT", db=db)
        if os.path.exists(dead_path):
            os.unlink(dead_path)
        state["run"] += 1
        env["GROUP"] = "%s_bench%d" % (topic, state["run"])   # a fresh group: no committed offsets
        pg.settle()
        state["cpu0"] = pg.server_cpu()
        state["bcpu0"] = proc_cpu(ks.pid)

    def after(r):
        if r["stamp_s"] is None:
            sys.exit("bench: no 'kafka: assigned' line from the pipeline:\n" + r["stderr"][-2000:])
        r["whole"] = r["wall"]
        r["assign_s"] = r["stamp_s"]
        r["wall"] = r["whole"] - r["assign_s"]
        r["broker_cpu"] = proc_cpu(ks.pid) - state["bcpu0"]
        pg.settle()
        r["server_cpu"] = pg.server_cpu() - state["cpu0"]
        got = pg.srv.psql("SELECT count(*), coalesce(sum(events), 0), coalesce(sum(total), 0) FROM windows",
                          db=db)[0]
        r["count"], r["events"], r["total"] = int(got[0]), int(got[1]), float(got[2])
        r["offsets"] = checkpoint_offsets(pg.srv, db)
        m = SUMMARY_RE.findall(r["stderr"])
        sm = SINK_RE.findall(r["stderr"])
        if not m or not sm:
            sys.exit("bench: no summary line from the pipeline:\n" + r["stderr"][-2000:])
        r["nin"], r["nout"], r["ndead"], r["ndrop"] = map(int, m[-1])
        r["nrows"] = int(sm[-1])

    pipe = best_of(a.repeat, ctx.pin + [binary, "--once"], env=env, budget=a.budget, label="kafka pipeline",
                   before=before, after=after, stamp=ASSIGNED_RE)
    runs = pipe["all"]
    pipe.update(name="pipeline", build_s=build_s,
                note="in=%d out=%d dead=%d dropped=%d windows=%d; first assignment after %s s, whole "
                     "process %s s; server_cpu_s=%.3f broker_cpu_s=%.3f; %s" % (
                         pipe["nin"], pipe["nout"], pipe["ndead"], pipe["ndrop"], pipe["nrows"],
                         [round(r["assign_s"], 3) for r in runs], [round(r["whole"], 3) for r in runs],
                         pipe["server_cpu"], pipe["broker_cpu"], " ".join(KAFKA_FETCH + props)))

    kx = []
    for kv in KAFKA_FETCH + props:
        kx += ["-X", kv]
    kcat = [kafkaserver.KCAT, "-C", "-b", ks.bootstrap(), "-e", "-o", "beginning", "-q"] + kx

    def kbefore():
        state["bcpu0"] = proc_cpu(ks.pid)

    def kafter(r):
        r["broker_cpu"] = proc_cpu(ks.pid) - state["bcpu0"]

    # kcat gets more runs: librdkafka's fetcher leaves it waiting 0.3-0.5 s in some runs (its wall
    # well above its CPU), which the pipeline's source avoids; the fastest run is the baseline.
    kc = best_of(max(a.repeat, KCAT_REPEAT), ctx.pin + kcat + ["-t", topic, "-f", "%s\n"], budget=a.budget,
                 label="kafka kcat -C", before=kbefore, after=kafter)
    kempty = best_of(a.repeat, ctx.pin + kcat + ["-t", empty, "-f", "%s\n"], budget=a.budget)
    # kcat's count, untimed: one more run printing the partition of every message
    p = subprocess.run(ctx.pin + kcat + ["-t", topic, "-f", "%p\n"], capture_output=True)
    kcount = p.stdout.count(b"\n") if p.returncode == 0 else -1
    kc.update(name="kcat -C", note="broker_cpu_s=%.3f; the same on an empty topic of %d partitions "
                                   "(start-up, offsets, end of partition, exit): %.3f s" % (
                                       kc["broker_cpu"], KAFKA_PARTITIONS, kempty["wall"]))

    print()
    print(ctx.head("pipec Kafka benchmark (case 5)"))
    print("input: topic %s of the test broker (librdkafka %s mock cluster, 127.0.0.1), %d partitions, "
          "%d JSON messages keyed by device, %.1f MB of values (%.0f bytes each), %d devices over "
          "%.0f minutes of event time; produced with kcat -P in %.1f s (untimed); PostgreSQL %s; "
          "pipec build %.2f s; best of up to %d runs (kcat -C: %d) within %.0f s" % (
              topic, libver, KAFKA_PARTITIONS, rows, nbytes / 1e6, nbytes / rows, KAFKA_DEVICES,
              exp["span_s"] / 60, produce_s, pg.version, build_s, a.repeat, max(a.repeat, KCAT_REPEAT),
              a.budget))
    print("pipeline: %s --once, 1-minute tumbling windows by device into PostgreSQL (checkpoint in the "
          "sink's transaction), a fresh group and tables each run; its wall is from its partition "
          "assignment to its exit (the group's first assignment before it is left out: see the "
          "note); kcat -C: the whole process, output to /dev/null; both with %s" % (
              os.path.relpath(spec, ROOT), ", ".join(KAFKA_FETCH + props)))
    table(ctx, [pipe, kc], rows, nbytes)
    print_notes([pipe, kc])
    ok_counts = all(r["count"] == exp["windows"] and r["events"] == rows for r in runs)
    print("check: window rows in PostgreSQL after each run %s, events %s: %s" % (
        [r["count"] for r in runs], [r["events"] for r in runs],
        "all %d rows, %d events (from the generated data)" % (exp["windows"], rows) if ok_counts else
        "DIFFERENT from %d rows, %d events (from the generated data)" % (exp["windows"], rows)))
    want = exp["cents"] / 100
    ok_sum = all(abs(r["total"] - want) <= 1e-9 * max(1.0, abs(want)) for r in runs)
    print("check: sum(total) of the window rows %.2f, of the generated values %.2f: %s" % (
        pipe["total"], want, "equal" if ok_sum else "DIFFERENT"))
    ok_dead = all(r["ndead"] == 0 and r["nin"] == rows and r["nrows"] == exp["windows"] for r in runs)
    print("check: pipeline in=%d dead=%d (late) windows=%d: %s" % (
        pipe["nin"], pipe["ndead"], pipe["nrows"], "as expected" if ok_dead else
        "DIFFERENT (expected in=%d dead=0 windows=%d; see %s)" % (rows, exp["windows"],
                                                                  os.path.relpath(dead_path, ROOT))))
    ends = {p: hi for p, (lo, hi) in marks.items()}
    ok_off = all(r["offsets"] == ends for r in runs)
    print("check: offsets in pipec_checkpoint after each run: %s" % (
        "every partition at its end" if ok_off else "DIFFERENT from the end offsets %s: %s" % (
            ends, [r["offsets"] for r in runs])))
    print("check: messages read by kcat -C: %d: %s" % (kcount, "all" if kcount == rows else "DIFFERENT from %d" % rows))
    ratio = kc["wall"] / pipe["wall"]
    target(ctx, 5, "Kafka -> window -> PostgreSQL against kcat -C", "%.0fk msg/s" % (rows / pipe["wall"] / 1e3),
           "kcat -C %.0fk msg/s" % (rows / kc["wall"] / 1e3), "%.1f%%" % (100 * ratio), ">= 80%", ratio >= 0.8)
    print("by CPU time (waits left out), best runs: kcat -C %.3f s, the pipeline %.3f s: %.0f%% of kcat -C's "
          "msg per CPU second" % (kc["cpu"], pipe["cpu"], 100 * kc["cpu"] / pipe["cpu"]))
    bare = kc["wall"] - kempty["wall"]
    if bare > 0:
        print("without kcat's start-up (its wall minus the empty topic's): kcat -C %.0f msg/s, the pipeline "
              "%.0f%% of it" % (rows / bare, 100 * bare / pipe["wall"]))
    print("with the group's first assignment (whole process, best run): pipeline %.0f msg/s, %.0f%% of kcat -C" % (
        rows / pipe["whole"], 100 * kc["wall"] / pipe["whole"]))
    append_results(ctx, "kafka_window_pg", [pipe, kc], rows, nbytes, build_s)


# ---- case 7: CSV -> Parquet ----------------------------------------------------------------------

# DuckDB's side of case 7: the same columns and types as bench/csv_parquet.yaml (event_time as an
# instant: the pipeline writes TIMESTAMP(MICROS, UTC)), one thread, one zstd file.
PARQUET_SQL = """SET threads = 1;
SET TimeZone = 'UTC';
COPY (SELECT * FROM read_csv({path}, header = true, columns = {{'event_id': 'VARCHAR',
  'event_time': 'TIMESTAMPTZ', 'user_id': 'BIGINT', 'event_type': 'VARCHAR', 'product_id': 'BIGINT',
  'price': 'DOUBLE', 'quantity': 'INTEGER'}}))
  TO {out} (FORMAT parquet, COMPRESSION zstd);
"""

# What both outputs must hold, read back by DuckDB (untimed): one line of numbers per output.
PARQUET_CHECK_SQL = """SET TimeZone = 'UTC';
SELECT count(*) AS n, count(DISTINCT event_id) AS ids, sum(user_id) AS users, sum(product_id) AS products,
  sum(price::DECIMAL(18, 2)) AS price, count(quantity) AS nq, sum(quantity) AS q, min(event_time)::VARCHAR AS lo,
  max(event_time)::VARCHAR AS hi, sum(length(event_type)) AS types FROM read_parquet({files});
"""


def parquet_files(d):
    return sorted(os.path.join(root, f) for root, _, files in os.walk(d) for f in files if f.endswith(".parquet"))


def parquet_check(files):
    """DuckDB's numbers for the rows of these Parquet files (see PARQUET_CHECK_SQL)."""
    sql = PARQUET_CHECK_SQL.format(files="[%s]" % ", ".join(q(f) for f in files))
    p = subprocess.run(["node", os.path.join(ROOT, "tests", "oracle", "sql.mjs")], input=sql,
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        sys.exit("bench: DuckDB could not read %s:\n%s" % (files[:3], p.stderr[-2000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def case_parquet(ctx):
    check_duckdb()
    a = ctx.a
    data = os.path.join(DATA, "parquet_events.csv")
    make_pg_data(data, a.parquet_rows, a.reuse_data)
    nbytes = os.path.getsize(data)
    rows = a.parquet_rows
    lake = os.path.join(ctx.out_dir, "parquet_lake")
    binary = os.path.join(DATA, "csv_parquet")
    build_s = build(ctx.pipec, os.path.join(BENCH, "csv_parquet.yaml"), binary)
    env = dict(os.environ, INPUT=data, OUT=ctx.out_dir)
    pipe = best_of(a.repeat, ctx.pin + [binary], env=env, budget=a.budget, label="parquet pipeline",
                   fresh=[lake, os.path.join(ctx.out_dir, "csv_parquet.dead.jsonl")])
    m = SUMMARY_RE.findall(pipe["stderr"])
    if not m:
        sys.exit("bench: no summary line from csv_parquet:\n%s" % pipe["stderr"][-2000:])
    nin, nout, ndead, ndrop = map(int, m[-1])
    files = parquet_files(lake)
    pipe_bytes = sum(os.path.getsize(f) for f in files)
    pipe.update(name="pipeline", build_s=build_s,
                note="in=%d out=%d dead=%d dropped=%d files=%d bytes=%d" % (nin, nout, ndead, ndrop, len(files), pipe_bytes))
    duck, dq = run_duckdb(ctx, PARQUET_SQL, "parquet", data, ext="parquet")
    duck_file = os.path.join(ctx.out_dir, "parquet.duckdb.parquet")
    duck_bytes = os.path.getsize(duck_file)
    results = [pipe, duck, dq]
    print()
    print(ctx.head("pipec Parquet benchmark (case 7)"))
    print("input: %s, %d valid rows of 7 fields, %.1f MB; into Parquet with zstd; pipec build %.2f s; "
          "best of up to %d runs within %.0f s" % (os.path.relpath(data, ROOT), rows, nbytes / 1e6, build_s,
                                                   a.repeat, a.budget))
    table(ctx, results, rows, nbytes)
    print_notes(results)
    got, want = parquet_check(files), parquet_check([duck_file])
    same = got == want and got["n"] == rows and got["ids"] == rows
    print("check: DuckDB over the pipeline's %d file(s): %s" % (len(files), json.dumps(got)))
    print("check: DuckDB over its own file: %s: %s" % (json.dumps(want), "equal" if same else "DIFFERENT"))
    size = pipe_bytes / duck_bytes
    print("parquet: files %.1f MB (pipeline) against %.1f MB (DuckDB): %.2fx, target <= 1.2x: %s" % (
        pipe_bytes / 1e6, duck_bytes / 1e6, size, verdict(size <= 1.2)))
    print("parquet: pipeline %.0f rows/s, DuckDB's COPY alone %.0f rows/s (whole process %.0f)" % (
        rows / pipe["wall"], rows / dq["wall"], rows / duck["wall"]))
    target(ctx, 7, "CSV -> Parquet zstd against DuckDB COPY TO parquet threads=1",
           "%.2fM rows/s" % (rows / pipe["wall"] / 1e6), "DuckDB COPY %.2fM rows/s" % (rows / dq["wall"] / 1e6),
           "%.2fx" % (dq["wall"] / pipe["wall"]), ">= 1x (and the same rows)", dq["wall"] >= pipe["wall"] and same)
    append_results(ctx, "csv_parquet", results, rows, nbytes, build_s)


# ---- case 8: build time, start-up, memory -------------------------------------------------------

HELLO_C = "/* the baseline of pipec build in bench/run.py case 8 */\n#include <stdio.h>\n" \
          "int main(void) { puts(\"hello\"); return 0; }\n"
STARTUP_RUNS = 50
GROUPS = 100000


def spawn_wall(argv, env=None, cwd=None):
    """Wall seconds of one run of argv, output to /dev/null, started with posix_spawn (no fork of
    this process's memory, no taskset exec: the child inherits this process's CPU affinity)."""
    null = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    here = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env if env is not None else os.environ, file_actions=null)
        _, status = os.waitpid(pid, 0)
        wall = time.perf_counter() - t0
    finally:
        os.chdir(here)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench: %s failed (exit %d)" % (" ".join(argv), os.waitstatus_to_exitcode(status)))
    return wall


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def best_time(n, fn):
    return min(fn() for _ in range(n))


def make_groups_data(path, keys, rows):
    """ROWS readings in the first 2000 s of 2024-05-01 (one window of an hour), key i % KEYS."""
    if os.path.exists(path):
        return
    with open(path, "w") as f:
        f.write("ts,key,value\n")
        f.writelines("2024-05-01T00:%02d:%02d.%02dZ,k%06d,%d.%02d\n" % (
            (i // 100) // 60, (i // 100) % 60, i % 100, i % keys, i % 1000, i % 100) for i in range(rows))


def idle_rss(argv, env, cwd):
    """VmRSS and VmHWM (kB) of a process after 1 s of idling, then SIGTERM."""
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    st = {}
    with open("/proc/%d/status" % p.pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            st[k] = v.strip()
    p.terminate()
    p.wait()
    if p.returncode not in (0, -15):
        sys.exit("bench: %s exited %d while idle" % (" ".join(argv), p.returncode))
    return int(st["VmRSS"].split()[0]), int(st["VmHWM"].split()[0])


def case_startup(ctx):
    a = ctx.a
    work = os.path.join(DATA, "startup")
    shutil.rmtree(work, ignore_errors=True)
    for d in ("bin", "gen", "inbox", "archive", "out"):
        os.makedirs(os.path.join(work, d))
    n = max(a.repeat, 3)

    # pipec build of every spec in pipelines/, and the C compiler alone on a hello world
    builds = []
    for spec in sorted(f for f in os.listdir(os.path.join(ROOT, "pipelines")) if f.endswith(".yaml")):
        path = os.path.join(ROOT, "pipelines", spec)
        name = spec[:-5]
        binary = os.path.join(work, "bin", name)
        b = best_time(n, lambda: build(ctx.pipec, path, binary))
        g = best_time(n, lambda: spawn_wall([ctx.pipec, "gen", path, "-o", os.path.join(work, "gen", name)]))
        builds.append((name, b, g, os.path.getsize(binary)))
    hello = os.path.join(work, "hello.c")
    with open(hello, "w") as f:
        f.write(HELLO_C)
    cc = shutil.which(os.environ.get("CC", "cc"))
    ccs = best_time(n, lambda: spawn_wall([cc, "-O2", hello, "-o", os.path.join(work, "hello")]))

    # start-up: a run of the case 1 binary on an empty input (header only), and --help; /bin/true
    rowpath = os.path.join(work, "bin", "rowpath")
    build(ctx.pipec, os.path.join(BENCH, "rowpath.yaml"), rowpath)
    empty = os.path.join(work, "empty.csv")
    with open(empty, "w") as f:
        f.write("event_id,event_time,user_id,event_type,product_id,price,quantity\n")
    env = dict(os.environ, INPUT=empty, OUT=os.path.join(work, "out"))
    awk = shutil.which("mawk") or shutil.which("awk")
    starts = [("pipeline, empty input", [rowpath]), ("pipeline --help", [rowpath, "--help"]),
              ("/bin/true", [shutil.which("true")]), (os.path.basename(awk) + " 'BEGIN {}'", [awk, "BEGIN {}"])]
    saved = os.sched_getaffinity(0)
    if ctx.pin:
        os.sched_setaffinity(0, {0})
    try:
        times = {}
        for _ in range(STARTUP_RUNS):      # interleaved, so that load on the machine hits each alike
            for label, argv in starts:
                times.setdefault(label, []).append(spawn_wall(argv, env=env, cwd=work))
    finally:
        os.sched_setaffinity(0, saved)
    # where the empty run's time goes: its fsyncs (the sinks' commit), by strace, untimed runs
    syncs = []
    if shutil.which("strace"):
        for k in range(10):
            so = os.path.join(work, "strace.txt")
            subprocess.run(["strace", "-f", "-c", "-w", "-o", so, "-e", "trace=fsync,fdatasync", rowpath],
                           env=env, cwd=work, capture_output=True)
            m = re.search(r"^\s*[\d.]+\s+([\d.]+)\s+\d+\s+(\d+)\s+(?:\d+\s+)?total", open(so).read(), re.M)
            if m:
                syncs.append((float(m.group(1)), int(m.group(2))))

    # idle RSS: a folder-source pipeline (pipelines/user_activity.yaml) on an empty folder
    ienv = dict(os.environ, INBOX=os.path.join(work, "inbox"), ARCHIVE=os.path.join(work, "archive"),
                OUT=os.path.join(work, "out"))
    rss, hwm = idle_rss(ctx.pin + [os.path.join(work, "bin", "user_activity")], ienv, work)
    srss, _ = idle_rss(ctx.pin + [shutil.which("sleep"), "5"], None, work)

    # RSS with GROUPS open window groups, against the same binary with one group
    gbin = os.path.join(work, "bin", "window_groups")
    gbuild = build(ctx.pipec, os.path.join(BENCH, "window_groups.yaml"), gbin)
    grss = {}
    for keys in (GROUPS, 1):
        data = os.path.join(DATA, "groups_%d.csv" % keys)
        make_groups_data(data, keys, 2 * GROUPS)
        genv = dict(os.environ, INPUT=data, OUT=os.path.join(work, "out"))
        r = best_of(n, ctx.pin + [gbin], env=genv, budget=a.budget, label="groups %d" % keys)
        sm = SINK_RE.findall(r["stderr"])
        grss[keys] = (r["maxrss_kb"], int(sm[-1]) if sm else -1, r["wall"])

    print()
    print(ctx.head("pipec build, start-up and memory (case 8)"))
    print("pipec build of each spec in pipelines/ (best of %d; gen: pipec gen alone, the C without compiling it); "
          "cc -O2 of a hello world: %.3f s" % (n, ccs))
    print("%-20s %9s %9s %11s" % ("pipeline", "build s", "gen s", "binary KiB"))
    for name, b, g, size in builds:
        print("%-20s %9.3f %9.3f %11.0f" % (name, b, g, size / 1024))
    print("start-up: %d runs of each, interleaved, wall from posix_spawn to exit%s" % (
        STARTUP_RUNS, ", pinned to core 0" if ctx.pin else ""))
    print("%-24s %9s %9s %9s" % ("", "median ms", "min ms", "max ms"))
    for label, _ in starts:
        t = times[label]
        print("%-24s %9.2f %9.2f %9.2f" % (label, 1e3 * median(t), 1e3 * min(t), 1e3 * max(t)))
    if syncs:
        print("the empty run's fsync/fdatasync calls (strace -c -w, 10 more runs): %d a run, median %.2f ms, "
              "max %.2f ms a run" % (syncs[0][1], 1e3 * median([x[0] for x in syncs]), 1e3 * max(x[0] for x in syncs)))
    print("idle RSS after 1 s: pipelines/user_activity.yaml on an empty folder VmRSS %.1f MiB (VmHWM %.1f); "
          "sleep 5: %.1f MiB" % (rss / 1024, hwm / 1024, srss / 1024))
    big, one = grss[GROUPS], grss[1]
    per = (big[0] - one[0]) * 1024 / GROUPS
    print("window groups: bench/window_groups.yaml (build %.2f s), %d rows; %d keys: peak RSS %.1f MiB, %d window "
          "rows, %.3f s; 1 key: %.1f MiB, %d window rows, %.3f s; %.0f bytes per open group" % (
              gbuild, 2 * GROUPS, GROUPS, big[0] / 1024, big[1], big[2], one[0] / 1024, one[1], one[2], per))
    if big[1] != GROUPS or one[1] != 1:
        print("check: window rows DIFFERENT from %d and 1" % GROUPS)
    worst = max(builds, key=lambda b: b[1])
    target(ctx, 8, "pipec build, slowest pipeline of %d (%s)" % (len(builds), worst[0]), "%.3f s" % worst[1],
           "cc hello world %.3f s" % ccs, "%.1fx" % (worst[1] / ccs), "<= 1 s per pipeline",
           all(b[1] <= 1.0 for b in builds))
    st, tr = median(times["pipeline, empty input"]), median(times["/bin/true"])
    target(ctx, 8, "start-up: a run on an empty input (median of %d)" % STARTUP_RUNS, "%.2f ms" % (1e3 * st),
           "/bin/true %.2f ms" % (1e3 * tr), "%.1fx" % (st / tr), "<= 5 ms", st <= 0.005)
    target(ctx, 8, "idle RSS, folder source on an empty folder", "%.1f MiB" % (rss / 1024),
           "sleep %.1f MiB" % (srss / 1024), "%.1fx" % (rss / srss), "<= 10 MB", rss * 1024 <= 10e6)
    target(ctx, 8, "peak RSS with %dk open window groups" % (GROUPS // 1000), "%.1f MiB" % (big[0] / 1024),
           "1 group %.1f MiB" % (one[0] / 1024), "%.0f B/group" % per, "none", None)
    path = os.path.join(BENCH, "results.csv")
    rows = [("build " + name, b, "gen_s=%.4f binary_bytes=%d" % (g, size)) for name, b, g, size in builds]
    rows.append(("build cc hello", ccs, ""))
    rows += [("start-up " + label, median(times[label]), "median of %d; min %.5f" % (STARTUP_RUNS, min(times[label])))
             for label, _ in starts]
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        for contender, wall, note in rows:
            w.writerow([ctx.when, ctx.commit, platform.node(), "startup", contender, "", "", "%.5f" % wall, "", "", "",
                        "", "", "", "", "", "yes" if ctx.pin else "no", "", note])
        w.writerow([ctx.when, ctx.commit, platform.node(), "startup", "idle user_activity", "", "", "", "", "", "",
                    rss, "", "", "", "", "yes" if ctx.pin else "no", "", "VmRSS after 1 s; VmHWM %d" % hwm])
        for keys in (GROUPS, 1):
            w.writerow([ctx.when, ctx.commit, platform.node(), "startup", "window groups %d" % keys, 2 * GROUPS, "",
                        "%.4f" % grss[keys][2], "", "", "", grss[keys][0], "", "", "", "",
                        "yes" if ctx.pin else "no", "%.3f" % gbuild, "window rows %d" % grss[keys][1]])
    print("appended to %s" % os.path.relpath(path, ROOT))


def main():
    ap = argparse.ArgumentParser(description="pipec benchmarks")
    ap.add_argument("--rows", type=int, default=5000000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--budget", type=float, default=40.0,
                    help="no further run of a contender once its runs would pass this many seconds")
    ap.add_argument("--reuse-data", action="store_true")
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--cases", default="1,2,3,4,5,6,7,8",
                    help="comma-separated: 1 rowpath, 2 tumbling, 3 JSON-lines window, 4 hopping, "
                         "5 Kafka -> window -> PostgreSQL, 6 rows -> PostgreSQL, 7 CSV -> Parquet, "
                         "8 build time, start-up and memory")
    ap.add_argument("--pg-rows", type=int, default=2000000, help="rows of the case 6 input")
    ap.add_argument("--pg-batch", type=int, default=None,
                    help="case 6: build the specs with batch: {rows: N} (default: theirs, 100000)")
    ap.add_argument("--kafka-rows", type=int, default=2000000, help="messages of the case 5 input")
    ap.add_argument("--parquet-rows", type=int, default=5000000, help="rows of the case 7 input")
    ap.add_argument("--kafka-prop", action="append", metavar="KEY=VALUE",
                    help="case 5: a librdkafka property for both contenders (the spec's source "
                         "properties, kcat -X); repeatable")
    a = ap.parse_args()
    try:
        cases = {int(c) for c in a.cases.split(",") if c.strip()}
    except ValueError:
        ap.error("--cases: a comma-separated list of 1 to 8")
    if not cases or cases - set(range(1, 9)):
        ap.error("--cases: a comma-separated list of 1 to 8")
    if a.pg_rows < 1 or (a.pg_batch is not None and a.pg_batch < 1):
        ap.error("--pg-rows and --pg-batch must be at least 1")
    if a.kafka_rows < 1:
        ap.error("--kafka-rows must be at least 1")
    for kv in a.kafka_prop or []:
        if not re.match(r"^[A-Za-z0-9._-]+=[^\"\\\n]*$", kv):
            ap.error("--kafka-prop: KEY=VALUE (no quotes, backslashes or newlines in the value), not %r" % kv)

    if not os.access(os.path.join(ROOT, "bin", "pipec"), os.X_OK):
        sys.exit("bench: bin/pipec not built (run make all)")
    os.makedirs(DATA, exist_ok=True)
    ctx = Ctx(a)
    t0 = time.time()
    if 1 in cases:
        case_rowpath(ctx)
    if cases & {2, 3, 4}:
        case_windows(ctx, cases)
    if 5 in cases:
        case_kafka(ctx)
    if 6 in cases:
        case_pg(ctx)
    if 7 in cases:
        case_parquet(ctx)
    if 8 in cases:
        case_startup(ctx)
    print_summary(ctx)
    print("bench: done in %.0f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
