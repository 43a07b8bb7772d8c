#!/usr/bin/python3
"""gen_events.py - a deterministic generator of shop-event CSV files with known defects.

The file has the header of pipelines/quickstart.yaml and pipelines/user_activity.yaml
(event_id,event_time,user_id,event_type,product_id,price,quantity), a UTF-8 BOM, and rows of
which about `bad_rate` are bad in every way we know (each kind round-robin, so every kind
appears once there are enough bad rows) and about `odd_rate` are good but awkward (quoted
fields with commas, quotes and newlines, NUL bytes, NULL quantity, timestamp offsets and
fractions, extreme integers, odd float spellings, Unicode). Blank lines and CRLF line ends are
sprinkled in; optionally one record longer than 1 MiB and, as the very last record, one with an
unterminated quote.

Expectations are computed here, independently of pipec, from the values the generator chose
(not by parsing its own text): each good row's parsed values, each bad row's 1-based line number
and reason. Parse-level reasons (`parse`, `schema`) depend only on the schema; rule reasons
depend on the spec, so rows that parse carry their values and `expected_reason(row, rules)`
applies a spec's rules in spec order (SQL CHECK semantics: NULL passes).

Importable (tests/suite_*.py, bench/run.py) and runnable:
    gen_events.py --rows N [--seed S] [--bad-rate R] [--huge] [--no-unterminated] [--no-bom]
                  [--expect] -o FILE
--expect also writes FILE.good.jsonl (one parsed good row per line, timestamps in microseconds)
and FILE.bad.jsonl ({line, reason, kind} per bad row, with the quickstart rules applied).
"""
import argparse
import datetime
import gc
import json
import random
import sys

HEADER = ["event_id", "event_time", "user_id", "event_type", "product_id", "price", "quantity"]
FIELD_TYPES = ["string", "timestamp", "int64", "string", "int64", "float64", "int32"]
EVENT_TYPES = ("view", "cart", "purchase")

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1

# Bad kinds and the reason the schema alone gives them (rule kinds: the quickstart rule).
BAD_KINDS = [
    ("bad_number", "parse"),
    ("bad_timestamp", "parse"),
    ("impossible_date", "parse"),
    ("int_out_of_range", "parse"),
    ("too_few_columns", "parse"),
    ("too_many_columns", "parse"),
    ("invalid_utf8", "parse"),
    ("missing_value", "parse"),
    ("float_nonfinite", "parse"),
    ("bad_quoting", "parse"),
    ("unknown_event_type", "schema"),
    ("negative_price", None),        # parses; the rule price_not_negative rejects it
]
GOOD_ODD_KINDS = [
    "quoted_comma", "quoted_quote", "quoted_newline", "quoted_all", "nul_in_string",
    "null_quantity", "empty_quoted_id", "ts_offset", "ts_fraction", "int_extremes",
    "float_forms", "unicode", "zero_quantity", "crlf_in_quotes",
]
EPOCH_2024 = 1704067200           # 2024-01-01T00:00:00Z
MAX_RECORD = 1 << 20              # records longer than this are `parse` errors

INVALID_UTF8 = [b"\x80", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff",
                b"\xe2\x82", b"\xfe\xfe"]


class Row:
    """One record of the file. `raw` is its bytes without the line terminator; `line` the 1-based
    line of its first line. Good rows (parse_reason None) carry `values`: a tuple in HEADER order
    of str / int (timestamps: int microseconds since the epoch, UTC) / float / None."""
    __slots__ = ("line", "kind", "raw", "parse_reason", "field", "values", "nlines")

    def __init__(self, kind, raw, parse_reason, field, values):
        self.kind, self.raw, self.parse_reason, self.field, self.values = (
            kind, raw, parse_reason, field, values)
        self.line = 0
        self.nlines = 1 + raw.count(b"\n")

    def __repr__(self):
        return "Row(line=%d, kind=%s, reason=%s, raw=%r)" % (
            self.line, self.kind, self.parse_reason, self.raw[:120])


def csv_quote(s):
    return '"' + s.replace('"', '""') + '"'


_DAY_TEXT = {}


def fmt_ts(secs, frac_us=0, offset_min=0):
    """RFC 3339 text for a UTC instant, shown in the given offset (minutes)."""
    if not frac_us and not offset_min:       # the fast path of plain rows
        days, rem = divmod(secs, 86400)
        d = _DAY_TEXT.get(days)
        if d is None:
            d = _DAY_TEXT[days] = (datetime.date(1970, 1, 1) + datetime.timedelta(days=days)).isoformat()
        return "%sT%02d:%02d:%02dZ" % (d, rem // 3600, rem // 60 % 60, rem % 60)
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=secs + offset_min * 60)
    s = "%04d-%02d-%02dT%02d:%02d:%02d" % (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)
    if frac_us:
        s += ("." + "%06d" % frac_us).rstrip("0")
    if offset_min == 0:
        return s + "Z"
    sign = "+" if offset_min > 0 else "-"
    o = abs(offset_min)
    return s + "%s%02d:%02d" % (sign, o // 60, o % 60)


class Generator:
    def __init__(self, rows, seed=1, bad_rate=0.03, odd_rate=0.03, blank_rate=0.004,
                 crlf_rate=0.02, huge=False, unterminated=True, bom=True, bad_kinds=None,
                 prefix="e"):
        self.nrows = rows
        self.prefix = prefix
        self.seed = seed
        self.bad_rate = bad_rate
        self.odd_rate = odd_rate
        self.blank_rate = blank_rate
        self.crlf_rate = crlf_rate
        self.huge = huge
        self.unterminated = unterminated
        self.bom = bom
        self.bad_kinds = [k for k in BAD_KINDS if bad_kinds is None or k[0] in bad_kinds]

    # -- rows ------------------------------------------------------------------------------
    def _base(self, rng, i):
        rnd = rng.random
        secs = EPOCH_2024 + int(rnd() * (366 * 86400))
        r = rnd()
        etype = "view" if r < 0.6 else ("cart" if r < 0.85 else "purchase")
        cents = int(rnd() * 100000)
        return {
            "event_id": "%s%d" % (self.prefix, i),
            "secs": secs, "frac": 0, "offset": 0,
            "user_id": 1 + int(rnd() * 99999),
            "event_type": etype,
            "product_id": 1 + int(rnd() * 4999),
            "price_text": "%d.%02d" % (cents // 100, cents % 100),
            "quantity": 1 + int(rnd() * 5),
        }

    def _texts(self, b):
        qty = b["quantity"]
        return [
            b.get("event_id_text", b["event_id"]),
            b.get("time_text") or fmt_ts(b["secs"], b["frac"], b["offset"]),
            str(b["user_id"]),
            b["event_type"],
            str(b["product_id"]),
            b["price_text"],
            "" if qty is None else str(qty),
        ]

    @staticmethod
    def _values(b):
        return (b["event_id"], b["secs"] * 1000000 + b["frac"], b["user_id"], b["event_type"],
                b["product_id"], float(b["price_text"]), b["quantity"])

    def _good(self, rng, i, kind):
        b = self._base(rng, i)
        texts = None
        if kind == "quoted_comma":
            b["event_id"] = "e%d,with,commas" % i
            b["event_id_text"] = csv_quote(b["event_id"])
        elif kind == "quoted_quote":
            b["event_id"] = 'e%d "quoted" \'x\'' % i
            b["event_id_text"] = csv_quote(b["event_id"])
        elif kind == "quoted_newline":
            b["event_id"] = 'e%d\nsecond, "line"\n' % i
            b["event_id_text"] = csv_quote(b["event_id"])
        elif kind == "crlf_in_quotes":
            b["event_id"] = "e%d\r\nafter crlf" % i
            b["event_id_text"] = csv_quote(b["event_id"])
        elif kind == "quoted_all":
            texts = [csv_quote(t) for t in self._texts(b)]
        elif kind == "nul_in_string":
            b["event_id"] = "e%d\x00nul" % i
            b["event_id_text"] = b["event_id"]
        elif kind == "null_quantity":
            b["quantity"] = None
        elif kind == "empty_quoted_id":
            b["event_id"] = ""
            b["event_id_text"] = '""'
        elif kind == "ts_offset":
            b["offset"] = rng.choice([120, -300, 330, -570, 840, -720, 1])
        elif kind == "ts_fraction":
            b["frac"] = rng.choice([500000, 123456, 1, 100000, 999999, 10])
            if rng.random() < 0.3:
                b["secs"] = -rng.randrange(1, 86400 * 400)      # before 1970
            if rng.random() < 0.3:
                b["offset"] = rng.choice([60, -60])
        elif kind == "int_extremes":
            b["user_id"] = rng.choice([INT64_MAX, INT64_MIN, 0, -1])
            b["product_id"] = rng.choice([INT64_MAX, INT64_MIN, 1])
            b["quantity"] = rng.choice([INT32_MAX, INT32_MIN, -1])
        elif kind == "float_forms":
            b["price_text"] = rng.choice(["0.1", "1e3", "1E2", "-0.0", "-0", "5e-324", "100",
                                          "3.141592653589793", "2.5e-3", "0", "1e21",
                                          "123456789.123456789", "1.7976931348623157e308",
                                          "0.30000000000000004", "7"])
            if b["price_text"].startswith("1.79"):
                b["quantity"] = 1      # keep revenue finite
        elif kind == "unicode":
            b["event_id"] = "e%d-\u00e9\u65e5\u672c\U0001F600" % i
            b["event_id_text"] = b["event_id"]
        elif kind == "zero_quantity":
            b["quantity"] = 0
        if texts is None:
            texts = self._texts(b)
        raw = ",".join(texts).encode("utf-8")
        return Row(kind, raw, None, None, self._values(b))

    def _bad(self, rng, i, kind, reason):
        b = self._base(rng, i)
        texts = self._texts(b)
        field = None
        raw = None
        if kind == "bad_number":
            col = rng.choice([2, 4, 5, 6])
            texts[col] = rng.choice({2: ["12a", "1.5", "--3", "0x10", "1e3", "abc"],
                                     4: ["x9", "7.0", "#1", "1 2"],
                                     5: ["1.2.3", "$5", "12e", "--1", "1e", "abc", "."],
                                     6: ["two", "1.0", "3x", "+-1"]}[col])
            field = HEADER[col]
        elif kind == "bad_timestamp":
            texts[1] = rng.choice(["yesterday", "2024/05/01 10:00:00", "2024-05-01T10:00:00ZZ",
                                   "1714557600", "2024-05-01T10:00:00+25:00", "T10:00:00Z",
                                   "2024-05-01X10:00:00Z", "2024-05-01T10:00:00 Z"])
            field = "event_time"
        elif kind == "impossible_date":
            texts[1] = rng.choice(["2024-02-30T10:00:00Z", "2023-02-29T10:00:00Z",
                                   "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z",
                                   "2024-00-10T00:00:00Z", "2024-05-00T00:00:00Z",
                                   "2024-05-01T25:00:00Z", "2024-05-01T10:61:00Z"])
            field = "event_time"
        elif kind == "int_out_of_range":
            col = rng.choice([2, 4, 6])
            texts[col] = rng.choice({2: ["9223372036854775808", "-9223372036854775809",
                                         "99999999999999999999"],
                                     4: ["18446744073709551616", "9223372036854775808"],
                                     6: ["2147483648", "-2147483649", "4294967296"]}[col])
            field = HEADER[col]
        elif kind == "too_few_columns":
            texts = texts[:rng.choice([1, 3, 5, 6])]
        elif kind == "too_many_columns":
            texts = texts + ["extra"] * rng.choice([1, 2, 5])
        elif kind == "invalid_utf8":
            field = "event_id"
            raw = (b"e%d" % i + rng.choice(INVALID_UTF8) + b"x," +
                   ",".join(texts[1:]).encode())
        elif kind == "missing_value":
            col = rng.choice([1, 2, 3, 4, 5])
            texts[col] = ""
            field = HEADER[col]
        elif kind == "float_nonfinite":
            texts[5] = rng.choice(["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e400"])
            field = "price"
        elif kind == "bad_quoting":
            texts[0] = rng.choice(['"e%d"x' % i, '"e%d" ' % i])
        elif kind == "unknown_event_type":
            texts[3] = rng.choice(["teleport", "refund", "VIEW", "Purchase"])
            field = "event_type"
        elif kind == "negative_price":
            cents = rng.randrange(1, 100000)
            b["price_text"] = "-%d.%02d" % (cents // 100, cents % 100)
            texts = self._texts(b)
            return Row(kind, ",".join(texts).encode(), None, None, self._values(b))
        if raw is None:
            raw = ",".join(texts).encode("utf-8")
        return Row(kind, raw, reason, field, None)

    def rows(self):
        """All records in file order (huge and unterminated included), lines not yet set."""
        return list(self.iter_rows())

    def iter_rows(self):
        rng = random.Random(self.seed)
        nbad = nodd = 0
        huge_at = rng.randrange(self.nrows // 4, max(self.nrows // 4 + 1, self.nrows // 2)) \
            if self.huge else -1
        last = self.nrows - 1 if self.unterminated else -1
        for i in range(self.nrows):
            if i == huge_at:
                b = self._base(rng, i)
                t = self._texts(b)
                t[0] = "h%d-" % i + "x" * (MAX_RECORD + 1000)
                yield Row("huge_line", ",".join(t).encode(), "parse", None, None)
                continue
            if i == last:
                b = self._base(rng, i)
                t = self._texts(b)
                t[1] = '"' + t[1]      # opens a quote that never closes
                yield Row("unterminated_quote", ",".join(t).encode(), "parse", None, None)
                continue
            r = rng.random()
            if r < self.bad_rate and self.bad_kinds:
                kind, reason = self.bad_kinds[nbad % len(self.bad_kinds)]
                nbad += 1
                yield self._bad(rng, i, kind, reason)
            elif r < self.bad_rate + self.odd_rate:
                kind = GOOD_ODD_KINDS[nodd % len(GOOD_ODD_KINDS)]
                nodd += 1
                yield self._good(rng, i, kind)
            else:
                yield self._good(rng, i, "plain")

    def write(self, path, keep=True):
        """Writes the file; returns the rows with their line numbers set (keep=True), or the
        number of records and of rows the quickstart rules send to the dead letter (keep=False,
        for files too big to hold: nothing is kept)."""
        rng = random.Random(self.seed * 7919 + 13)
        gc_was = gc.isenabled()
        gc.disable()        # millions of small objects, no cycles: the collector only costs time
        rows, nrec, ndead = [], 0, 0
        try:
            with open(path, "wb") as f:
                chunks = [b"\xef\xbb\xbf"] if self.bom else []
                chunks.append(",".join(HEADER).encode() + b"\n")
                line = 2
                for row in self.iter_rows():
                    if nrec and rng.random() < self.blank_rate:
                        k = rng.choice([1, 1, 2])
                        for _ in range(k):
                            chunks.append(b"\r\n" if rng.random() < 0.5 else b"\n")
                        line += k
                    row.line = line
                    chunks.append(row.raw)
                    if row.kind == "unterminated_quote":
                        chunks.append(b"\n")        # inside the open quote: part of the record
                    else:
                        chunks.append(b"\r\n" if rng.random() < self.crlf_rate else b"\n")
                    line += row.nlines
                    nrec += 1
                    if keep:
                        rows.append(row)
                    elif expected_reason(row):
                        ndead += 1
                    if len(chunks) >= 65536:
                        f.write(b"".join(chunks))
                        chunks = []
                f.write(b"".join(chunks))
        finally:
            if gc_was:
                gc.enable()
        return rows if keep else (nrec, ndead)


# -- expectations ---------------------------------------------------------------------------
QUICKSTART_RULES = [("price_not_negative", lambda v: v[5] >= 0)]


def expected_reason(row, rules=QUICKSTART_RULES):
    """The dead-letter reason of a row under a spec's rules, or None when it passes.
    Each rule is (name, fn(values) -> True/False/None); None (NULL) passes."""
    if row.parse_reason:
        return row.parse_reason
    if len(row.raw) > MAX_RECORD:
        return "parse"
    for name, fn in rules:
        if fn(row.values) is False:
            return name
    return None


def generate(path, rows, **kw):
    """Convenience: writes the file and returns the rows."""
    return Generator(rows, **kw).write(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bad-rate", type=float, default=0.03)
    ap.add_argument("--odd-rate", type=float, default=0.03)
    ap.add_argument("--huge", action="store_true", help="include one record > 1 MiB")
    ap.add_argument("--no-unterminated", action="store_true")
    ap.add_argument("--no-bom", action="store_true")
    ap.add_argument("--expect", action="store_true", help="write FILE.good.jsonl and FILE.bad.jsonl")
    ap.add_argument("-o", "--out", required=True)
    a = ap.parse_args()
    g = Generator(a.rows, seed=a.seed, bad_rate=a.bad_rate, odd_rate=a.odd_rate, huge=a.huge,
                  unterminated=not a.no_unterminated, bom=not a.no_bom)
    rows = g.write(a.out)
    nbad = 0
    if a.expect:
        with open(a.out + ".good.jsonl", "w") as good, open(a.out + ".bad.jsonl", "w") as bad:
            for row in rows:
                reason = expected_reason(row)
                if reason:
                    nbad += 1
                    bad.write(json.dumps({"line": row.line, "reason": reason, "kind": row.kind}) + "\n")
                else:
                    good.write(json.dumps(dict(zip(HEADER, row.values))) + "\n")
    else:
        nbad = sum(1 for row in rows if expected_reason(row))
    print("%s: %d records, %d expected dead" % (a.out, len(rows), nbad), file=sys.stderr)


if __name__ == "__main__":
    main()
