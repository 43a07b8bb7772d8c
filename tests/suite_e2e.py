"""suite_e2e.py - end-to-end tests: compile specs with pipec, run the binaries on generated data,
and compare every output value with expectations computed independently in Python.

Specs live in tests/e2e/ and pipelines/; data comes from tests/gen_events.py. Output is read by
our own parsers (JSON numbers keep their text, CSV fields keep whether they were quoted), so a
float is compared as the exact double, NULL is told from an empty string, and timestamps are
compared as microseconds after checking their RFC 3339 form. The helpers at the top are shared
with suite_badinput.py (imported as a module there).

What is covered: generated events of every good and bad kind through rules, derive, a filter and
two sinks (several seeds, and the 1M-row acceptance test); the example pipelines (shop_events with
its stdout table, user_activity's hot folder with archive, restart, name clashes, SIGTERM); every
scalar type, epoch units, strptime patterns, NULL semantics, the expression language (overflow,
division by zero, Kleene logic, functions, casts); output encodings (random doubles, timestamps of
years 1-9999, random strings through CSV and JSON); JSON-lines input; CSV options and defaults;
the command line (--help, --version, missing ${VAR}); and exactly-once after SIGTERM and SIGKILL
with restarts, for folder and file sources.
"""
import base64
import csv
import datetime
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import gen_events as gen  # noqa: E402
from proc_util import wait_handler  # noqa: E402

E2E = os.path.join(HERE, "e2e")
SUMMARY_RE = re.compile(r"done: in=(\d+) out=(\d+) dead=(\d+) dropped=(\d+)")
ENV_VARS = ("INPUT", "OUT", "INBOX", "ARCHIVE", "STATE_DIR")


# -- running ---------------------------------------------------------------------------------
def build(ctx, spec):
    """Compiles a spec (a path relative to the repository, or absolute) into ctx.tmp."""
    spec = spec if os.path.isabs(spec) else os.path.join(ctx.root, spec)
    return ctx.build_pipeline(spec, os.path.join(ctx.tmp, os.path.splitext(os.path.basename(spec))[0]))


def run_bin(binary, env=None, args=(), cwd=None, stdin=None, timeout=300):
    """Runs a generated binary with a clean set of our variables plus `env`; returns the
    CompletedProcess (bytes). A death by signal (crash, sanitizer abort) fails the test."""
    e = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    e.update(env or {})
    p = subprocess.run([binary] + list(args), env=e, cwd=cwd, capture_output=True,
                       timeout=timeout, input=stdin)
    if p.returncode < 0:
        raise AssertionError("%s died by signal %d\nstderr:\n%s" % (
            binary, -p.returncode, p.stderr.decode("utf-8", "replace")[-4000:]))
    return p


def stderr_text(p):
    return p.stderr.decode("utf-8", "replace")


def summary(p):
    """The counts of the `done: in=N out=N dead=N dropped=N` line (the last one)."""
    m = SUMMARY_RE.findall(stderr_text(p))
    assert m, "no 'done: in=.. out=.. dead=.. dropped=..' line on stderr:\n" + stderr_text(p)[-3000:]
    i, o, d, dr = map(int, m[-1])
    assert i == o + d + dr, "in != out + dead + dropped: %r" % (m[-1],)
    return {"in": i, "out": o, "dead": d, "dropped": dr}


def run_ok(binary, env=None, args=(), **kw):
    p = run_bin(binary, env, args, **kw)
    assert p.returncode == 0, "exit %d\nstderr:\n%s" % (p.returncode, stderr_text(p)[-4000:])
    return p


# -- reading outputs -------------------------------------------------------------------------
class Num(str):
    """A JSON number token, kept as its text."""


def _pairs(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "duplicate key in JSON object: %r" % keys
    return pairs


def read_jsonl(path, pairs=False):
    """A JSON-lines file as a list of dicts (or lists of (key, value) pairs with pairs=True).
    Fails unless the file is valid UTF-8, every line one JSON object, the last line terminated."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("%s is not valid UTF-8: %s" % (path, e))
    if not text:
        return []
    assert text.endswith("\n"), "%s: last line not terminated" % path
    out = []
    for n, line in enumerate(text[:-1].split("\n"), 1):
        try:
            obj = json.loads(line, parse_int=Num, parse_float=Num, object_pairs_hook=_pairs)
        except ValueError as e:
            raise AssertionError("%s:%d: not JSON (%s): %r" % (path, n, e, line[:300]))
        assert isinstance(obj, list), "%s:%d: not an object" % (path, n)
        out.append(obj if pairs else dict(obj))
    return out


class Field(str):
    """A CSV field's text; .quoted says whether it was quoted."""
    quoted = False


_CSV_FIELD = re.compile(r'"((?:[^"]|"")*)"|([^,"\r\n]*)')


def parse_csv(data):
    """RFC 4180 parser that keeps quotedness (NULL = empty unquoted, '' = quoted empty).
    Returns a list of records, each a list of Field. Accepts LF or CRLF record ends."""
    recs, rec, i, n = [], [], 0, len(data)
    match = _CSV_FIELD.match
    while i < n:
        m = match(data, i)
        if m.group(1) is not None:
            f = Field(m.group(1).replace('""', '"'))
            f.quoted = True
        else:
            f = Field(m.group(2))
        rec.append(f)
        i = m.end()
        if i >= n:
            recs.append(rec)
            break
        c = data[i]
        if c == ",":
            i += 1
            if i >= n:            # a trailing comma at EOF: one more empty field
                rec.append(Field(""))
                recs.append(rec)
            continue
        if c == "\n":
            i += 1
        elif data.startswith("\r\n", i):
            i += 2
        else:
            raise AssertionError("CSV: bad quoting at offset %d: %r" % (i, data[max(0, i - 40):i + 40]))
        recs.append(rec)
        rec = []
    return recs


def read_csv(path):
    """A CSV sink file: (header, rows of Field). Also checks that Python's csv module reads
    the same texts (quoting round-trips)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("%s is not valid UTF-8: %s" % (path, e))
    assert text == "" or text.endswith("\n"), "%s: last line not terminated" % path
    recs = parse_csv(text)
    theirs = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert [list(map(str, r)) for r in recs] == theirs, \
        "%s: our CSV reading differs from Python's csv module" % path
    assert recs, "%s: no header line" % path
    return [str(h) for h in recs[0]], recs[1:]


# -- values ----------------------------------------------------------------------------------
INT_RE = re.compile(r"-?(0|[1-9][0-9]*)\Z")
TS_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z\Z")
DATE_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)\Z")
EPOCH_ORD = datetime.date(1970, 1, 1).toordinal()


def days_of(y, m, d):
    return datetime.date(y, m, d).toordinal() - EPOCH_ORD


def ts_text_to_us(s):
    """Microseconds of an output timestamp; asserts the exact form of docs: RFC 3339 UTC with
    'Z', fraction only when non-zero, trailing zeros trimmed."""
    m = TS_RE.match(s)
    assert m, "timestamp not in RFC 3339 UTC form: %r" % s
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    frac = m.group(7)
    if frac is not None:
        assert not frac.endswith("0"), "timestamp fraction not trimmed: %r" % s
    us = int((frac or "").ljust(6, "0") or 0)
    return ((days_of(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000000) + us


def us_to_text(us):
    """Our own rendering of a timestamp, for messages."""
    secs, frac = divmod(us, 1000000)
    return gen.fmt_ts(secs, frac)


def date_text_to_days(s):
    m = DATE_RE.match(s)
    assert m, "date not YYYY-MM-DD: %r" % s
    return days_of(*map(int, m.groups()))


def sig_digits(text):
    t = text.lower().lstrip("+-").split("e")[0].replace(".", "")
    return t.strip("0") or "0"


def same_double(a, b):
    return struct.pack("<d", a) == struct.pack("<d", b)


def check_float_text(text, exp):
    v = float(text)
    assert same_double(v, exp), "float %r reads back as %r, expected %r" % (text, v, exp)
    assert sig_digits(text) == sig_digits(repr(exp)), \
        "float %r is not the shortest round-trip form (%r)" % (text, repr(exp))


BOOL_TEXT = {"true": True, "false": False, "t": True, "f": False, "1": True, "0": False,
             "yes": True, "no": False}


def check_json_value(typ, got, exp):
    """Compares one JSON value with an expected Python value of a schema type."""
    if exp is None:
        assert got is None, "expected null, got %r" % (got,)
        return
    assert got is not None, "expected %r, got null" % (exp,)
    if typ == "string":
        assert type(got) is str and got == exp, "expected string %r, got %r" % (exp, got)
    elif typ == "int":
        assert isinstance(got, Num) and INT_RE.match(got), "expected integer %r, got %r" % (exp, got)
        assert int(got) == exp, "expected %r, got %s" % (exp, got)
    elif typ == "float":
        assert isinstance(got, Num), "expected number %r, got %r" % (exp, got)
        check_float_text(got, exp)
    elif typ == "bool":
        assert got is exp, "expected %r, got %r" % (exp, got)
    elif typ == "timestamp":
        assert type(got) is str, "expected timestamp string, got %r" % (got,)
        assert ts_text_to_us(got) == exp, "expected %s, got %s" % (us_to_text(exp), got)
    elif typ == "date":
        assert type(got) is str and date_text_to_days(got) == exp, \
            "expected date %s, got %r" % (datetime.date.fromordinal(exp + EPOCH_ORD), got)
    else:
        raise AssertionError("unknown type " + typ)


def check_csv_value(typ, got, exp):
    """Compares one CSV field (a Field) with an expected value: NULL is an unquoted empty field."""
    if exp is None:
        assert got == "" and not got.quoted, "expected NULL (empty field), got %r" % (str(got),)
        return
    if typ == "string":
        assert got == exp, "expected %r, got %r" % (exp, str(got))
        if exp == "":
            assert got.quoted, "empty string written like NULL (should be \"\")"
        return
    assert got != "", "expected %r, got NULL" % (exp,)
    if typ == "int":
        assert INT_RE.match(got) and int(got) == exp, "expected %r, got %r" % (exp, str(got))
    elif typ == "float":
        check_float_text(str(got), exp)
    elif typ == "bool":
        assert BOOL_TEXT.get(got.lower()) is exp, "expected %r, got %r" % (exp, str(got))
    elif typ == "timestamp":
        assert ts_text_to_us(str(got)) == exp, "expected %s, got %r" % (us_to_text(exp), str(got))
    elif typ == "date":
        assert date_text_to_days(str(got)) == exp, "expected day %r, got %r" % (exp, str(got))


def compare_rows(what, got_rows, exp_rows, columns, kind):
    """got_rows: JSON objects as pair lists (kind 'json') or CSV records (kind 'csv', header
    already removed); exp_rows: (label, tuple of values); columns: [(name, type)]. Checks count,
    order, names and every value; reports up to 10 differences."""
    errors = []
    names = [c for c, _ in columns]
    if len(got_rows) != len(exp_rows):
        errors.append("%s: %d rows, expected %d" % (what, len(got_rows), len(exp_rows)))
    for n, (got, (label, exp)) in enumerate(zip(got_rows, exp_rows)):
        if len(errors) >= 10:
            break
        if kind == "json":
            keys = [k for k, _ in got]
            if keys != names:
                errors.append("%s row %d (%s): keys %r, expected %r" % (what, n + 1, label, keys, names))
                continue
            vals = [v for _, v in got]
        else:
            if len(got) != len(names):
                errors.append("%s row %d (%s): %d fields, expected %d" % (what, n + 1, label, len(got), len(names)))
                continue
            vals = got
        for (name, typ), g, e in zip(columns, vals, exp):
            try:
                (check_json_value if kind == "json" else check_csv_value)(typ, g, e)
            except AssertionError as ex:
                errors.append("%s row %d (%s) field %s: %s" % (what, n + 1, label, name, ex))
                break
    if errors:
        raise AssertionError("\n".join(errors))


_DATE_TEXT = {}


def _canon_json(typ, v):
    """The value json.loads gives for a correctly written value of a type."""
    if v is None:
        return None
    if typ == "timestamp":
        return us_to_text(v)
    if typ == "date":
        t = _DATE_TEXT.get(v)
        if t is None:
            t = _DATE_TEXT[v] = datetime.date.fromordinal(v + EPOCH_ORD).isoformat()
        return t
    return v


_JSON_TYPES = {"string": (str,), "int": (int,), "float": (float, int), "bool": (bool,),
               "timestamp": (str,), "date": (str,)}


def compare_jsonl(what, path, exp_rows, columns, full_every=97):
    """Like compare_rows over read_jsonl(path, pairs=True), but fast enough for a million rows:
    each line goes through plain json.loads and is compared with the expected values as json
    would give them (exact doubles, exact ints, canonical timestamp/date texts, value types);
    a mismatch, every `full_every`-th row and every row with a -0.0 get the full check
    (number texts, shortest floats, -0)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("%s is not valid UTF-8: %s" % (path, e))
    assert text == "" or text.endswith("\n"), "%s: last line not terminated" % path
    lines = text[:-1].split("\n") if text else []
    names = [c for c, _ in columns]
    types = [t for _, t in columns]
    sig_ok = {}
    errors = []
    if len(lines) != len(exp_rows):
        errors.append("%s: %d rows, expected %d" % (what, len(lines), len(exp_rows)))
    loads = json.loads
    conv = [(i, t) for i, t in enumerate(types) if t in ("timestamp", "date")]
    floats = [i for i, t in enumerate(types) if t == "float"]
    for n, (line, (label, exp)) in enumerate(zip(lines, exp_rows)):
        if len(errors) >= 10:
            break
        full = n % full_every == 0
        try:
            d = loads(line)
        except ValueError as e:
            errors.append("%s row %d (%s): not JSON (%s): %r" % (what, n + 1, label, e, line[:300]))
            continue
        if type(d) is not dict or list(d) != names:
            full = True
        else:
            vals = list(d.values())
            ce = list(exp)
            for i, t in conv:
                ce[i] = _canon_json(t, ce[i])
            if vals != ce:
                full = True
            else:
                sig = tuple(map(type, vals))
                ok = sig_ok.get(sig)
                if ok is None:
                    ok = sig_ok[sig] = all(v is None or type(v) in _JSON_TYPES[t]
                                           for t, v in zip(types, vals))
                if not ok:
                    full = True
                else:
                    for i in floats:
                        if ce[i] == 0 and ce[i] is not None and math_signbit(ce[i]):
                            full = True     # -0.0: json.loads would not show a lost sign
        if full:
            try:
                obj = json.loads(line, parse_int=Num, parse_float=Num, object_pairs_hook=_pairs)
                compare_rows(what, [obj], [(label, exp)], columns, "json")
            except AssertionError as ex:
                errors.append(str(ex).replace("row 1 ", "row %d " % (n + 1)))
            except ValueError as ex:
                errors.append("%s row %d (%s): %s" % (what, n + 1, label, ex))
    if errors:
        raise AssertionError("\n".join(errors))


def check_dead_letter(path, pipeline, input_path, expected, rows_by_line=None, position_path=None):
    """expected: {line: reason}. Every dead-letter line is a JSON object with the documented keys,
    each expected line appears exactly once with its reason; raw matches the record (raw_base64
    when it is not UTF-8); detail names the field for parse errors where we know it."""
    recs = read_jsonl(path) if os.path.exists(path) else []
    pos_path = position_path if position_path is not None else input_path
    errors, seen = [], {}
    for n, r in enumerate(recs, 1):
        missing = {"pipeline", "position", "raw", "reason", "detail", "at"} - set(r)
        if missing:
            errors.append("dead letter %d: missing keys %s: %r" % (n, sorted(missing), r))
            continue
        if r["pipeline"] != pipeline:
            errors.append("dead letter %d: pipeline %r" % (n, r["pipeline"]))
        pos = r["position"]
        if not isinstance(pos, str) or ":" not in pos:
            errors.append("dead letter %d: position %r" % (n, pos))
            continue
        p, _, ln = pos.rpartition(":")
        if p != pos_path or not ln.isdigit():
            errors.append("dead letter %d: position %r, expected %s:LINE" % (n, pos, pos_path))
            continue
        ln = int(ln)
        if ln in seen:
            errors.append("dead letter: line %d twice" % ln)
        seen[ln] = r
        if not isinstance(r["detail"], str) or not r["detail"].strip():
            errors.append("dead letter line %d: empty detail" % ln)
        try:
            at = ts_text_to_us(r["at"]) / 1e6
            if abs(at - time.time()) > 3600:
                errors.append("dead letter line %d: 'at' %r is not the time of rejection" % (ln, r["at"]))
        except (AssertionError, TypeError):
            errors.append("dead letter line %d: 'at' not an RFC 3339 UTC timestamp: %r" % (ln, r["at"]))
    for ln, reason in sorted(expected.items()):
        if len(errors) > 12:
            break
        r = seen.get(ln)
        row = rows_by_line.get(ln) if rows_by_line else None
        if r is None:
            errors.append("line %d (%s) expected in the dead letter as %r, missing" %
                          (ln, row.kind if row else "?", reason))
            continue
        if r["reason"] != reason:
            errors.append("line %d (%s): reason %r, expected %r (detail %r)" %
                          (ln, row.kind if row else "?", r["reason"], reason, r["detail"]))
        if row is not None:
            err = check_raw(r, row.raw, lenient=row.kind in ("huge_line", "unterminated_quote"))
            if err:
                errors.append("line %d (%s): %s" % (ln, row.kind, err))
            if reason in ("parse", "schema") and row.field and row.field not in r["detail"]:
                errors.append("line %d (%s): detail %r does not name field %r" %
                              (ln, row.kind, r["detail"], row.field))
    extra = sorted(set(seen) - set(expected))
    if extra:
        errors.append("unexpected dead letters at lines %s: %s" % (
            extra[:10], [(seen[x]["reason"], seen[x]["detail"]) for x in extra[:3]]))
    if errors:
        raise AssertionError("\n".join(errors))
    return seen


def check_raw(r, raw, lenient=False):
    """None when the dead letter's raw (and raw_base64) match the record's bytes."""
    try:
        valid = raw.decode("utf-8")
    except UnicodeDecodeError:
        valid = None
    if "raw_base64" in r:
        try:
            b = base64.b64decode(r["raw_base64"], validate=True)
        except Exception as e:  # noqa: BLE001
            return "raw_base64 is not base64: %s" % e
        if b != raw and not (lenient and raw.rstrip(b"\r\n").startswith(b.rstrip(b"\r\n"))):
            return "raw_base64 decodes to %r, expected %r" % (b[:100], raw[:100])
    elif valid is None:
        return "raw is not valid UTF-8 but there is no raw_base64"
    if not isinstance(r["raw"], str):
        return "raw is not a string"
    if valid is None:
        if "\ufffd" not in r["raw"]:
            return "raw of invalid UTF-8 has no U+FFFD: %r" % r["raw"][:100]
        squash = lambda s: re.sub("\ufffd+", "\ufffd", s)  # noqa: E731
        if squash(r["raw"]) != squash(raw.decode("utf-8", "replace")):
            return "raw %r does not match the record %r" % (r["raw"][:100], raw[:100])
        return None
    got, want = r["raw"], valid
    if lenient:         # a huge record's raw is its start; an unterminated one may keep the EOL
        got, want = got.rstrip("\r\n"), want.rstrip("\r\n")
    if got != want and not (lenient and want.startswith(got) and got):
        return "raw %r, expected %r" % (got[:200], want[:200])
    return None


# -- expectations for tests/e2e/events.yaml -----------------------------------------------
EVENT_COLS = [("event_id", "string"), ("event_time", "timestamp"), ("user_id", "int"),
              ("event_type", "string"), ("product_id", "int"), ("price", "float"),
              ("quantity", "int")]
EVENTS_SINK_COLS = EVENT_COLS + [("revenue", "float"), ("big_spender", "bool"), ("day", "date"),
                                 ("hour", "int")]
PURCHASES_COLS = [("event_id", "string"), ("event_time", "timestamp"), ("user_id", "int"),
                  ("revenue", "float"), ("qty", "int")]
US_PER_DAY = 86400 * 1000000


def kleene_or(a, b):
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def events_expect(rows):
    """(events sink rows, purchases sink rows, {line: reason}, dropped) for events.yaml."""
    sink, purchases, dead, dropped = [], [], {}, 0
    for row in rows:
        reason = gen.expected_reason(row)
        if reason:
            dead[row.line] = reason
            continue
        v = row.values
        q = v[6]
        revenue = v[5] * (1 if q is None else q) if v[3] == "purchase" else 0.0
        keep = kleene_or(v[3] != "view", None if q is None else q > 2)
        if keep is not True:
            dropped += 1
            continue
        label = "line %d %s" % (row.line, row.kind)
        sink.append((label, v + (float(revenue), revenue > 100, v[1] // US_PER_DAY,
                                 (v[1] // 3600000000) % 24)))
        if v[3] == "purchase":
            purchases.append((label, (v[0], v[1], v[2], float(revenue), q)))
    return sink, purchases, dead, dropped


def run_events(ctx, nrows, seed, huge=False, binary=None, **kw):
    """Generates data, runs events.yaml on it and checks everything. Returns the counts."""
    binary = binary or build(ctx, os.path.join(E2E, "events.yaml"))
    data = os.path.join(ctx.tmp, "events_%d.csv" % seed)
    out = os.path.join(ctx.tmp, "out_%d" % seed)
    os.makedirs(out, exist_ok=True)
    rows = gen.generate(data, nrows, seed=seed, huge=huge, **kw)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    sink, purchases, dead, dropped = events_expect(rows)
    exp_counts = {"in": len(rows), "out": len(sink), "dead": len(dead), "dropped": dropped}
    by_line = {r.line: r for r in rows}
    check_dead_letter(os.path.join(out, "dead.jsonl"), "e2e_events", data, dead, by_line)
    compare_jsonl("events.jsonl", os.path.join(out, "events.jsonl"), sink, EVENTS_SINK_COLS)
    header, recs = read_csv(os.path.join(out, "purchases.csv"))
    assert header == [c for c, _ in PURCHASES_COLS], "purchases.csv header %r" % header
    compare_rows("purchases.csv", recs, purchases, PURCHASES_COLS, "csv")
    assert counts == exp_counts, "summary %r, expected %r" % (counts, exp_counts)
    return counts, rows


# -- tests: generated events -----------------------------------------------------------------
def test_events_every_kind_small(ctx):
    counts, rows = run_events(ctx, 3000, seed=2)
    kinds = {r.kind for r in rows}
    missing = {k for k, _ in gen.BAD_KINDS} | set(gen.GOOD_ODD_KINDS) | {"unterminated_quote"}
    assert not missing - kinds, "generator did not produce %s" % (missing - kinds)
    assert counts["dropped"] > 0 and counts["dead"] > 0


def test_events_several_seeds(ctx):
    binary = build(ctx, os.path.join(E2E, "events.yaml"))
    for seed in (3, 4, 5):
        run_events(ctx, 700, seed=seed, binary=binary, bad_rate=0.1, odd_rate=0.1, blank_rate=0.05,
                   crlf_rate=0.3)


def test_events_no_bom_no_unterminated(ctx):
    run_events(ctx, 500, seed=6, bom=False, unterminated=False)


def test_acceptance_1m_rows(ctx):
    """The acceptance test: 1M rows, ~3% bad of every kind incl. a > 1 MiB record and an
    unterminated quote at EOF; every value compared, counts add up."""
    counts, rows = run_events(ctx, 1000000, seed=1000, huge=True)
    assert counts["in"] == 1000000
    assert any(r.kind == "huge_line" for r in rows)
    assert 0.025 < counts["dead"] / counts["in"] < 0.05, counts


# -- tests: the example pipelines --------------------------------------------------------------
QS_COLS = EVENT_COLS + [("revenue", "float")]


def test_shop_events_example(ctx):
    binary = build(ctx, "pipelines/shop_events.yaml")
    sample = os.path.join(ctx.root, "pipelines", "data", "events.csv")
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    data = os.path.join(ctx.tmp, "events.csv")
    rows = gen.generate(data, 400, seed=11)
    runs = [(data, {"INPUT": data, "OUT": out}, rows)]
    for input_path, env, rws in runs:
        p = run_ok(binary, env, cwd=ctx.root)
        counts = summary(p)
        exp, dead = [], {}
        for row in rws:
            reason = gen.expected_reason(row)
            if reason:
                dead[row.line] = reason
                continue
            v = row.values
            rev = v[5] * (1 if v[6] is None else v[6]) if v[3] == "purchase" else 0.0
            exp.append(("line %d" % row.line, v + (float(rev),)))
        compare_rows("shop_events.jsonl",
                     read_jsonl(os.path.join(out, "shop_events.jsonl"), pairs=True),
                     exp, QS_COLS, "json")
        check_dead_letter(os.path.join(out, "shop_events.dead.jsonl"), "shop_events", input_path,
                          dead, {r.line: r for r in rws})
        assert counts == {"in": len(rws), "out": len(exp), "dead": len(dead), "dropped": 0}, counts
        # the purchases table on stdout: its header names the columns, one line per purchase
        table = p.stdout.decode("utf-8")
        for col in ("event_time", "user_id", "revenue"):
            assert col in table, "stdout table lacks column %r:\n%s" % (col, table[:2000])
        npurch = sum(1 for _, v in exp if v[3] == "purchase")
        lines = [ln for ln in table.splitlines() if ln.strip()]
        assert len(lines) >= npurch + 1, "stdout table has %d lines for %d purchases" % (len(lines), npurch)
        assert "(%d rows)" % npurch in table, "stdout table does not end with (%d rows):\n%s" % (npurch, table[-500:])
    if os.path.exists(sample):
        # the shipped sample, with the spec's default paths (relative to the repository)
        out2 = os.path.join(ctx.tmp, "out2")
        os.makedirs(out2)
        p = run_ok(binary, {"OUT": out2}, cwd=ctx.root)
        counts = summary(p)
        assert counts["in"] > 0
        n_out = len(read_jsonl(os.path.join(out2, "shop_events.jsonl")))
        dl = os.path.join(out2, "shop_events.dead.jsonl")
        n_dead = len(read_jsonl(dl)) if os.path.exists(dl) else 0
        assert (n_out, n_dead) == (counts["out"], counts["dead"]), (n_out, n_dead, counts)


UA_RULES = [("price_not_negative", lambda v: v[5] >= 0),
            ("quantity_positive", lambda v: None if v[6] is None else v[6] > 0)]


def _ua_expect(rows):
    good, dead = [], {}
    for row in rows:
        reason = gen.expected_reason(row, UA_RULES)
        if reason:
            dead[row.line] = reason
        else:
            good.append(row.values)
    return good, dead


def _drop_into(folder, name, src):
    """Puts a file into a hot folder the way writers should: write elsewhere, rename in."""
    tmpname = os.path.join(os.path.dirname(folder), "." + name + ".part")
    with open(src, "rb") as f, open(tmpname, "wb") as g:
        g.write(f.read())
    os.rename(tmpname, os.path.join(folder, name))


def test_user_activity_hot_folder(ctx):
    binary = build(ctx, "pipelines/user_activity.yaml")
    d = {k: os.path.join(ctx.tmp, k.lower()) for k in ("INBOX", "ARCHIVE", "OUT", "STATE_DIR")}
    for v in d.values():
        os.makedirs(v)
    files = []
    for name, seed, n in (("a.csv", 21, 300), ("b.csv", 22, 200)):
        src = os.path.join(ctx.tmp, "src_" + name)
        files.append((name, src, gen.generate(src, n, seed=seed, prefix=name[0])))
    for name, src, _ in files:
        _drop_into(d["INBOX"], name, src)
    p = run_ok(binary, d, args=["--once"], cwd=ctx.tmp, timeout=60)
    counts = summary(p)
    exp = []
    total_dead = 0
    for name, src, rows in files:
        good, dead = _ua_expect(rows)
        exp.append((name, good, dead, rows))
        total_dead += len(dead)
    n_in = sum(len(r) for _, _, r in files)
    assert counts == {"in": n_in, "out": n_in - total_dead, "dead": total_dead, "dropped": 0}, counts
    header, recs = read_csv(os.path.join(d["OUT"], "user_activity.csv"))
    assert header == [c for c, _ in EVENT_COLS], header
    # files in name order is expected; the other order is accepted (each file's rows in order)
    all_good = [("%s %s" % (name, v[0]), v) for name, good, _, _ in exp for v in good]
    try:
        compare_rows("user_activity.csv", recs, all_good, EVENT_COLS, "csv")
    except AssertionError:
        all_good = [("%s %s" % (name, v[0]), v) for name, good, _, _ in exp[::-1] for v in good]
        compare_rows("user_activity.csv (files in reverse order)", recs, all_good, EVENT_COLS, "csv")
    # dead letters: positions name the file they came from
    dl = read_jsonl(os.path.join(d["OUT"], "user_activity_errors.jsonl"))
    for name, good, dead, rows in exp:
        mine = {}
        for r in dl:
            p_, _, ln = r["position"].rpartition(":")
            if os.path.basename(p_) == name:
                assert int(ln) not in mine, "%s line %s twice in the dead letter" % (name, ln)
                mine[int(ln)] = r["reason"]
        assert mine == dead, "%s: dead letter %r, expected %r" % (name, sorted(mine.items())[:10],
                                                                   sorted(dead.items())[:10])
    # archived, byte for byte; the inbox is empty
    assert not [f for f in os.listdir(d["INBOX"]) if f.endswith(".csv")], os.listdir(d["INBOX"])
    archived = sorted(os.listdir(d["ARCHIVE"]))
    assert len(archived) == 2, "archive holds %r" % archived
    for name, src, _ in files:
        cand = [a for a in archived if name.split(".")[0] in a]
        assert cand, "%s not archived: %r" % (name, archived)
        with open(os.path.join(d["ARCHIVE"], cand[0]), "rb") as f, open(src, "rb") as g:
            assert f.read() == g.read(), "archived %s differs from the input" % name

    # a second run with a new file: the new rows arrive, nothing is repeated, nothing lost
    src_c = os.path.join(ctx.tmp, "src_c.csv")
    rows_c = gen.generate(src_c, 100, seed=23, unterminated=False, prefix="c")
    _drop_into(d["INBOX"], "c.csv", src_c)
    p = run_ok(binary, d, args=["--once"], cwd=ctx.tmp, timeout=60)
    counts = summary(p)
    good_c, dead_c = _ua_expect(rows_c)
    assert counts == {"in": 100, "out": len(good_c), "dead": len(dead_c), "dropped": 0}, \
        "second run: %r (files of the first run read again?)" % counts
    header, recs = read_csv(os.path.join(d["OUT"], "user_activity.csv"))
    exp_all = all_good + [("c.csv %s" % v[0], v) for v in good_c]
    assert len(recs) != len(good_c) or not all_good, \
        "after a restart the output file holds only the second run's rows: the first run's " \
        "%d committed rows were lost (sink truncated its file)" % len(all_good)
    compare_rows("user_activity.csv after restart", recs, exp_all, EVENT_COLS, "csv")


def test_user_activity_sigterm(ctx):
    binary = build(ctx, "pipelines/user_activity.yaml")
    d = {k: os.path.join(ctx.tmp, k.lower()) for k in ("INBOX", "ARCHIVE", "OUT", "STATE_DIR")}
    for v in d.values():
        os.makedirs(v)
    src = os.path.join(ctx.tmp, "src.csv")
    rows = gen.generate(src, 500, seed=31, unterminated=False)
    good, dead = _ua_expect(rows)
    e = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    e.update(d)
    proc = subprocess.Popen([binary], env=e, cwd=ctx.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        _drop_into(d["INBOX"], "x.csv", src)
        deadline = time.time() + 15
        while time.time() < deadline and not os.listdir(d["ARCHIVE"]):
            time.sleep(0.1)
        assert os.listdir(d["ARCHIVE"]), "file not archived within 15 s"
        assert proc.poll() is None, "the folder pipeline exited on its own (rc %r)" % proc.returncode
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "exit %r after SIGTERM\n%s" % (proc.returncode, err.decode("utf-8", "replace"))
    counts = summary(subprocess.CompletedProcess([], 0, out, err))
    assert counts == {"in": 500, "out": len(good), "dead": len(dead), "dropped": 0}, counts
    header, recs = read_csv(os.path.join(d["OUT"], "user_activity.csv"))
    compare_rows("user_activity.csv", recs, [("x.csv %s" % v[0], v) for v in good], EVENT_COLS, "csv")


# -- tests: command line and configuration --------------------------------------------------------
def test_missing_env_var_exit_2(ctx):
    binary = build(ctx, os.path.join(E2E, "events.yaml"))
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    for missing, env in (("INPUT", {"OUT": out}), ("OUT", {"INPUT": os.path.join(ctx.tmp, "x.csv")})):
        p = run_bin(binary, env, cwd=ctx.tmp)
        err = [ln for ln in stderr_text(p).splitlines() if ln.strip()]
        assert p.returncode == 2, "unset %s: exit %d, expected 2\n%s" % (missing, p.returncode, stderr_text(p))
        assert len(err) == 1, "unset %s: expected one stderr line, got %r" % (missing, err)
        assert missing in err[0], "unset %s: message does not name it: %r" % (missing, err[0])
    assert not os.listdir(out), "output written despite bad configuration: %r" % os.listdir(out)


def test_help_describes_pipeline(ctx):
    for spec, name, desc in (("pipelines/quickstart.yaml", "quickstart", "Shop events"),
                             (os.path.join(E2E, "events.yaml"), "e2e_events", "E2E test pipeline")):
        binary = build(ctx, spec)
        p = run_bin(binary, {}, args=["--help"], cwd=ctx.tmp)
        text = (p.stdout + p.stderr).decode("utf-8", "replace")
        assert p.returncode == 0, "--help exit %d: %s" % (p.returncode, text)
        assert name in text, "--help does not name the pipeline %r:\n%s" % (name, text)
        assert desc in text, "--help lacks the description:\n%s" % text
        assert "done:" not in text, "--help ran the pipeline"
        if name == "quickstart":      # --help lists the environment variables with their defaults
            for var in ("INPUT", "OUT", "pipelines/data/events.csv"):
                assert var in text, "--help does not mention %r:\n%s" % (var, text)
        p = run_bin(binary, {}, args=["--version"], cwd=ctx.tmp)
        text = (p.stdout + p.stderr).decode("utf-8", "replace")
        assert p.returncode == 0 and name in text, "--version: exit %d %r" % (p.returncode, text)
        p = run_bin(binary, {}, args=["--no-such-option"], cwd=ctx.tmp)
        err = [ln for ln in stderr_text(p).splitlines() if ln.strip()]
        assert p.returncode == 2 and err and "--no-such-option" in err[0], \
            "unknown option: exit %d %r" % (p.returncode, err)


def test_relative_input_path_in_position(ctx):
    binary = build(ctx, os.path.join(E2E, "events.yaml"))
    rows = gen.generate(os.path.join(ctx.tmp, "rel.csv"), 200, seed=41)
    p = run_ok(binary, {"INPUT": "rel.csv", "OUT": "."}, cwd=ctx.tmp)
    summary(p)
    _, _, dead, _ = events_expect(rows)
    check_dead_letter(os.path.join(ctx.tmp, "dead.jsonl"), "e2e_events", "rel.csv", dead,
                      {r.line: r for r in rows})


# -- tests: types, NULLs, encodings ----------------------------------------------------------------
def _csv_line(fields):
    out = []
    for f in fields:
        if f is None:
            out.append("")
        elif f == "" or any(c in f for c in ',"\r\n') or f != f.strip():
            out.append('"' + f.replace('"', '""') + '"')
        else:
            out.append(f)
    return ",".join(out)


def _epoch_text_us(text, unit):
    """Independent reading of an epoch number: s and ms may carry a fraction."""
    from decimal import Decimal
    mult = {"s": 1000000, "ms": 1000, "us": 1}[unit]
    v = Decimal(text) * mult
    assert v == int(v)
    return int(v)


def _fmt_us(text):
    dt = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    return ((dt.date().toordinal() - EPOCH_ORD) * 86400 + dt.hour * 3600 + dt.minute * 60 + dt.second) * 1000000


def _date_days(text):
    return days_of(*map(int, text.split("-")))


TYPES_HEADER = ["id", "big", "ts_s", "ts_ms", "ts_us", "ts_fmt", "day", "flag", "score", "label", "kind"]
# Each good row: the texts (None = empty, unquoted), in TYPES_HEADER order.
TYPES_GOOD = [
    ["1", "10", "1714557600", "1714557600123", "1714557600123456", "2024-05-01 10:00:00", "2024-05-01", "true", "0.75", "plain", "alpha"],
    ["2", None, "0", None, None, None, None, "t", None, None, None],
    ["-3", "-7", "1714557600.5", "1714557600000.5", "1", "1999-12-31 23:59:59", "2000-02-29", "TRUE", "1", "a, \"b\"", "beta"],
    ["0", "42", "-1", "-1500", "-1", "1970-01-01 00:00:00", "1969-12-31", "yes", "2.5", "", "alpha"],
    ["-1", "-9223372036854775808", "86400", "0", "0", "2024-02-29 23:59:59", "1970-01-01", "1", "0.6", " padded ", None],
    ["5", "2305843009213693952", "253402300000", "1", "999999", "2038-01-19 03:14:08", "9999-12-31", "Yes", "999.5", "x", "beta"],
    ["6", "-2305843009213693952", "1700000000", None, "1700000000000001", None, None, "false", "0.9", "line\nbreak", "alpha"],
    ["7", "2305843009213693951", "1700000000", None, None, None, None, "f", "0.1", "tab\there", None],
    ["8", "9223372036854775807", "1700000000", None, None, None, None, "no", None, "nul\x00byte", None],
    ["9", "100", "1700000000", None, None, None, None, "0", "-5", "UPPER lower", "beta"],
    ["10", "1", "1700000000", None, None, None, None, None, "0.5", "null flag", "alpha"],
    ["11", "1", "1700000000", None, None, None, None, None, None, "null both", None],
    ["12", "1", "1700000000", None, None, None, None, None, "0.51", "null flag2", "beta"],
    ["2147483647", "3", "1700000000", None, None, None, None, "True", "1000", "max int32", None],
    ["-2147483648", "-3", "1700000000", None, None, None, None, "FALSE", "-1000", "min int32", "alpha"],
]
# Bad rows: texts, expected reason, the field the detail should name (or None).
TYPES_BAD = [
    (["1", "1", "abc", None, None, None, None, "t", None, None, None], "parse", "ts_s"),
    (["1", "1", "1", "12.5.1", None, None, None, "t", None, None, None], "parse", "ts_ms"),
    (["1", "1", "1", None, None, "2024-05-01T10:00:00", None, "t", None, None, None], "parse", "ts_fmt"),
    (["1", "1", "1", None, None, "2024-02-30 10:00:00", None, "t", None, None, None], "parse", "ts_fmt"),
    (["1", "1", "1", None, None, None, "2023-02-29", "t", None, None, None], "parse", "day"),
    (["1", "1", "1", None, None, None, "2024-05-01T00:00:00Z", "t", None, None, None], "parse", "day"),
    (["1", "1", "1", None, None, None, "2024/05/01", "t", None, None, None], "parse", "day"),
    (["1", "1", "1", None, None, None, None, "maybe", None, None, None], "parse", "flag"),
    (["1", "1", "1", None, None, None, None, "2", None, None, None], "parse", "flag"),
    (["1", "1", "1", None, None, None, None, "t", "nan", None, None], "parse", "score"),
    (["1", "1", "1", None, None, None, None, "t", "-inf", None, None], "parse", "score"),
    (["2147483648", "1", "1", None, None, None, None, "t", None, None, None], "parse", "id"),
    (["1", "9223372036854775808", "1", None, None, None, None, "t", None, None, None], "parse", "big"),
    ([None, "1", "1", None, None, None, None, "t", None, None, None], "parse", "id"),
    (["1", "1", None, None, None, None, None, "t", None, None, None], "parse", "ts_s"),
    (["1", "1", "1", None, None, None, None, "t", None, None, "gamma"], "schema", "kind"),
    (["1", "1", "1", None, None, None, None, "t", None, None, "Alpha"], "schema", "kind"),
    (["1", "1", "1", None, None, None, None, "t", "1000.5", None, None], "score_range", None),
    (["1", "1", "1", None, None, None, None, "t", None, "much too long label", None], "label_short", None),
    (["1", "1", "1", None, None, None, None, "t", "-2000", "much too long label", None], "score_range", None),
    (["1", "1", "bad", None, None, None, None, "t", "-2000", None, None], "parse", "ts_s"),
]
TYPES_COLS = [("id", "int"), ("big", "int"), ("ts_s", "timestamp"), ("ts_ms", "timestamp"),
              ("ts_us", "timestamp"), ("ts_fmt", "timestamp"), ("day", "date"), ("flag", "bool"),
              ("score", "float"), ("label", "string"), ("kind", "string"),
              ("ratio", "int"), ("times4", "int"), ("day_of_s", "date"), ("hour_fmt", "int"),
              ("later", "timestamp"), ("up", "string"), ("not_flag", "bool"), ("score2", "float")]
SHAPED_COLS = [("id", "int"), ("label", "string"), ("ts_ms", "timestamp"), ("day", "date"),
               ("flag", "bool"), ("score", "float"), ("ratio", "int")]


def _types_values(t):
    """Independent parse of a good TYPES_GOOD row plus the derived fields."""
    opt = lambda x, f: None if x is None else f(x)  # noqa: E731
    id_ = int(t[0])
    big = opt(t[1], int)
    ts_s = _epoch_text_us(t[2], "s")
    ts_ms = opt(t[3], lambda x: _epoch_text_us(x, "ms"))
    ts_us = opt(t[4], lambda x: _epoch_text_us(x, "us"))
    ts_fmt = opt(t[5], _fmt_us)
    day = opt(t[6], _date_days)
    flag = opt(t[7], lambda x: BOOL_TEXT[x.lower()])
    score = opt(t[8], float)
    label, kind = t[9], t[10]
    if big is None or id_ == 0:
        ratio = None
    else:
        q = abs(big) // abs(id_)
        ratio = q if (big < 0) == (id_ < 0) else -q
        if not (gen.INT64_MIN <= ratio <= gen.INT64_MAX):
            ratio = None
    times4 = None if big is None else big * 4
    if times4 is not None and not (gen.INT64_MIN <= times4 <= gen.INT64_MAX):
        times4 = None
    day_of_s = ts_s // US_PER_DAY
    hour_fmt = None if ts_fmt is None else (ts_fmt // 3600000000) % 24
    later = ts_s + 90 * 1000000
    up = None if label is None else label.upper()
    not_flag = None if flag is None else (not flag)
    score2 = (0.0 if score is None else score) * 2
    return (id_, big, ts_s, ts_ms, ts_us, ts_fmt, day, flag, score, label, kind,
            ratio, times4, day_of_s, hour_fmt, later, up, not_flag, score2)


def test_types_and_nulls(ctx):
    binary = build(ctx, os.path.join(E2E, "types.yaml"))
    data = os.path.join(ctx.tmp, "types.csv")
    lines = [",".join(TYPES_HEADER)]
    order = []          # ("good", i) or ("bad", i), interleaved
    for i in range(max(len(TYPES_GOOD), len(TYPES_BAD))):
        if i < len(TYPES_GOOD):
            order.append(("good", i))
        if i < len(TYPES_BAD):
            order.append(("bad", i))
    line = 2
    dead, exp_rows, shaped, dropped = {}, [], [], 0
    for kind, i in order:
        texts = TYPES_GOOD[i] if kind == "good" else TYPES_BAD[i][0]
        lines.append(_csv_line(texts))
        if kind == "bad":
            dead[line] = TYPES_BAD[i][1]
        else:
            v = _types_values(texts)
            flag, score = v[7], v[8]
            keep = kleene_or(flag, None if score is None else score > 0.5)
            if keep is True:
                exp_rows.append(("good row %d" % i, v))
                if v[10] is not None:
                    shaped.append(("good row %d" % i, (v[0], v[9], v[3], v[6], v[7], v[8], v[11])))
            else:
                dropped += 1
        line += 1 + lines[-1].count("\n")
    with open(data, "w", newline="") as f:
        f.write("\n".join(lines) + "\n")
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    fields = {}
    ln = 2
    for kind, i in order:
        if kind == "bad":
            fields[ln] = TYPES_BAD[i][2]
        ln += 1 + _csv_line(TYPES_GOOD[i] if kind == "good" else TYPES_BAD[i][0]).count("\n")
    seen = check_dead_letter(os.path.join(out, "types.dead.jsonl"), "e2e_types", data, dead)
    for l, f in fields.items():
        if f and f not in seen[l]["detail"]:
            raise AssertionError("line %d: detail %r does not name field %r" % (l, seen[l]["detail"], f))
    compare_rows("types.jsonl", read_jsonl(os.path.join(out, "types.jsonl"), pairs=True), exp_rows,
                 TYPES_COLS, "json")
    header, recs = read_csv(os.path.join(out, "types.csv"))
    assert header == [c for c, _ in SHAPED_COLS], header
    compare_rows("types.csv", recs, shaped, SHAPED_COLS, "csv")
    assert counts == {"in": len(order), "out": len(exp_rows), "dead": len(dead), "dropped": dropped}, counts


ENC_ROWS = [
    # name, x, t, n  (texts; None = NULL)
    ("plain", "0.1", "2024-05-01T10:00:00Z", "1"),
    ("fraction half", "1e21", "2024-05-01T10:00:00.5Z", "-1"),
    ("fraction micro", "-0", "2024-05-01T10:00:00.000001Z", "0"),
    ("fraction zeros", "-0.0", "2024-05-01T10:00:00.000Z", "9223372036854775807"),
    ("fraction 6", "5e-324", "2024-05-01T10:00:00.123456Z", "-9223372036854775808"),
    ("offset", "1.7976931348623157e308", "2024-05-01T12:30:00+02:30", None),
    ("neg offset", "123456789012345680000", "2024-04-30T23:00:00.25-11:00", "42"),
    ("pre 1970", "0.30000000000000004", "1969-12-31T23:59:59.5Z", None),
    ("epoch", "1e-7", "1970-01-01T00:00:00Z", None),
    ("late", "2.5", "9999-12-31T23:59:59.999999Z", None),
    ("big int float", "1e16", "2000-02-29T00:00:00Z", None),
    ("tiny", "2.2250738585072014e-308", "2024-01-01T00:00:00.1Z", None),
    ("int float", "100", "2024-01-01T00:00:00.01Z", None),
    (None, None, None, None),
    ("", "3.14159", None, None),
    ('quote " and comma ,', "7", None, None),
    ("new\nline", "8", None, None),
    ("crlf\r\ninside", "9", None, None),
    ("back\\slash and tab\t and bell \x07", "10", None, None),
    ("nul \x00 byte", "11", None, None),
    ("  spaces  ", "12", None, None),
    ("unicode \u00e9\u65e5\U0001F600 \u2028", "13", None, None),
    ("12345", "14", None, None),
    ("null", "15", None, None),
    ("\"\"", "16", None, None),
]
ENC_COLS = [("name", "string"), ("x", "float"), ("t", "timestamp"), ("n", "int"),
            ("x_plus", "float"), ("x_half", "float")]
ENC_TS = {  # independent expected microseconds of the timestamp texts
    "2024-05-01T10:00:00Z": 1714557600000000,
    "2024-05-01T10:00:00.5Z": 1714557600500000,
    "2024-05-01T10:00:00.000001Z": 1714557600000001,
    "2024-05-01T10:00:00.000Z": 1714557600000000,
    "2024-05-01T10:00:00.123456Z": 1714557600123456,
    "2024-05-01T12:30:00+02:30": 1714557600000000,
    "2024-04-30T23:00:00.25-11:00": 1714557600250000,
    "1969-12-31T23:59:59.5Z": -500000,
    "1970-01-01T00:00:00Z": 0,
    "9999-12-31T23:59:59.999999Z": 253402300799999999,
    "2000-02-29T00:00:00Z": 951782400000000,
    "2024-01-01T00:00:00.1Z": 1704067200100000,
    "2024-01-01T00:00:00.01Z": 1704067200010000,
}
ENC_TS_TEXT = {  # the exact output text each must have
    1714557600000000: "2024-05-01T10:00:00Z", 1714557600500000: "2024-05-01T10:00:00.5Z",
    1714557600000001: "2024-05-01T10:00:00.000001Z", 1714557600123456: "2024-05-01T10:00:00.123456Z",
    1714557600250000: "2024-05-01T10:00:00.25Z", -500000: "1969-12-31T23:59:59.5Z",
    0: "1970-01-01T00:00:00Z", 253402300799999999: "9999-12-31T23:59:59.999999Z",
    951782400000000: "2000-02-29T00:00:00Z", 1704067200100000: "2024-01-01T00:00:00.1Z",
    1704067200010000: "2024-01-01T00:00:00.01Z",
}


def test_output_encoding(ctx):
    binary = build(ctx, os.path.join(E2E, "encoding.yaml"))
    data = os.path.join(ctx.tmp, "enc.csv")
    with open(data, "w", newline="") as f:
        f.write("name,x,t,n\n")
        for r in ENC_ROWS:
            f.write(_csv_line(r) + "\n")
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    assert counts == {"in": len(ENC_ROWS), "out": len(ENC_ROWS), "dead": 0, "dropped": 0}, counts
    exp = []
    for r in ENC_ROWS:
        x = None if r[1] is None else float(r[1])
        t = None if r[2] is None else ENC_TS[r[2]]
        n = None if r[3] is None else int(r[3])
        exp.append((repr(r[0]), (r[0], x, t, n, None if x is None else x + 0.2,
                                 None if x is None else x / 2)))
    jrows = read_jsonl(os.path.join(out, "enc.jsonl"), pairs=True)
    compare_rows("enc.jsonl", jrows, exp, ENC_COLS, "json")
    # exact texts: timestamps, -0, and the raw JSON of NULL
    with open(os.path.join(out, "enc.jsonl"), encoding="utf-8") as f:
        raw_lines = f.read().split("\n")
    for line, (label, v) in zip(raw_lines, exp):
        obj = dict(json.loads(line, parse_int=Num, parse_float=Num, object_pairs_hook=_pairs))
        if v[2] is not None:
            assert obj["t"] == ENC_TS_TEXT[v[2]], "%s: timestamp %r, expected %r" % (label, obj["t"], ENC_TS_TEXT[v[2]])
        if v[1] is not None and v[1] == 0 and math_signbit(v[1]):
            assert obj["x"].startswith("-"), "%s: -0.0 written as %r" % (label, obj["x"])
        if v[0] is None:
            assert '"name":null' in line.replace(" ", ""), "%s: NULL not written as null: %r" % (label, line)
    header, recs = read_csv(os.path.join(out, "enc.csv"))
    assert header == [c for c, _ in ENC_COLS], header
    compare_rows("enc.csv", recs, exp, ENC_COLS, "csv")
    # every CSV line that needs no quoting still round-trips through the csv module (read_csv)


def math_signbit(x):
    return struct.pack("<d", x)[7] & 0x80 != 0


def test_column_mapping_and_header_order(ctx):
    binary = build(ctx, os.path.join(E2E, "column_map.yaml"))
    data = os.path.join(ctx.tmp, "cols.csv")
    with open(data, "w", newline="") as f:
        f.write("ignored,Label Text,id,also ignored\n"
                "x,first,1,y\n"
                "x,\"sec,ond\",2,y\n"
                "x,third,abc,y\n")
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    compare_jsonl("cols.jsonl", os.path.join(out, "cols.jsonl"),
                  [("1", (1, "first")), ("2", (2, "sec,ond"))], [("id", "int"), ("label", "string")])
    check_dead_letter(os.path.join(out, "cols.dead.jsonl"), "e2e_column_map", data, {4: "parse"})
    assert counts == {"in": 3, "out": 2, "dead": 1, "dropped": 0}, counts


def test_header_in_other_order(ctx):
    """Columns map to fields by header name, whatever their order; extra columns are ignored."""
    binary = build(ctx, os.path.join(E2E, "events.yaml"))
    data = os.path.join(ctx.tmp, "reordered.csv")
    order = [6, 5, 4, 3, 2, 1, 0]
    hdr = [gen.HEADER[i] for i in order] + ["comment"]
    with open(data, "w", newline="") as f:
        f.write(",".join(hdr) + "\n")
        f.write("3,2.5,7,cart,42,2024-05-01T10:00:00Z,e1,hello\n")
        f.write(",9.5,8,purchase,43,2024-05-01T11:00:00Z,e2,\n")
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    exp = [("e1", ("e1", 1714557600000000, 42, "cart", 7, 2.5, 3, 0.0, False, 19844, 10)),
           ("e2", ("e2", 1714561200000000, 43, "purchase", 8, 9.5, None, 9.5, False, 19844, 11))]
    compare_rows("events.jsonl", read_jsonl(os.path.join(out, "events.jsonl"), pairs=True), exp,
                 EVENTS_SINK_COLS, "json")
    assert counts == {"in": 2, "out": 2, "dead": 0, "dropped": 0}, counts


# -- tests: expression semantics ----------------------------------------------------------------
I64 = (gen.INT64_MIN, gen.INT64_MAX)


def _i64(v):
    return v if v is not None and I64[0] <= v <= I64[1] else None


def _nn(f):
    """Wraps f so that any NULL argument gives NULL."""
    return lambda *args: None if any(a is None for a in args) else f(*args)


def _trunc_div(a, b):
    if b == 0:
        return None
    q = abs(a) // abs(b)
    return _i64(q if (a < 0) == (b < 0) else -q)


def _c_mod(a, b):
    if b == 0:
        return None
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def _cmp(a, op, c):
    return None if a is None else op(a, c)


def _and(p, q):
    if p is False or q is False:
        return False
    if p is None or q is None:
        return None
    return True


def _not(p):
    return None if p is None else not p


EXPR_ROWS = [  # a, b, x, s (texts; None = NULL)
    ("7", "2", "3.14159", "Hello World"),
    ("-7", "2", "-2.71828", "  pad  "),
    ("7", "-2", None, None),
    ("-7", "-2", "0.001", ""),
    ("5", "0", "1234.5678", "ab"),
    ("9223372036854775807", "1", "1e300", "zebra"),
    ("-9223372036854775808", "1", "-0.25", "mango"),
    ("3037000500", "3037000500", "2.5", "a"),
    (None, "3", "7", "MiXeD CaSe"),
    ("3", None, None, "abcdef"),
    (None, None, None, None),
    ("0", "5", "0", "m"),
    ("1", "-9223372036854775808", "1.5", "l"),
    ("-1", "9223372036854775807", "-1.5", "n"),
]
EXPR_COLS = [("a", "int"), ("b", "int"), ("x", "float"), ("s", "string"),
             ("add", "int"), ("sub", "int"), ("mul", "int"), ("div", "int"), ("mod", "int"),
             ("absa", "int"), ("co", "int"), ("btw", "bool"), ("inn", "bool"), ("cs", "string"),
             ("isn", "bool"), ("notnull", "bool"), ("and3", "bool"), ("or3", "bool"), ("nt", "bool"),
             ("fx", "float"), ("rnd", "float"), ("flo", "float"), ("cei", "float"), ("absx", "float"),
             ("cf", "float"), ("mixed", "float"), ("cat", "string"), ("low", "string"),
             ("up", "string"), ("len", "int"), ("sub3", "string"), ("trm", "string"),
             ("lt", "bool"), ("eqs", "bool")]


def _expr_values(r):
    import math
    a = None if r[0] is None else int(r[0])
    b = None if r[1] is None else int(r[1])
    x = None if r[2] is None else float(r[2])
    s = r[3]
    gt0 = _cmp(a, lambda u, v: u > v, 0)
    lt0 = _cmp(a, lambda u, v: u < v, 0)
    co = a if a is not None else (b if b is not None else 0)
    return (a, b, x, s,
            _nn(lambda u, v: _i64(u + v))(a, b), _nn(lambda u, v: _i64(u - v))(a, b),
            _nn(lambda u, v: _i64(u * v))(a, b), _nn(_trunc_div)(a, b), _nn(_c_mod)(a, b),
            _nn(lambda u: _i64(abs(u)))(a), co,
            _nn(lambda u: 1 <= u <= 10)(a), _nn(lambda u: u in (1, 2, 3))(a),
            "pos" if gt0 else ("neg" if lt0 else "other"),
            a is None, b is not None,
            _and(gt0, _cmp(b, lambda u, v: u > v, 0)),
            _not(_and(_not(gt0), _not(_cmp(b, lambda u, v: u > v, 0)))),
            _not(gt0),
            _nn(lambda u: u * 2 + 1)(x), _nn(lambda u: float(round(u, 2)))(x),
            _nn(lambda u: float(math.floor(u)))(x),
            _nn(lambda u: math.copysign(float(math.ceil(u)), u))(x),      # ceil(-0.25) = -0.0
            _nn(abs)(x), _nn(float)(a), _nn(lambda u, v: float(u) + v)(a, x),
            _nn(lambda u: u + "!")(s), _nn(str.lower)(s), _nn(str.upper)(s), _nn(len)(s),
            _nn(lambda u: u[1:4])(s), _nn(lambda u: u.strip(" "))(s),
            _nn(lambda u: u < "m")(s), _nn(lambda u: u == "ab")(s))


def test_expression_semantics(ctx):
    binary = build(ctx, os.path.join(E2E, "exprs.yaml"))
    data = os.path.join(ctx.tmp, "exprs.csv")
    with open(data, "w", newline="") as f:
        f.write("a,b,x,s\n" + "".join(_csv_line(r) + "\n" for r in EXPR_ROWS))
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    exp = [("a=%s b=%s x=%s s=%r" % r, _expr_values(r)) for r in EXPR_ROWS]
    compare_rows("exprs.jsonl", read_jsonl(os.path.join(out, "exprs.jsonl"), pairs=True), exp,
                 EXPR_COLS, "json")
    assert counts == {"in": len(EXPR_ROWS), "out": len(EXPR_ROWS), "dead": 0, "dropped": 0}, counts


TIME_ROWS = ["2024-05-01T10:20:30Z", None, "1969-12-31T23:30:00Z", "2024-05-01T10:20:30.5Z",
             "1970-01-01T00:00:00Z", "2024-02-29T23:59:59.999999Z", "1900-03-01T01:02:03Z",
             "2023-12-31T23:59:55Z"]
TIME_COLS = [("id", "int"), ("t", "timestamp"), ("hr", "int"), ("dt", "date"), ("tr", "timestamp"),
             ("trd", "timestamp"), ("ep", "int"), ("later", "timestamp"), ("earlier", "timestamp"),
             ("after", "bool")]


def test_time_functions(ctx):
    binary = build(ctx, os.path.join(E2E, "timefns.yaml"))
    data = os.path.join(ctx.tmp, "t.csv")
    with open(data, "w", newline="") as f:
        f.write("id,t\n" + "".join("%d,%s\n" % (i, "" if t is None else t) for i, t in enumerate(TIME_ROWS)))
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    H, D = 3600 * 1000000, US_PER_DAY
    exp = []
    for i, text in enumerate(TIME_ROWS):
        if text is None:
            exp.append(("NULL", (i,) + (None,) * 9))
            continue
        us = ts_text_to_us(text)
        exp.append((text, (i, us, (us // H) % 24, us // D, us // H * H, us // D * D, us // 1000000,
                           us + 10 * 1000000, us - H, us > 1704067200000000)))
    rows = read_jsonl(os.path.join(out, "timefns.jsonl"), pairs=True)
    compare_rows("timefns.jsonl", rows, exp, TIME_COLS, "json")
    # the stdout jsonl sink: the same rows, and nothing else on stdout
    text = p.stdout.decode("utf-8")
    lines = text.split("\n")
    assert lines[-1] == "", "stdout does not end with a newline"
    got = [json.loads(ln, parse_int=Num, parse_float=Num, object_pairs_hook=_pairs) for ln in lines[:-1]]
    compare_rows("stdout jsonl", got, exp, TIME_COLS, "json")
    assert counts == {"in": len(TIME_ROWS), "out": len(TIME_ROWS), "dead": 0, "dropped": 0}, counts


def test_random_values_round_trip(ctx):
    """Random doubles (all exponents), int64s and timestamps (years 1..9999, any offset) read from
    CSV come out as the same values, floats in shortest form."""
    import random
    rng = random.Random(99)
    binary = build(ctx, os.path.join(E2E, "encoding.yaml"))
    data = os.path.join(ctx.tmp, "rand.csv")
    exp = []
    with open(data, "w", newline="") as f:
        f.write("name,x,t,n\n")
        for i in range(3000):
            while True:
                x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
                if x == x and abs(x) != float("inf"):
                    break
            if i % 3 == 0:
                x = rng.uniform(-1e6, 1e6)
            if i % 5 == 0:
                x = round(x, rng.randrange(0, 6))
            secs = rng.randrange(-62135596800, 253402300800)        # 0001-01-01 .. 9999-12-31
            us = secs * 1000000 + (rng.randrange(1000000) if i % 2 else 0)
            off = rng.randrange(-23 * 60 - 59, 23 * 60 + 60) if i % 4 == 0 else 0
            if not (-62135596800 <= us // 1000000 + off * 60 < 253402300800):
                off = 0                                              # local time out of 1..9999
            text = gen.fmt_ts(us // 1000000, us % 1000000, off)     # UTC instant shown at `off`
            n = rng.randrange(gen.INT64_MIN, gen.INT64_MAX + 1)
            f.write("r%d,%r,%s,%d\n" % (i, x, text, n))
            x_plus, x_half = x + 0.2, x / 2
            exp.append(("r%d %r %s" % (i, x, text), ("r%d" % i, x, us, n, x_plus, x_half)))
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    run_ok(binary, {"INPUT": data, "OUT": out})
    # x + 0.2 may overflow to inf for x near the top: such rows are skipped in the comparison
    keep = [i for i, (_, v) in enumerate(exp) if abs(v[4]) != float("inf")]
    rows = read_jsonl(os.path.join(out, "enc.jsonl"), pairs=True)
    assert len(rows) == len(exp), (len(rows), len(exp))
    compare_rows("enc.jsonl", [rows[i] for i in keep], [exp[i] for i in keep], ENC_COLS, "json")
    header, recs = read_csv(os.path.join(out, "enc.csv"))
    compare_rows("enc.csv", [recs[i] for i in keep], [exp[i] for i in keep], ENC_COLS, "csv")


def test_sink_where_and_columns(ctx):
    """A sink's `where` keeps only rows where it is true (NULL is not true); `columns` shapes it."""
    binary = build(ctx, os.path.join(E2E, "exprs.yaml"))
    data = os.path.join(ctx.tmp, "exprs.csv")
    with open(data, "w", newline="") as f:
        f.write("a,b,x,s\n" + "".join(_csv_line(r) + "\n" for r in EXPR_ROWS))
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    run_ok(binary, {"INPUT": data, "OUT": out})
    exp = []
    for r in EXPR_ROWS:
        a = None if r[0] is None else int(r[0])
        if a is not None and a > 0:
            exp.append((repr(r), (a, _trunc_div(a, 2), r[3] if r[3] is not None else "none")))
    header, recs = read_csv(os.path.join(out, "positive.csv"))
    assert header == ["a", "half", "label"], header
    compare_rows("positive.csv", recs, exp, [("a", "int"), ("half", "int"), ("label", "string")], "csv")


def test_csv_options_and_defaults(ctx):
    binary = build(ctx, os.path.join(E2E, "csv_options.yaml"))
    data = os.path.join(ctx.tmp, "opts.csv")
    with open(data, "w", newline="") as f:
        f.write("id;name;qty;kind;price\n"
                "1;alice;5;b;2.5\n"
                "2;NA;NA;NA;NA\n"
                "3;'NA';;a;\n"
                "4;'semi;colon';'7';'b';'1e2'\n"
                "5;'it''s';2;a;3\n"
                '6;"dq";2;a;3\n'
                "7;x;2;c;1\n"
                "8;'';2;a;1\n"
                "9;'multi\nline';2;a;1\n"
                "10;x;'';a;1\n")
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    exp = [("1", (1, "alice", 5, "b", 2.5)),
           ("2", (2, None, 1, "a", None)),
           ("3", (3, "NA", 1, "a", None)),
           ("4", (4, "semi;colon", 7, "b", 100.0)),
           ("5", (5, "it's", 2, "a", 3.0)),
           ("6", (6, '"dq"', 2, "a", 3.0)),
           ("8", (8, "", 2, "a", 1.0)),
           ("9", (9, "multi\nline", 2, "a", 1.0))]
    compare_rows("opts.jsonl", read_jsonl(os.path.join(out, "opts.jsonl"), pairs=True), exp,
                 [("id", "int"), ("name", "string"), ("qty", "int"), ("kind", "string"), ("price", "float")],
                 "json")
    # line 8: kind 'c' (schema); line 12: a quoted '' is an empty string, not a missing int
    check_dead_letter(os.path.join(out, "opts.dead.jsonl"), "e2e_csv_options", data,
                      {8: "schema", 12: "parse"})
    assert counts == {"in": 10, "out": 8, "dead": 2, "dropped": 0}, counts


def test_sigterm_mid_file_commits_a_prefix(ctx):
    """SIGTERM while a file is being read: exit 0, and what was written is exactly the results of
    the first `in` records: no gap, no partial row, counts that add up."""
    binary = build(ctx, os.path.join(E2E, "events.yaml"))
    data = os.path.join(ctx.tmp, "events.csv")
    rows = gen.generate(data, 400000, seed=77)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    e = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    e.update(INPUT=data, OUT=out)
    proc = subprocess.Popen([binary], env=e, cwd=ctx.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_handler(proc)
    time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    so, se = proc.communicate(timeout=60)
    assert proc.returncode == 0, "exit %r after SIGTERM\n%s" % (proc.returncode, se.decode("utf-8", "replace"))
    counts = summary(subprocess.CompletedProcess([], 0, so, se))
    n = counts["in"]
    sink, purchases, dead, dropped = events_expect(rows[:n])
    assert counts == {"in": n, "out": len(sink), "dead": len(dead), "dropped": dropped}, counts
    compare_jsonl("events.jsonl", os.path.join(out, "events.jsonl"), sink, EVENTS_SINK_COLS)
    check_dead_letter(os.path.join(out, "dead.jsonl"), "e2e_events", data, dead, {r.line: r for r in rows[:n]})
    header, recs = read_csv(os.path.join(out, "purchases.csv"))
    compare_rows("purchases.csv", recs, purchases, PURCHASES_COLS, "csv")


def _us(y, mo, d, h=0, mi=0, s=0, frac=0):
    return (days_of(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000000 + frac


FORMAT_COLS = [("id", "int"), ("f1", "timestamp"), ("f2", "timestamp"), ("f3", "timestamp"),
               ("f4", "date"), ("f5", "timestamp"), ("r", "timestamp")]
FORMAT_GOOD = [  # texts, expected values (after id)
    (["01.05.2024 10:00", "2024-05-01T12:00:00.5+02:00", "01 May 2024 10:00 pm", "01/05/24", "2024060",
      "2024-05-01T10:00:00.1234567Z"],
     [_us(2024, 5, 1, 10), _us(2024, 5, 1, 10, 0, 0, 500000), _us(2024, 5, 1, 22), days_of(2024, 5, 1),
      _us(2024, 2, 29), _us(2024, 5, 1, 10, 0, 0, 123456)]),
    (["1.5.2024 9:05", "2024-05-01T10:00:00.000001Z", "1 jan 2024 12:00 am", "31/12/69", "1970001",
      "1969-12-31T23:59:59.9999999Z"],
     [_us(2024, 5, 1, 9, 5), _us(2024, 5, 1, 10, 0, 0, 1), _us(2024, 1, 1, 0), days_of(1969, 12, 31), 0, -1]),
    ([None, "2024-05-01T10:00:00.5-0130", "15 JANUARY 2024 12:30 pm", "29/02/00", "2023365", "2024-05-01 10:00"],
     [None, _us(2024, 5, 1, 11, 30, 0, 500000), _us(2024, 1, 15, 12, 30), days_of(2000, 2, 29),
      _us(2023, 12, 31), _us(2024, 5, 1, 10)]),
    ([None, None, None, None, None, "2024-05-01"], [None, None, None, None, None, _us(2024, 5, 1)]),
    ([None, None, None, None, None, "2024-05-01T10:00:00+05"], [None, None, None, None, None, _us(2024, 5, 1, 5)]),
]
FORMAT_BAD = [  # texts, field
    (["31.04.2024 10:00", None, None, None, None, None], "f1"),
    ([None, None, "01 Foo 2024 10:00 pm", None, None, None], "f3"),
    ([None, None, "01 May 2024 13:00 pm", None, None, None], "f3"),
    ([None, None, None, None, "2023366", None], "f5"),
    ([None, None, None, "2024-05-01", None, None], "f4"),
    ([None, None, None, None, None, "2024-05-01T10:00:60Z"], "r"),
    ([None, "2024-05-01T10:00:00.5", None, None, None, None], "f2"),
]


def test_timestamp_and_date_patterns(ctx):
    binary = build(ctx, os.path.join(E2E, "formats.yaml"))
    data = os.path.join(ctx.tmp, "formats.csv")
    exp, dead, fields = [], {}, {}
    with open(data, "w", newline="") as f:
        f.write("id,f1,f2,f3,f4,f5,r\n")
        line, n = 2, 0
        for texts, vals in FORMAT_GOOD:
            f.write(_csv_line([str(n)] + texts) + "\n")
            exp.append((" ".join(t for t in texts if t), tuple([n] + vals)))
            n, line = n + 1, line + 1
        for texts, field in FORMAT_BAD:
            f.write(_csv_line([str(n)] + texts) + "\n")
            dead[line] = "parse"
            fields[line] = field
            n, line = n + 1, line + 1
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    seen = check_dead_letter(os.path.join(out, "formats.dead.jsonl"), "e2e_formats", data, dead)
    for ln, fld in fields.items():
        assert "'%s'" % fld in seen[ln]["detail"], "line %d: detail %r does not name %s" % (ln, seen[ln]["detail"], fld)
    compare_rows("formats.jsonl", read_jsonl(os.path.join(out, "formats.jsonl"), pairs=True), exp,
                 FORMAT_COLS, "json")
    assert counts == {"in": n, "out": len(exp), "dead": len(dead), "dropped": 0}, counts


EXPR2_ROWS = [  # i, x, s, d
    ("5", "2.5", "h\u00e9llo", "2024-02-28"),
    ("2147483647", "-2.5", "\u0391\u03b2\u0393", "2024-12-31"),
    ("-2147483648", "0", "\u0436\u0443\u043a", "1969-12-31"),
    (None, None, None, None),
    ("1", "123.456", " 42 ", "2024-01-01"),
    ("150", "-7.5", "abc", "2000-02-28"),
    ("-1", "0.05", "12x", "2024-03-01"),
]
EXPR2_COLS = [("id", "int"), ("i", "int"), ("x", "float"), ("s", "string"), ("d", "date"),
              ("i_plus", "int"), ("i_wide", "int"), ("i_mul", "int"), ("xdiv0", "float"),
              ("xmod", "float"), ("xbig", "float"), ("r0", "float"), ("r1", "float"), ("ri", "int"),
              ("cat_i", "string"), ("cat_x", "string"), ("cat_d", "string"), ("to_int", "int"),
              ("to_f", "int"), ("nocase", "string"), ("in_null", "bool"), ("d_plus", "date"),
              ("d_diff", "int"), ("up", "string"), ("low", "string"), ("len", "int"), ("sub", "string")]


def _expr2_values(n, r):
    import math
    i = None if r[0] is None else int(r[0])
    x = None if r[1] is None else float(r[1])
    s = r[2]
    d = None if r[3] is None else _date_days(r[3])
    i32 = lambda v: v if v is not None and gen.INT32_MIN <= v <= gen.INT32_MAX else None  # noqa: E731
    fin = lambda v: v if v is not None and abs(v) != float("inf") else None  # noqa: E731
    xs = {2.5: "2.5", -2.5: "-2.5", 0.0: "0", 123.456: "123.456", -7.5: "-7.5", 0.05: "0.05"}
    ds = None if d is None else r[3]
    to_int = None
    if s is not None and re.fullmatch(r"[+-]?[0-9]+", s.strip(" \t\r\n")):
        to_int = int(s.strip(" \t\r\n"))
    return (n, i, x, s, d,
            i32(None if i is None else i + 1), None if i is None else i + 1,
            i32(None if i is None else i * 1000000), None,
            None if x is None else math.fmod(x, 2),
            fin(None if x is None else x * 1e308),
            None if x is None else math.copysign(math.floor(abs(x) + 0.5), x),
            {2.5: 2.5, -2.5: -2.5, 0.0: 0.0, 123.456: 123.5, -7.5: -7.5, 0.05: 0.1, None: None}[x],
            i,
            None if i is None else "#%d" % i,
            None if x is None else "x=" + xs[x],
            None if ds is None else ds + "!",
            to_int,
            None if x is None else int(x),
            None if i is None else ("big" if i > 100 else None),
            None if i is None else (True if i == 1 else None),
            None if d is None else d + 1,
            None if d is None else d - days_of(2024, 1, 1),
            None if s is None else s.upper(), None if s is None else s.lower(),
            None if s is None else len(s), None if s is None else s[1:3])


def test_expression_details(ctx):
    binary = build(ctx, os.path.join(E2E, "exprs2.yaml"))
    data = os.path.join(ctx.tmp, "e2.csv")
    with open(data, "w", newline="") as f:
        f.write("id,i,x,s,d\n" + "".join(_csv_line([str(n)] + list(r)) + "\n" for n, r in enumerate(EXPR2_ROWS)))
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    exp = [("i=%s x=%s s=%r d=%s" % r, _expr2_values(n, r)) for n, r in enumerate(EXPR2_ROWS)]
    compare_rows("exprs2.jsonl", read_jsonl(os.path.join(out, "exprs2.jsonl"), pairs=True), exp,
                 EXPR2_COLS, "json")
    assert counts == {"in": len(EXPR2_ROWS), "out": len(EXPR2_ROWS), "dead": 0, "dropped": 0}, counts


def test_folder_glob_order_header_per_file_and_name_clash(ctx):
    """Files are taken in name order, only those matching the glob (dot files never); each file
    has its own header (column order may differ); an archive name clash gets a suffix."""
    binary = build(ctx, "pipelines/user_activity.yaml")
    d = {k: os.path.join(ctx.tmp, k.lower()) for k in ("INBOX", "ARCHIVE", "OUT", "STATE_DIR")}
    for v in d.values():
        os.makedirs(v)
    with open(os.path.join(d["ARCHIVE"], "a.csv"), "w") as f:
        f.write("an older a.csv\n")
    src_a = os.path.join(ctx.tmp, "src_a.csv")
    rows_a = gen.generate(src_a, 150, seed=51, prefix="a", unterminated=False)
    # b.csv: the same kind of rows with the columns in reverse order
    src_b = os.path.join(ctx.tmp, "src_b.csv")
    good_b = []
    with open(src_b, "w", newline="") as f:
        f.write(",".join(reversed(gen.HEADER)) + "\r\n")
        for i in range(50):
            v = ("b%d" % i, _us(2024, 5, 1, 10, i), i, ("view", "cart", "purchase")[i % 3], 7, i + 0.5,
                 None if i % 4 == 0 else i % 5)
            texts = [v[0], us_to_text(v[1]), str(v[2]), v[3], str(v[4]), repr(v[5]),
                     "" if v[6] is None else str(v[6])]
            f.write(",".join(reversed(texts)) + "\r\n")
            if v[6] is None or v[6] > 0:
                good_b.append(v)
    for name, src in (("b.csv", src_b), ("a.csv", src_a)):
        _drop_into(d["INBOX"], name, src)
    for name in ("notes.txt", ".hidden.csv"):
        with open(os.path.join(d["INBOX"], name), "w") as f:
            f.write("not for the pipeline\n")
    p = run_ok(binary, d, args=["--once"], cwd=ctx.tmp, timeout=60)
    counts = summary(p)
    good_a, dead_a = _ua_expect(rows_a)
    assert counts == {"in": 200, "out": len(good_a) + len(good_b), "dead": len(dead_a) + 50 - len(good_b),
                      "dropped": 0}, counts
    header, recs = read_csv(os.path.join(d["OUT"], "user_activity.csv"))
    compare_rows("user_activity.csv", recs,
                 [("a.csv %s" % v[0], v) for v in good_a] + [("b.csv %s" % v[0], v) for v in good_b],
                 EVENT_COLS, "csv")
    assert sorted(os.listdir(d["INBOX"])) == [".hidden.csv", "notes.txt"], os.listdir(d["INBOX"])
    archived = sorted(os.listdir(d["ARCHIVE"]))
    assert archived == ["a.csv", "a.csv.1", "b.csv"], archived
    with open(os.path.join(d["ARCHIVE"], "a.csv")) as f:
        assert f.read() == "an older a.csv\n", "the older archived a.csv was overwritten"


def _kill9_until_done(ctx, spec, pipeline, dead_name, out_name, seed, sig=signal.SIGKILL):
    """Three files in a hot folder; the binary (--once) is killed with SIGKILL (or stopped with
    `sig`) at random moments and restarted, then run to the end. The output must be exactly every good row once, in order;
    the dead letter exactly every bad row once; every file archived."""
    import random
    rng = random.Random(seed)
    binary = build(ctx, spec)
    d = {k: os.path.join(ctx.tmp, k.lower()) for k in ("INBOX", "ARCHIVE", "OUT", "STATE_DIR")}
    for v in d.values():
        os.makedirs(v)
    files = []
    for name, n in (("f1.csv", 70000), ("f2.csv", 5), ("f3.csv", 90000)):
        src = os.path.join(ctx.tmp, "src_" + name)
        files.append((name, gen.generate(src, n, seed=seed + len(files), prefix=name[:2] + "-")))
        _drop_into(d["INBOX"], name, src)
    e = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    e.update(d)
    kills = 0
    scale = 1.0
    for attempt in range(20):
        proc = subprocess.Popen([binary, "--once"], env=e, cwd=ctx.tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        if sig != signal.SIGKILL:
            wait_handler(proc)
        time.sleep(rng.uniform(0.005, 0.12) * scale)
        killed = False
        if proc.poll() is None:
            proc.send_signal(sig)
            kills += 1
            killed = True
        _, err = proc.communicate()
        ok_rc = (0, -9) if sig == signal.SIGKILL else (0,)
        assert proc.returncode in ok_rc, "exit %r\n%s" % (proc.returncode, err.decode("utf-8", "replace"))
        if proc.returncode == 0 and sig != signal.SIGKILL:
            summary(subprocess.CompletedProcess([], 0, b"", err))
        if proc.returncode == 0 and not killed:
            if kills:
                break
            # a fast machine finished before the first stop: start over, stopping sooner
            import shutil
            for name in os.listdir(d["ARCHIVE"]):
                os.rename(os.path.join(d["ARCHIVE"], name), os.path.join(d["INBOX"], name))
            for k in ("OUT", "STATE_DIR"):
                shutil.rmtree(d[k])
                os.makedirs(d[k])
            scale /= 4
    p = run_ok(binary, d, args=["--once"], cwd=ctx.tmp, timeout=120)
    summary(p)
    assert kills > 0, "no run was killed: the test proved nothing"
    exp, dead_by_file = [], {}
    for name, rows in files:
        good, dead = _ua_expect(rows)
        exp += [("%s %s" % (name, v[0]), v) for v in good]
        dead_by_file[name] = dead
    header, recs = read_csv(os.path.join(d["OUT"], out_name))
    assert header == [c for c, _ in EVENT_COLS], header
    compare_rows(out_name + " after %d kills" % kills, recs, exp, EVENT_COLS, "csv")
    dl = read_jsonl(os.path.join(d["OUT"], dead_name))
    got = {}
    for r in dl:
        path, _, ln = r["position"].rpartition(":")
        key = (os.path.basename(path), int(ln))
        assert key not in got, "dead letter %s:%s written twice (after %d kills)" % (key + (kills,))
        got[key] = r["reason"]
    want = {(name, ln): reason for name, dead in dead_by_file.items() for ln, reason in dead.items()}
    assert got == want, "dead letter differs after %d kills: missing %s, extra %s" % (
        kills, sorted(set(want) - set(got))[:5], sorted(set(got) - set(want))[:5])
    assert sorted(os.listdir(d["ARCHIVE"])) == ["f1.csv", "f2.csv", "f3.csv"], os.listdir(d["ARCHIVE"])
    assert not os.listdir(d["INBOX"]), os.listdir(d["INBOX"])


def test_user_activity_kill9_restart_exactly_once(ctx):
    _kill9_until_done(ctx, "pipelines/user_activity.yaml", "user_activity", "user_activity_errors.jsonl",
                      "user_activity.csv", 61)


def test_folder_sigterm_restart_exactly_once(ctx):
    _kill9_until_done(ctx, os.path.join(E2E, "folder_fast_ckpt.yaml"), "e2e_folder_fast_ckpt",
                      "user_activity_errors.jsonl", "user_activity.csv", 81, sig=signal.SIGTERM)


def test_folder_fast_checkpoint_kill9_restart_exactly_once(ctx):
    _kill9_until_done(ctx, os.path.join(E2E, "folder_fast_ckpt.yaml"), "e2e_folder_fast_ckpt",
                      "user_activity_errors.jsonl", "user_activity.csv", 71)


JSON_COLS = [("id", "int"), ("name", "string"), ("city", "string"), ("ok", "bool"),
             ("score", "float"), ("seen", "timestamp"), ("at", "timestamp")]
JSON_GOOD = [  # line text, expected values
    ('{"id": 1, "name": "ann", "address": {"city": "Oslo", "zip": "0150"}, "ok": true, "score": 2.5, '
     '"seen": 1714557600123, "at": "2024-05-01T10:00:00Z"}',
     (1, "ann", "Oslo", True, 2.5, 1714557600123000, 1714557600000000)),
    ('{"id": 2}', (2, None, None, None, None, None, None)),
    ('{"id": 3, "name": null, "address": null, "ok": null, "score": null, "seen": null, "at": null}',
     (3, None, None, None, None, None, None)),
    ('{"id": 4, "name": "\\u00e9\\ud83d\\ude00 \\"q\\" \\\\ \\n\\t\\u0000", "address": {"city": "K\\u00f8ge"}}',
     (4, "\u00e9\U0001F600 \"q\" \\ \n\t\x00", "K\u00f8ge", None, None, None, None)),
    ('  {"extra": [1, {"deep": [null]}], "id": -9223372036854775808, "score": -1.5e-7, "ok": false}  ',
     (-9223372036854775808, None, None, False, -1.5e-07, None, None)),
    ('{"id": 6, "address": "not an object", "seen": "1714557600000"}',
     (6, None, None, None, None, 1714557600000000, None)),
    ('{"id": 7, "score": 100, "name": "", "address": {"city": ""}}', (7, "", "", None, 100.0, None, None)),
]
JSON_BAD = [  # line text, field the detail names (or None)
    '{"id": "8"}',                              # a string for an int
    '{"id": 9.0}',                              # an integer field needs an integer text
    '{"id": 1e3}',
    '{"id": 10, "ok": "true"}',                 # bools are true/false only
    '{"id": 11, "score": "2.5"}',
    '{"id": 12, "id": 13}',                     # duplicate key at a wanted path
    '{"id": 14',                                # malformed
    '[1, 2, 3]',                                # not an object
    '{"id": 15} x',                             # text after the object
    '{"id": 16, "name": "\\ud800"}',            # a lone surrogate
    '{"id": 17, "name": "bad \\x escape"}',
    '"just a string"',
    '{"id": 18, "a": ' + "[" * 70 + "]" * 70 + '}',   # nesting deeper than 64
    '{"id": 19, "at": "2024-02-30T00:00:00Z"}',
    '{"name": "no id"}',                        # a missing non-nullable field
    '{"id": 20, "name": 5}',
    "{'id': 21}",
    '{"id": 22,}',
    '{"id": 0x10}',
    '{"id": 23, "score": NaN}',
]


def test_json_source(ctx):
    binary = build(ctx, os.path.join(E2E, "json_source.yaml"))
    data = os.path.join(ctx.tmp, "in.jsonl")
    exp, dead = [], {}
    with open(data, "wb") as f:
        line = 1
        for i in range(max(len(JSON_GOOD), len(JSON_BAD))):
            if i < len(JSON_GOOD):
                f.write(JSON_GOOD[i][0].encode() + b"\n")
                exp.append((JSON_GOOD[i][0][:40], JSON_GOOD[i][1]))
                line += 1
            if i < len(JSON_BAD):
                f.write(JSON_BAD[i].encode() + (b"\r\n" if i % 2 else b"\n"))
                dead[line] = "parse"
                line += 1
        f.write(b"\n")            # a blank line at the end is skipped
        f.write(b'{"id": 24, "name": "bad \xff utf8"}\n')
        dead[line + 1] = "parse"
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    compare_rows("json.jsonl", read_jsonl(os.path.join(out, "json.jsonl"), pairs=True), exp, JSON_COLS, "json")
    check_dead_letter(os.path.join(out, "json.dead.jsonl"), "e2e_json_source", data, dead)
    assert counts == {"in": len(exp) + len(dead), "out": len(exp), "dead": len(dead), "dropped": 0}, counts


DBZ_COLS = [("order_id", "int"), ("status", "string"), ("amount", "float"), ("city", "string"),
            ("updated_at", "timestamp"), ("_op", "string"), ("_lsn", "int"), ("_ts", "timestamp")]


def _debezium_events(rng, n):
    """n random Debezium-shaped lines for tests/e2e/debezium.yaml (the PostgreSQL connector's
    envelope: before, after, source.lsn, op, ts_ms; half of them in the JSON converter's
    schema/payload wrapper) with what each must become: ("row", values), ("dropped",) for
    tombstones, or ("dead", reason)."""
    out = []
    for i in range(n):
        key = i // 3
        row = {"order_id": key, "status": rng.choice(["new", "paid", "shipped"]),
               "amount": round(rng.uniform(0, 500), 2), "address": {"city": rng.choice(["Oslo", "K\u00f8ge", None])},
               "updated_at": 1700000000000000 + i * 1000}
        if rng.random() < 0.2:
            del row["address"]
        lsn, ts = 24000000 + 8 * i, 1700000000000 + i
        kind = rng.choices(["c", "u", "d", "r", "tomb", "wrapped_null", "t", "x", "no_op", "no_after", "bad_type", "bad_enum"],
                           [30, 25, 15, 10, 5, 3, 2, 2, 2, 2, 2, 2])[0]
        ev = {"before": None, "after": None, "source": {"version": "2.5.0.Final", "connector": "postgresql",
              "name": "oltp", "table": "orders", "lsn": lsn, "snapshot": "false"}, "op": kind, "ts_ms": ts}
        city = (row.get("address") or {}).get("city")
        exp_row = (row["order_id"], row["status"], row["amount"], city, row["updated_at"], kind, lsn, ts * 1000)
        if kind in ("c", "r"):
            ev["after"] = row
            want = ("row", exp_row)
        elif kind == "u":
            ev["before"], ev["after"] = dict(row, status="new"), row
            want = ("row", exp_row)
        elif kind == "d":
            ev["before"] = {"order_id": key, "status": None, "amount": None, "updated_at": None}
            if rng.random() < 0.5:
                del ev["source"]["lsn"]
                lsn = None
            want = ("row", (key, None, None, None, None, "d", lsn, ts * 1000))
        elif kind == "tomb":
            out.append(("", ("dropped",)))
            continue
        elif kind == "wrapped_null":
            out.append(('{"schema": null, "payload": null}', ("dropped",)))
            continue
        elif kind in ("t", "x"):
            want = ("dead", "schema")
        elif kind == "no_op":
            ev["after"] = row
            del ev["op"]
            want = ("dead", "parse")
        elif kind == "no_after":
            ev["op"] = "c"
            want = ("dead", "parse")
        elif kind == "bad_type":
            ev["op"], ev["after"] = "c", dict(row, amount="12.5")
            want = ("dead", "parse")
        else:
            ev["op"], ev["after"] = "c", dict(row, status="lost")
            want = ("dead", "schema")
        if rng.random() < 0.5:
            ev = {"schema": {"type": "struct", "fields": [{"type": "struct", "field": "before", "optional": True}],
                             "optional": False, "name": "oltp.public.orders.Envelope"}, "payload": ev}
        text = json.dumps(ev, ensure_ascii=rng.random() < 0.5)
        out.append((text, want))
    return out


def test_debezium_source(ctx):
    """Debezium change events (format debezium) from a JSON-lines file: the row comes from
    `after`, from `before` for deletes, under `payload` or not; _op, _lsn, _ts from the envelope;
    tombstones (blank lines are skipped, so {"schema": null, "payload": null} stands for them in
    a file) are dropped and counted; truncates, unknown ops and malformed events reach the dead
    letter with their line."""
    import random
    binary = build(ctx, os.path.join(E2E, "debezium.yaml"))
    events = _debezium_events(random.Random(7), 3000)
    data = os.path.join(ctx.tmp, "changes.jsonl")
    exp, dead, dropped, line = [], {}, 0, 0
    with open(data, "w", encoding="utf-8") as f:
        for text, want in events:
            if text == "":        # a blank line: skipped by the reader, not a record
                continue
            f.write(text + "\n")
            line += 1
            if want[0] == "row":
                exp.append((text[:40], want[1]))
            elif want[0] == "dead":
                dead[line] = want[1]
            else:
                dropped += 1
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    compare_rows("changes.jsonl", read_jsonl(os.path.join(out, "changes.jsonl"), pairs=True), exp, DBZ_COLS, "json")
    check_dead_letter(os.path.join(out, "changes.dead.jsonl"), "e2e_debezium", data, dead)
    assert counts == {"in": line, "out": len(exp), "dead": len(dead), "dropped": dropped}, counts
    assert dropped > 20 and len(dead) > 100 and len(exp) > 2000, (dropped, len(dead), len(exp))


def test_random_strings_round_trip(ctx):
    """Random strings (quotes, delimiters, CR, LF, NUL and other controls, BOMs, U+2028, astral
    characters, leading/trailing spaces) go through CSV in and JSON-lines and CSV out unchanged."""
    import random
    rng = random.Random(123)
    alphabet = (list('",\r\n \t\\\x00\x01\x1f\x7f') + ["\ufeff", "\u2028", "\u00e9", "\u65e5",
                "\U0001F600", "\u0085", "\ud7ff", "\ue000", "\uffff"] + list("abcXYZ019'-;"))
    names = ["\ufeff" + "starts with a BOM"]
    for i in range(3000):
        n = rng.choice([0, 1, 2, 3, 5, 8, 20, 100])
        names.append("".join(rng.choice(alphabet) for _ in range(n)))
    binary = build(ctx, os.path.join(E2E, "encoding.yaml"))
    data = os.path.join(ctx.tmp, "strings.csv")
    with open(data, "w", encoding="utf-8", newline="") as f:
        f.write("name,x,t,n\n")
        for i, s in enumerate(names):
            f.write('"' + s.replace('"', '""') + '",%d,,\n' % i)
    out = os.path.join(ctx.tmp, "out")
    os.makedirs(out)
    p = run_ok(binary, {"INPUT": data, "OUT": out})
    counts = summary(p)
    assert counts == {"in": len(names), "out": len(names), "dead": 0, "dropped": 0}, counts
    exp = [(repr(s)[:60], (s, float(i), None, None, i + 0.2, i / 2)) for i, s in enumerate(names)]
    compare_rows("enc.jsonl", read_jsonl(os.path.join(out, "enc.jsonl"), pairs=True), exp, ENC_COLS, "json")
    header, recs = read_csv(os.path.join(out, "enc.csv"))
    compare_rows("enc.csv", recs, exp, ENC_COLS, "csv")


def _file_source_restarts(ctx, sig, seed):
    """events.yaml with a checkpoint, on one file: stopped by `sig` at random moments and restarted
    until a run ends by itself. The sinks then hold every result exactly once, in order; one more
    run reads nothing and changes nothing."""
    import random
    rng = random.Random(seed)
    binary = build(ctx, os.path.join(E2E, "events_ckpt.yaml"))
    data = os.path.join(ctx.tmp, "events.csv")
    rows = gen.generate(data, 200000, seed=seed)
    out, state = os.path.join(ctx.tmp, "out"), os.path.join(ctx.tmp, "state")
    env = {"INPUT": data, "OUT": out, "STATE": state}
    e = {k: v for k, v in os.environ.items() if k not in ENV_VARS + ("STATE",)}
    e.update(env)
    stops = 0
    for attempt in range(30):
        proc = subprocess.Popen([binary], env=e, cwd=ctx.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if sig != signal.SIGKILL:
            wait_handler(proc)
        time.sleep(rng.uniform(0.005, 0.06))
        stopped = proc.poll() is None
        if stopped:
            proc.send_signal(sig)
            stops += 1
        _, err = proc.communicate(timeout=60)
        ok_rc = (0, -9) if sig == signal.SIGKILL else (0,)
        assert proc.returncode in ok_rc, "run %d: exit %r\n%s" % (attempt, proc.returncode, err.decode("utf-8", "replace"))
        if proc.returncode == 0:
            summary(subprocess.CompletedProcess([], 0, b"", err))
        if not stopped:
            break
    else:
        summary(run_ok(binary, env, cwd=ctx.tmp))       # then a run to the end
    assert stops > 0, "no run was stopped: the test proved nothing"
    sink, purchases, dead, dropped = events_expect(rows)
    what = " after %d stops by signal %d" % (stops, sig)
    compare_jsonl("events.jsonl" + what, os.path.join(out, "events.jsonl"), sink, EVENTS_SINK_COLS)
    header, recs = read_csv(os.path.join(out, "purchases.csv"))
    assert header == [c for c, _ in PURCHASES_COLS], header
    compare_rows("purchases.csv" + what, recs, purchases, PURCHASES_COLS, "csv")
    check_dead_letter(os.path.join(out, "dead.jsonl"), "e2e_events_ckpt", data, dead, {r.line: r for r in rows})
    sizes = {n: os.path.getsize(os.path.join(out, n)) for n in os.listdir(out)}
    p = run_ok(binary, env, cwd=ctx.tmp)
    assert summary(p)["in"] == 0, "a finished file was read again: %r" % summary(p)
    assert sizes == {n: os.path.getsize(os.path.join(out, n)) for n in os.listdir(out)}, "outputs changed"


def test_file_source_sigterm_restart_exactly_once(ctx):
    _file_source_restarts(ctx, signal.SIGTERM, 91)


def test_file_source_kill9_restart_exactly_once(ctx):
    _file_source_restarts(ctx, signal.SIGKILL, 92)
