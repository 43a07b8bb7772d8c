"""gen_seeds.py - deterministic, realistic inputs for the seed pipelines of tests/suite_pgseeds.py.

    taxi(seed)     -> (csv_text, fates)    NYC yellow-taxi trips (the TLC's 19 CSV columns)
    bitcoin(seed)  -> (jsonl_text, fates)  bitcoin minute prices, one JSON object a line

`fates` maps each record's 1-based line number to what the generator meant it to become:
"out", "parse", a rule's name, "filter" (dropped by the filter) or "late" (behind the watermark
when it arrives). It is the generator's own intent, written down as it makes the defect; the test
compares it with the oracle's (DuckDB's) reading of the same bytes, so a defect that does not do
what it was meant to (a bad row that parses after all, disorder that makes a record late) fails
the test instead of passing unnoticed. Nothing here knows pipec's output.

Taxi: several thousand trips with pickups (local New York text, "%Y-%m-%d %H:%M:%S") over
2024-03-07 .. 2024-03-13, spanning the spring-forward of 2024-03-10, slightly out of order
(within 90 minutes), with pickups exactly on the New York midnights of the window edges, NULL
payment types and NULL passenger counts, and bad rows: negative fares (refunds), distances of
900 and more, numbers that do not read (`12.5.3`, `N/A`, `1.0` for a passenger count, a quoted
`"1,2"`, `1.5` for a payment type), a missing fare, unreadable pickups, and a few trips dated
2002 or 2008 (as the real files have) or two to three days back, which are late for a window with
a lateness of one day.

Bitcoin: one record a minute over 2024-11-02 .. 2024-11-04 (UTC), a random walk around 69000,
arriving out of order by up to 4 minutes, a few minutes sent twice; some records with a null
close (dropped by the filter), a null open or no volume key; bad lines (truncated JSON, an HTML
error page, an array, a close as a string, a high as a bool, an epoch number for the timestamp, a
day that does not exist, no timestamp, text after the object) and three records more than an hour
behind the newest one across midnight (late). Ends with a blank line, which is not a record.
"""
import datetime
import json
import random

TAXI_HEADER = ("VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,"
               "RatecodeID,store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,extra,"
               "mta_tax,tip_amount,tolls_amount,improvement_surcharge,total_amount,"
               "congestion_surcharge,Airport_fee")
TAXI_FIRST = datetime.datetime(2024, 3, 7, 0, 0, 0)
TAXI_DAYS = 7
FMT = "%Y-%m-%d %H:%M:%S"
# Texts that, read as UTC, fall exactly on a New York midnight (window edges) or just before one.
TAXI_EDGES = ["2024-03-09 05:00:00", "2024-03-10 04:59:59", "2024-03-10 05:00:00",
              "2024-03-11 03:59:59", "2024-03-11 04:00:00", "2024-03-12 04:00:00"]


def _money(x):
    return "%.2f" % x


def _trip(rng, pickup):
    """The 19 columns of one good trip (as text) with the pickup given."""
    dist = round(rng.choice([rng.uniform(0.3, 3.5)] * 6 + [rng.uniform(3.5, 12)] * 3 +
                            [rng.uniform(12, 28)]), 2)
    if rng.random() < 0.01:
        dist = 0.0
    minutes = max(1.0, dist * rng.uniform(2.5, 6) + rng.uniform(0, 8))
    drop = pickup + datetime.timedelta(seconds=int(minutes * 60))
    pay = rng.choices(["1", "2", "3", "4", ""], weights=[70, 22, 2, 2, 4])[0]
    passengers = "" if pay == "" else rng.choices(["1", "2", "3", "4", "5", "6", "0"],
                                                  weights=[70, 15, 5, 3, 3, 2, 2])[0]
    if pay != "" and rng.random() < 0.02:
        passengers = ""
    rate = "2" if dist > 17 and rng.random() < 0.5 else "1"
    fare = 70.0 if rate == "2" else round(3.0 + 2.8 * dist + 0.7 * minutes * rng.uniform(0.5, 1), 2)
    extra = rng.choice([0.0, 0.0, 1.0, 2.5, 3.5])
    mta, improvement = 0.5, 1.0
    congestion = 2.5 if rng.random() < 0.9 else 0.0
    tolls = 6.94 if dist > 10 and rng.random() < 0.3 else 0.0
    tip = round(fare * rng.choice([0.0, 0.15, 0.2, 0.25, 0.3]), 2) if pay == "1" else 0.0
    airport = 1.75 if rate == "2" else 0.0
    total = round(fare + extra + mta + tip + tolls + improvement + congestion + airport, 2)
    return [rng.choice(["1", "2"]), pickup.strftime(FMT), drop.strftime(FMT), passengers,
            "%.2f" % dist, rate, rng.choice(["N"] * 30 + ["Y"]), str(rng.randint(1, 263)),
            str(rng.randint(1, 263)), pay, _money(fare), _money(extra), _money(mta), _money(tip),
            _money(tolls), _money(improvement), _money(total), _money(congestion), _money(airport)]


# The defects of bad taxi rows: column index -> text, and the fate.
def _taxi_defects(rng):
    return [
        ({10: "-7.50", 16: "-12.00", 13: "0.00"}, "fare_not_negative"),
        ({10: "-52.00", 16: "-56.50", 13: "0.00"}, "fare_not_negative"),
        ({4: "900.00"}, "distance_sane"),
        ({4: "12345.60"}, "distance_sane"),
        ({4: "-3.20"}, "distance_sane"),
        ({10: "12.5.3"}, "parse"),
        ({13: "N/A"}, "parse"),
        ({3: "1.0"}, "parse"),           # a passenger count written as a float
        ({4: '"1,2"'}, "parse"),         # a decimal comma, quoted
        ({10: ""}, "parse"),             # no fare: a missing non-nullable value
        ({16: "abc"}, "parse"),
        ({9: "1.5"}, "parse"),           # a payment type that is not an integer
        ({1: "2024-03-10 25:10:00"}, "parse"),
        ({1: "03/10/2024 01:15:00 PM"}, "parse"),
        ({10: "-4.00", 4: "900.00"}, "fare_not_negative"),   # both rules fail: the first one counts
    ]


def taxi(seed, trips=3600):
    """A TLC-style CSV (header and trips) and the fate of every line."""
    rng = random.Random(seed)
    span = TAXI_DAYS * 86400
    # pickups: more by day than by night, sorted, then shuffled within 90 minutes
    times = []
    while len(times) < trips:
        s = rng.randrange(span)
        hour = (s // 3600) % 24
        if rng.random() < (0.25 if 1 <= hour <= 5 else 1.0):
            times.append(TAXI_FIRST + datetime.timedelta(seconds=s))
    times += [datetime.datetime.strptime(t, FMT) for t in TAXI_EDGES]
    times.sort()
    order = sorted(range(len(times)), key=lambda i: (times[i] + datetime.timedelta(
        seconds=rng.uniform(0, 5400)), i))
    rows = [(_trip(rng, times[i]), "out") for i in order]
    # bad rows at random places, but not among the first 100 (the watermark must exist)
    defects = _taxi_defects(rng) * 3
    for cols, fate in defects:
        pos = rng.randrange(100, len(rows))
        row = list(_trip(rng, times[order[min(pos, len(order) - 1)]]))
        for c, v in cols.items():
            row[c] = v
        rows.insert(pos, (row, fate))
    # trips dated years back (the real files have them) and two days back: late
    for text in ["2002-12-31 23:58:04", "2008-12-31 23:10:00", "2009-01-01 00:05:44"]:
        pos = rng.randrange(200, len(rows))
        row = list(_trip(rng, datetime.datetime.strptime(text, FMT)))
        rows.insert(pos, (row, "late"))
    for back in (2, 3):
        pos = len(rows) - 50 * back
        # the day before the last row's day, early in the morning (New York midnight + 1h)
        t = datetime.datetime(2024, 3, 13 - back, 6, 0, 0)
        rows.insert(pos, (list(_trip(rng, t)), "late"))
    lines = [TAXI_HEADER] + [",".join(r) for r, _ in rows]
    fates = {i + 2: f for i, (_, f) in enumerate(rows)}
    return "\n".join(lines) + "\n", fates


BTC_FIRST = datetime.datetime(2024, 11, 2, 0, 0, 0, tzinfo=datetime.timezone.utc)
BTC_MINUTES = 3 * 1440


def _iso(t, style=0):
    if style == 1:
        return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _btc_record(rng, t, price, fate="out"):
    o = round(price * (1 + rng.uniform(-0.0006, 0.0006)), 2)
    c = round(price, 2)
    h = round(max(o, c) * (1 + rng.uniform(0, 0.0008)), 2)
    lo = round(min(o, c) * (1 - rng.uniform(0, 0.0008)), 2)
    vol = round(rng.expovariate(1 / 2.5), 8)
    rec = {"timestamp": _iso(t, 1 if rng.random() < 0.1 else 0), "open": o, "high": h, "low": lo,
           "close": c, "volume_btc": vol}
    if rng.random() < 0.05:
        rec["open"] = int(round(o))      # an integer in the JSON text
    if fate == "filter":
        rec["close"] = None
        if rng.random() < 0.5:
            rec["volume_btc"] = None
    elif rng.random() < 0.01:
        rec["open"] = None
    elif rng.random() < 0.01:
        del rec["volume_btc"]
    return rec


def bitcoin(seed):
    """JSON lines of minute prices and the fate of every line."""
    rng = random.Random(seed)
    price = 69000.0
    recs = []
    for m in range(BTC_MINUTES):
        price *= 1 + rng.gauss(0, 0.0007)
        t = BTC_FIRST + datetime.timedelta(minutes=m)
        fate = "filter" if rng.random() < 0.02 else "out"
        recs.append((t + datetime.timedelta(seconds=rng.uniform(0, 240)), m,
                     json.dumps(_btc_record(rng, t, price, fate)), fate))
        if rng.random() < 0.003:         # the exchange sent this minute twice
            recs.append((t + datetime.timedelta(seconds=rng.uniform(0, 240)), m + 0.5,
                         json.dumps(_btc_record(rng, t, price)), "out"))
    recs.sort()
    lines = [(text, fate) for _, _, text, fate in recs]
    bad = [
        '{"timestamp": "2024-11-02T10:17:00Z", "open": 69110.2, "high": 69120',
        '<html><head><title>502 Bad Gateway</title></head></html>',
        '[1730542620, 69000.1, 69010.0, 68990.5, 69001.0, 1.5]',
        '{"timestamp": "2024-11-03T04:00:00Z", "open": 69001.5, "high": 69010.0, "low": 68990.5, '
        '"close": "69005.25", "volume_btc": 1.25}',
        '{"timestamp": 1730606400, "open": 69001.5, "high": 69010.0, "low": 68990.5, '
        '"close": 69005.25, "volume_btc": 1.25}',
        '{"timestamp": "2024-11-31T00:00:00Z", "open": 69001.5, "high": 69010.0, "low": 68990.5, '
        '"close": 69005.25, "volume_btc": 1.25}',
        '{"open": 69001.5, "high": 69010.0, "low": 68990.5, "close": 69005.25, "volume_btc": 1.25}',
        '{"timestamp": "2024-11-04T12:00:00Z", "open": 69001.5, "high": true, "low": 68990.5, '
        '"close": 69005.25, "volume_btc": 1.25}',
        '{"timestamp": "2024-11-04T13:00:00Z", "open": 69001.5, "high": 69010.0, "low": 68990.5, '
        '"close": 69005.25, "volume_btc": 1.25}}',
    ]
    for text in bad:
        lines.insert(rng.randrange(10, len(lines)), (text, "parse"))
    # late: more than an hour behind the newest record, in the day before it
    for day, minute in ((1, 23 * 60 + 10), (2, 22 * 60 + 59), (2, 23 * 60 + 58)):
        boundary = BTC_FIRST + datetime.timedelta(days=day)
        # the first line whose record is 1h30 after midnight
        target = _iso(boundary + datetime.timedelta(minutes=90))
        pos = next(i for i, (text, _) in enumerate(lines)
                   if text.startswith('{"timestamp": "' + target[:16]))
        t = BTC_FIRST + datetime.timedelta(days=day - 1, minutes=minute)
        rec = _btc_record(rng, t, 69000.0)
        rec["close"] = 69000.0
        lines.insert(pos + 1, (json.dumps(rec), "late"))
    text = "\n".join(t for t, _ in lines) + "\n\n"
    fates = {i + 1: f for i, (_, f) in enumerate(lines)}
    return text, fates
