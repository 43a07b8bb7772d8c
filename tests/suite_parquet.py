"""suite_parquet.py - the Parquet writer (runtime/rt_parquet.c) through tests/parquet/pq_write_main.c:
files of every column type, NULLs, 0, 1 and 1M rows, row groups, pages, dictionary and PLAIN
encodings and the three codecs, each read back by two readers we did not write, DuckDB
(tests/oracle/sql.mjs: read_parquet, parquet_schema, parquet_kv_metadata, parquet_metadata) and
hyparquet (tests/oracle/hyparquet.mjs), and every value, statistic, type and key-value pair
compared with what Python computes from the rows it wrote. tests/parquet/pq_pages.py walks the page
headers to check page counts and encodings. Needs node and tests/oracle/node_modules
(`make deps`)."""
import datetime
import importlib.util
import json
import math
import os
import random
import subprocess

ORACLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle")
PQ_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parquet")
_spec = importlib.util.spec_from_file_location("pq_pages", os.path.join(PQ_DIR, "pq_pages.py"))
pq_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pq_pages)

CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
          "-Wmissing-prototypes", "-D_GNU_SOURCE", "-O2", "-g"]
SAN = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]
RUNTIME_SRCS = ["rt_parquet.c", "rt_pq_encode.c", "rt_thrift.c", "rt_core.c", "rt_sqltext.c", "rt_window.c"]
_BUILT = {}

# What each driver type is in the file and in DuckDB: physical type, converted type, hyparquet's
# logical type, DuckDB's type.
TYPES = {
    "bool": ("BOOLEAN", None, None, "BOOLEAN"),
    "int32": ("INT32", "INT_32", {"type": "INTEGER", "bitWidth": 32, "isSigned": True}, "INTEGER"),
    "int64": ("INT64", "INT_64", {"type": "INTEGER", "bitWidth": 64, "isSigned": True}, "BIGINT"),
    "double": ("DOUBLE", None, None, "DOUBLE"),
    "string": ("BYTE_ARRAY", "UTF8", {"type": "STRING"}, "VARCHAR"),
    "timestamp": ("INT64", "TIMESTAMP_MICROS", {"type": "TIMESTAMP", "isAdjustedToUTC": True, "unit": "MICROS"},
                  "TIMESTAMP WITH TIME ZONE"),
    "date": ("INT32", "DATE", {"type": "DATE"}, "DATE"),
}
CODEC_NAMES = {"none": "UNCOMPRESSED", "snappy": "SNAPPY", "zstd": "ZSTD"}
EPOCH = datetime.datetime(1970, 1, 1)
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


def writer(ctx):
    """Builds tests/parquet/pq_write_main.c with the writer's runtime sources, once per run."""
    san = bool(ctx.san or os.environ.get("PIPEC_SANITIZE") == "1")
    if san in _BUILT:
        return _BUILT[san]
    out_dir = os.path.join(ctx.build, "parquet")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "pq_write_main" + ("-san" if san else ""))
    rt = os.path.join(ctx.root, "runtime")
    srcs = [os.path.join(PQ_DIR, "pq_write_main.c")] + [os.path.join(rt, f) for f in RUNTIME_SRCS]
    p = ctx.run(["cc"] + CFLAGS + (SAN if san else []) + ["-I" + rt, "-o", out] + srcs +
                ["-lzstd", "-lsnappy", "-lm"])
    assert "warning" not in p.stderr, p.stderr
    _BUILT[san] = out
    return out


# ---- writing ------------------------------------------------------------------------------------

def string_text(v):
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# A value as pq_write_main reads it; doubles by float.hex: exact, subnormals and -0.0 included,
# inf, -inf and nan as such.
FIELD_TEXT = {"bool": lambda v: "true" if v else "false", "double": float.hex, "string": string_text}


def field_text(typ, v):
    return "\\N" if v is None else FIELD_TEXT.get(typ, str)(v)


_INPUT_LINES = {}   # path -> the lines pq_write_main read for it


def write(ctx, name, cols, rows, codec="none", level=None, group=None, group_bytes=None, batch=None, kv=(),
          check=True):
    """Writes rows (tuples of Python values, None for NULL) with columns cols ([(name, type,
    nullable)]) into TMP/NAME.parquet; returns its path (or the CompletedProcess when check is
    False)."""
    path = os.path.join(ctx.tmp, name + ".parquet")
    args = [writer(ctx), "-c", codec]
    if level is not None:
        args += ["-l", str(level)]
    if group:
        args += ["-g", str(group)]
    if group_bytes:
        args += ["-G", str(group_bytes)]
    if batch:
        args += ["-b", str(batch)]
    for k, v in kv:
        args += ["-k", k + "=" + v]
    args.append(path)
    args += ["%s:%s%s" % (n, t, "?" if nullable else "") for n, t, nullable in cols]
    types = [c[1] for c in cols]
    lines = _INPUT_LINES[path] = ["\t".join([field_text(t, v) for t, v in zip(types, row)]) + "\n" for row in rows]
    text = "".join(lines)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    p = subprocess.run(args, input=text.encode(), capture_output=True, env=env, timeout=120)
    if not check:
        return p
    assert p.returncode == 0, "pq_write_main failed (%d): %s" % (p.returncode, p.stderr.decode())
    assert p.stdout.decode() == "rows %d\n" % len(rows), "pq_rows: %r" % p.stdout
    return path


# ---- reading ------------------------------------------------------------------------------------

def node(ctx, args):
    for mod in ("@duckdb/node-api", "hyparquet", "hyparquet-compressors"):
        if not os.path.isfile(os.path.join(ORACLE_DIR, "node_modules", mod, "package.json")):
            raise AssertionError("the npm package %s is missing: run `make deps`" % mod)
    p = subprocess.run(["node"] + args, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "node %s failed (%d):\n%s" % (" ".join(args), p.returncode, p.stderr)
    return p.stdout


SQL_TYPES = {"bool": "BOOLEAN", "int32": "INTEGER", "int64": "BIGINT", "double": "DOUBLE",
             "string": "VARCHAR", "timestamp": "BIGINT", "date": "BIGINT"}


def rows_sql(path, cols, rows, in_duckdb):
    """The query of the file's rows (timestamps as epoch microseconds, dates as epoch days); with
    in_duckdb, DuckDB compares them itself with the expected rows written to a TSV file and the
    query returns the count of rows that differ and the first of them (for large files, whose
    rows would take long to print; doubles are then compared without the sign of zero)."""
    sel = []
    for i, (n, t, _) in enumerate(cols):
        q = '"%s"' % n
        sel.append(("epoch_us(%s)" % q if t == "timestamp" else "(%s - DATE '1970-01-01')" % q if t == "date" else q) +
                   " AS c%d" % i)
    scan = "SELECT %s, file_row_number FROM read_parquet('%s', file_row_number = true)" % (", ".join(sel), path)
    if not in_duckdb:
        return scan + " ORDER BY file_row_number"
    tsv = path + ".expected.tsv"
    with open(tsv, "w") as f:   # the rows as written, each after its number; no escapes in them
        f.writelines("%d\t%s" % (rn, line) for rn, line in enumerate(_INPUT_LINES[path]))
    assert all(line.count("\\") == line.count("\\N") for line in _INPUT_LINES[path]), "escapes DuckDB would not read"
    types = ", ".join(["'rn': 'BIGINT'"] + ["'c%d': '%s'" % (i, SQL_TYPES[c[1]]) for i, c in enumerate(cols)])
    differ = " OR ".join(["p.file_row_number IS NULL", "e.rn IS NULL"] +
                         ["p.c%d IS DISTINCT FROM e.c%d" % (i, i) for i in range(len(cols))])
    return ("SELECT count(*) AS differ, min(coalesce(e.rn, p.file_row_number)) AS first FROM (%s) p FULL JOIN "
            "read_csv('%s', delim = '\\t', header = false, nullstr = '\\N', quote = '', escape = '', columns = {%s}) e "
            "ON p.file_row_number = e.rn WHERE %s" % (scan, tsv, types, differ))


def duckdb(ctx, path, cols, rows, in_duckdb=False):
    """DuckDB's view of the file: its rows compared with `rows`, schema, key-value metadata, count
    and parquet_metadata rows (with the statistics cast back to numbers)."""
    f = "'%s'" % path
    sql = ";\n".join([
        rows_sql(path, cols, rows, in_duckdb) if cols else "SELECT 1",
        "SELECT name, type, repetition_type, converted_type, num_children, duckdb_type FROM parquet_schema(%s)" % f,
        "SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(%s)" % f,
        "SELECT *, " + ", ".join(
            "epoch_us(try_cast(%s AS TIMESTAMPTZ)) AS %s_us, try_cast(%s AS DATE) - DATE '1970-01-01' AS %s_days, "
            "try_cast(%s AS DOUBLE) AS %s_f" % ((s, s) * 3) for s in ("stats_min", "stats_max", "stats_min_value", "stats_max_value")) +
        " FROM parquet_metadata(%s) ORDER BY row_group_id, column_id" % f,
        "SELECT count(*) AS n FROM read_parquet(%s)" % f,
    ]) + ";\n"
    sql_path = path + ".sql"
    with open(sql_path, "w") as fh:
        fh.write(sql)
    results, cur = [], None
    for line in node(ctx, [os.path.join(ORACLE_DIR, "sql.mjs"), "--json", "--all", sql_path]).splitlines():
        if line.startswith("# result"):
            cur = []
            results.append(cur)
        else:
            cur.append(json.loads(line))
    assert results[4][0]["n"] == len(rows), "DuckDB counts %d rows, want %d" % (results[4][0]["n"], len(rows))
    if in_duckdb:
        assert results[0][0]["differ"] == 0, "DuckDB: %d rows differ, the first at row %r" % (
            results[0][0]["differ"], results[0][0]["first"])
    elif cols:
        compare_rows(cols, rows, [list(r.values())[:-1] for r in results[0]], "duckdb")
    return {"schema": results[1], "kv": [(r["key"], r["value"]) for r in results[2]], "meta": results[3]}


def hyparquet(ctx, path):
    lines = node(ctx, [os.path.join(ORACLE_DIR, "hyparquet.mjs"), path]).splitlines()
    return json.loads(lines[0]), [json.loads(l) for l in lines[1:]]


# ---- expectations -------------------------------------------------------------------------------

def date_text(days, _cache={}):
    text = _cache.get(days)
    if text is None:
        d = EPOCH + datetime.timedelta(days=days)
        text = _cache[days] = "%04d-%02d-%02d" % (d.year, d.month, d.day)
    return text


def ts_text(us):
    """hyparquet.mjs's form of a timestamp: 2024-05-01T10:00:00.000000Z."""
    days, us_of_day = divmod(us, 86400000000)
    sec, frac = divmod(us_of_day, 1000000)
    return "%sT%02d:%02d:%02d.%06dZ" % (date_text(days), sec // 3600, sec // 60 % 60, sec % 60, frac)


def as_double(v):
    return float(v) if isinstance(v, str) else float(v)   # "NaN", "Infinity", "-Infinity" too


def same_double(a, b):
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


def same(typ, want, got, form):
    """Whether a reader's value `got` is the written `want` (form: 'duckdb' or 'hyparquet')."""
    if want is None or got is None:
        return want is None and got is None
    if typ == "double":
        return not isinstance(got, bool) and same_double(want, as_double(got))
    if typ == "timestamp" and form == "hyparquet":
        return got == ts_text(want)
    if typ == "date" and form == "hyparquet":
        return got == date_text(want)
    if typ == "bool":
        return got is want
    return type(got) is type(want) and got == want


def in_form(typ, v, form):
    if v is not None and form == "hyparquet":
        return ts_text(v) if typ == "timestamp" else date_text(v) if typ == "date" else v
    return v


def compare_rows(cols, rows, got, form):
    assert len(got) == len(rows), "%s: %d rows, want %d" % (form, len(got), len(rows))
    # Rows of integers, strings, timestamps and dates compare as lists; doubles (NaN, -0.0) and
    # booleans (True == 1) value by value.
    as_lists = all(t in ("int32", "int64", "string", "timestamp", "date") for _, t, _ in cols)
    for i, (want_row, got_row) in enumerate(zip(rows, got)):
        if as_lists and got_row == [in_form(t, v, form) for (_, t, _), v in zip(cols, want_row)]:
            continue
        assert len(got_row) == len(cols), "%s row %d: %r" % (form, i, got_row)
        for (n, t, _), w, g in zip(cols, want_row, got_row):
            assert same(t, w, g, form), "%s row %d column %s: got %r, want %r" % (form, i, n, g, w)


def expected_stats(typ, values):
    """(null_count, min, max) of one column chunk as Parquet defines them: NaN skipped, strings by
    their bytes, a zero double minimum -0.0 and maximum +0.0; min/max None without a value."""
    nulls = sum(v is None for v in values)
    vals = [v for v in values if v is not None and not (typ == "double" and math.isnan(v))]
    if not vals:
        return nulls, None, None
    lo, hi = min(vals), max(vals)   # Python orders str by code point, which is UTF-8's byte order
    if typ == "double":
        lo = -0.0 if lo == 0 else lo
        hi = 0.0 if hi == 0 else hi
    return nulls, lo, hi


def stat_value(typ, m, key):
    """A DuckDB parquet_metadata statistic back in the driver's terms."""
    if m[key] is None:
        return None
    if typ == "timestamp":
        return m[key + "_us"]
    if typ == "date":
        return m[key + "_days"]
    if typ == "double":
        return as_double(m[key + "_f"])
    if typ == "bool":
        return {"true": True, "false": False}[m[key]]
    if typ in ("int32", "int64"):
        return int(m[key])
    return m[key]


def check_file(ctx, path, cols, rows, groups=None, kv=(), codec="none"):
    """Reads the file with both readers and checks rows, schema, key-value metadata, row groups and
    each chunk's statistics, codec and encodings. groups: the rows of each row group (default:
    one group, none for 0 rows). Returns DuckDB's parquet_metadata rows."""
    if groups is None:
        groups = [len(rows)] if rows else []
    d = duckdb(ctx, path, cols, rows, in_duckdb=len(rows) > 100000)
    schema = [(r["name"], r["type"], r["repetition_type"], r["converted_type"], r["duckdb_type"]) for r in d["schema"][1:]]
    want_schema = [(n, TYPES[t][0], "OPTIONAL" if nullable else "REQUIRED", TYPES[t][1], TYPES[t][3])
                   for n, t, nullable in cols]
    assert schema == want_schema, "DuckDB schema %r, want %r" % (schema, want_schema)
    assert d["schema"][0]["num_children"] == len(cols)
    assert d["kv"] == list(kv), "DuckDB key-value metadata %r, want %r" % (d["kv"], list(kv))

    head, hrows = hyparquet(ctx, path)
    compare_rows(cols, rows, hrows, "hyparquet")
    assert head["num_rows"] == len(rows)
    assert head["created_by"].startswith("pipec"), head["created_by"]
    hschema = [(e["name"], e["type"], e["repetition_type"], e["converted_type"], e["logical_type"]) for e in head["schema"][1:]]
    want_h = [(n, TYPES[t][0], "OPTIONAL" if nullable else "REQUIRED", TYPES[t][1], TYPES[t][2]) for n, t, nullable in cols]
    assert hschema == want_h, "hyparquet schema %r, want %r" % (hschema, want_h)
    assert [tuple(x) for x in head["key_value_metadata"]] == list(kv)
    assert head["row_groups"] == groups, "hyparquet row groups %r, want %r" % (head["row_groups"], groups)

    meta = d["meta"]
    assert len(meta) == len(groups) * len(cols), "%d chunks, want %d" % (len(meta), len(groups) * len(cols))
    start = 0
    for g, nrows in enumerate(groups):
        for c, (n, t, _) in enumerate(cols):
            m = meta[g * len(cols) + c]
            assert (m["row_group_id"], m["path_in_schema"]) == (g, n)
            assert m["row_group_num_rows"] == nrows and m["num_values"] == nrows
            assert m["compression"] == CODEC_NAMES[codec], m["compression"]
            nulls, lo, hi = expected_stats(t, [r[c] for r in rows[start:start + nrows]])
            where = "row group %d column %s" % (g, n)
            assert m["stats_null_count"] == nulls, "%s: null_count %r, want %d" % (where, m["stats_null_count"], nulls)
            for key, want in (("stats_min_value", lo), ("stats_max_value", hi), ("stats_min", lo), ("stats_max", hi)):
                got = stat_value(t, m, key)
                if got is None and t == "double" and want is not None and math.isinf(want):
                    continue   # DuckDB drops infinite bounds of doubles; hyparquet checks them below
                ok = got is None and want is None or (
                    got is not None and want is not None and
                    (same_double(want, got) if t == "double" else got == want))
                assert ok, "%s: DuckDB %s %r, want %r" % (where, key, got, want)
            h = head["chunks"][g][c]
            assert (h["path"], h["codec"], h["num_values"], h["null_count"]) == (n, CODEC_NAMES[codec], nrows, nulls), \
                "%s: hyparquet sees %r" % (where, h)
            assert ", ".join(h["encodings"]) == m["encodings"], "%s: %r, DuckDB %r" % (where, h["encodings"], m["encodings"])
            assert h["dictionary_page_offset"] == m["dictionary_page_offset"]
            for key, want in (("min_value", lo), ("max_value", hi), ("min", lo), ("max", hi)):
                assert same(t, want, h[key], "hyparquet"), "%s: hyparquet %s %r, want %r" % (where, key, h[key], want)
        start += nrows
    return meta


def page_headers(path):
    """Per row group, per column: the page headers (pq_pages) of the chunk."""
    with open(path, "rb") as f:
        data = f.read()
    meta = pq_pages.footer(data)
    return [[pq_pages.chunk_pages(data, cc[3]) for cc in rg[1]] for rg in meta.get(4, [])]


# ---- tests --------------------------------------------------------------------------------------

def cycle_rows(columns):
    """Rows from per-column value lists, each list cycled to the longest's length."""
    n = max(len(vals) for vals in columns)
    return [tuple(vals[i % len(vals)] for vals in columns) for i in range(n)]


TS_VALUES = [0, -1, 1, 1700000000123456, -9223372036854775, 9223372036854775,   # 1677-09-21, 2262-04-11
             -62135596800000000, 253402300799999999, -86400000001]                 # 0001-01-01, 9999-12-31
DATE_VALUES = [0, -1, 1, 19000, -719162, 2932896, -25567]                              # 0001-01-01, 9999-12-31, 1900
DOUBLE_VALUES = [0.0, -0.0, 1.5, -2.25, 0.1, math.inf, -math.inf, math.nan, 5e-324, -5e-324,
                 2.2250738585072009e-308, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308]
STRING_VALUES = ["", "a", "b", "ab", "\u00fcn\u00efc\u00f8d\u00e9 \u65e5\u672c \U0001f389", "tab\there",
                 "new\nline\r\n", "back\\slash", "\\N", "'quoted' \"double\"", "\x01ctl", "zz" * 300]


def test_every_type(ctx):
    cols = [("b", "bool", False), ("i32", "int32", False), ("i64", "int64", False), ("d", "double", False),
            ("s", "string", False), ("ts", "timestamp", False), ("dt", "date", False)]
    rows = cycle_rows([[True, False, False], [0, -1, 1, -2**31, 2**31 - 1, 12345],
                       [0, -1, INT64_MIN, INT64_MAX, 1 << 40, -(1 << 40) + 7], DOUBLE_VALUES,
                       STRING_VALUES, TS_VALUES, DATE_VALUES])
    kv = [("pipec.pipeline", "orders"), ("empty", ""), ("\u00fc key", "value\twith tab \u65e5")]
    for codec in ("none", "snappy", "zstd"):
        path = write(ctx, "types_" + codec, cols, rows, codec=codec, kv=kv)
        check_file(ctx, path, cols, rows, kv=kv, codec=codec)


def test_doubles_only_nan_and_zero_stats(ctx):
    cols = [("nan", "double", True), ("zero", "double", False), ("negzero", "double", False)]
    rows = [(math.nan, 0.0, -0.0), (None, -0.0, -0.0), (math.nan, 0.0, -0.0)]
    meta = check_file(ctx, write(ctx, "dbl", cols, rows), cols, rows)
    assert meta[0]["stats_min_value"] is None and meta[0]["stats_max_value"] is None


def test_nulls(ctx):
    rng = random.Random(7)
    types = ["bool", "int32", "int64", "double", "string", "timestamp", "date"]
    samples = {"bool": [True, False], "int32": [-5, 7, 2**31 - 1], "int64": [INT64_MIN, 3, INT64_MAX],
               "double": [1.0, -0.0, math.nan, 2.5], "string": ["x", "", "\u00e9t\u00e9", "long" * 50],
               "timestamp": TS_VALUES, "date": DATE_VALUES}
    cols, columns = [], []
    n = 3000
    for t in types:
        for kind in ("all", "none", "mixed", "runs"):
            cols.append(("%s_%s" % (t, kind), t, True))
            vals = samples[t]
            if kind == "all":
                columns.append([None] * n)
            elif kind == "none":
                columns.append([vals[i % len(vals)] for i in range(n)])
            elif kind == "mixed":
                columns.append([None if rng.random() < 0.3 else rng.choice(vals) for _ in range(n)])
            else:   # long runs of NULL and of values: RLE runs in the definition levels
                columns.append([None if (i // 97) % 2 else vals[(i // 13) % len(vals)] for i in range(n)])
    rows = [tuple(c[i] for c in columns) for i in range(n)]
    path = write(ctx, "nulls", cols, rows, group=1000, batch=333)
    meta = check_file(ctx, path, cols, rows, groups=[1000, 1000, 1000])
    for m in meta:
        if m["path_in_schema"].endswith("_all"):
            assert m["stats_min_value"] is None and m["stats_null_count"] == 1000


def test_zero_rows(ctx):
    cols = [("id", "int64", False), ("name", "string", True)]
    kv = [("k", "v")]
    path = write(ctx, "empty", cols, [], kv=kv)
    check_file(ctx, path, cols, [], kv=kv)
    assert page_headers(path) == []
    nocols = write(ctx, "nocols", [], [])
    head, rows = hyparquet(ctx, nocols)
    assert head["num_rows"] == 0 and rows == [] and head["row_groups"] == []


def test_one_row(ctx):
    cols = [("b", "bool", True), ("i", "int32", False), ("s", "string", True), ("ts", "timestamp", True)]
    for row in ((True, -7, "only", 1), (None, 2**31 - 1, None, None)):
        for codec in ("none", "zstd"):
            path = write(ctx, "one_" + codec, cols, [row], codec=codec)
            check_file(ctx, path, cols, [row], codec=codec)


def test_dictionary_and_plain(ctx):
    rng = random.Random(3)
    n = 20000
    few = ["red", "green", "blue", "", "\u00fcber"]
    cols = [("few", "string", True), ("many", "string", False), ("big", "string", False),
            ("i64_few", "int64", False), ("d_few", "double", False), ("i64_many", "int64", False),
            ("wide", "int32", False), ("one", "string", False), ("flags", "bool", False)]
    big = ["%05d" % i + "x" * 500 for i in range(4000)]   # 2 MiB of distinct values: over the 1 MiB dictionary
    rows = [(None if i % 11 == 0 else rng.choice(few), "row %d" % i, big[i % len(big)],
             rng.choice([INT64_MIN, 0, INT64_MAX]), rng.choice([1.5, -0.0, math.nan]), i * 7919,
             rng.randrange(600) - 300, "same", i % 3 == 0) for i in range(n)]
    path = write(ctx, "dict", cols, rows)
    meta = check_file(ctx, path, cols, rows)
    dict_cols = {"few", "i64_few", "d_few", "wide", "one"}
    for m in meta:
        has_dict = "RLE_DICTIONARY" in m["encodings"]
        assert has_dict == (m["path_in_schema"] in dict_cols), "%s: encodings %s" % (m["path_in_schema"], m["encodings"])
        assert (m["dictionary_page_offset"] is not None) == has_dict
    pages = page_headers(path)[0]
    for (name, _, _), chunk in zip(cols, pages):
        kinds = [p[1] for p in chunk]
        encodings = {p[5][2] for p in chunk if p[1] == 0}
        if name in dict_cols:
            assert kinds[0] == 2 and 2 not in kinds[1:], "%s: page types %r" % (name, kinds)
            assert encodings == {8}, "%s: data page encodings %r" % (name, encodings)
        else:
            assert 2 not in kinds and encodings == {0}, "%s: %r %r" % (name, kinds, encodings)


def test_codecs_and_levels(ctx):
    cols = [("id", "int64", False), ("text", "string", True), ("x", "double", True)]
    rows = [(i, None if i % 5 == 0 else "value %d " % (i % 50) + "abc" * (i % 7), i / 3 if i % 4 else None)
            for i in range(25000)]
    sizes = {}
    for codec, level in (("none", None), ("snappy", None), ("zstd", None), ("zstd", 1), ("zstd", 19)):
        path = write(ctx, "codec_%s_%s" % (codec, level), cols, rows, codec=codec, level=level, group=10000)
        meta = check_file(ctx, path, cols, rows, groups=[10000, 10000, 5000], codec=codec)
        comp = sum(m["total_compressed_size"] for m in meta)
        uncomp = sum(m["total_uncompressed_size"] for m in meta)
        if codec == "none":
            assert comp == uncomp
        else:
            assert comp < uncomp * 0.8, "%s: %d of %d bytes" % (codec, comp, uncomp)
        sizes[(codec, level)] = os.path.getsize(path)
    assert sizes[("zstd", 19)] <= sizes[("zstd", 1)]


def test_row_groups_by_size(ctx):
    # 8 bytes a row of PLAIN int64, batches of 1000 rows: pq_buffered_bytes reaches 40000 after 5
    cols = [("id", "int64", False)]
    rows = [(i * 3,) for i in range(12000)]
    path = write(ctx, "by_size", cols, rows, group_bytes=40000, batch=1000)
    check_file(ctx, path, cols, rows, groups=[5000, 5000, 2000])


def test_million_rows(ctx):
    n = 1000000
    rng = random.Random(11)
    cats = ["category-%04d" % i for i in range(1000)]
    cols = [("id", "int64", False), ("cat", "string", False), ("sorted", "string", False),
            ("maybe", "int32", True), ("ts", "timestamp", False)]
    rows = [(i, cats[rng.randrange(1000)], cats[i * 1000 // n], None if i % 7 == 3 else i % 1000,
             1700000000000000 + i * 1000003) for i in range(n)]
    groups = [300000, 300000, 300000, 100000]
    path = write(ctx, "million", cols, rows, codec="snappy", group=300000, batch=4096)
    check_file(ctx, path, cols, rows, groups=groups, codec="snappy")
    pages = page_headers(path)
    for g, chunks in enumerate(pages):
        for (name, _, _), chunk in zip(cols, chunks):
            data_pages = [p for p in chunk if p[1] == 0]
            assert len(data_pages) > 1, "row group %d column %s: %d data pages" % (g, name, len(data_pages))
            assert sum(p[5][1] for p in data_pages) == groups[g]
            assert all(p[2] <= (1 << 20) + 4096 for p in chunk), "a page over 1 MiB"


def test_refused_rows(ctx):
    p = write(ctx, "bad_i32", [("i", "int32", False)], [(2**31,)], check=False)
    assert p.returncode == 1 and b"does not fit INT32" in p.stderr, p.stderr
    p = write(ctx, "bad_null", [("i", "int64", False)], [(1,), (None,)], check=False)
    assert p.returncode == 1 and b"not nullable" in p.stderr, p.stderr
