"""suite_parquet_sink.py - the parquet sink (runtime/rt_pqsink.c) end to end: generated CSV input
through tests/e2e/parquet_lake.yaml (every type, NULLs, unicode, empty strings, two hive
partition levels with escaped values, rolled files), tests/e2e/parquet_window.yaml (a window's rows)
and tests/e2e/parquet_kill.yaml (SIGKILLed at random points and restarted); the lake is read back
with DuckDB (tests/oracle/sql.mjs, read_parquet with hive_partitioning) and hyparquet
(tests/oracle/hyparquet.mjs) and every value compared with what Python computes from the input.
Afterwards no temp file may be left and every visible file must be whole. A crash between a
checkpoint and its renames is also made by hand: the restart must redo the listed rename and
delete the other temp files."""
import datetime
import glob
import json
import os
import random
import signal
import subprocess
import time

ORACLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
REGIONS = ["north", "Zürich", "a/b", "x=y", "50%", "", None, "007"]


def node(args):
    for mod in ("@duckdb/node-api", "hyparquet", "hyparquet-compressors"):
        if not os.path.isfile(os.path.join(ORACLE_DIR, "node_modules", mod, "package.json")):
            raise AssertionError("the npm package %s is missing: run `make deps`" % mod)
    p = subprocess.run(["node"] + args, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "node %s failed (%d):\n%s" % (" ".join(args), p.returncode, p.stderr[-3000:])
    return p.stdout


def duckdb(ctx, sql):
    """The rows of each statement of `sql`, as dicts."""
    path = os.path.join(ctx.tmp, "q%d.sql" % random.randrange(1 << 30))
    with open(path, "w") as f:
        f.write(sql)
    results = []
    for line in node([os.path.join(ORACLE_DIR, "sql.mjs"), "--json", "--all", path]).splitlines():
        if line.startswith("# result"):
            results.append([])
        else:
            results[-1].append(json.loads(line))
    return results


def hyparquet_rows(files):
    """Per file its metadata line and rows, as hyparquet reads them."""
    out, cur = [], None
    for line in node([os.path.join(ORACLE_DIR, "hyparquet.mjs")] + files).splitlines():
        v = json.loads(line)
        if isinstance(v, dict):
            cur = (v, [])
            out.append(cur)
        else:
            cur[1].append(v)
    return out


def run(binary, env, check=True, timeout=300):
    e = {k: v for k, v in os.environ.items() if k not in ("INPUT", "OUT")}
    e.update(env)
    p = subprocess.run([binary], env=e, capture_output=True, text=True, timeout=timeout)
    if check:
        assert p.returncode == 0, "exit %d\n%s" % (p.returncode, p.stderr[-3000:])
    return p


def csv_str(s):
    return "" if s is None else '"' + s.replace('"', '""') + '"'


def csv_opt(v, fmt=str):
    return "" if v is None else fmt(v)


def ts_text(us):
    d = EPOCH + datetime.timedelta(microseconds=us)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % d.microsecond


def date_text(days):
    return (EPOCH + datetime.timedelta(days=days)).strftime("%Y-%m-%d")


def lake_rows(n, seed):
    """Rows (id, small, name, amount, ok, ts_us, day, region) for parquet_lake.yaml."""
    rng = random.Random(seed)
    names = ["", "plain", "naïve café", "日本語テキスト", "comma, inside", 'quote "q"', "emoji 🎉", "x" * 300]
    rows = []
    for i in range(n):
        maybe = lambda v: None if rng.random() < 0.15 else v
        rows.append((i, maybe(rng.randint(-2 ** 31, 2 ** 31 - 1)), maybe(rng.choice(names) + str(rng.randint(0, 9))),
                     maybe(rng.choice([0.0, -0.5, 1e300, rng.uniform(-1e6, 1e6), 3.141592653589793])),
                     maybe(rng.random() < 0.5), maybe(1714557600000000 + rng.randint(0, 10 ** 12)),
                     maybe(19844 + rng.randint(0, 4)), rng.choice(REGIONS)))
    return rows


def write_lake_input(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,small,name,amount,ok,ts,day,region\n")
        for r in rows:
            f.write(",".join([str(r[0]), csv_opt(r[1]), csv_str(r[2]), csv_opt(r[3], repr),
                              csv_opt(r[4], lambda b: "true" if b else "false"), csv_opt(r[5], ts_text),
                              csv_opt(r[6], date_text), csv_str(r[7])]) + "\n")


def lake_files(root):
    return sorted(glob.glob(os.path.join(root, "**", "*.parquet"), recursive=True))


def temp_files(root):
    return [p for p in glob.glob(os.path.join(root, "**", ".*"), recursive=True) if os.path.isfile(p)]


LAKE_SELECT = ("SELECT id, small, name, amount, ok, epoch_us(ts) AS ts, (day - DATE '1970-01-01') AS day, region "
               "FROM read_parquet('%s/**/*.parquet', hive_partitioning = true, "
               "hive_types = {'day': DATE, 'region': VARCHAR}) ORDER BY id")


def test_lake_every_type(ctx):
    """Every value back through DuckDB (hive partitions restored) and hyparquet (each file)."""
    spec = os.path.join(ctx.root, "tests", "e2e", "parquet_lake.yaml")
    binary = ctx.build_pipeline(spec)
    h = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30).stdout
    assert "  lake: Parquet files in ${OUT}/lake, folders day=/region= (each file published" in h, h
    explain = ctx.run([ctx.pipec, "explain", spec]).stdout
    assert ("  lake: Parquet files in ${OUT}/lake, zstd, partitioned by day date, region string (hive folders; these "
            "are not columns of the files), at most 700 rows a file\n    each commit finishes its files under hidden "
            "temp names, lists them in the checkpoint, then renames them") in explain, explain
    assert "columns: id int64, small int32, name string, amount float64, ok bool, ts timestamp\n" in explain
    assert "guarantee: exactly once" in explain
    rows = lake_rows(3000, 7)
    inp, out = os.path.join(ctx.tmp, "in.csv"), os.path.join(ctx.tmp, "out")
    write_lake_input(inp, rows)
    run(binary, {"INPUT": inp, "OUT": out})
    root = os.path.join(out, "lake")
    assert temp_files(root) == [], temp_files(root)
    got = duckdb(ctx, LAKE_SELECT % root + ";\nSELECT DISTINCT decode(key) AS k, decode(value) AS v FROM "
                 "parquet_kv_metadata('%s/**/*.parquet') ORDER BY k;\n" % root)
    want = [dict(zip(["id", "small", "name", "amount", "ok", "ts", "day", "region"], r)) for r in rows]
    assert len(got[0]) == len(want), (len(got[0]), len(want))
    for g, w in zip(got[0], want):
        assert g == w, "DuckDB row differs:\n got %r\nwant %r" % (g, w)
    kv = {r["k"]: r["v"] for r in got[1]}
    assert kv["pipec.pipeline"] == "e2e_parquet_lake" and len(kv["pipec.spec"]) == 16, kv
    # the folders: one per (day, region), escaped; NULL as Hive's default partition
    dirs = {os.path.relpath(os.path.dirname(f), root) for f in lake_files(root)}
    assert "day=__HIVE_DEFAULT_PARTITION__/region=a%2Fb" in dirs, sorted(dirs)
    assert any(d.endswith("/region=x%3Dy") for d in dirs) and any(d.endswith("/region=50%25") for d in dirs)
    assert any(d.endswith("/region=__HIVE_DEFAULT_PARTITION__") for d in dirs)
    # hyparquet: every file whole, no partition column inside, every row once
    by_id = {r[0]: r for r in rows}
    seen = 0
    for meta, frows in hyparquet_rows(lake_files(root)):
        assert [c["name"] for c in meta["schema"][1:]] == ["id", "small", "name", "amount", "ok", "ts"], meta["schema"]
        assert meta["num_rows"] == len(frows) <= 700, (meta["file"], meta["num_rows"])
        for fr in frows:
            w = by_id[fr[0]]
            assert fr[:5] == list(w[:5]) and fr[5] == (None if w[5] is None else ts_text(w[5])), (fr, w)
            seen += 1
    assert seen == len(rows)


def test_window_into_parquet(ctx):
    """The rows of a tumbling window, partitioned by an expression over window_start."""
    binary = ctx.build_pipeline(os.path.join(ctx.root, "tests", "e2e", "parquet_window.yaml"))
    rng = random.Random(3)
    start = 1714521600   # 2024-05-01T00:00:00Z
    lines, want = ["ts,kind,amount"], {}
    t = start
    for _ in range(5000):
        t += rng.randint(0, 60)
        kind, amount = rng.choice(["a", "b", "c"]), rng.choice([None, rng.randint(0, 1000) / 4])
        lines.append("%s,%s,%s" % (datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                   kind, "" if amount is None else repr(amount)))
        k = ((t // 3600) * 3600, kind)
        n, total = want.get(k, (0, None))
        want[k] = (n + 1, total if amount is None else (total or 0) + amount)
    inp, out = os.path.join(ctx.tmp, "w.csv"), os.path.join(ctx.tmp, "wout")
    with open(inp, "w") as f:
        f.write("\n".join(lines) + "\n")
    run(binary, {"INPUT": inp, "OUT": out})
    root = os.path.join(out, "hourly")
    got = duckdb(ctx, "SELECT epoch(hour)::BIGINT AS h, kind, n, total, date_window_start::VARCHAR AS d FROM read_parquet("
                 "'%s/**/*.parquet', hive_partitioning = true) ORDER BY h, kind;\n" % root)[0]
    assert [(r["h"], r["kind"]) for r in got] == sorted(want), "window rows differ"
    for r in got:
        assert (r["n"], r["total"]) == want[(r["h"], r["kind"])], r
        assert r["d"] == date_text(r["h"] // 86400), r
    metas = hyparquet_rows(lake_files(root))
    assert sum(m["num_rows"] for m, _ in metas) == len(want)
    assert all(m["chunks"][0][0]["codec"] == "SNAPPY" for m, _ in metas)


def test_kill_random_exactly_once(ctx):
    """SIGKILL at random points (15 times) with a 10 ms checkpoint interval, restart each time: afterwards no
    temp file, every visible file whole, every row exactly once (count, sum per partition, ids)."""
    binary = ctx.build_pipeline(os.path.join(ctx.root, "tests", "e2e", "parquet_kill.yaml"))
    n = 2000000
    inp, out = os.path.join(ctx.tmp, "k.csv"), os.path.join(ctx.tmp, "kout")
    with open(inp, "w") as f:
        f.write("id,grp,amount\n")
        f.writelines("%d,g%d,%d\n" % (i, i % 7, i * 3 % 1001) for i in range(n))
    rng = random.Random(11)
    kills = 0
    env = {k: v for k, v in os.environ.items() if k not in ("INPUT", "OUT")}
    env.update({"INPUT": inp, "OUT": out, "PIPEC_RT_CHUNK": "65536"})
    for _ in range(80):
        p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.003, 0.08))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        err = p.communicate(timeout=60)[1].decode()
        if p.returncode == 0:
            break
        assert p.returncode == -signal.SIGKILL, (p.returncode, err[-2000:])
        if kills >= 15:
            break
    p = subprocess.run([binary], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    assert kills >= 10, "too few kills landed (%d)" % kills
    root = os.path.join(out, "lake")
    assert temp_files(root) == [], temp_files(root)[:5]
    got = duckdb(ctx, ("SELECT grp, count(*) AS n, sum(amount)::BIGINT AS s, count(DISTINCT id) AS d FROM read_parquet("
                       "'{0}/**/*.parquet', hive_partitioning = true) GROUP BY grp ORDER BY grp;\n"
                       "SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi FROM "
                       "read_parquet('{0}/**/*.parquet');\n").format(root))
    want = {}
    for i in range(n):
        c, s = want.get("g%d" % (i % 7), (0, 0))
        want["g%d" % (i % 7)] = (c + 1, s + i * 3 % 1001)
    assert {r["grp"]: (r["n"], r["s"]) for r in got[0]} == want, got[0]
    assert all(r["n"] == r["d"] for r in got[0])
    assert got[1][0] == {"n": n, "d": n, "lo": 0, "hi": n - 1}, got[1]
    meta = hyparquet_rows(lake_files(root)[:1])[0][0]
    assert {c["codec"] for c in meta["chunks"][0]} == {"UNCOMPRESSED"}, meta["chunks"]


def test_restart_redoes_listed_renames(ctx):
    """A crash between the checkpoint and its renames, made by hand: a file the checkpoint lists
    is back under its temp name, beside a stray temp file of uncommitted work. The restart (which
    reads nothing: the input is finished) renames the first and deletes the second."""
    binary = ctx.build_pipeline(os.path.join(ctx.root, "tests", "e2e", "parquet_lake.yaml"))
    rows = lake_rows(500, 5)
    inp, out = os.path.join(ctx.tmp, "in.csv"), os.path.join(ctx.tmp, "out")
    write_lake_input(inp, rows)
    run(binary, {"INPUT": inp, "OUT": out})
    root = os.path.join(out, "lake")
    files = lake_files(root)
    listed, stray = files[len(files) // 2], os.path.join(os.path.dirname(files[0]), ".part-999999-0000.parquet.tmp")
    hidden = os.path.join(os.path.dirname(listed), "." + os.path.basename(listed) + ".tmp")
    os.rename(listed, hidden)
    with open(stray, "wb") as f:
        f.write(b"PAR1 half a file")
    ck = os.path.join(out, "state", "checkpoint")
    with open(ck) as f:
        text = f.read()
    assert text.endswith("end\n") and "\npublish " not in text, text
    with open(ck, "w") as f:
        f.write(text[:-4] + "publish %s\nend\n" % listed)
    p = run(binary, {"INPUT": inp, "OUT": out})
    assert "in=0 " in p.stderr, p.stderr[-2000:]
    assert lake_files(root) == files and temp_files(root) == []
    got = duckdb(ctx, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM read_parquet('%s/**/*.parquet');\n" % root)
    assert got[0][0] == {"n": len(rows), "d": len(rows)}, got
