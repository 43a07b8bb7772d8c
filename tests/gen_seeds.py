"""gen_seeds.py - deterministic, realistic inputs for the seed pipelines of tests/suite_pgseeds.py.

    taxi(seed)     -> (csv_text, fates)    NYC yellow-taxi trips (the TLC's 19 CSV columns)
    bitcoin(seed)  -> (jsonl_text, fates)  bitcoin minute prices, one JSON object a line

and for the Kafka seeds of tests/suite_kafkaseeds.py:

    bitcoin_csv(seed)      -> (csv_text, fates)   the Kaggle bitcoin CSV (bitcoin_to_kafka's input)
    taxi_events(seed, ...) -> (messages, fates)   taxi trips as JSON messages (taxi_speed_layer)
    orders_changes(seed, ...) -> [(key, value, want)]  Debezium change events (orders_lake)

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



# -- the Kafka seeds of tests/suite_kafkaseeds.py (added; the generators above are unchanged) ---

BTC_CSV_HEADER = "Timestamp,Open,High,Low,Close,Volume_(BTC),Volume_(Currency),Weighted_Price"


def _num(x, digits):
    """x with up to `digits` decimals, trailing zeros removed (the dataset's style)."""
    return ("%.*f" % (digits, x)).rstrip("0").rstrip(".")


def bitcoin_csv(seed):
    """The Kaggle bitcoin CSV (Timestamp in epoch seconds, NaN for a minute without trades) and
    the fate of every line: "parse" (bitcoin_to_kafka rejects it), "filter" (no close price:
    bitcoin_daily_avg drops it), "late" (when bitcoin_daily_avg reads it, its day's window has
    closed: the newest record is at least an hour past the day's end) or "out".

    Three days of minutes, 2024-11-02 .. 2024-11-04 UTC, in time order as the dataset is; about 3%
    of the minutes all NaN (the dataset's gaps), a few with only Close empty; Timestamps sometimes
    written "1730505600.0" (later versions of the dataset), a few with half a second; a price in
    exponent form; an unreadable Weighted_Price (a column no field reads). Bad lines: a
    Timestamp as date text, NaN or empty, in exponent form; a price "1.2.3" or "inf"; a line
    with too few fields and one with too many. Lines behind the newest one, each right after
    the first record of a minute: at day 1 01:00:00 a record of 23:59:59 the day before (late: the
    window closed exactly then), at day 2 00:59:00 one of 23:59:59 (behind, but its window is
    open: out), at day 2 01:30:00 one of 22:59:00 (late). No quotes anywhere."""
    rng = random.Random(seed)
    first = int(BTC_FIRST.timestamp())
    day1, day2 = first + 86400, first + 2 * 86400
    anchors = {day1 + 3600: (day1 - 1, "late"), day2 + 59 * 60: (day2 - 1, "out"),
               day2 + 90 * 60: (day2 - 3600 - 60, "late")}

    def line(ts, c, rng_open=0.0, vol=0.5):
        o = round(c * (1 + rng_open), 2)
        h = round(max(o, c) * (1 + rng.uniform(0, 0.0008)), 2)
        lo = round(min(o, c) * (1 - rng.uniform(0, 0.0008)), 2)
        return [str(ts), _num(o, 2), _num(h, 2), _num(lo, 2), _num(c, 2), _num(vol, 8),
                _num(vol * c, 8), _num((o + c) / 2, 8)]
    price = 69000.0
    rows = []   # (text, fate)
    for m in range(BTC_MINUTES):
        ts = first + 60 * m
        price *= 1 + rng.gauss(0, 0.0007)
        cols = line(ts, round(price, 2), rng.uniform(-0.0006, 0.0006), round(rng.expovariate(1 / 2.5), 8))
        if ts in anchors:          # plain records, the watermark is exactly ts after them
            rows.append((",".join(cols), "out"))
            back, fate = anchors[ts]
            rows.append((",".join(line(back, round(69000 + rng.uniform(-50, 50), 2))), fate))
            continue
        if rng.random() < 0.2:
            cols[0] = "%d.0" % ts
        fate = "out"
        r = rng.random()
        if r < 0.03:
            cols = [cols[0]] + ["NaN"] * 7
            fate = "filter"
        elif r < 0.035:
            cols[4] = ""                  # an empty close: NULL as well
            fate = "filter"
        elif r < 0.04:
            cols[1] = "NaN"               # no open, still a record with a close
        elif r < 0.042:
            cols[2] = "%.6e" % float(cols[2])   # exponent form
        elif r < 0.044:
            cols[7] = "n/a"               # a column no field reads
        elif r < 0.046:
            cols[0] = "%d.5" % ts         # half a second
        rows.append((",".join(cols), fate))
    bad = ["2024-11-02 10:17:00,69110.2,69120,69100,69110,1.5,165000,69110",
           "NaN,69110.2,69120,69100,69110,1.5,165000,69110",
           ",69110.2,69120,69100,69110,1.5,165000,69110",
           "1.7305e9,69110.2,69120,69100,69110,1.5,165000,69110",
           "1730606400,69001.5,69010.0,1.2.3,69005.25,1.25,86256,69003",
           "1730606460,69001.5,inf,68990.5,69005.25,1.25,86256,69003",
           "1730606520,69001.5,69010.0,68990.5",
           "1730606580,69001.5,69010.0,68990.5,69005.25,1.25,86256,69003,7"]
    for text in bad:
        pos = rng.randrange(10, len(rows))
        while rows[pos - 1][0].split(",")[0] in map(str, anchors):   # not between an anchor and its follower
            pos += 1
        rows.insert(pos, (text, "parse"))
    text = BTC_CSV_HEADER + "\n" + "".join(r + "\n" for r, _ in rows)
    fates = {i + 2: f for i, (_, f) in enumerate(rows)}
    return text, fates



TAXI_STREAM_FIRST = datetime.datetime(2024, 3, 10, 14, 0, 0, tzinfo=datetime.timezone.utc)


def _iso_ms(us):
    """RFC 3339 UTC text of epoch microseconds, with milliseconds when they are not zero."""
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(microseconds=us)
    if us % 1000000 == 0:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (us // 1000 % 1000)


def taxi_events(seed, events=1500, start=TAXI_STREAM_FIRST):
    """JSON messages of taxi trips as they happen (the topic of pipelines/taxi_speed_layer.yaml)
    and the fate of each, by its 0-based position in the list (its offset in a topic of one
    partition): "out", "parse", "distance_sane" or "late" (the end of its 10-second window is
    at or before the watermark: the newest event time among the records before it that are out,
    minus 2 s).

    About 12 minutes from `start` (2024-03-10T14:00:00Z), vendors 1, 2 and 6, event times a little behind
    the arrival clock (up to 1.5 s: never late), with milliseconds, some exactly on a 10-second
    edge; passengers absent or null now and then; distances of 0 and exactly 500 (both sane).
    Bad ones: distances of 900, 12345.6 and -1.2 (distance_sane); malformed messages (not JSON,
    truncated JSON, an array, an empty message, a vendor_id as a string or as 1.0, no ts, a ts of
    February 30th, a distance_mi of null); records 12 s behind the newest (late). Two edges:
    when a record makes the watermark exactly a window end E, one of E - 1 ms (its window has
    just closed: late); when a record makes it E - 1 ms, one of E - 9 s (12 s behind the newest,
    but its window, ending at E, is open: out)."""
    rng = random.Random(seed)
    sec, win = 1000000, 10000000
    clock = int(start.timestamp()) * sec
    newest = None          # the largest event time among the records that are out
    out = []

    def trip(ts_us, **over):
        rec = {"ts": _iso_ms(ts_us), "vendor_id": rng.choice([1, 2, 2, 6]),
               "passengers": rng.choice([1, 1, 1, 2, 3, 4, None]),
               "distance_mi": round(rng.choice([rng.uniform(0.3, 3.5)] * 4 + [rng.uniform(3.5, 20)]), 2),
               "total": round(rng.uniform(8, 90), 2)}
        if rec["passengers"] is None and rng.random() < 0.5:
            del rec["passengers"]
        rec.update(over)
        return json.dumps(rec)

    def add(fate, ts_us=None, text=None, **over):
        nonlocal newest
        out.append((trip(ts_us, **over) if text is None else text, fate))
        if fate == "out":
            newest = ts_us if newest is None else max(newest, ts_us)

    malformed = ['not json', '{"ts": "2024-03-10T14:03:00Z", "vendor_id": 2, "distance_mi": 1.2',
                 '[1, "2024-03-10T14:03:00Z", 1.2, 9.5]', '',
                 '{"ts": "2024-03-10T14:05:00Z", "vendor_id": "2", "distance_mi": 1.2, "total": 9.5}',
                 '{"ts": "2024-03-10T14:05:00Z", "vendor_id": 1.0, "distance_mi": 1.2, "total": 9.5}',
                 '{"vendor_id": 1, "distance_mi": 1.2, "total": 9.5}',
                 '{"ts": "2024-02-30T14:05:00Z", "vendor_id": 1, "distance_mi": 1.2, "total": 9.5}',
                 '{"ts": "2024-03-10T14:06:00Z", "vendor_id": 1, "distance_mi": null, "total": 9.5}']
    bad_at = {rng.randrange(50, events): m for m in malformed}
    insane = {rng.randrange(50, events): d for d in (900.0, 12345.6, -1.2)}
    sane_edges = {rng.randrange(50, events): d for d in (0.0, 500.0)}
    late_at = set(rng.sample(range(100, events), 4))
    # the two edges: (from which record on, the watermark's distance below the window end)
    edges = [(events // 3, 0), (2 * events // 3, 1000)]
    for i in range(events):
        clock += int(rng.expovariate(1 / 480000))     # about two trips a second
        ts = clock - rng.randrange(0, 1500) * 1000
        if rng.random() < 0.02:
            ts = ts // win * win                        # on a window edge
        if i in bad_at:
            add("parse", text=bad_at[i])
        if edges and i >= edges[0][0]:
            below = edges[0][1]
            # the first window end E whose watermark-to-be E - below is ahead of the current one
            e = (newest - 2 * sec + below) // win * win + win
            if e + 2 * sec - below <= clock:            # reachable now without going ahead of time
                add("out", e + 2 * sec - below)          # the watermark is now E - below
                if below == 0:
                    add("late", e - 1000)
                else:
                    add("out", e - 9 * sec)
                edges.pop(0)
        if i in insane:
            add("distance_sane", ts, distance_mi=insane[i])
        elif i in sane_edges:
            add("out", ts, distance_mi=sane_edges[i])
        else:
            if i in late_at:
                add("late", newest - 12 * sec)
            add("out", ts)
    assert not edges, "the edges were not placed"
    return [t for t, _ in out], {i: f for i, (_, f) in enumerate(out)}


# Debezium's PostgreSQL connector (2.x) with the JSON converter: the schema of a row of
# public.orders, and of the change-event envelope around it.
_ORDER_COLUMNS = [("order_id", "int64", False, None), ("customer_id", "int64", False, None),
                  ("status", "string", False, None), ("amount", "double", False, None),
                  ("updated_at", "string", False, "io.debezium.time.ZonedTimestamp")]
ORDER_STATUSES = ["placed", "paid", "preparing", "out_for_delivery", "delivered"]


def _dbz_struct(name, field, optional, columns):
    fields = []
    for col, typ, opt, logical in columns:
        f = {"type": typ, "optional": opt, "field": col}
        if logical:
            f.update({"name": logical, "version": 1})
        fields.append(f)
    return {"type": "struct", "fields": fields, "optional": optional, "name": name, "field": field}


def _dbz_envelope_schema(topic):
    source = [("version", "string", False, None), ("connector", "string", False, None),
              ("name", "string", False, None), ("ts_ms", "int64", False, None),
              ("snapshot", "string", True, "io.debezium.data.Enum"), ("db", "string", False, None),
              ("sequence", "string", True, None), ("schema", "string", False, None),
              ("table", "string", False, None), ("txId", "int64", True, None),
              ("lsn", "int64", True, None), ("xmin", "int64", True, None)]
    return {"type": "struct", "fields": [
        _dbz_struct(topic + ".Value", "before", True, _ORDER_COLUMNS),
        _dbz_struct(topic + ".Value", "after", True, _ORDER_COLUMNS),
        _dbz_struct("io.debezium.connector.postgresql.Source", "source", False, source),
        {"type": "string", "optional": False, "field": "op"},
        {"type": "int64", "optional": True, "field": "ts_ms"},
        {"type": "struct", "fields": [{"type": "string", "optional": False, "field": "id"},
                                      {"type": "int64", "optional": False, "field": "total_order"},
                                      {"type": "int64", "optional": False, "field": "data_collection_order"}],
         "optional": True, "name": "event.block", "version": 1, "field": "transaction"}],
        "optional": False, "name": topic + ".Envelope", "version": 1}


def _zoned(us):
    """Debezium's ZonedTimestamp text (ISO offset date-time, UTC, fraction only as needed)."""
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    frac = ("%06d" % (us % 1000000)).rstrip("0")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ("." + frac if frac else "") + "Z"


def orders_changes(seed, first_order=1, orders=40, start_lsn=24023128,
                   start=datetime.datetime(2024, 6, 1, 11, 0, 0, tzinfo=datetime.timezone.utc),
                   snapshot=True):
    """Debezium change events of a food-orders table, as the PostgreSQL connector sends them to
    Kafka (topic oltp.public.orders): a list of (key, value, want), key and value as str (value
    None for a tombstone, a null message), want what orders_lake must make of the message:
    ("row", {order_id, customer_id, status, amount, updated_at (epoch us), _op, _lsn, _ts (epoch
    us)}), ("dropped",) or ("dead", reason).

    A snapshot first (op r, source.snapshot "true" then "last", one LSN), unless snapshot is
    False; then a stream: creates, status updates (before null, as REPLICA IDENTITY DEFAULT sends
    them, or the old row), deletes (`before` holding only the key, the other columns null or left
    out; or the whole row, REPLICA IDENTITY FULL) each followed by its tombstone (a null value; once an empty
    value, once the converter's {"schema": null, "payload": null}). About half of the events in
    the converter's {"schema", "payload"} wrapper with the envelope's schema, the others bare.
    The envelope's ts_ms (when the connector saw the change) differs from source.ts_ms (the
    commit), LSNs grow; one event has no source.lsn, one a null lsn, one no ts_ms. Also: a
    truncate (op t, no row: dead, schema), a logical decoding message (op m: dead, schema), and
    malformed ones (dead, parse): not JSON, no op, a payload that is a string, a create whose
    after is null, a delete whose before is null, an amount in Debezium's default "precise"
    decimal encoding (base64 text)."""
    rng = random.Random(seed)
    topic = "oltp.public.orders"
    schema = _dbz_envelope_schema(topic)
    key_schema = {"type": "struct", "fields": [{"type": "int64", "optional": False, "field": "order_id"}],
                  "optional": False, "name": topic + ".Key"}
    t = int(start.timestamp()) * 1000000
    lsn, tx = start_lsn, 571
    state = {}       # order_id -> row
    out = []

    def key(oid, wrapped):
        k = {"order_id": oid}
        return json.dumps({"schema": key_schema, "payload": k} if wrapped else k)

    def emit(op, before, after, oid, snap=None, edit=None):
        """Appends the event of op on the (internal) rows before and after."""
        nonlocal t, lsn, tx
        t += rng.randrange(200000, 9000000)
        commit_ms = t // 1000
        seen_ms = commit_ms + rng.randrange(3, 900)
        if snap is None:
            lsn += rng.randrange(40, 400)
            tx += 1
        src = {"version": "2.5.0.Final", "connector": "postgresql", "name": "oltp", "ts_ms": commit_ms,
               "snapshot": snap or "false", "db": "food", "sequence": json.dumps([str(lsn - 8), str(lsn)]),
               "schema": "public", "table": "orders", "txId": tx, "lsn": lsn, "xmin": None}
        ev = {"before": public(before), "after": public(after), "source": src, "op": op, "ts_ms": seen_ms,
              "transaction": None if rng.random() < 0.7 else
              {"id": "%d:%d" % (tx, lsn), "total_order": 1, "data_collection_order": 1}}
        want_lsn, want_ts = lsn, seen_ms * 1000
        if edit:
            want_lsn, want_ts = edit(ev, want_lsn, want_ts)
        wrapped = rng.random() < 0.5
        value = json.dumps({"schema": schema, "payload": ev} if wrapped else ev,
                           separators=(",", ":") if rng.random() < 0.5 else (", ", ": "))
        row = after if op != "d" else before
        want = ("row", {"order_id": row["order_id"], "customer_id": row.get("customer_id"),
                        "status": row.get("status"), "amount": row.get("amount"),
                        "updated_at": row.get("updated_at_us"), "_op": op, "_lsn": want_lsn, "_ts": want_ts})
        out.append((key(oid, wrapped), value, want))

    def row_of(oid, status, cust=None):
        us = t - rng.randrange(0, 3000) * 1000 if rng.random() < 0.7 else t // 1000000 * 1000000
        return {"order_id": oid, "customer_id": cust if cust is not None else rng.randrange(1000, 1400),
                "status": status, "amount": round(rng.uniform(6, 120), 2), "updated_at_us": us}

    def public(r):
        """The row as the connector writes it (updated_at as ZonedTimestamp text)."""
        if r is None:
            return None
        p = {k: v for k, v in r.items() if k != "updated_at_us"}
        if "updated_at_us" in r:
            p["updated_at"] = None if r["updated_at_us"] is None else _zoned(r["updated_at_us"])
        return p

    next_id = first_order
    if snapshot:
        for i in range(8):
            r = row_of(next_id, rng.choice(ORDER_STATUSES))
            state[next_id] = r
            emit("r", None, r, next_id, snap="last" if i == 7 else "true")
            next_id += 1
    specials = {5: "no_lsn", 9: "null_lsn", 13: "no_ts", 17: "truncate", 21: "message",
                25: "not_json", 29: "no_op", 33: "payload_string", 37: "create_null_after",
                41: "delete_null_before", 45: "precise_decimal"}
    tombstones = 0
    step = 0
    while next_id < first_order + orders or state:
        step += 1
        kind = specials.get(step)
        if kind in ("no_lsn", "null_lsn", "no_ts"):
            def edit(ev, want_lsn, want_ts, kind=kind):
                if kind == "no_lsn":
                    del ev["source"]["lsn"]
                    return None, want_ts
                if kind == "null_lsn":
                    ev["source"]["lsn"] = None
                    return None, want_ts
                del ev["ts_ms"]
                return want_lsn, None
            r = row_of(next_id, "placed")
            state[next_id] = r
            emit("c", None, r, next_id, edit=edit)
            next_id += 1
            continue
        if kind == "truncate":
            ev = {"source": {"version": "2.5.0.Final", "connector": "postgresql", "name": "oltp",
                             "ts_ms": t // 1000, "snapshot": "false", "db": "food", "schema": "public",
                             "table": "orders", "txId": tx + 1, "lsn": lsn + 16, "xmin": None},
                  "op": "t", "ts_ms": t // 1000 + 4, "transaction": None}
            out.append((None, json.dumps({"schema": schema, "payload": ev}), ("dead", "schema")))
            continue
        if kind == "message":
            ev = {"op": "m", "ts_ms": t // 1000 + 2, "source": {"version": "2.5.0.Final", "connector": "postgresql",
                  "name": "oltp", "ts_ms": t // 1000, "snapshot": "false", "db": "food", "schema": "",
                  "table": "", "txId": None, "lsn": lsn + 24, "xmin": None},
                  "message": {"prefix": "audit", "content": "b3JkZXIgMTIgcmVmdW5kZWQ="}}
            out.append((None, json.dumps(ev), ("dead", "schema")))
            continue
        if kind == "not_json":
            out.append((key(1, False), '{"before":null,"after":{"order_id":1,', ("dead", "parse")))
            continue
        if kind in ("no_op", "payload_string", "create_null_after", "delete_null_before", "precise_decimal"):
            r = public(row_of(next_id, "placed"))
            ev = {"before": None, "after": r, "source": {"version": "2.5.0.Final", "connector": "postgresql",
                  "name": "oltp", "ts_ms": t // 1000, "snapshot": "false", "db": "food", "schema": "public",
                  "table": "orders", "txId": tx, "lsn": lsn, "xmin": None}, "op": "c", "ts_ms": t // 1000 + 5,
                  "transaction": None}
            if kind == "no_op":
                del ev["op"]
                text = json.dumps(ev)
            elif kind == "payload_string":
                text = json.dumps({"schema": schema, "payload": json.dumps(ev)})
            elif kind == "create_null_after":
                ev["after"] = None
                text = json.dumps({"schema": schema, "payload": ev})
            elif kind == "delete_null_before":
                ev["op"], ev["after"] = "d", None
                text = json.dumps(ev)
            else:
                ev["after"]["amount"] = "AeI="     # decimal 4.82 as Debezium's precise bytes
                text = json.dumps({"schema": schema, "payload": ev})
            out.append((key(next_id, False), text, ("dead", "parse")))
            continue
        # ordinary traffic: new orders while there are some to place, status changes, deletes
        live = sorted(state)
        if next_id < first_order + orders and (not live or rng.random() < 0.4):
            r = row_of(next_id, "placed")
            state[next_id] = r
            emit("c", None, r, next_id)
            next_id += 1
        else:
            oid = rng.choice(live)
            old = state[oid]
            i = ORDER_STATUSES.index(old["status"]) if old["status"] in ORDER_STATUSES else 0
            if old["status"] in ("delivered", "cancelled") or rng.random() < 0.1:
                # the row is deleted (an old order purged, a test order removed)
                r = rng.random()
                if r < 0.3:
                    before = {"order_id": oid, "customer_id": None, "status": None, "amount": None,
                              "updated_at_us": None}
                elif r < 0.5:
                    before = {"order_id": oid}
                else:
                    before = dict(old)
                emit("d", before, None, oid)
                del state[oid]
                tombstones += 1
                tomb = {1: "", 2: '{"schema": null, "payload": null}'}.get(tombstones)
                out.append((key(oid, rng.random() < 0.5), tomb, ("dropped",)))
            else:
                status = "cancelled" if rng.random() < 0.08 else ORDER_STATUSES[min(i + 1, 4)]
                new = dict(row_of(oid, status, old["customer_id"]), amount=old["amount"])
                state[oid] = new
                emit("u", old if rng.random() < 0.3 else None, new, oid)
    return out
