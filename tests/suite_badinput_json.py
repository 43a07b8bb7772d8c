"""suite_badinput_json.py - the bad-input corpus of the JSON decoder, through
tests/e2e/json_badinput.yaml (a field of every kind, a nested path, an enum, a derived float).

One file holds every kind of line below, after a byte-order mark, with CRLF and blank lines at
the end. One run of the pipeline (sanitized under --san), then per group of kinds: each line
ends in the sink with the expected values or in the dead letter exactly once, at PATH:LINE, with
the expected reason and a detail naming the defect; the dead letter's raw is the line (a prefix
for one longer than max_record; raw_base64 when it is not UTF-8); every output line is UTF-8 and
JSON without NaN or infinity tokens; in = out + dead + dropped.
"""
import base64
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import suite_e2e as e2e  # noqa: E402

SPEC = os.path.join(HERE, "e2e", "json_badinput.yaml")
NULLS = {"n32": None, "name": None, "city": None, "ok": None, "score": None, "day": None, "at": None,
         "kind": None, "scaled": None}


def row(**values):
    """What the sink holds for a line: the given fields, NULL elsewhere."""
    return dict(NULLS, **values)


def out(**values):
    return ("out", row(**values))


def dead(reason, detail):
    return ("dead", reason, detail)


DEEP = 100000
# (kind, line, fate); the line number is its place in this list, plus one
CASES = [
    ("all fields", b'{"id":1,"n32":7,"name":"x","address":{"city":"Bonn"},"ok":true,"score":1.5,'
                   b'"day":"2024-05-01","at":"2024-05-01T10:00:00Z","kind":"a"}',
     out(id=1, n32=7, name="x", city="Bonn", ok=True, score=1.5, day="2024-05-01", at="2024-05-01T10:00:00Z",
         kind="a", scaled=1.5e308)),
    # numbers
    ("integer as a string", b'{"id":"12"}', dead("parse", "field 'id': expected a number, got a string")),
    ("fraction for an integer", b'{"id":1.5}', dead("parse", "'1.5' is not a valid int64")),
    ("exponent for an integer", b'{"id":1e3}', dead("parse", "'1e3' is not a valid int64")),
    ("int64 overflow", b'{"id":9223372036854775808}', dead("parse", "'9223372036854775808' is not a valid int64")),
    ("int64 minimum", b'{"id":-9223372036854775808}', out(id=-9223372036854775808)),
    ("int32 overflow", b'{"id":1,"n32":2147483648}', dead("parse", "field 'n32': '2147483648' is not a valid int32")),
    ("NaN token", b'{"id":1,"score":NaN}', dead("parse", "unexpected character at byte 16")),
    ("Infinity token", b'{"id":1,"score":Infinity}', dead("parse", "unexpected character at byte 16")),
    ("float64 overflow", b'{"id":1,"score":1e400}', dead("parse", "field 'score': '1e400' is not a valid float64")),
    ("float64 underflow", b'{"id":1,"score":1e-400}', out(id=1, score=0, scaled=0)),
    ("negative zero", b'{"id":1,"score":-0.0}', out(id=1, score=0, scaled=0)),
    ("derived float overflow is NULL", b'{"id":1,"score":1e300}', out(id=1, score=1e300, scaled=None)),
    ("leading zero", b'{"id":01}', dead("parse", "expected ',' or '}' at byte 7")),
    ("plus sign", b'{"id":+1}', dead("parse", "unexpected character at byte 6")),
    ("hexadecimal", b'{"id":0x10}', dead("parse", "expected ',' or '}' at byte 7")),
    # strings and text
    ("invalid UTF-8", b'{"id":1,"name":"\xff\xfe"}', dead("parse", "invalid UTF-8 in string at byte 16")),
    ("overlong UTF-8", b'{"id":1,"name":"\xc0\xaf"}', dead("parse", "invalid UTF-8 in string at byte 16")),
    ("lone surrogate escape", b'{"id":1,"name":"\\ud800"}', dead("parse", "lone surrogate at byte 16")),
    ("escaped NUL", b'{"id":1,"name":"a\\u0000b"}', out(id=1, name="a\x00b")),
    ("raw tab in a string", b'{"id":1,"name":"a\tb"}', dead("parse", "control character in string at byte 17")),
    ("raw control character", b'{"id":1,"name":"a\x01b"}', dead("parse", "control character in string at byte 17")),
    ("raw NUL byte", b'{"id":1,"name":"a\x00b"}', dead("parse", "control character in string at byte 17")),
    ("escapes and a surrogate pair", b'{"id":1,"name":"\\u00e9\\ud83d\\ude00"}', out(id=1, name="\u00e9\U0001F600")),
    ("escaped key", b'{"i\\u0064":5}', out(id=5)),
    ("escaped newline in an unknown key", b'{"id":1,"na\\nme":"x"}', out(id=1)),
    ("enum value not listed", b'{"id":1,"kind":"c"}', dead("schema", "field 'kind': 'c' is not one of a, b")),
    ("4 MiB field", b'{"id":1,"name":"' + b"x" * (4 << 20) + b'"}',
     dead("parse", "record of 4194322 bytes is longer than max_record (1048576)")),
    # structure
    ("duplicate key", b'{"id":1,"id":2}', dead("parse", "duplicate key 'id'")),
    ("deep nesting", b'{"id":1,"x":' + b"[" * DEEP + b"]" * DEEP + b"}", dead("parse", "nesting deeper than 64")),
    ("deep nesting, unterminated", b'{"id":1,"x":' + b"[" * DEEP + b"}", dead("parse", "nesting deeper than 64")),
    ("object for a string", b'{"id":1,"address":{"city":{"a":1}}}', dead("parse", "field 'city': expected a string, got an object")),
    ("string where the path needs an object", b'{"id":1,"address":"Bonn"}', out(id=1)),
    ("null where the path needs an object", b'{"id":1,"address":null}', out(id=1)),
    ("truncated object", b'{"id": 1,', dead("parse", "expected string key at byte 9")),
    ("trailing characters", b'{"id":1} x', dead("parse", "trailing characters after the object at byte 9")),
    ("array", b"[1,2]", dead("parse", "not a JSON object")),
    ("number", b"42", dead("parse", "not a JSON object")),
    ("null", b"null", dead("parse", "not a JSON object")),
    ("empty object", b"{}", dead("parse", "field 'id' is missing")),
    ("single quotes", b"{'id':1}", dead("parse", "expected string key at byte 1")),
    ("comment", b'{"id":1 /* c */}', dead("parse", "expected ',' or '}' at byte 8")),
    ("whitespace around", b'   {"id" : 1 }   ', out(id=1)),
    # other types
    ("bool as a string", b'{"id":1,"ok":"true"}', dead("parse", "field 'ok': expected true or false, got a string")),
    ("bool as a number", b'{"id":1,"ok":1}', dead("parse", "field 'ok': expected true or false, got a number")),
    ("February 30", b'{"id":1,"at":"2024-02-30T00:00:00Z"}', dead("parse", "'2024-02-30T00:00:00Z' is not a valid timestamp")),
    ("offset out of range", b'{"id":1,"at":"2024-05-01T10:00:00+25:00"}', dead("parse", "is not a valid timestamp")),
    ("hour 24", b'{"id":1,"at":"2024-05-01T24:00:01Z"}', dead("parse", "'2024-05-01T24:00:01Z' is not a valid timestamp")),
    ("month 13", b'{"id":1,"day":"2024-13-01"}', dead("parse", "field 'day': '2024-13-01' is not a valid date")),
    ("offset converted to UTC", b'{"id":1,"at":"2024-05-01T12:00:00+02:00"}', out(id=1, at="2024-05-01T10:00:00Z")),
]
GROUPS = {
    "numbers": (1, 16),
    "strings": (16, 28),
    "structure": (28, 43),
    "types": (43, len(CASES)),
}
_run = {}


def _data():
    """The input: a BOM, the cases one per line, then CRLF, two blank lines and a last record."""
    return b"\xef\xbb\xbf" + b"\n".join(c[1] for c in CASES) + b'\r\n\n\n{"id":99}\r\n'


def _result(ctx):
    """Runs the pipeline once per build (plain or sanitized); returns (sink rows, dead by line)."""
    key = (ctx.pipec, ctx.san)
    if key in _run:
        return _run[key]
    binary = ctx.build_pipeline(SPEC)
    path = os.path.join(ctx.tmp, "in.jsonl")
    with open(path, "wb") as f:
        f.write(_data())
    outdir = os.path.join(ctx.tmp, "out")
    os.makedirs(outdir)
    p = e2e.run_ok(binary, {"INPUT": path, "OUT": outdir}, cwd=ctx.tmp)
    counts = e2e.summary(p)
    nout = sum(1 for c in CASES if c[2][0] == "out") + 1
    assert counts == {"in": len(CASES) + 1, "out": nout, "dead": len(CASES) + 1 - nout, "dropped": 0}, counts
    rows, by_line = [], {}
    for name, target in (("out.jsonl", rows), ("dead.jsonl", by_line)):
        with open(os.path.join(outdir, name), "rb") as f:
            for line in f:
                text = line.decode("utf-8")   # raises on anything not UTF-8
                assert not re.search(r"\b(NaN|-?Infinity)\b", text) or name == "dead.jsonl", text
                v = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(AssertionError(c)))
                if name == "out.jsonl":
                    rows.append(v)
                else:
                    m = re.fullmatch(re.escape(path) + r":(\d+)", v["position"])
                    assert m, v["position"]
                    assert int(m.group(1)) not in by_line, "line %s twice in the dead letter" % m.group(1)
                    by_line[int(m.group(1))] = v
    assert rows[-1] == row(id=99), rows[-1]
    _run[key] = (rows, by_line)
    return _run[key]


def _check(ctx, group):
    rows, by_line = _result(ctx)
    sink = iter(rows)
    lo, hi = GROUPS[group]
    # the sink rows of the lines before this group come first
    for _ in range(sum(1 for c in CASES[:lo] if c[2][0] == "out")):
        next(sink)
    for i in range(lo, hi):
        kind, line, fate = CASES[i]
        n = i + 1
        if fate[0] == "out":
            assert n not in by_line, "%s (line %d) is in the dead letter: %r" % (kind, n, by_line[n])
            got = next(sink)
            assert got == fate[1], "%s (line %d): %r, expected %r" % (kind, n, got, fate[1])
            continue
        d = by_line.get(n)
        assert d, "%s (line %d) is not in the dead letter" % (kind, n)
        assert d["reason"] == fate[1] and fate[2] in d["detail"], "%s (line %d): %r" % (kind, n, d)
        raw = line
        if "raw_base64" in d:
            assert base64.b64decode(d["raw_base64"]) == raw, kind
        elif len(raw) > 1 << 20:
            assert raw.decode().startswith(d["raw"]) and len(d["raw"]) >= 1000, kind
        else:
            assert d["raw"].encode("utf-8") == raw, (kind, d["raw"][:100])


def test_json_numbers(ctx):
    _check(ctx, "numbers")


def test_json_strings(ctx):
    _check(ctx, "strings")


def test_json_structure(ctx):
    _check(ctx, "structure")


def test_json_types_and_times(ctx):
    _check(ctx, "types")
