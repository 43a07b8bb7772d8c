"""suite_tz.py - runtime/rt_tz.c against Python's zoneinfo (the same /usr/share/zoneinfo files,
an independent reader and POSIX-rule implementation). tests/tz/tz_driver.c is built once per run
(with ASan/UBSan under --san) and asked, for 20+ zones, about thousands of instants: random ones
between 1900 and 2200, every transition found by a weekly scan (and the instants around it and
around the local midnights of its days), plus random far-past (year 1+) and far-future (to 9999)
instants that exercise the zone's first type and the 400-year repetition of its footer rule.
Offset, local date, day start/end and 3- and 7-day block start/end must all match exactly.

The reference day window: day D starts at the first instant whose local time is at or after D
00:00 (found from zoneinfo by trying both folds of local midnight and, when midnight falls in a
gap, bisecting for the transition); the window holding an instant is the last day that began at
or before it (which is its local date except after a backward jump across midnight)."""
import os
import random
import subprocess
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
          "-Wmissing-prototypes", "-D_GNU_SOURCE", "-O2", "-g"]
SAN = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]

ZONES = [
    "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia",
    "America/Santiago", "Asia/Beirut", "America/Havana", "America/Sao_Paulo", "Europe/London",
    "Europe/Dublin", "Africa/Casablanca", "America/Nuuk", "Asia/Jerusalem", "Asia/Gaza",
    "Africa/Cairo", "Australia/Sydney", "Pacific/Chatham", "Asia/Tehran", "America/St_Johns",
    "Pacific/Kiritimati", "Antarctica/Troll", "America/Adak", "Europe/Moscow", "America/Juneau",
    "Asia/Manila", "Europe/Amsterdam", "Etc/GMT+12", "America/Scoresbysund", "UTC",
]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NAIVE_EPOCH = datetime(1970, 1, 1)
SEC = timedelta(seconds=1)
_BUILT = {}


def driver(ctx):
    san = bool(ctx.san or os.environ.get("PIPEC_SANITIZE") == "1")
    if san in _BUILT:
        return _BUILT[san]
    out_dir = os.path.join(ctx.build, "tz")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "tz_driver" + ("-san" if san else ""))
    rt = os.path.join(ctx.root, "runtime")
    srcs = [os.path.join(ctx.root, "tests", "tz", "tz_driver.c")] + \
        [os.path.join(rt, f) for f in ("rt_tz.c", "rt_core.c", "rt_text.c", "rt_f64fmt.c")]
    p = ctx.run(["cc"] + CFLAGS + (SAN if san else []) + ["-I" + rt, "-o", out] + srcs + ["-lm"])
    assert "warning" not in p.stderr, p.stderr
    _BUILT[san] = out
    return out


def ask(ctx, requests):
    """requests: list of (zone, [us...]); returns {zone: [answer tuples]} or {zone: 'error ...'}."""
    lines = []
    for zone, instants in requests:
        lines.append("Z " + zone)
        lines.extend(str(u) for u in instants)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
    p = subprocess.run([driver(ctx)], input="\n".join(lines) + "\n", capture_output=True,
                       text=True, env=env, timeout=600)
    assert p.returncode == 0, "driver exited %d: %s" % (p.returncode, p.stderr[-3000:])
    assert "runtime error" not in p.stderr and "Sanitizer" not in p.stderr, p.stderr
    out = p.stdout.splitlines()
    res, i = {}, 0
    for zone, instants in requests:
        head = out[i]
        i += 1
        if head != "ok":
            res[zone] = head
            continue
        res[zone] = [tuple(int(x) for x in out[i + k].split()) for k in range(len(instants))]
        i += len(instants)
    return res


class Ref:
    """The expected answers, from zoneinfo."""

    def __init__(self, name):
        self.z = timezone.utc if name == "UTC" else ZoneInfo(name)
        self.begins = {}

    def off(self, t):
        return (EPOCH + timedelta(seconds=t)).astimezone(self.z).utcoffset() // SEC

    def date(self, t):
        return (t + self.off(t)) // 86400

    def begin(self, day):
        """The first instant (s) whose local time is at or after local midnight of `day`."""
        if day in self.begins:
            return self.begins[day]
        m = day * 86400
        naive = NAIVE_EPOCH + timedelta(days=day)
        tried, found = [], []
        for fold in (0, 1):
            t = (naive.replace(tzinfo=self.z, fold=fold) - EPOCH) // SEC
            tried.append(t)
            if t + self.off(t) == m:
                found.append(t)
        if found:
            r = min(found)
        else:   # midnight is in a gap: the transition that skips it
            lo, hi = min(tried), max(tried)
            assert lo + self.off(lo) < m <= hi + self.off(hi), (day, lo, hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if mid + self.off(mid) >= m:
                    hi = mid
                else:
                    lo = mid
            r = hi
        self.begins[day] = r
        return r

    def answer(self, us):
        t = us // 1000000
        off = self.off(t)
        day = (t + off) // 86400
        s, e = self.begin(day), self.begin(day + 1)
        while e <= t:
            day += 1
            s, e = e, self.begin(day + 1)
        blocks = []
        for n in (3, 7):
            b = day // n
            blocks += [self.begin(b * n) * 1000000, self.begin((b + 1) * n) * 1000000]
        return (off, (t + off) // 86400, s * 1000000, e * 1000000) + tuple(blocks)

    def transitions(self, y0, y1, step_days=7):
        """The offset changes between years y0 and y1, found by a scan and bisection."""
        t = int((datetime(y0, 1, 1, tzinfo=timezone.utc) - EPOCH) // SEC)
        end = int((datetime(y1, 1, 1, tzinfo=timezone.utc) - EPOCH) // SEC)
        out, prev = [], self.off(t)
        step = step_days * 86400
        while t < end:
            o = self.off(t + step)
            if o != prev:
                lo, hi = t, t + step
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self.off(mid) == prev:
                        lo = mid
                    else:
                        hi = mid
                out.append(hi)
            prev, t = o, t + step
        return out


def year_s(y):
    return int((datetime(y, 1, 1, tzinfo=timezone.utc) - EPOCH) // SEC)


def instants_for(ref, rnd, n_random, scan=((1900, 2045), (2095, 2105)), step_days=7):
    us = []
    lo, hi = year_s(1900), year_s(2200)
    us += [rnd.randrange(lo * 1000000, hi * 1000000) for _ in range(n_random)]
    us += [rnd.randrange(year_s(2) * 1000000, lo * 1000000) for _ in range(n_random // 20)]
    us += [rnd.randrange(hi * 1000000, year_s(9999) * 1000000) for _ in range(n_random // 10)]
    trans = []
    for y0, y1 in scan:
        trans += ref.transitions(y0, y1, step_days)
    for tr in trans:
        for d in (-1, 0, 1):
            us += [tr * 1000000 + d, (tr + d * 3600) * 1000000]
        day = ref.date(tr)
        for dd in (0, 1):
            b = ref.begin(day + dd) * 1000000
            us += [b - 1, b]
    return us


def compare(ctx, zones, n_random, seed, **kw):
    rnd = random.Random(seed)
    refs = {z: Ref(z) for z in zones}
    reqs = [(z, instants_for(refs[z], rnd, n_random, **kw)) for z in zones]
    res = ask(ctx, reqs)
    bad, total = [], 0
    for z, instants in reqs:
        got = res[z]
        assert not isinstance(got, str), "%s: %s" % (z, got)
        for u, g in zip(instants, got):
            total += 1
            want = refs[z].answer(u)
            if g != want and len(bad) < 20:
                bad.append("%s us=%d (%s UTC)\n  got  %s\n  want %s" % (
                    z, u, EPOCH + timedelta(microseconds=u), g, want))
    assert not bad, "%d+ mismatches of %d:\n%s" % (len(bad), total, "\n".join(bad))
    assert total > 20000, total


def test_zones_match_zoneinfo(ctx):
    compare(ctx, ZONES, 2000, 20240310)


def test_all_zones_sampled(ctx):
    """Every zone Python knows, fewer instants each (catches footers and layouts not listed)."""
    import zoneinfo
    names = sorted(n for n in zoneinfo.available_timezones()
                   if os.path.isfile(os.path.join("/usr/share/zoneinfo", n)) and n != "localtime")
    compare(ctx, names, 40, 11, scan=((2015, 2035),), step_days=14)


def test_sorted_stream_uses_cache_consistently(ctx):
    """A record stream in time order (the windowing pattern): every minute for a few DST days."""
    zones = ["America/New_York", "America/Santiago", "Australia/Lord_Howe", "Pacific/Apia"]
    reqs = []
    for z in zones:
        base = year_s(2011) * 1000000 if z == "Pacific/Apia" else year_s(2024) * 1000000
        step = 60 * 1000000
        reqs.append((z, [base + k * 397 * step for k in range(1, 1330)]))
    res = ask(ctx, reqs)
    for z, instants in reqs:
        ref = Ref(z)
        for u, g in zip(instants, res[z]):
            assert g == ref.answer(u), (z, u, g, ref.answer(u))


def test_errors(ctx):
    reqs = [(n, []) for n in ("Mars/Base", "../etc/passwd", "/etc/localtime", "America/New York",
                              "America", "", "Europe//Berlin")]
    res = ask(ctx, reqs[:5] + reqs[6:])
    assert res["Mars/Base"] == "error unknown time zone 'Mars/Base'", res
    assert res["../etc/passwd"].startswith("error invalid time zone name"), res
    assert res["/etc/localtime"].startswith("error invalid time zone name"), res
    assert res["America/New York"].startswith("error invalid time zone name"), res
    assert res["America"] == "error unknown time zone 'America'", res
    assert res["Europe//Berlin"].startswith("error invalid time zone name"), res
