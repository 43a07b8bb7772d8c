"""suite_badinput.py - a corpus of malformed inputs, one test per kind, through tests/e2e/events.yaml.

Each test writes a small CSV file (good rows around the bad ones, so positions and the rows after
a defect are checked too), runs the compiled pipeline, and checks: no crash (no signal, sanitizer
clean under --san), exit 0, every bad record in the dead letter exactly once at PATH:LINE with the
expected reason, a raw that matches the record (raw_base64 when not UTF-8), a detail that names the
field and, where short, the offending text; the good rows in the sink value by value and in order;
and in = out + dead + dropped with the expected counts.
"""
import atexit
import os
import random
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import gen_events as gen  # noqa: E402
import suite_e2e as e2e  # noqa: E402

SPEC = os.path.join(HERE, "e2e", "events.yaml")
HEADER = ",".join(gen.HEADER).encode()
T0 = 1714557600000000         # 2024-05-01T10:00:00Z in microseconds
_cache = {}


def binary(ctx):
    """events.yaml compiled once per run of the suite (pipec is the same for every test)."""
    key = (ctx.pipec, ctx.san, os.path.getmtime(ctx.pipec))
    if key not in _cache:
        d = tempfile.mkdtemp(prefix="pipec-badinput-")
        atexit.register(shutil.rmtree, d, True)
        out = os.path.join(d, "events")
        args = [ctx.pipec, "build", SPEC, "-o", out] + (["--sanitize"] if ctx.san else [])
        ctx.run(args)
        _cache[key] = out
    return _cache[key]


class Case:
    """Builds an input file record by record and knows what the pipeline must do with it."""

    def __init__(self, bom=False, header=HEADER, eol=b"\n"):
        self.chunks = [b"\xef\xbb\xbf" if bom else b"", header + eol]
        self.line = 2
        self.rows = []
        self.eol = eol
        self.n = 0
        self._size = self._sized = 0

    def good(self, event_id=None, t=T0, user=1, etype="cart", product=7, price=2.5, qty=3,
             texts=None, raw=None, eol=None):
        """A good record: from values (rendered plainly), or with the given texts/raw bytes."""
        self.n += 1
        event_id = "g%d" % self.n if event_id is None else event_id
        if raw is None:
            if texts is None:
                texts = [event_id, e2e.us_to_text(t), str(user), etype, str(product), repr(price),
                         "" if qty is None else str(qty)]
            raw = ",".join(texts).encode()
        return self._add(gen.Row("good", raw, None, None, (event_id, t, user, etype, product, price, qty)), eol)

    def bad(self, raw, reason="parse", field=None, kind="bad", eol=None):
        """A record that must reach the dead letter with `reason`; `field` = what detail names."""
        if isinstance(raw, str):
            raw = raw.encode()
        return self._add(gen.Row(kind, raw, reason, field, None), eol)

    def rule(self, raw, values, kind="rule"):
        """A record that parses (to `values`) and fails a rule."""
        return self._add(gen.Row(kind, raw.encode() if isinstance(raw, str) else raw, None, None, values), None)

    def blank(self, eol=None):
        self.chunks.append(eol or self.eol)
        self.line += 1

    def _add(self, row, eol):
        row.line = self.line
        self.rows.append(row)
        self.chunks.append(row.raw)
        self.chunks.append(self.eol if eol is None else eol)
        self.line += row.nlines
        return row

    def data(self):
        return b"".join(self.chunks)

    def size(self):
        while self._sized < len(self.chunks):
            self._size += len(self.chunks[self._sized])
            self._sized += 1
        return self._size


def run_case(ctx, case, data=None, env=None, input_path=None, position_path=None, stdin=None):
    """Runs events.yaml on the case's file and checks everything. Returns (counts, dead entries)."""
    path = input_path or os.path.join(ctx.tmp, "in.csv")
    if stdin is None:
        with open(path if os.path.isabs(path) else os.path.join(ctx.tmp, path), "wb") as f:
            f.write(case.data() if data is None else data)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out, exist_ok=True)
    e = {"INPUT": path, "OUT": out}
    e.update(env or {})
    p = e2e.run_ok(binary(ctx), e, cwd=ctx.tmp, stdin=stdin)
    counts = e2e.summary(p)
    sink, _, dead, dropped = e2e.events_expect(case.rows)
    seen = e2e.check_dead_letter(os.path.join(out, "dead.jsonl"), "e2e_events", path, dead,
                                 {r.line: r for r in case.rows}, position_path)
    e2e.compare_jsonl("events.jsonl", os.path.join(out, "events.jsonl"), sink, e2e.EVENTS_SINK_COLS,
                      full_every=1 if len(sink) < 2000 else 97)
    exp = {"in": len(case.rows), "out": len(sink), "dead": len(dead), "dropped": dropped}
    assert counts == exp, "summary %r, expected %r" % (counts, exp)
    return counts, seen


def detail_names_text(seen, line, text):
    d = seen[line]["detail"]
    assert text in d, "line %d: detail %r does not show the offending text %r" % (line, d, text)


# -- numbers ----------------------------------------------------------------------------------
def test_bad_integers(ctx):
    c = Case()
    c.good()
    rows = [c.bad("b1,2024-05-01T10:00:00Z,12x,cart,7,2.5,3", field="user_id"),
            c.bad("b2,2024-05-01T10:00:00Z,1.5,cart,7,2.5,3", field="user_id"),
            c.bad("b3,2024-05-01T10:00:00Z,1,cart,0x10,2.5,3", field="product_id"),
            c.bad("b4,2024-05-01T10:00:00Z,1,cart,7,2.5,two", field="quantity"),
            c.bad("b5,2024-05-01T10:00:00Z,--1,cart,7,2.5,3", field="user_id"),
            c.bad("b6,2024-05-01T10:00:00Z,1,cart,7,2.5,3.0", field="quantity"),
            c.bad("b7,2024-05-01T10:00:00Z,+,cart,7,2.5,3", field="user_id")]
    c.good()
    _, seen = run_case(ctx, c)
    detail_names_text(seen, rows[0].line, "12x")
    detail_names_text(seen, rows[3].line, "two")


def test_integer_range(ctx):
    c = Case()
    c.good(user=gen.INT64_MAX, product=gen.INT64_MIN, qty=gen.INT32_MAX)
    c.good(user=gen.INT64_MIN, product=0, qty=gen.INT32_MIN)
    c.good(texts=["g3", "2024-05-01T10:00:00Z", "+5", "cart", "-0", "1", "+3"], user=5, product=0, price=1.0)
    c.bad("b1,2024-05-01T10:00:00Z,9223372036854775808,cart,7,2.5,3", field="user_id")
    c.bad("b2,2024-05-01T10:00:00Z,-9223372036854775809,cart,7,2.5,3", field="user_id")
    c.bad("b3,2024-05-01T10:00:00Z,1,cart,99999999999999999999999999,2.5,3", field="product_id")
    c.bad("b4,2024-05-01T10:00:00Z,1,cart,7,2.5,2147483648", field="quantity")
    c.bad("b5,2024-05-01T10:00:00Z,1,cart,7,2.5,-2147483649", field="quantity")
    c.bad("b6,2024-05-01T10:00:00Z,1,cart,7,2.5,18446744073709551616", field="quantity")
    run_case(ctx, c)


def test_bad_floats(ctx):
    c = Case()
    for i, t in enumerate(["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e400", "1.2.3",
                           "$5", "1e", "e5", ".", "-", "1,5"]):
        if t == "1,5":
            c.bad("f%d,2024-05-01T10:00:00Z,1,cart,7,%s,3" % (i, t), field=None)   # 8 fields
        else:
            c.bad("f%d,2024-05-01T10:00:00Z,1,cart,7,%s,3" % (i, t), field="price")
        c.good()
    run_case(ctx, c)


def test_float_spellings_good(ctx):
    c = Case()
    for t in ["0.1", "1e3", "1E3", "1e+3", "2.5e-3", "-0", "-0.0", "0", "100", "5e-324",
              "1.7976931348623157e308", "0.30000000000000004", "123456789.123456789"]:
        c.good(texts=["x", "2024-05-01T10:00:00Z", "1", "cart", "7", t, "3"], event_id="x",
               price=float(t))
    run_case(ctx, c)


# -- timestamps -------------------------------------------------------------------------------
def test_bad_timestamps(ctx):
    c = Case()
    bad = ["yesterday", "2024/05/01 10:00:00", "2024-05-01T10:00:00ZZ", "1714557600",
           "T10:00:00Z", "2024-05-01X10:00:00Z", "2024-02-30T10:00:00Z", "2023-02-29T10:00:00Z",
           "1900-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z",
           "2024-00-10T00:00:00Z", "2024-05-00T00:00:00Z", "2024-05-01T25:00:00Z",
           "2024-05-01T10:61:00Z", "2024-05-01T10:00:00+25:00", "2024-5-1T10:00:00Z",
           "2024-05-01T10:00:00.Z"]
    for i, t in enumerate(bad):
        c.bad("t%d,%s,1,cart,7,2.5,3" % (i, t), field="event_time")
        c.good()
    _, seen = run_case(ctx, c)
    detail_names_text(seen, 2, "yesterday")


def test_timestamp_forms_good(ctx):
    c = Case()
    forms = [
        ("2024-05-01T10:00:00Z", T0),
        ("2024-05-01T10:00:00+00:00", T0),
        ("2024-05-01T10:00:00-00:00", T0),
        ("2024-05-01T12:00:00+02:00", T0),
        ("2024-05-01T04:30:00-05:30", T0),
        ("2024-05-01T10:00:00.5Z", T0 + 500000),
        ("2024-05-01T10:00:00.000001Z", T0 + 1),
        ("2024-05-01T10:00:00.123456Z", T0 + 123456),
        ("2024-05-01T10:00:00", T0),                       # no offset = UTC
        ("2024-03-01T00:30:00+01:00", (e2e.days_of(2024, 2, 29) * 86400 + 23 * 3600 + 1800) * 1000000),
        ("2000-02-29T00:00:00Z", e2e.days_of(2000, 2, 29) * 86400 * 1000000),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("1970-01-01T00:00:00Z", 0),
    ]
    for text, us in forms:
        c.good(texts=["x", text, "1", "cart", "7", "2.5", "3"], event_id="x", t=us)
    run_case(ctx, c)


def test_timestamp_rfc3339_lowercase_and_space(ctx):
    """RFC 3339 5.6 allows lower-case t and z; the space separator is its common variant."""
    c = Case()
    for text in ["2024-05-01t10:00:00z", "2024-05-01 10:00:00Z", "2024-05-01 10:00:00"]:
        c.good(texts=["x", text, "1", "cart", "7", "2.5", "3"], event_id="x", t=T0)
    run_case(ctx, c)


# -- missing values and field counts ------------------------------------------------------------
def test_missing_values(ctx):
    c = Case()
    c.bad(",2024-05-01T10:00:00Z,1,cart,7,2.5,3", field="event_id")
    c.bad("m1,,1,cart,7,2.5,3", field="event_time")
    c.bad("m2,2024-05-01T10:00:00Z,,cart,7,2.5,3", field="user_id")
    c.bad("m3,2024-05-01T10:00:00Z,1,,7,2.5,3", field="event_type")    # missing, not `schema`
    c.bad("m4,2024-05-01T10:00:00Z,1,cart,,2.5,3", field="product_id")
    c.bad("m5,2024-05-01T10:00:00Z,1,cart,7,,3", field="price")
    c.bad(",,,,,,")
    c.good(qty=None)                                              # nullable: NULL
    c.good(event_id="", texts=['""', "2024-05-01T10:00:00Z", "1", "cart", "7", "2.5", "3"])
    c.good(qty=None, texts=["q", "2024-05-01T10:00:00Z", "1", "purchase", "7", "2.5", ""],
           event_id="q", etype="purchase")
    run_case(ctx, c)


def test_wrong_field_counts(ctx):
    c = Case()
    c.good()
    c.bad("garbage")
    c.bad("a,b")
    c.bad("c1,2024-05-01T10:00:00Z,1,cart,7,2.5")
    c.bad("c2,2024-05-01T10:00:00Z,1,cart,7,2.5,3,")
    c.bad("c3,2024-05-01T10:00:00Z,1,cart,7,2.5,3,extra,more")
    c.good()
    c.bad("c4," * 100000 + "x")
    c.good()
    run_case(ctx, c)


# -- CSV syntax ---------------------------------------------------------------------------------
def test_quoted_fields_good(ctx):
    c = Case()
    for v in ["a,b", 'say "hi"', "two\nlines", "crlf\r\ninside", "", " spaces ", '"', ",", "\n\n\n",
              "x" * 5000]:
        q = '"' + v.replace('"', '""') + '"'
        c.good(event_id=v, texts=[q, "2024-05-01T10:00:00Z", "1", "cart", "7", "2.5", "3"])
        c.bad("after,2024-05-01T10:00:00Z,oops,cart,7,2.5,3", field="user_id")   # positions stay right
    c.good(texts=['"q1"', '"2024-05-01T10:00:00Z"', '"1"', '"cart"', '"7"', '"2.5"', '"3"'], event_id="q1")
    run_case(ctx, c)


def test_bad_quoting(ctx):
    c = Case()
    c.good()
    c.bad('"abc"x,2024-05-01T10:00:00Z,1,cart,7,2.5,3')
    c.good()
    c.bad('"abc" ,2024-05-01T10:00:00Z,1,cart,7,2.5,3')
    c.good()
    c.bad('q1,"2024-05-01T10:00:00Z"Z,1,cart,7,2.5,3')
    c.good()
    run_case(ctx, c)


def test_unterminated_quote_at_eof(ctx):
    c = Case()
    c.good()
    c.good()
    row = c.bad('u1,"2024-05-01T10:00:00Z,1,cart,7,2.5,3', kind="unterminated_quote")
    data = c.data()        # ends with "\n" inside the open quote
    run_case(ctx, c, data=data)
    # the same without the final newline
    c2 = Case()
    c2.good()
    c2.bad('u1,2024-05-01T10:00:00Z,1,cart,7,2.5,"3', kind="unterminated_quote")
    run_case(ctx, c2, data=c2.data()[:-1])
    assert row.line == 4


def test_unterminated_quote_swallows_rest(ctx):
    """An opening quote that never closes makes the rest of the file one record: one dead letter
    at the line where it began, nothing after it processed as rows."""
    c = Case()
    c.good()
    tail = "\n".join("g%d,2024-05-01T10:00:00Z,1,cart,7,2.5,3" % i for i in range(5))
    c.bad('u1,"oops,1,cart,7,2.5,3\n' + tail, kind="unterminated_quote")
    run_case(ctx, c)


def test_record_longer_than_1mib(ctx):
    c = Case()
    c.good()
    big = c.bad("h1," + "x" * (gen.MAX_RECORD + 10) + ",1,cart,7,2.5,3", kind="huge_line")
    c.good()
    big2 = c.bad('h2,"' + ("y" * 1000 + "\n") * 1100 + '",1,cart,7,2.5,3', kind="huge_line")
    c.good()
    c.good(event_id="z" * (gen.MAX_RECORD - 2000))        # long, but under the limit
    c.good()
    _, seen = run_case(ctx, c)
    assert big2.line == big.line + 2


def test_invalid_utf8(ctx):
    c = Case()
    c.good()
    for i, b in enumerate(gen.INVALID_UTF8):
        c.bad(b"u%d" % i + b + b"x,2024-05-01T10:00:00Z,1,cart,7,2.5,3", field="event_id", kind="invalid_utf8")
    c.bad(b"u9,2024-05-01T10:00:00Z,1,ca\xffrt,7,2.5,3", field="event_type", kind="invalid_utf8")
    c.bad(b"u10,2024-05-01T10:00:00Z,1,cart,7,2.5\xff,3", field="price", kind="invalid_utf8")
    c.bad(b'"u11 \xc3\x28 quoted",2024-05-01T10:00:00Z,1,cart,7,2.5,3', field="event_id", kind="invalid_utf8")
    c.good(event_id="ok \u00e9\u65e5\U0001F600")
    run_case(ctx, c)
    # every dead-letter line is valid UTF-8 JSON (read_jsonl checked) and carries raw_base64
    for r in e2e.read_jsonl(os.path.join(ctx.tmp, "out", "dead.jsonl")):
        assert "raw_base64" in r, r


def test_nul_bytes(ctx):
    c = Case()
    c.good(event_id="a\x00b")
    c.good(event_id="\x00")
    c.bad("n1,2024-05-01T10:00:00Z,1\x002,cart,7,2.5,3", field="user_id")
    c.bad("n2,2024-05-01T10:00:00Z,1,cart\x00,7,2.5,3", reason="schema", field="event_type")
    c.good()
    run_case(ctx, c)
    with open(os.path.join(ctx.tmp, "out", "events.jsonl"), "rb") as f:
        assert b"\x00" not in f.read(), "raw NUL byte in JSON output (must be \\u0000)"


def test_bom_crlf_blank_lines(ctx):
    c = Case(bom=True, eol=b"\r\n")
    c.blank()
    c.good()
    c.blank()
    c.blank(b"\n")
    c.bad("b1,2024-05-01T10:00:00Z,x,cart,7,2.5,3", field="user_id")
    c.good(eol=b"\n")
    c.good(event_id="multi\r\nline", texts=['"multi\r\nline"', "2024-05-01T10:00:00Z", "1", "cart", "7", "2.5", "3"])
    c.blank()
    c.blank()
    c.bad("b2,2024-05-01T10:00:00Z,1,teleport,7,2.5,3", reason="schema", field="event_type")
    c.good()
    run_case(ctx, c)


def test_no_trailing_newline(ctx):
    c = Case()
    c.good()
    c.good()
    run_case(ctx, c, data=c.data()[:-1])
    c = Case()
    c.good()
    c.bad("x1,2024-05-01T10:00:00Z,1,cart,7,oops,3", field="price")
    run_case(ctx, c, data=c.data()[:-1])


def test_quoted_header_and_bom(ctx):
    c = Case(bom=True, header=b",".join(b'"' + h.encode() + b'"' for h in gen.HEADER))
    c.good()
    c.good(qty=None)
    run_case(ctx, c)


# -- schema and rules ---------------------------------------------------------------------------
def test_schema_and_rules(ctx):
    c = Case()
    c.good()
    c.bad("s1,2024-05-01T10:00:00Z,1,teleport,7,2.5,3", reason="schema", field="event_type")
    c.bad("s2,2024-05-01T10:00:00Z,1,VIEW,7,2.5,3", reason="schema", field="event_type")
    c.bad("s3,2024-05-01T10:00:00Z,1,view ,7,2.5,3", reason="schema", field="event_type")
    c.rule("r1,2024-05-01T10:00:00Z,1,cart,7,-2.5,3", ("r1", T0, 1, "cart", 7, -2.5, 3))
    c.rule("r2,2024-05-01T10:00:00Z,1,cart,7,-1e-300,", ("r2", T0, 1, "cart", 7, -1e-300, None))
    # parsing comes before rules: a bad field wins over a failing rule
    c.bad("r3,2024-05-01T10:00:00Z,zz,cart,7,-2.5,3", field="user_id")
    c.bad("r4,2024-05-01T10:00:00Z,1,teleport,7,-2.5,3", reason="schema", field="event_type")
    c.good(price=0.0)
    _, seen = run_case(ctx, c)
    detail_names_text(seen, 3, "teleport")


# -- whole files ----------------------------------------------------------------------------------
def test_empty_and_header_only_files(ctx):
    b = binary(ctx)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    for name, data in (("empty", b""), ("header", HEADER + b"\n"), ("header_noeol", HEADER),
                       ("bom_header", b"\xef\xbb\xbf" + HEADER + b"\r\n"), ("blank", HEADER + b"\n\n\n")):
        path = os.path.join(ctx.tmp, name + ".csv")
        with open(path, "wb") as f:
            f.write(data)
        p = e2e.run_bin(b, {"INPUT": path, "OUT": out}, cwd=ctx.tmp)
        if name == "empty" and p.returncode != 0:
            err = [ln for ln in e2e.stderr_text(p).splitlines() if ln.strip()]
            assert p.returncode in (1, 2) and err, "empty file: exit %d %r" % (p.returncode, err)
            continue
        assert p.returncode == 0, "%s: exit %d\n%s" % (name, p.returncode, e2e.stderr_text(p))
        counts = e2e.summary(p)
        assert counts == {"in": 0, "out": 0, "dead": 0, "dropped": 0}, (name, counts)


def test_header_missing_a_column(ctx):
    """A header without a non-nullable schema column: a clear failure (exit 1 or 2 naming the
    column) or every record dead naming it; never a crash. Without a nullable column the records
    may pass with NULL there (but not be lost)."""
    b = binary(ctx)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    path = os.path.join(ctx.tmp, "in.csv")
    with open(path, "wb") as f:
        f.write(b"event_id,event_time,event_type,product_id,price,quantity\n"
                b"a,2024-05-01T10:00:00Z,cart,7,2.5,3\n"
                b"b,2024-05-01T10:00:00Z,cart,7,2.5,3\n")
    p = e2e.run_bin(b, {"INPUT": path, "OUT": out}, cwd=ctx.tmp)
    text = e2e.stderr_text(p)
    if p.returncode == 0:
        counts = e2e.summary(p)
        assert counts == {"in": 2, "out": 0, "dead": 2, "dropped": 0}, counts
        dl = e2e.read_jsonl(os.path.join(out, "dead.jsonl"))
        assert all(r["reason"] == "parse" and "user_id" in r["detail"] for r in dl), dl
    else:
        assert p.returncode in (1, 2), p.returncode
        assert "user_id" in text, "failure does not name the missing column: %r" % text
    with open(path, "wb") as f:
        f.write(b"event_id,event_time,user_id,event_type,product_id,price\n"
                b"a,2024-05-01T10:00:00Z,1,cart,7,2.5\n")
    p = e2e.run_bin(b, {"INPUT": path, "OUT": out}, cwd=ctx.tmp)
    if p.returncode == 0:
        counts = e2e.summary(p)
        assert counts["in"] == 1, counts
        if counts["out"] == 1:
            rows = e2e.read_jsonl(os.path.join(out, "events.jsonl"))
            assert rows[0]["quantity"] is None, rows


def test_random_garbage_does_not_crash(ctx):
    rng = random.Random(7)
    b = binary(ctx)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    for k in range(6):
        body = bytearray()
        for _ in range(300):
            r = rng.random()
            if r < 0.4:
                body += bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
            elif r < 0.7:
                body += rng.choice([b'"', b",", b"\n", b"\r\n", b'""', b"\r", b"\x00", b"\xff"]) * rng.randrange(1, 5)
            else:
                body += b"g,2024-05-01T10:00:00Z,1,cart,7,2.5,3\n"
        path = os.path.join(ctx.tmp, "garbage%d.csv" % k)
        with open(path, "wb") as f:
            f.write(HEADER + b"\n" + bytes(body))
        p = e2e.run_ok(b, {"INPUT": path, "OUT": out}, cwd=ctx.tmp)
        counts = e2e.summary(p)
        n_out = len(e2e.read_jsonl(os.path.join(out, "events.jsonl")))
        dl = e2e.read_jsonl(os.path.join(out, "dead.jsonl")) if os.path.exists(os.path.join(out, "dead.jsonl")) else []
        assert (n_out, len(dl)) == (counts["out"], counts["dead"]), (n_out, len(dl), counts)
        lines = [int(r["position"].rpartition(":")[2]) for r in dl]
        assert len(set(lines)) == len(lines), "a position appears twice in the dead letter"
        assert all(1 < ln <= body.count(b"\n") + 2 for ln in lines), "a position beyond the file"


def test_stdin_source(ctx):
    c = Case()
    c.good()
    c.bad("s1,2024-05-01T10:00:00Z,1,cart,7,oops,3", field="price")
    c.good()
    b = binary(ctx)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = e2e.run_ok(b, {"INPUT": "-", "OUT": out}, cwd=ctx.tmp, stdin=c.data())
    counts = e2e.summary(p)
    assert counts == {"in": 3, "out": 2, "dead": 1, "dropped": 0}, counts
    dl = e2e.read_jsonl(os.path.join(out, "dead.jsonl"))
    assert len(dl) == 1 and dl[0]["position"].endswith(":3") and dl[0]["reason"] == "parse", dl


def test_missing_input_and_unwritable_output(ctx):
    b = binary(ctx)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    missing = os.path.join(ctx.tmp, "no_such_file.csv")
    p = e2e.run_bin(b, {"INPUT": missing, "OUT": out}, cwd=ctx.tmp)
    err = [ln for ln in e2e.stderr_text(p).splitlines() if ln.strip()]
    assert p.returncode in (1, 2), "missing input: exit %d" % p.returncode
    assert any("no_such_file.csv" in ln for ln in err), "missing input: message does not name it: %r" % err
    path = os.path.join(ctx.tmp, "in.csv")
    with open(path, "wb") as f:
        f.write(HEADER + b"\na,2024-05-01T10:00:00Z,1,cart,7,2.5,3\n")
    with open(os.path.join(ctx.tmp, "afile"), "w") as f:
        f.write("x")
    p = e2e.run_bin(b, {"INPUT": path, "OUT": os.path.join(ctx.tmp, "afile", "sub")}, cwd=ctx.tmp)
    err = [ln for ln in e2e.stderr_text(p).splitlines() if ln.strip()]
    assert p.returncode in (1, 2), "unwritable output: exit %d" % p.returncode
    assert any("afile" in ln for ln in err), "unwritable output: message does not name it: %r" % err


def test_blank_lines_before_header_and_stray_cr(ctx):
    """Blank lines before the header are skipped (the header is the first record); a quote inside
    an unquoted field and a lone CR are ordinary characters; a CR before CRLF stays in the field."""
    c = Case()
    c.chunks[1:1] = [b"\n", b"\r\n"]         # two blank lines before the header
    c.line += 2
    c.bad("x,2024-05-01T10:00:00Z,q,cart,7,2.5,3", field="user_id")
    c.good(event_id='ab"c', texts=['ab"c', "2024-05-01T10:00:00Z", "1", "cart", "7", "2.5", "3"])
    c.good(event_id="a\rb", texts=["a\rb", "2024-05-01T10:00:00Z", "1", "cart", "7", "2.5", "3"])
    c.bad("z,2024-05-01T10:00:00Z,1,cart,7,2.5,3\r", field="quantity", eol=b"\r\n")
    c.good()
    run_case(ctx, c)


def test_chunk_boundaries(ctx):
    """The reader takes the file in 1 MiB chunks: a CRLF, a doubled quote, a quoted line break or
    a multi-byte character split by a chunk boundary must not change any record. Each run shifts
    the data by one byte so that every byte of the tricky records meets the boundary once."""
    kinds = [
        lambda i: ("k%d" % i + "a" * 150, None, "\r\n"),
        lambda i: ('k%d say ""hi"" ' % i + "b" * 140, 'k%d say "hi" ' % i + "b" * 140, "\n"),
        lambda i: ("k%d\r\n" % i + "c" * 150, "k%d\r\n" % i + "c" * 150, "\r\n"),
        lambda i: ("k%d\u00e9\u65e5\U0001F600" % i + "d" * 140, None, "\n"),
    ]
    for shift in range(0, 170, 5):
        c = Case()
        c.good(event_id="pad" + "p" * shift)
        i = 0
        while c.size() < (1 << 20) + 4096:
            text, value, eol = kinds[i % len(kinds)](i)
            if value is None:
                c.good(event_id=text, eol=eol.encode())
            else:
                c.good(event_id=value, texts=['"' + text + '"', "2024-05-01T10:00:00Z", "1", "cart", "7", "2.5", "3"],
                       eol=eol.encode())
            if i % 97 == 0:
                c.bad("bad%d,2024-05-01T10:00:00Z,x,cart,7,2.5,3" % i, field="user_id")
            i += 1
        run_case(ctx, c)


def test_record_length_limit_is_exact(ctx):
    """A record of exactly max_record (1 MiB) bytes is read; one byte more is a dead letter."""
    c = Case()
    rest = ",2024-05-01T10:00:00Z,1,cart,7,2.5,3"
    c.good(event_id="x" * (gen.MAX_RECORD - len(rest)))
    c.bad("y" * (gen.MAX_RECORD - len(rest) + 1) + rest, kind="huge_line")
    c.good(event_id="z" * (gen.MAX_RECORD - len(rest)), eol=b"\r\n")
    c.good()
    assert len(c.rows[0].raw) == gen.MAX_RECORD and len(c.rows[1].raw) == gen.MAX_RECORD + 1
    run_case(ctx, c)


def test_sink_paths_colliding_after_expansion(ctx):
    """Two file sinks (or a sink and the dead letter) that expand to the same file at start-up:
    the docs forbid two sinks naming one path; when only the environment makes them equal the
    binary must refuse to start (exit 2, one line) rather than let them overwrite each other."""
    b = ctx.build_pipeline(os.path.join(HERE, "e2e", "same_path.yaml"), os.path.join(ctx.tmp, "same"))
    path = os.path.join(ctx.tmp, "in.csv")
    with open(path, "w") as f:
        f.write("a\n1\nx\n2\n")
    d = os.path.join(ctx.tmp, "o")
    cases = [("a sink and the dead letter", {"S": d, "D": d, "S2": os.path.join(ctx.tmp, "other")}, 2, 1),
             ("two sinks", {"S": d, "D": os.path.join(ctx.tmp, "dl"), "S2": d}, 4, 0)]
    for what, env, nrows, ndead in cases:
        shutil.rmtree(d, ignore_errors=True)
        env["INPUT"] = path
        p = e2e.run_bin(b, env, cwd=ctx.tmp)
        if p.returncode == 2:
            err = [ln for ln in e2e.stderr_text(p).splitlines() if ln.strip()]
            assert len(err) == 1 and "out.jsonl" in err[0], err
            continue
        # accepted: then nothing may be lost - every row and dead letter must be in the file
        lines = e2e.read_jsonl(os.path.join(d, "out.jsonl"))
        rows = [r for r in lines if "reason" not in r]
        assert (p.returncode, len(rows), len(lines) - len(rows)) == (0, nrows, ndead), \
            "%s expanding to one file: exit %d and the file holds %d rows + %d dead letters, " \
            "expected %d + %d (one writer overwrote the other):\n%r" % (
                what, p.returncode, len(rows), len(lines) - len(rows), nrows, ndead, lines)


def test_sink_path_equal_to_input(ctx):
    """A file sink whose path expands to the input file: truncating it would destroy the input
    before it is read. The binary must refuse (exit 1 or 2, one line) and leave the input alone."""
    b = ctx.build_pipeline(os.path.join(HERE, "e2e", "same_path.yaml"), os.path.join(ctx.tmp, "same"))
    d = os.path.join(ctx.tmp, "o")
    os.makedirs(d)
    path = os.path.join(d, "out.jsonl")
    with open(path, "w") as f:
        f.write("a\n1\n2\n")
    p = e2e.run_bin(b, {"INPUT": path, "S": d, "D": os.path.join(ctx.tmp, "dl")}, cwd=ctx.tmp)
    with open(path) as f:
        left = f.read()
    assert p.returncode in (1, 2) and left == "a\n1\n2\n", \
        "sink path = input path: exit %d, the input now holds %r (was 'a\\n1\\n2\\n')\n%s" % (
            p.returncode, left, e2e.stderr_text(p))
