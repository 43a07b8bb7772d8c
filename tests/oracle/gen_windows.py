#!/usr/bin/python3
"""gen_windows.py - deterministic event CSVs for the window oracle tests (tests/suite_oracle.py).

    /usr/bin/python3 tests/oracle/gen_windows.py PROFILE [--seed N] [-o FILE]

Each row is one event; the columns are

    n      int64   arrival index: 0, 1, 2, ... in file order (the oracle's arrival order)
    id     string  unique, e000000 ...
    at     timestamp  RFC 3339 UTC, whole seconds or with milli/microseconds
    grp    string  nullable group key (a few values, one of them non-ASCII)
    shard  int32   nullable group key
    price  float64 nullable; a few negative ones (the specs' rule rejects them)
    qty    int32   nullable
    big    int64   nullable, large enough that sums pass 2^53
    tag    string  nullable; "" (a quoted empty string, not NULL), text with commas, quotes and
                   non-ASCII; "junk" (the specs' filter drops it)

Events are made in time order over one or more spans, then shuffled within a bounded disorder
(each arrives at its event time plus a random delay of at most `disorder`). Into that stream go
clearly late events (event time well behind the latest one so far), events sharing the event time
of a recent one, and boundary events: an event that moves the latest time so that the watermark
lands exactly on a window edge (or 1 us before it), followed by events just before, at and after
that edge. A profile may open the stream with `head` events in a given order. Everything comes from one random.Random(seed), so a profile
and a seed always give the same bytes.
"""
import argparse
import calendar
import datetime
import random
import sys

SEC = 1_000_000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR

COLUMNS = ["n", "id", "at", "grp", "shard", "price", "qty", "big", "tag"]
GROUPS = ["a", "b", "c", "ünï", None]
GROUP_WEIGHTS = [30, 25, 15, 10, 20]
TAGS = ["x", "y", "z", "", "junk", "comma, inside", 'say "hi"', "ümlaut", "日本", "Zed", None]
TAG_WEIGHTS = [20, 15, 10, 5, 4, 4, 3, 4, 3, 5, 12]


def us(text):
    """'2024-03-10T05:00:00Z' -> microseconds since the epoch (UTC)."""
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return calendar.timegm(d.timetuple()) * SEC


def rfc3339(t):
    s, f = divmod(t, SEC)
    d = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=s)
    text = d.strftime("%Y-%m-%dT%H:%M:%S")
    if f:
        text += ("." + "%06d" % f).rstrip("0")
    return text + "Z"


# name -> the parameters of generate(); sizes and lateness here match the specs in tests/oracle/.
PROFILES = {
    # tumbling 1m, lateness 30s
    "tumble_1m": dict(spans=[("2024-03-10T06:00:00Z", "2024-03-10T08:30:00Z")], step=5 * SEC,
                      disorder=40 * SEC, late_prob=0.03, late_back=(2 * MIN, 10 * MIN),
                      edges=[(MIN, 30 * SEC)], edge_prob=0.02, head=[10 * SEC, -15 * SEC]),
    # tumbling 10s, lateness 2s, late: drop
    "tumble_10s": dict(spans=[("2024-11-03T05:30:00Z", "2024-11-03T06:10:00Z")], step=1 * SEC,
                       disorder=6 * SEC, late_prob=0.03, late_back=(15 * SEC, 60 * SEC),
                       edges=[(10 * SEC, 2 * SEC)], edge_prob=0.02),
    # hopping {size: 1h, every: 5m}, lateness 1m; a gap longer than a window in the middle
    "hop_1h_5m": dict(spans=[("2024-03-10T05:00:00Z", "2024-03-10T09:00:00Z"),
                             ("2024-03-10T11:07:00Z", "2024-03-10T13:00:00Z")], step=20 * SEC,
                      disorder=4 * MIN, late_prob=0.02, late_back=(62 * MIN, 3 * HOUR),
                      edges=[(5 * MIN, MIN)], edge_prob=0.02, near_late_prob=0.03,
                      head=[20 * SEC, -30 * SEC, -2 * MIN, -50 * SEC]),
    # hopping {size: 10m, every: 1m}, lateness 20s
    "hop_10m_1m": dict(spans=[("2024-11-03T05:40:00Z", "2024-11-03T07:10:00Z"),
                              ("2024-11-03T07:31:30Z", "2024-11-03T08:00:00Z")], step=3 * SEC,
                       disorder=50 * SEC, late_prob=0.02, late_back=(11 * MIN, 30 * MIN),
                       edges=[(MIN, 20 * SEC)], edge_prob=0.02, near_late_prob=0.03,
                       head=[5 * SEC, -10 * SEC, -14 * SEC]),
    # tumbling 1d in America/New_York, lateness 2h: both DST changes of 2024
    "tz_days": dict(spans=[("2024-03-08T02:00:00Z", "2024-03-12T09:00:00Z"),
                           ("2024-11-01T01:00:00Z", "2024-11-05T08:00:00Z")], step=4 * MIN,
                    disorder=3 * HOUR, late_prob=0.01, late_back=(30 * HOUR, 60 * HOUR),
                    edges=[], edge_prob=0.0,
                    # local midnights (EST/EDT) around the changes: events right at and near them
                    marks=["2024-03-09T05:00:00Z", "2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z",
                           "2024-03-10T07:00:00Z", "2024-11-02T04:00:00Z", "2024-11-03T04:00:00Z",
                           "2024-11-04T05:00:00Z", "2024-11-03T06:00:00Z"]),
    # tumbling 5m with a `where`, lateness 45s
    "where_5m": dict(spans=[("2024-03-10T06:30:00Z", "2024-03-10T08:30:00Z")], step=4 * SEC,
                     disorder=70 * SEC, late_prob=0.03, late_back=(6 * MIN, 20 * MIN),
                     edges=[(5 * MIN, 45 * SEC)], edge_prob=0.02),
}


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def time_jitter(self, t):
        """Most times are whole seconds; some carry milli- or microseconds."""
        x = self.r.random()
        if x < 0.1:
            return t + self.r.randrange(1000) * 1000
        if x < 0.15:
            return t + self.r.randrange(SEC)
        return t

    def values(self):
        r = self.r
        grp = r.choices(GROUPS, GROUP_WEIGHTS)[0]
        shard = None if r.random() < 0.12 else r.randrange(5)
        x = r.random()
        if x < 0.1:
            price = None
        elif x < 0.13:
            price = -round(r.uniform(0.01, 50), 2)          # rejected by the rule
        elif x < 0.3:
            price = float(r.randrange(0, 1000))
        elif x < 0.35:
            price = r.uniform(0, 1000)                        # full-precision doubles
        else:
            price = round(r.uniform(0, 500), 2)
        qty = None if r.random() < 0.1 else (r.randrange(0, 21) if r.random() < 0.95 else r.randrange(2**31 - 1000, 2**31))
        big = None if r.random() < 0.15 else r.randrange(-2**52, 2**54)
        tag = r.choices(TAGS, TAG_WEIGHTS)[0]
        return grp, shard, price, qty, big, tag

    def generate(self, spans, step, disorder, late_prob, late_back, edges, edge_prob,
                 near_late_prob=0.0, marks=(), head=(), dup_prob=0.03):
        r = self.r
        base = []     # (arrival key, event time)
        first = us(spans[0][0])
        for i, off in enumerate(head):
            # the stream opens with these, in this order (before anything else arrives)
            base.append((first - 10 * DAY + i, first + off))
        for a, b in spans:
            t, end = us(a), us(b)
            while t < end:
                et = self.time_jitter(t)
                base.append((et + r.randrange(disorder + 1), et))
                t += max(1, round(step / SEC * r.uniform(0.2, 1.8))) * SEC
        for m in marks:
            t = us(m)
            for et in (t - 1, t, t + 1, t - SEC, t + SEC):
                base.append((et + r.randrange(disorder + 1), et))
        base.sort()
        times = []
        max_t = None
        for _, et in base:
            times.append(et)
            max_t = et if max_t is None else max(max_t, et)
            x = r.random()
            if x < late_prob:
                # clearly late: far behind everything seen so far
                times.append(max_t - r.randrange(late_back[0], late_back[1]))
            elif x < late_prob + near_late_prob:
                # somewhat behind: late for some hopping windows, on time for others
                times.append(max_t - r.randrange(0, 3 * disorder + 1))
            elif x < late_prob + near_late_prob + dup_prob:
                # the same event time as a recent event: first/last break ties by arrival
                times.append(r.choice(times[-20:]))
            elif edges and x < late_prob + near_late_prob + dup_prob + edge_prob:
                size, lateness = r.choice(edges)
                # move the watermark exactly onto the edge e (or 1 us before it), then events
                # around it
                e = (max_t - lateness) // size * size + size
                mt = e + lateness - r.choice([0, 0, 1])
                times.append(mt)
                max_t = max(max_t, mt)
                for et in (e - 1, e, e - size, e - size - 1, e + 1):
                    times.append(et)
        rows = []
        for i, et in enumerate(times):
            grp, shard, price, qty, big, tag = self.values()
            rows.append([i, "e%06d" % i, rfc3339(et), grp, shard, price, qty, big, tag])
        return rows


def field(v):
    """CSV text: NULL is an empty unquoted field, an empty string is "", floats in repr form."""
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    if s == "" or any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def csv_text(rows):
    out = [",".join(COLUMNS)]
    for row in rows:
        out.append(",".join(field(v) for v in row))
    return "\n".join(out) + "\n"


def make(profile, seed):
    """The CSV text of a profile for a seed."""
    return csv_text(Gen(seed).generate(**PROFILES[profile]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("profile", choices=sorted(PROFILES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    text = make(a.profile, a.seed)
    if a.output == "-":
        sys.stdout.write(text)
    else:
        with open(a.output, "w", encoding="utf-8", newline="") as f:
            f.write(text)


if __name__ == "__main__":
    main()
