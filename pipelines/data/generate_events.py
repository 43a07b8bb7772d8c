#!/usr/bin/python3
"""generate_events.py - the demo's sample: shop events as a CSV file, like an export from a web
shop's event log: about 3000 events over 20 minutes, slightly out of order, with a few bad rows
(a negative price, an unknown event type, a broken timestamp, a missing column, a late event).

Usage: generate_events.py [-o FILE] [--rows N] [--seed S]. Deterministic for a given seed."""
import argparse
import datetime
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default="pipelines/data/events.csv")
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    start = datetime.datetime(2024, 5, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
    span = 20 * 60
    prices = [4.99, 9.99, 12.5, 19.99, 3.25, 49.0, 7.75, 24.9]
    lines = ["event_id,event_time,user_id,event_type,product_id,price,quantity"]
    for i in range(args.rows):
        # Events arrive roughly in time order, up to 5 seconds out of order.
        t = start + datetime.timedelta(seconds=i * span / args.rows + rnd.uniform(-5, 0))
        kind = rnd.choices(["view", "cart", "purchase"], [70, 20, 10])[0]
        quantity = "" if kind == "view" else str(rnd.randint(1, 4))
        lines.append("e%05d,%s,%d,%s,%d,%s,%s" % (
            i + 1, t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", rnd.randint(1, 400), kind,
            rnd.randint(100, 160), rnd.choice(prices), quantity))
    # A few rows as real exports have them, each of which the pipeline must reject.
    bad = [
        "e90001,2024-05-01T10:03:12Z,17,purchase,104,-12.5,1",        # rule price_not_negative
        "e90002,2024-05-01T10:07:45Z,23,refund,105,9.99,1",           # not one of the event types
        "e90003,2024-05-01T10:09:99Z,31,view,106,4.99,",              # no such time
        "e90004,2024-05-01T10:12:03Z,44,cart,107,7.75",               # a column missing
        "e90005,2024-05-01T10:02:30Z,58,purchase,108,19.99,2",        # late: its minute has closed
    ]
    for k, row in enumerate(bad):
        lines.insert(1 + (k + 1) * args.rows // (len(bad) + 1), row)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
