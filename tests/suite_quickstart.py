"""The first-run pipeline: pipelines/quickstart.yaml on the demo's generated sample. Its per-minute
revenue lands in SQLite (checked with the sqlite3 tool against sums computed here from the same
CSV), a rerun upserts the same rows instead of duplicating them, and `make demo`'s generator is
deterministic."""
import collections
import csv
import datetime
import json
import os
import subprocess


def _generate(ctx, path):
    ctx.run(["/usr/bin/python3", "pipelines/data/generate_events.py", "-o", path])


def _expected(path):
    """(minute, event_type) -> [events, revenue, price_sum]; the demo's bad rows excluded."""
    bad = {"e90001", "e90002", "e90003", "e90004", "e90005"}
    acc = collections.defaultdict(lambda: [0, 0.0, 0.0])
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["event_id"] in bad:
                continue
            t = datetime.datetime.fromisoformat(row["event_time"].replace("Z", "+00:00"))
            minute = t.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
            price = float(row["price"])
            qty = int(row["quantity"]) if row["quantity"] else 1
            a = acc[(minute, row["event_type"])]
            a[0] += 1
            a[1] += price * qty if row["event_type"] == "purchase" else 0.0
            a[2] += price
    return acc


def _table(db):
    out = subprocess.run(["sqlite3", "-json", db, "select * from revenue_per_minute"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out) if out.strip() else []


def test_quickstart_into_sqlite(ctx):
    data = os.path.join(ctx.tmp, "events.csv")
    _generate(ctx, data)
    binary = ctx.build_pipeline("pipelines/quickstart.yaml")
    out = os.path.join(ctx.tmp, "out")
    env = dict(os.environ, INPUT=data, OUT=out)
    p = subprocess.run([binary], env=env, capture_output=True, text=True, cwd=ctx.tmp)
    assert p.returncode == 0, p.stderr
    assert "done: in=3005 out=3000 dead=5 dropped=0" in p.stderr, p.stderr
    reasons = sorted(json.loads(l)["reason"] for l in open(os.path.join(out, "quickstart.dead.jsonl")))
    assert reasons == ["late", "parse", "parse", "price_not_negative", "schema"], reasons
    want = _expected(data)
    rows = _table(os.path.join(out, "quickstart.db"))
    got = {(r["window_start"], r["event_type"]): r for r in rows}
    assert set(got) == set(want), sorted(set(got) ^ set(want))[:10]
    for key, (events, revenue, price_sum) in want.items():
        r = got[key]
        assert r["events"] == events, (key, r, events)
        assert abs(r["revenue"] - revenue) <= 1e-9 * max(1.0, abs(revenue)), (key, r, revenue)
        assert abs(r["avg_price"] - price_sum / events) <= 1e-9 * max(1.0, price_sum / events), (key, r)
    # The terminal table shows the same minutes.
    assert "(%d rows)" % len(want) in p.stdout, p.stdout[-300:]
    # A rerun upserts: the same rows, no duplicates.
    p = subprocess.run([binary], env=env, capture_output=True, text=True, cwd=ctx.tmp)
    assert p.returncode == 0, p.stderr
    assert len(_table(os.path.join(out, "quickstart.db"))) == len(want)


def test_demo_generator_is_deterministic(ctx):
    a, b = os.path.join(ctx.tmp, "a.csv"), os.path.join(ctx.tmp, "b.csv")
    _generate(ctx, a)
    _generate(ctx, b)
    assert open(a, "rb").read() == open(b, "rb").read()
