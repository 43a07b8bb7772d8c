"""suite_postgres.py - PostgreSQL sinks, dead letters and checkpoints against a real server.

One throwaway PostgreSQL 15 (tests/pgserver.py) serves every test of the run; each test has a
database of its own. Results are read back with psql, and compared with expectations computed
from the generator's own values (tests/gen_events.py), never from pipec's output:

- a hot folder into a table without a key (mode insert), killed with SIGKILL at random points
  and restarted: every valid row exactly once, every bad row exactly once in the dead-letter
  table, every file archived;
- the server stopped and started again while the pipeline runs: nothing lost, nothing twice;
- upsert: each batch de-duplicated (last write wins), reruns replace instead of adding;
- rows the server refuses (a CHECK constraint, NUL bytes) bisected out to the dead letter with
  the server's message, the rest committed;
- the seed pipeline user_activity_pg and a window into PostgreSQL.
"""
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_events as gen  # noqa: E402
import pgserver  # noqa: E402
from proc_util import env_without_pg as _env, run_summary as _summary, wait_handler  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
UA_RULES = [("price_not_negative", lambda v: v[5] >= 0),
            ("quantity_positive", lambda v: None if v[6] is None else v[6] > 0)]
# The row as read back: values in the generator's terms (timestamps as microseconds).
ROW_SQL = ("SELECT event_id, (extract(epoch FROM event_time) * 1000000)::bigint, user_id, event_type, "
           "product_id, price::text, quantity FROM %s")


def _run(binary, env, args=(), timeout=180, cwd=None):
    p = subprocess.run([binary] + list(args), env=env, cwd=cwd, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, "exit %d\n%s" % (p.returncode, p.stderr[-4000:])
    return p


def _row_values(r):
    """A psql row of ROW_SQL as generator values."""
    return (r[0], int(r[1]), int(r[2]), r[3], int(r[4]), float(r[5]),
            None if r[6] is None else int(r[6]))


def _has_nul(values):
    return any(isinstance(v, str) and "\x00" in v for v in values)


def _expect(files, rules=UA_RULES):
    """Good rows (values) and dead letters {(file, line): reason} of the generated files. A good
    row with a NUL byte in a string is refused by PostgreSQL: a dead letter, reason rejected."""
    good, dead = [], {}
    for name, rows in files:
        for row in rows:
            reason = gen.expected_reason(row, rules)
            if not reason and _has_nul(row.values):
                reason = "rejected"
            if reason:
                dead[(name, row.line)] = reason
            else:
                good.append(row.values)
    return good, dead


def _same_rows(got, exp, what):
    def key(v):
        return tuple("" if x is None else repr(x) for x in v)
    g = sorted(got, key=key)
    e = sorted(exp, key=key)
    if g == e:
        return
    gs, es = {}, {}
    for v in g:
        gs[key(v)] = gs.get(key(v), 0) + 1
    for v in e:
        es[key(v)] = es.get(key(v), 0) + 1
    twice = [k for k, n in gs.items() if n > es.get(k, 0)]
    lost = [k for k, n in es.items() if n > gs.get(k, 0)]
    raise AssertionError("%s: %d rows, expected %d; %d extra (or twice), e.g. %r; %d missing, e.g. %r" %
                         (what, len(g), len(e), len(twice), twice[:3], len(lost), lost[:3]))


def _dead_rows(srv, db, table="events_errors"):
    got = {}
    for pos, reason, pipeline in srv.psql("SELECT position, reason, pipeline FROM %s" % table, db=db):
        path, _, line = pos.rpartition(":")
        k = (os.path.basename(path), int(line))
        assert k not in got, "dead letter %r twice" % (k,)
        got[k] = reason
    return got


def _drop_into(folder, name, src):
    tmp = os.path.join(os.path.dirname(folder), "." + name + ".part")
    with open(src, "rb") as f, open(tmp, "wb") as g:
        g.write(f.read())
    os.rename(tmp, os.path.join(folder, name))


def _folder_setup(ctx, nfiles, nrows, seed):
    d = {k: os.path.join(ctx.tmp, k.lower()) for k in ("INBOX", "ARCHIVE")}
    for v in d.values():
        os.makedirs(v)
    files = []
    for i in range(nfiles):
        name = "f%02d.csv" % i
        src = os.path.join(ctx.tmp, "src_" + name)
        rows = gen.generate(src, nrows, seed=seed + i, prefix="f%d_" % i, unterminated=(i == nfiles - 1))
        files.append((name, src, rows))
    return d, files


def _check_folder_result(srv, db, d, files):
    good, dead = _expect([(n, r) for n, _, r in files])
    got = [_row_values(r) for r in srv.psql(ROW_SQL % "events", db=db)]
    _same_rows(got, good, "table events")
    got_dead = _dead_rows(srv, db)
    if got_dead != dead:
        extra = sorted(set(got_dead) - set(dead))[:5]
        missing = sorted(set(dead) - set(got_dead))[:5]
        wrong = [(k, got_dead[k], dead[k]) for k in got_dead if k in dead and got_dead[k] != dead[k]][:5]
        raise AssertionError("dead letters: %d, expected %d; extra %r, missing %r, wrong reason %r" %
                             (len(got_dead), len(dead), extra, missing, wrong))
    assert not [f for f in os.listdir(d["INBOX"]) if f.endswith(".csv")], os.listdir(d["INBOX"])
    archived = sorted(os.listdir(d["ARCHIVE"]))
    assert archived == sorted(n for n, _, _ in files), "archive holds %r" % archived
    for name, src, _ in files:
        with open(os.path.join(d["ARCHIVE"], name), "rb") as f, open(src, "rb") as g:
            assert f.read() == g.read(), "archived %s differs from the input" % name
    return len(good), len(dead)


def _need_server():
    assert pgserver.available(), "PostgreSQL 15 is not installed (make deps installs it)"
    return pgserver.server()


def test_folder_insert_sigkill_20_times(ctx):
    """Done-when of the PostgreSQL issue: SIGKILL at random points 20 times, restart, exact."""
    srv = _need_server()
    db = srv.new_db("kill")
    binary = ctx.build_pipeline(os.path.join(HERE, "pg", "folder_insert.yaml"))
    d, files = _folder_setup(ctx, 10, 4000, seed=400)
    env = _env(PG_DSN=srv.dsn(db), **d)
    rng = random.Random(41)
    for _, src, _ in files[:2]:
        _drop_into(d["INBOX"], os.path.basename(src)[4:], src)
    kills = 0
    logs = []
    late = files[2:]
    for attempt in range(60):
        if kills >= 20:
            break
        if late and attempt % 2 == 1:   # more files arrive while the pipeline runs
            name, src, _ = late.pop(0)
            _drop_into(d["INBOX"], name, src)
        proc = subprocess.Popen([binary], env=env, cwd=ctx.tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.05, 0.6 if not ctx.san else 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate(timeout=60)
        logs.append(err.decode("utf-8", "replace"))
        assert proc.returncode in (0, -9), "run %d: exit %r\n%s" % (attempt, proc.returncode, err.decode()[-3000:])
    with open(os.path.join(ctx.tmp, "runs.log"), "w") as f:
        f.write("\n----\n".join(logs))
    for name, src, _ in late:
        _drop_into(d["INBOX"], name, src)
    assert kills == 20, "only %d runs could be killed" % kills
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    if os.environ.get("PIPEC_TEST_KEEP"):   # for debugging a failure: the database and the logs
        with open(os.path.join(ctx.tmp, "db.txt"), "w") as f:
            f.write(srv.dsn(db))
        import shutil
        shutil.copytree(ctx.tmp, os.environ["PIPEC_TEST_KEEP"], dirs_exist_ok=True)
    ngood, ndead = _check_folder_result(srv, db, d, files)
    assert ngood > 30000 and ndead > 1000, (ngood, ndead)
    # one more run: nothing to do, nothing changes
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    assert _summary(p.stderr)["in"] == 0, p.stderr[-2000:]
    assert int(srv.psql("SELECT count(*) FROM events", db=db)[0][0]) == ngood


def test_server_stopped_and_started_mid_run(ctx):
    """The server goes away twice while rows flow: the pipeline waits, retries, loses nothing
    and writes nothing twice."""
    srv = _need_server()
    db = srv.new_db("outage")
    binary = ctx.build_pipeline(os.path.join(HERE, "pg", "folder_insert.yaml"))
    d, files = _folder_setup(ctx, 8, 2000, seed=500)
    env = _env(PG_DSN=srv.dsn(db), **d)
    proc = subprocess.Popen([binary], env=env, cwd=ctx.tmp, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        for i, (name, src, _) in enumerate(files):
            _drop_into(d["INBOX"], name, src)
            time.sleep(0.15)
            if i in (2, 5):
                srv.stop()
                time.sleep(1.0)
                srv.start()
        deadline = time.time() + (120 if ctx.san else 60)
        while os.listdir(d["INBOX"]) and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        wait_handler(proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    err = err.decode("utf-8", "replace")
    assert proc.returncode == 0, "exit %r\n%s" % (proc.returncode, err[-4000:])
    assert "not reachable; retrying" in err or "connection was lost" in err, \
        "the outage was not noticed:\n" + err[-3000:]
    _check_folder_result(srv, db, d, files)


def test_upsert_last_write_wins_and_rerun(ctx):
    """upsert: a key twice in one batch keeps the later row; a rerun replaces, never adds."""
    srv = _need_server()
    db = srv.new_db("upsert")
    spec = os.path.join(ROOT, "pipelines", "user_activity_pg.yaml")
    binary = ctx.build_pipeline(spec)
    inbox, archive = os.path.join(ctx.tmp, "in"), os.path.join(ctx.tmp, "arch")
    os.makedirs(inbox)
    os.makedirs(archive)
    header = "event_id,event_time,user_id,event_type,product_id,price,quantity\n"
    with open(os.path.join(ctx.tmp, "a.csv"), "w") as f:
        f.write(header)
        for i in range(3000):
            f.write("k%d,2024-05-01T10:%02d:00Z,%d,view,7,%d.5,%d\n" % (i % 1000, i % 60, i, i, 1 + i // 1000))
    _drop_into(inbox, "a.csv", os.path.join(ctx.tmp, "a.csv"))
    env = _env(PG_DSN=srv.dsn(db), INBOX=inbox, ARCHIVE=archive)
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    assert _summary(p.stderr) == {"in": 3000, "out": 3000, "dead": 0, "dropped": 0}, p.stderr
    rows = srv.psql("SELECT event_id, user_id, price::text, quantity FROM user_activity", db=db)
    assert len(rows) == 1000, len(rows)
    for eid, uid, price, q in rows:
        k = int(eid[1:])
        assert (int(uid), float(price), int(q)) == (2000 + k, 2000 + k + 0.5, 3), (eid, uid, price, q)
    # the table was created from the types, with the key as primary key
    cols = dict(srv.psql("SELECT column_name, data_type FROM information_schema.columns WHERE "
                         "table_name = 'user_activity'", db=db))
    assert cols == {"event_id": "text", "event_time": "timestamp with time zone", "user_id": "bigint",
                    "event_type": "text", "product_id": "bigint", "price": "double precision",
                    "quantity": "integer"}, cols
    pk = srv.psql("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
                  "a.attnum = ANY(i.indkey) WHERE i.indrelid = 'user_activity'::regclass AND i.indisprimary", db=db)
    assert pk == [["event_id"]], pk
    # the same file again (a replay after a lost archive): replaced, not added
    with open(os.path.join(ctx.tmp, "a.csv")) as f, open(os.path.join(ctx.tmp, "b.csv"), "w") as g:
        g.write(f.read().replace(",view,", ",cart,"))
    _drop_into(inbox, "b.csv", os.path.join(ctx.tmp, "b.csv"))
    _run(binary, env, args=["--once"], cwd=ctx.tmp)
    assert srv.psql("SELECT count(*), count(*) FILTER (WHERE event_type = 'cart') FROM user_activity", db=db) == \
        [["1000", "1000"]]


def test_refused_rows_are_bisected_to_the_dead_letter(ctx):
    """A CHECK constraint and NUL bytes: the server refuses single rows of a large batch; they
    reach the dead letter with the server's message, every other row is committed once."""
    srv = _need_server()
    db = srv.new_db("refuse")
    srv.psql("CREATE TABLE events (event_id text, event_time timestamptz, user_id bigint, event_type text, "
             "product_id bigint, price double precision CHECK (price < 90), quantity integer)", db=db)
    binary = ctx.build_pipeline(os.path.join(HERE, "pg", "folder_insert.yaml"))
    inbox, archive = os.path.join(ctx.tmp, "inbox"), os.path.join(ctx.tmp, "archive")
    os.makedirs(inbox)
    os.makedirs(archive)
    src = os.path.join(ctx.tmp, "a.csv")
    with open(src, "w") as f:
        f.write("event_id,event_time,user_id,event_type,product_id,price,quantity\n")
        for i in range(5000):
            eid = "nul\x00%d" % i if i % 613 == 5 else "e%d" % i
            f.write('"%s",2024-05-01T10:00:00Z,%d,view,7,%d,1\n' % (eid, i, 95 if i % 401 == 3 else i % 80))
    _drop_into(inbox, "a.csv", src)
    env = _env(PG_DSN=srv.dsn(db), INBOX=inbox, ARCHIVE=archive)
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    refused = {i for i in range(5000) if i % 613 == 5 or i % 401 == 3}
    assert _summary(p.stderr) == {"in": 5000, "out": 5000 - len(refused), "dead": len(refused), "dropped": 0}, p.stderr
    got = sorted(int(r[0]) for r in srv.psql("SELECT user_id FROM events", db=db))
    assert got == sorted(set(range(5000)) - refused), "committed rows differ"
    dl = srv.psql("SELECT position, reason, detail, raw FROM events_errors", db=db)
    assert sorted(int(r[0].rpartition(":")[2]) - 2 for r in dl) == sorted(refused), [r[0] for r in dl][:10]
    for pos, reason, detail, raw in dl:
        i = int(pos.rpartition(":")[2]) - 2
        assert reason == "rejected", reason
        if i % 613 == 5:
            assert "0x00" in detail and "base64" in detail, detail
        else:
            assert 'violates check constraint' in detail and raw.startswith('"e%d",' % i), (detail, raw)


def test_window_into_postgres_and_explain(ctx):
    """A window's rows upserted into PostgreSQL; explain names the guarantee and the store."""
    srv = _need_server()
    db = srv.new_db("win")
    spec = os.path.join(ctx.tmp, "win.yaml")
    with open(spec, "w") as f:
        f.write("""pipeline: pg_window
source:
  file: {path: "${INPUT}"}
  format:
    csv: {header: true}
schema:
  t: timestamp
  k: string
  v: float64
windows:
  per_minute:
    tumbling: 1m
    time: t
    group_by: [k]
    select:
      n: count()
      total: sum(v)
sinks:
  minutes:
    from: per_minute
    postgres: {dsn: "${PG_DSN}", table: minutes, mode: upsert, key: [window_start, k], create: true}
dead_letter:
  postgres: {dsn: "${PG_DSN}", table: errors, create: true}
""")
    explain = ctx.run([ctx.pipec, "explain", spec]).stdout
    assert "guarantee: exactly once" in explain and "PostgreSQL" in explain, explain
    data = os.path.join(ctx.tmp, "in.csv")
    exp = {}
    with open(data, "w") as f:
        f.write("t,k,v\n")
        for i in range(6000):
            m, k, v = i // 100, "g%d" % (i % 7), i * 0.25
            f.write("2024-05-01T10:%02d:%02dZ,%s,%s\n" % (m, i % 60, k, v))
            n, s = exp.get((m, k), (0, 0.0))
            exp[(m, k)] = (n + 1, s + v)
    binary = ctx.build_pipeline(spec)
    _run(binary, _env(PG_DSN=srv.dsn(db), INPUT=data), cwd=ctx.tmp)
    rows = srv.psql("SELECT extract(minute FROM window_start)::int, k, n, total::text FROM minutes", db=db)
    got = {(int(m), k): (int(n), float(t)) for m, k, n, t in rows}
    assert got.keys() == exp.keys(), sorted(set(got) ^ set(exp))[:5]
    for key, (n, s) in exp.items():
        assert got[key][0] == n and abs(got[key][1] - s) <= 1e-9 * max(1.0, abs(s)), (key, got[key], (n, s))


def test_checker_errors_for_postgres(ctx):
    """Mistakes in a PostgreSQL spec are found at compile time."""
    spec = os.path.join(ctx.tmp, "bad.yaml")
    base = """pipeline: bad
source:
  file: {path: x.csv}
  format:
    csv: {header: true}
schema:
  a: int64
sinks:
  s:
    %s
%s
"""
    cases = [
        ('postgres: {dsn: "${PG}", table: t, mode: upsert}', "", "needs 'key: [columns]'"),
        ('postgres: {dsn: "${PG}", table: t, mode: merge, key: [a]}', "", "it needs 'from: WINDOW'"),
        ('file: {path: out.jsonl}', 'checkpoint: {postgres: "${PG}"}', "has none"),
        ('postgres: {dsn: "${PG}", table: t}', 'checkpoint: {postgres: "${OTHER}"}', "must be the DSN of a PostgreSQL sink"),
        ('postgres: {dsn: "${PG}", table: t, batch: {rows: 0}}', "", "batch rows must be at least 1"),
        ('postgres: {dsn: "${PG", table: t}', "", "error"),
    ]
    for sink, extra, want in cases:
        with open(spec, "w") as f:
            f.write(base % (sink, extra))
        p = ctx.run([ctx.pipec, "check", spec], check=False)
        assert p.returncode != 0 and want in p.stderr, (sink, extra, p.stderr)
    with open(spec, "w") as f:
        f.write(base % ('postgres: {dsn: "${PG}", table: t}', 'dead_letter:\n  postgres: {dsn: "${OTHER}", table: e}\n'
                        'checkpoint: {path: st}\nguarantee: exactly_once'))
    p = ctx.run([ctx.pipec, "check", spec], check=False)
    assert p.returncode != 0 and "DSN of its own" in p.stderr, p.stderr


def test_missing_dsn_variable_and_unreachable_server(ctx):
    """An unset ${PG_DSN}: exit 2 naming it. A server that never answers: exit 1 with a line
    naming host, port and database, and never the password."""
    binary = ctx.build_pipeline(os.path.join(HERE, "pg", "folder_insert.yaml"))
    inbox = os.path.join(ctx.tmp, "in")
    os.makedirs(inbox)
    env = _env(INBOX=inbox, ARCHIVE=os.path.join(ctx.tmp, "arch"))
    p = subprocess.run([binary], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "PG_DSN" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    port = pgserver._pick_port()
    env["PG_DSN"] = "host=127.0.0.1 port=%d user=u password=sekrit dbname=nodb connect_timeout=1" % port
    env["PIPEC_PG_OPEN_PATIENCE_MS"] = "1500"
    p = subprocess.run([binary, "--once"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "127.0.0.1:%d/nodb" % port in p.stderr and "sekrit" not in p.stderr, p.stderr


ORDERS_DDL = ("CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_name text, restaurant text, "
              "item text, amount numeric(10,2), status text, updated_at timestamptz)")
STATUSES = ["placed", "preparing", "delivered", "cancelled"]


class _Orders:
    """Writes orders the way an application does: inserts and updates in small transactions,
    with non-decreasing updated_at values that often repeat (ties), and remembers every version
    it committed: (order_id, status, amount, updated_at in microseconds)."""

    def __init__(self, srv, db, seed):
        self.srv, self.db, self.rng = srv, db, random.Random(seed)
        self.t = 1714550400 * 1000000    # 2024-05-01T08:00:00Z, in microseconds
        self.next_id = 1
        self.versions = []

    def _ts(self, us):
        return "to_timestamp(%d) + interval '%d microseconds'" % (us // 1000000, us % 1000000)

    def step(self):
        rng = self.rng
        if rng.random() < 0.6:                      # ties: keep the same updated_at
            self.t += rng.choice([1, 250000, 1000000])
        stmts = []
        for _ in range(rng.randint(1, 12)):
            if self.next_id > 5 and rng.random() < 0.25:   # an update of an existing order
                oid = rng.randrange(1, self.next_id)
                status = rng.choice(STATUSES)
                amount = None
                stmts.append("UPDATE orders SET status = '%s', updated_at = %s WHERE order_id = %d" %
                             (status, self._ts(self.t), oid))
                self.versions.append(("u", oid, status, self.t))
            else:
                oid = self.next_id
                self.next_id += 1
                amount = -5 if oid % 23 == 0 else rng.randint(1, 9999) / 100
                status = rng.choice(STATUSES)
                stmts.append("INSERT INTO orders VALUES (%d, 'c%d', 'r%d', 'item \u00e9%d', %s, '%s', %s)" %
                             (oid, oid, oid % 7, oid, amount, status, self._ts(self.t)))
                self.versions.append(("i", oid, status, self.t, amount))
        self.srv.psql("; ".join(stmts), db=self.db)

    def expected(self):
        """Every committed version of every order, as the pipeline must deliver it, and the
        dead letters (negative amounts). An update repeats the row's other values."""
        amounts, good, dead = {}, [], []
        for v in self.versions:
            if v[0] == "i":
                amounts[v[1]] = v[4]
            oid, status, t = v[1], v[2], v[3]
            (dead if amounts[oid] <= 0 else good).append((oid, status, t))
        return good, dead


def _poll_results(out):
    import json
    got = []
    with open(os.path.join(out, "orders.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            got.append((r["order_id"], r["status"], _ts_us(r["updated_at"])))
    dead = []
    if os.path.exists(os.path.join(out, "dead.jsonl")):
        with open(os.path.join(out, "dead.jsonl"), encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                raw = json.loads(r["raw"])
                assert r["reason"] == "amount_positive" and r["position"].startswith("orders updated_at="), r
                dead.append((raw["order_id"], raw["status"], _ts_us(raw["updated_at"])))
    return got, dead


def _ts_us(text):
    import datetime
    t = text.replace("Z", "+00:00")
    return int(datetime.datetime.fromisoformat(t).timestamp() * 1000000 + 0.5) if "." in t else \
        int(datetime.datetime.fromisoformat(t).timestamp()) * 1000000


def test_poll_source_ties_updates_and_sigkill(ctx):
    """Rows, ties on updated_at and updates arrive while the poll pipeline runs and is killed at
    random points: every committed version is delivered exactly once, in cursor order."""
    srv = _need_server()
    db = srv.new_db("poll")
    srv.psql(ORDERS_DDL, db=db)
    orders = _Orders(srv, db, seed=7)
    binary = ctx.build_pipeline(os.path.join(HERE, "pg", "poll_orders.yaml"))
    out = os.path.join(ctx.tmp, "out")
    env = _env(PG_DSN=srv.dsn(db), OUT=out)
    rng = random.Random(8)
    kills = 0
    for attempt in range(14):
        proc = subprocess.Popen([binary], env=env, cwd=ctx.tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        for _ in range(rng.randint(2, 6)):
            orders.step()
            time.sleep(rng.uniform(0, 0.05))
        time.sleep(rng.uniform(0.0, 0.3))
        sig = signal.SIGKILL if attempt % 3 else signal.SIGTERM
        if sig == signal.SIGTERM:
            wait_handler(proc)
        proc.send_signal(sig)
        kills += sig == signal.SIGKILL
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, -9), "run %d: exit %r\n%s" % (attempt, proc.returncode, err.decode()[-3000:])
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    good, dead = orders.expected()
    got, got_dead = _poll_results(out)
    # A poll sees a row as it is then: a version overwritten before any poll saw it is never
    # delivered. So: nothing but committed versions, none twice, in cursor order, and the last
    # version of every order (what the table holds now) always.
    for what, g, e in (("rows", got, good), ("dead letters", got_dead, dead)):
        assert len(set(g)) == len(g), "%s: a version delivered twice" % what
        assert set(g) <= set(e), "%s: not a committed version: %r" % (what, sorted(set(g) - set(e))[:3])
        last = {}
        for v in e:
            last[v[0]] = v
        missing = sorted(set(last.values()) - set(g))
        assert not missing, "%s: the current version of %d orders is missing, e.g. %r" % (what, len(missing), missing[:3])
    assert [t for _, _, t in got] == sorted(t for _, _, t in got), "not in cursor order"
    assert kills >= 8 and len(good) > 150, (kills, len(good))
    # nothing new: a run takes nothing
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    assert _summary(p.stderr)["in"] == 0, p.stderr[-2000:]


def test_food_orders_poll_seed(ctx):
    """The seed pipeline: a table of orders polled, bad amounts to the dead letter, positions
    name the cursor value; a rerun takes only what changed."""
    srv = _need_server()
    db = srv.new_db("food")
    srv.psql(ORDERS_DDL, db=db)
    srv.psql("INSERT INTO orders SELECT i, 'c' || i, 'r' || (i % 5), 'pizza', CASE WHEN i % 50 = 0 THEN 0 "
             "ELSE i * 1.25 END, (ARRAY['placed','preparing','delivered','cancelled'])[1 + i % 4], "
             "'2024-05-01T10:00:00Z'::timestamptz + (i / 10) * interval '1 minute' FROM generate_series(1, 1000) i",
             db=db)
    binary = ctx.build_pipeline(os.path.join(ROOT, "pipelines", "food_orders_poll.yaml"))
    out = os.path.join(ctx.tmp, "out")
    env = _env(PG_DSN=srv.dsn(db), OUT=out, DLQ_PATH=os.path.join(out, "dead.jsonl"),
               STATE_DIR=os.path.join(ctx.tmp, "state"))
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    assert _summary(p.stderr) == {"in": 1000, "out": 980, "dead": 20, "dropped": 0}, p.stderr
    srv.psql("UPDATE orders SET status = 'delivered', updated_at = '2024-05-02T00:00:00Z' WHERE order_id <= 3", db=db)
    p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
    assert _summary(p.stderr) == {"in": 3, "out": 3, "dead": 0, "dropped": 0}, p.stderr
    import json
    with open(os.path.join(out, "food_orders_raw.jsonl")) as f:
        rows = [json.loads(x) for x in f]
    assert len(rows) == 983 and [r["order_id"] for r in rows[-3:]] == [1, 2, 3], rows[-3:]
    assert rows[0] == {"order_id": 1, "customer_name": "c1", "restaurant": "r1", "item": "pizza",
                       "amount": 1.25, "status": "preparing", "updated_at": "2024-05-01T10:00:00Z"}, rows[0]


CDC_DDL = ("CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id bigint, status text, "
           "amount numeric(10,2), updated_at timestamptz)")


def _cdc_changes(out):
    import json
    got = []
    with open(os.path.join(out, "changes.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            got.append((r["_op"], r["order_id"], r["status"], r["amount"]))
    return got


def test_cdc_inserts_updates_deletes_in_commit_order_across_kills(ctx):
    """Logical replication: a snapshot of the rows already there (op r), then inserts, updates
    and deletes made with psql while the pipeline runs and is killed at random points. Every
    change arrives once, in commit order; a delete carries the key and NULLs; the slot is
    confirmed only as far as the pipeline committed."""
    srv = _need_server()
    db = srv.new_db("cdc")
    srv.psql(CDC_DDL, db=db)
    srv.psql("INSERT INTO orders SELECT i, i % 7, 'new', i, '2024-05-01T10:00:00Z' FROM generate_series(1, 300) i", db=db)
    expected = [("r", i, "new", float(i)) for i in range(1, 301)]
    binary = ctx.build_pipeline(os.path.join(HERE, "pg", "cdc_orders.yaml"))
    out = os.path.join(ctx.tmp, "out")
    env = _env(PG_DSN=srv.dsn(db), OUT=out)
    rng = random.Random(5)
    live = set(range(1, 301))
    next_id = 301
    resumed = 0
    try:
        # the snapshot first (a crash inside it takes it again, as the table is then: at least once)
        p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
        assert _summary(p.stderr)["in"] == 300 and "initial snapshot taken" in p.stderr, p.stderr[-2000:]
        for attempt in range(12):
            proc = subprocess.Popen([binary], env=env, cwd=ctx.tmp, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            for _ in range(rng.randint(3, 8)):     # transactions of a few changes each
                stmts = []
                for _ in range(rng.randint(1, 20)):
                    k = rng.random()
                    if k < 0.5 or not live:
                        stmts.append("INSERT INTO orders VALUES (%d, %d, 'new', %d, now())" % (next_id, next_id % 7, next_id))
                        expected.append(("c", next_id, "new", float(next_id)))
                        live.add(next_id)
                        next_id += 1
                    elif k < 0.8:
                        oid = rng.choice(sorted(live))
                        stmts.append("UPDATE orders SET status = 'paid', amount = %d WHERE order_id = %d" % (oid + 1, oid))
                        expected.append(("u", oid, "paid", float(oid + 1)))
                    else:
                        oid = rng.choice(sorted(live))
                        stmts.append("DELETE FROM orders WHERE order_id = %d" % oid)
                        expected.append(("d", oid, None, None))
                        live.discard(oid)
                srv.psql("BEGIN; " + "; ".join(stmts) + "; COMMIT", db=db)
                time.sleep(rng.uniform(0, 0.05))
            if attempt % 4 == 2:   # the server ends the replication connection: reconnect, go on
                srv.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_replication", db=db)
                for _ in range(3):
                    stmts = ["INSERT INTO orders VALUES (%d, 1, 'new', %d, now())" % (next_id + k, next_id + k) for k in range(5)]
                    expected += [("c", next_id + k, "new", float(next_id + k)) for k in range(5)]
                    live.update(range(next_id, next_id + 5))
                    next_id += 5
                    srv.psql("BEGIN; " + "; ".join(stmts) + "; COMMIT", db=db)
                    time.sleep(0.1)
            time.sleep(rng.uniform(0.05, 0.4))
            if attempt % 3 == 0:
                wait_handler(proc)
            proc.send_signal(signal.SIGKILL if attempt % 3 else signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode in (0, -9), "run %d: exit %r\n%s" % (attempt, proc.returncode, err.decode()[-3000:])
            resumed += "replication resumed" in err.decode()
        assert resumed >= 1, "no run reconnected after its replication connection was ended"
        p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
        got = _cdc_changes(out)
        if got != expected and os.environ.get("PIPEC_TEST_KEEP"):
            import shutil
            shutil.copytree(ctx.tmp, os.environ["PIPEC_TEST_KEEP"], dirs_exist_ok=True)
            with open(os.path.join(os.environ["PIPEC_TEST_KEEP"], "expected.txt"), "w") as f:
                f.write("\n".join(map(repr, expected)))
        assert len(got) == len(expected) and got == expected, (
            "%d changes, expected %d; first difference at %r" % (len(got), len(expected),
                                                                 next((i, got[i] if i < len(got) else None, e) for i, e in enumerate(expected)
                                                                      if i >= len(got) or got[i] != e)))
        # the slot is confirmed up to what was committed: a new run takes nothing
        p = _run(binary, env, args=["--once"], cwd=ctx.tmp)
        assert _summary(p.stderr)["in"] == 0, p.stderr[-2000:]
        lag = srv.psql("SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots "
                       "WHERE slot_name = 'orders_slot'", db=db)
        assert lag and int(lag[0][0]) < 1 << 20, lag
    finally:
        srv.psql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'orders_slot'", db=db)


def test_cdc_slot_lag_metric(ctx):
    """pipec_source_lag{kind="postgres_cdc"}: WAL bytes between the server's last reported
    position and what the sinks hold; never more than the slot's own lag as the server sees it
    (pg_current_wal_lsn() - confirmed_flush_lsn), measured after the scrape."""
    import re
    import urllib.request
    srv = _need_server()
    db = srv.new_db("cdclag")
    srv.psql(CDC_DDL, db=db)
    spec = os.path.join(ctx.tmp, "cdc_lag.yaml")
    with open(os.path.join(HERE, "pg", "cdc_orders.yaml")) as f:
        text = f.read().replace('slot: "orders_slot"', 'slot: "lag_slot"').replace("pg_cdc_orders", "pg_cdc_lag")
    with open(spec, "w") as f:
        f.write(text + 'metrics: {listen: "127.0.0.1:0"}\n')
    binary = ctx.build_pipeline(spec)
    out = os.path.join(ctx.tmp, "out")
    proc = subprocess.Popen([binary], env=_env(PG_DSN=srv.dsn(db), OUT=out), cwd=ctx.tmp,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        head = []
        while not head or (head[-1] and "metrics: listening on" not in head[-1]):
            head.append(proc.stderr.readline())   # '' once the process is gone
        m = re.search(r"listening on (http://[0-9.:]+)", head[-1])
        assert m, "no listening line: %s" % "".join(head)
        url = m.group(1) + "/metrics"

        def scrape():
            with urllib.request.urlopen(url, timeout=10) as r:
                return dict(re.findall(r'^(pipec_[a-z_]+)\{pipeline="pg_cdc_lag"(?:,kind="postgres_cdc")?\} (\S+)$',
                                       r.read().decode(), re.M))
        srv.psql("INSERT INTO orders SELECT i, i % 7, 'new', i, now() FROM generate_series(1, 50000) i", db=db)
        deadline, max_lag = time.time() + 120, 0
        while True:
            s = scrape()
            max_lag = max(max_lag, float(s.get("pipec_source_lag", 0)))
            if s["pipec_records_in_total"] == "50000" and s["pipec_checkpoint_age_seconds"] == "0.000000" and "pipec_source_lag" in s:
                break
            assert time.time() < deadline and proc.poll() is None, s
            time.sleep(0.02)
        lag = int(s["pipec_source_lag"])
        slot = srv.psql("SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots "
                        "WHERE slot_name = 'lag_slot'", db=db)
        assert 0 <= lag <= int(slot[0][0]) and max_lag > 0, (lag, slot, max_lag)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[1]
        srv.psql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'lag_slot'", db=db)
    assert proc.returncode == 0, rest[-2000:]


MERGE_SPEC = """pipeline: pg_merge
source:
  file: {path: "${INPUT}"}
  format:
    csv: {header: true}
schema:
  t: timestamp
  k: string
  v: {type: float64, nullable: true}
windows:
  per_minute:
    tumbling: 1m
    time: t
    lateness: 1h
    group_by: [k]
    select:
      n: count()
      nv: count(v)
      total: sum(v)
      lo: min(v)
      hi: max(v)
      mean: avg(v)
sinks:
  minutes:
    from: per_minute
    postgres: {dsn: "${PG_DSN}", table: minutes, mode: merge, key: [window_start, k], create: true}
  all_groups:
    from: per_minute
    columns: {minute: window_start, n: n, total: total, lo: lo, hi: hi, mean: mean}
    postgres: {dsn: "${PG_DSN}", table: all_groups, mode: merge, key: [minute], create: true}
dead_letter:
  postgres: {dsn: "${PG_DSN}", table: errors, create: true}
"""


def test_merge_combines_partial_windows(ctx):
    """mode merge: two instances each see part of the same windows (here: two runs on two halves
    of the input); the table holds the windows of the whole input: counts and sums added, min and
    max kept, avg as the ratio of the hidden sum and count."""
    srv = _need_server()
    db = srv.new_db("merge")
    spec = os.path.join(ctx.tmp, "merge.yaml")
    with open(spec, "w") as f:
        f.write(MERGE_SPEC)
    binary = ctx.build_pipeline(spec)
    rng = random.Random(3)
    rows = []
    for i in range(4000):
        v = None if i % 17 == 0 else round(rng.uniform(-50, 50), 3)
        rows.append((1714557600 + rng.randrange(0, 600), "g%d" % rng.randrange(5), v))
    exp = {}
    for t, k, v in rows:
        e = exp.setdefault((t // 60 * 60, k), {"n": 0, "vals": []})
        e["n"] += 1
        if v is not None:
            e["vals"].append(v)
    parts = [rows[::2], rows[1::2]]
    for i, part in enumerate(parts):   # the same windows, split between two inputs (two instances)
        path = os.path.join(ctx.tmp, "in%d.csv" % i)
        with open(path, "w") as f:
            f.write("t,k,v\n")
            for t, k, v in sorted(part, key=lambda r: r[:2]):
                f.write("%s,%s,%s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), k, "" if v is None else v))
        _run(binary, _env(PG_DSN=srv.dsn(db), INPUT=path), cwd=ctx.tmp)
    got = srv.psql("SELECT extract(epoch FROM window_start)::bigint, k, n, nv, total::text, lo::text, hi::text, "
                   "mean::text, mean__sum::text, mean__count FROM minutes", db=db)
    assert len(got) == len(exp), (len(got), len(exp))
    for ws, k, n, nv, total, lo, hi, mean, msum, mcount in got:
        e = exp[(int(ws), k)]
        vals = e["vals"]
        assert int(n) == e["n"] and int(nv) == len(vals) and int(mcount) == len(vals), (ws, k, n, nv, e)
        if not vals:
            assert total is None and lo is None and hi is None and mean is None, (total, lo, hi, mean)
            continue
        assert abs(float(total) - sum(vals)) <= 1e-9 * max(1, abs(sum(vals))), (total, sum(vals))
        assert float(lo) == min(vals) and float(hi) == max(vals), (lo, hi, min(vals), max(vals))
        assert abs(float(mean) - sum(vals) / len(vals)) <= 1e-9 * max(1, abs(sum(vals))), (mean, sum(vals) / len(vals))
        assert abs(float(msum) - sum(vals)) <= 1e-9 * max(1, abs(sum(vals))), msum
    # a key without the group: the groups of one commit combine before the stored row (GROUP BY)
    got = srv.psql("SELECT extract(epoch FROM minute)::bigint, n, total::text, lo::text, hi::text, mean::text "
                   "FROM all_groups", db=db)
    per_min = {}
    for (ws, _), e in exp.items():
        m = per_min.setdefault(ws, {"n": 0, "vals": []})
        m["n"] += e["n"]
        m["vals"] += e["vals"]
    assert len(got) == len(per_min), (len(got), len(per_min))
    for ws, n, total, lo, hi, mean in got:
        m = per_min[int(ws)]
        vals = m["vals"]
        assert int(n) == m["n"], (ws, n, m["n"])
        assert abs(float(total) - sum(vals)) <= 1e-9 * max(1, abs(sum(vals))), (total, sum(vals))
        assert float(lo) == min(vals) and float(hi) == max(vals)
        assert abs(float(mean) - sum(vals) / len(vals)) <= 1e-9 * max(1, abs(sum(vals))), mean
    # what cannot be combined is refused at compile time
    with open(spec, "w") as f:
        f.write(MERGE_SPEC.replace("mean: avg(v)", "firstv: first(v)"))
    p = ctx.run([ctx.pipec, "check", spec], check=False)
    assert p.returncode != 0 and "partial windows cannot combine" in p.stderr, p.stderr
    with open(spec, "w") as f:
        f.write(MERGE_SPEC.replace("    from: per_minute\n", ""))
    p = ctx.run([ctx.pipec, "check", spec], check=False)
    assert p.returncode != 0 and "it needs 'from: WINDOW'" in p.stderr, p.stderr


def test_an_instance_waits_for_the_last_transaction_of_another(ctx):
    """The fence: a sink holds a session lock on its checkpoint key, so a restarted binary waits
    until the session of a killed one is gone (its COMMIT may still be on the way) before it
    reads the checkpoint; a second instance waits the same way. Here a psql session holds that
    lock: the binary waits, says so, and runs once it is released."""
    srv = _need_server()
    db = srv.new_db("fence")
    binary = ctx.build_pipeline(os.path.join(HERE, "pg", "folder_insert.yaml"))
    inbox, archive = os.path.join(ctx.tmp, "in"), os.path.join(ctx.tmp, "arch")
    os.makedirs(inbox)
    holder = subprocess.Popen(["/usr/bin/psql", "-X", "-q", "-A", "-t", "-d", srv.dsn(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        holder.stdin.write("SELECT pg_advisory_lock(hashtextextended('pg_folder_insert/events', 0));\n"
                           "SELECT 'locked';\n")
        holder.stdin.flush()
        while holder.stdout.readline().strip() != "locked":   # the lock is held from here on
            assert holder.poll() is None, holder.stderr.read()
        proc = subprocess.Popen([binary, "--once"], env=_env(PG_DSN=srv.dsn(db), INBOX=inbox, ARCHIVE=archive),
                                cwd=ctx.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.5)
        assert proc.poll() is None, "the binary did not wait for the lock: %r" % proc.stderr.read()
    finally:
        holder.stdin.write("\\q\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    _, err = proc.communicate(timeout=60)
    err = err.decode()
    assert proc.returncode == 0 and "waiting for another instance" in err, (proc.returncode, err)
