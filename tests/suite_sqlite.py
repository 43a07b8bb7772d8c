"""suite_sqlite.py - the SQLite sink (runtime/rt_sqlite.c) under crashes, through
tests/rt/sqlite_kill_main.c: a program that feeds a sqlite sink rows id = 0..TOTAL-1 and commits
every BATCH rows together with its position as the checkpoint stored in the database (see the
comment at the top of that file). It is SIGKILLed at random moments and at chosen points inside
commits (after some rows of a transaction, just before COMMIT), restarted from the checkpoint in
the database each time, and afterwards the table must hold every row exactly once, with the
checkpoint equal to the number of rows committed. Also runs tests/unit/test_sqlite.c when the
Makefile did not build it (it needs -lsqlite3). Results are read with Python's sqlite3 module
and the sqlite3 command-line tool."""
import datetime
import glob
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time

_BUILT = {}

CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
          "-Wmissing-prototypes", "-D_GNU_SOURCE", "-O2", "-g"]
SAN = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]
LIBS = ["-lsqlite3", "-lpq", "-lrdkafka", "-lzstd", "-lsnappy", "-lmicrohttpd", "-lgnutls", "-lcrypt", "-lcurl", "-lm"]
PG_INC = "-I/usr/include/postgresql"   # libpq-fe.h, for rt_postgres.c


def _build(ctx, src, name, extra_inc=()):
    san = ctx.san or os.environ.get("PIPEC_SANITIZE") == "1"
    key = (name, san)
    if key in _BUILT:
        return _BUILT[key]
    out_dir = os.path.join(ctx.build, "rt")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, name + ("-san" if san else ""))
    srcs = sorted(glob.glob(os.path.join(ctx.root, "runtime", "*.c")))
    args = (["cc"] + CFLAGS + (SAN if san else []) +
            ["-I" + os.path.join(ctx.root, "runtime"), PG_INC] + ["-I" + i for i in extra_inc] +
            ["-o", out, src] + srcs + LIBS)
    p = ctx.run(args)
    assert "warning" not in p.stderr, p.stderr
    _BUILT[key] = out
    return out


def prog(ctx):
    return _build(ctx, os.path.join(ctx.root, "tests", "rt", "sqlite_kill_main.c"), "sqlite_kill_main")


def env_for(**kw):
    env = {k: v for k, v in os.environ.items() if k not in ("DB", "TOTAL", "BATCH", "KILL")}
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    for k, v in kw.items():
        env[k] = str(v)
    return env


def run_prog(ctx, check_rc=0, **kw):
    p = subprocess.run([prog(ctx)], capture_output=True, text=True, env=env_for(**kw),
                       cwd=ctx.tmp, timeout=300)
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError("sqlite_kill_main exited %d (want %d)\nstdout:\n%s\nstderr:\n%s" %
                             (p.returncode, check_rc, p.stdout[-3000:], p.stderr[-3000:]))
    assert "runtime error" not in p.stderr and "Sanitizer" not in p.stderr, p.stderr
    return p


def pipec_ts(us):
    """A timestamp as pipec prints it (RFC 3339 UTC, fraction trimmed, only when non-zero)."""
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += ("." + "%06d" % t.microsecond).rstrip("0")
    return s + "Z"


def expected_row(i):
    day = datetime.date(1970, 1, 1) + datetime.timedelta(days=19844 + i % 1000)
    return (i, 'name "%d" \u20ac' % i, i / 4, pipec_ts(1714557600000000 + i * 1000), day.isoformat())


def committed(db):
    """(rows in ev as a list ordered by rowid, checkpoint position or None)."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT id, name, amount, at, day FROM ev ORDER BY rowid").fetchall()
        have = con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'pipec_checkpoint'").fetchone()[0]
        pos = None
        if have:
            r = con.execute("SELECT value FROM pipec_checkpoint WHERE key = 'kill_test'").fetchone()
            pos = int(bytes(r[0]).decode()) if r else None
    finally:
        con.close()
    return rows, pos


def check_consistent(db, final_total=None, values=True):
    """Rows are exactly ids 0..pos-1, once each, in order, each with its values (when values)."""
    rows, pos = committed(db)
    pos = pos or 0
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "a row written twice: %d rows, %d distinct" % (len(ids), len(set(ids)))
    assert ids == list(range(pos)), "rows %d..%d do not match checkpoint %d" % (
        ids[0] if ids else -1, ids[-1] if ids else -1, pos)
    for r in rows if values else ():
        assert r == expected_row(r[0]), (r, expected_row(r[0]))
    if final_total is not None:
        assert pos == final_total, (pos, final_total)
    return pos


def test_kill_random(ctx):
    """SIGKILL at random moments (mostly inside commits: each one fsyncs), restart, repeat."""
    db = os.path.join(ctx.tmp, "db", "kill.db")
    # Long enough (hundreds of fsynced commits) that kills land even on a fast disk.
    total, batch = 120000, 300
    rng = random.Random(1234)
    kills = 0
    progress = []
    for _ in range(40):
        p = subprocess.Popen([prog(ctx)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env_for(DB=db, TOTAL=total, BATCH=batch), cwd=ctx.tmp)
        time.sleep(rng.uniform(0.005, 0.08))   # a sanitized run is faster than it was: the same range
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        out, err = p.communicate()
        assert "Sanitizer" not in err.decode() and "runtime error" not in err.decode(), err
        if p.returncode == 0:
            break
        assert p.returncode == -signal.SIGKILL, (p.returncode, err.decode())
        if os.path.exists(db):
            progress.append(check_consistent(db, values=False))
    run_prog(ctx, DB=db, TOTAL=total, BATCH=batch)
    check_consistent(db, total)
    assert kills >= 3, "too few kills landed (%d)" % kills
    assert any(0 < x < total for x in progress), progress


def test_kill_inside_commit(ctx):
    """SIGKILL at chosen points inside the transaction: after some rows of it, and at COMMIT
    with every row and the checkpoint in the transaction; nothing of that commit survives."""
    db = os.path.join(ctx.tmp, "kill2.db")
    total, batch = 2000, 170
    points = ["row:1", "commit:1", "row:171", "row:250", "commit:3", "row:340", "commit:2",
              "row:169", "commit:1", "row:1"]
    last = 0
    for k in points:
        p = run_prog(ctx, check_rc=None, DB=db, TOTAL=total, BATCH=batch, KILL=k)
        assert p.returncode == -signal.SIGKILL, (k, p.returncode, p.stderr)
        assert p.stdout.startswith("resume %d\n" % last), (k, p.stdout, last)
        pos = check_consistent(db)
        kind, n = k.split(":")
        n = int(n)
        # what this run committed before the kill: its batches before the one it died in (the
        # run starts at a multiple of batch, so its batches are aligned)
        if kind == "row":
            want = last + ((n - 1) // batch) * batch
        else:
            want = last + (n - 1) * batch
        assert pos == want, (k, pos, want)
        last = pos
    p = run_prog(ctx, DB=db, TOTAL=total, BATCH=batch)
    assert p.stdout == "resume %d\n" % last, p.stdout
    check_consistent(db, total)
    # done: a restart writes nothing more
    p = run_prog(ctx, DB=db, TOTAL=total, BATCH=batch)
    assert p.stdout == "resume %d\n" % total
    check_consistent(db, total)


def test_cli_reads_committed(ctx):
    """The database is ordinary SQLite in WAL mode: the command-line tool sees the committed rows
    and the declared column types."""
    sqlite_cli = shutil.which("sqlite3")
    assert sqlite_cli, "the sqlite3 command-line tool is missing (Debian package sqlite3)"
    db = os.path.join(ctx.tmp, "cli.db")
    run_prog(ctx, DB=db, TOTAL=1001, BATCH=1000)
    p = ctx.run([sqlite_cli, db, "PRAGMA journal_mode; SELECT count(*), sum(id) FROM ev; "
                 "SELECT at, day FROM ev WHERE id = 1; "
                 "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('ev'); "
                 "SELECT key, CAST(value AS TEXT), seq FROM pipec_checkpoint;"])
    assert p.stdout.splitlines() == [
        "wal", "1001|500500", "2024-05-01T10:00:00.001Z|2024-05-02",
        "id BIGINT, name TEXT, amount DOUBLE, at TEXT, day TEXT",
        "kill_test|1001|2"], p.stdout


def test_unit_when_not_built(ctx):
    """tests/unit/test_sqlite.c, built here from the runtime sources unless the Makefile built it
    (then the runner already ran it)."""
    if os.path.exists(os.path.join(ctx.build, "tests", "test_sqlite")):
        return
    exe = _build(ctx, os.path.join(ctx.root, "tests", "unit", "test_sqlite.c"), "test_sqlite",
                 extra_inc=[os.path.join(ctx.root, "tests", "unit")])
    p = subprocess.run([exe], capture_output=True, text=True, env=env_for(), cwd=ctx.root, timeout=300)
    assert p.returncode == 0 and p.stdout.strip().endswith(" 0 failed"), p.stdout + p.stderr
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr


def pipe_prog(ctx):
    return _build(ctx, os.path.join(ctx.root, "tests", "rt", "sqlite_pipe_main.c"), "sqlite_pipe_main")


def test_pipeline_generic_commit(ctx):
    """A pipeline program run by prt_main with a sqlite sink (tests/rt/sqlite_pipe_main.c): the
    driver's generic commit writes the rows; the database path's ${VAR} is expanded; upsert keeps
    the last row of each id, insert keeps them all; dead letters are not written."""
    rng = random.Random(7)
    lines, last, all_rows = [], {}, []
    for i in range(20000):
        k = rng.randrange(5000)
        name = rng.choice(["a", 'q"uote', "zo\u00eb", "x,y", ""])
        amount = rng.choice(["", "1.5", "-0.25", "1e300", str(i)])
        us = 1714557600000000 + i * 1500
        row = (k, name, float(amount) if amount else None, pipec_ts(us))
        last[k] = row
        all_rows.append(row)
        cname = '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"') else name
        lines.append("%d,%s,%s,%s" % (k, cname, amount, pipec_ts(us)))
        if i % 997 == 0:
            lines.append("bad%d,x,1,2024-05-01" % i)
    inp = os.path.join(ctx.tmp, "in.csv")
    with open(inp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    ndead = sum(1 for l in lines if l.startswith("bad"))
    for mode in ("upsert", "insert"):
        # the descriptor's path is "${DB}": expanded by the runtime; parents created
        env = env_for(IN=inp, DB=os.path.join(ctx.tmp, "nested", mode + ".db"), MODE=mode,
                      PIPEC_RT_CHUNK=4096)
        p = subprocess.run([pipe_prog(ctx)], capture_output=True, text=True, env=env, cwd=ctx.tmp,
                           timeout=300)
        assert p.returncode == 0, p.stderr[-3000:]
        assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
        assert "in=%d out=20000 dead=%d" % (20000 + ndead, ndead) in p.stderr, p.stderr[-2000:]
        con = sqlite3.connect(os.path.join(ctx.tmp, "nested", mode + ".db"))
        try:
            got = con.execute("SELECT id, name, amount, at FROM ev ORDER BY rowid").fetchall()
        finally:
            con.close()
        if mode == "upsert":
            assert sorted(got) == sorted(last.values()), "upsert: last write per id differs"
        else:
            assert got == all_rows, "insert: rows differ"


# ---- exactly once through prt_main (tests/rt/sqlite_drv_main.c) ---------------------------------

def drv_prog(ctx):
    return _build(ctx, os.path.join(ctx.root, "tests", "rt", "sqlite_drv_main.c"), "sqlite_drv_main")


DRV_VARS = ("IN", "DB", "DB2", "OUT", "DEAD", "CKPT", "ARCHIVE", "SRC_KIND", "KILL", "KILL_DB",
            "SLOW_US", "CKPT_EVERY_US", "PIPEC_RT_CHUNK")


def drv_env(**kw):
    env = {k: v for k, v in os.environ.items() if k not in DRV_VARS}
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    for k, v in kw.items():
        env[k] = str(v)
    return env


def run_drv(ctx, args=(), check_rc=0, **kw):
    p = subprocess.run([drv_prog(ctx)] + list(args), capture_output=True, text=True,
                       env=drv_env(**kw), cwd=ctx.tmp, timeout=300)
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError("sqlite_drv_main exited %d (want %d)\nstderr:\n%s" %
                             (p.returncode, check_rc, p.stderr[-3000:]))
    assert "runtime error" not in p.stderr and "Sanitizer" not in p.stderr, p.stderr
    return p


def drv_input(n, start=0, bad_every=0):
    """CSV lines id,name for ids start..start+n-1 (every bad_every-th id unparsable)."""
    lines = []
    for i in range(start, start + n):
        lines.append("x%d,bad" % i if bad_every and i % bad_every == 0 else "%d,n%d" % (i, i))
    return "\n".join(lines) + "\n"


def table_ids(db, table):
    if not os.path.exists(db):
        return []
    con = sqlite3.connect(db)
    try:
        have = con.execute("SELECT count(*) FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        return [r[0] for r in con.execute("SELECT id FROM %s ORDER BY rowid" % table)] if have else []
    finally:
        con.close()


def check_drv(ctx, good, db, db2=None, out=None, dead=None, bad=()):
    """Every row exactly once, in input order, in every sink."""
    ev = table_ids(db, "ev")
    assert ev == good, "ev: %d rows, %d distinct, want %d" % (len(ev), len(set(ev)), len(good))
    if db2:
        ev2 = table_ids(db2, "ev2")
        want = [i for i in good if i % 3 == 0]
        assert ev2 == want, "ev2: %d rows, %d distinct, want %d" % (len(ev2), len(set(ev2)), len(want))
    if out:
        import json
        with open(out) as f:
            got = [json.loads(l)["id"] for l in f]
        assert got == [i for i in good if i % 2 == 0], "out: %d rows, want %d" % (
            len(got), len([i for i in good if i % 2 == 0]))
    if dead:
        import json
        with open(dead) as f:
            raws = [json.loads(l)["raw"] for l in f]
        assert raws == ["x%d,bad" % i for i in bad], (len(raws), len(bad))


def kill_loop(ctx, args, kw, rng, rounds=40, max_kills=10, lo=0.02, hi=0.35):
    kills = 0
    for _ in range(rounds):
        p = subprocess.Popen([drv_prog(ctx)] + list(args), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=drv_env(**kw), cwd=ctx.tmp)
        # The same window under sanitizers: the program is slower there, so kills land anyway.
        time.sleep(rng.uniform(lo, hi))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        _, err = p.communicate()
        err = err.decode()
        assert "Sanitizer" not in err and "runtime error" not in err, err
        if p.returncode == 0:
            break
        assert p.returncode == -signal.SIGKILL, (p.returncode, err[-2000:])
        if kills >= max_kills:
            break
    return kills


def test_drv_sigkill_exactly_once_with_checkpoint_dir(ctx):
    """SIGKILL at random points of a bounded file run through prt_main: two sqlite sinks in
    insert mode (two databases), a file sink, a dead letter and a checkpoint dir. After the
    restarts every row is in every sink exactly once, in order."""
    rng = random.Random(int(os.environ.get("PIPEC_TEST_SEED", "0")) or 99)
    total = 40000
    with open(os.path.join(ctx.tmp, "in.csv"), "w") as f:
        f.write(drv_input(total, bad_every=101))
    kw = dict(IN="in.csv", DB="db/a.db", DB2="db/b.db", OUT="out/ev.jsonl", DEAD="out/dead.jsonl",
              CKPT="ck", PIPEC_RT_CHUNK=1024, SLOW_US=4000, CKPT_EVERY_US=15000)
    kills = kill_loop(ctx, (), kw, rng)
    assert kills >= 3, kills
    run_drv(ctx, **kw)
    good = [i for i in range(total) if i % 101]
    check_drv(ctx, good, os.path.join(ctx.tmp, "db", "a.db"), os.path.join(ctx.tmp, "db", "b.db"),
              os.path.join(ctx.tmp, "out", "ev.jsonl"), os.path.join(ctx.tmp, "out", "dead.jsonl"),
              [i for i in range(total) if i % 101 == 0])
    # the file is finished (checkpoint dir): another run reads nothing
    p = run_drv(ctx, **kw)
    assert " done: in=0 " in p.stderr, p.stderr
    check_drv(ctx, good, os.path.join(ctx.tmp, "db", "a.db"), os.path.join(ctx.tmp, "db", "b.db"))


def test_drv_sigkill_folder_without_checkpoint_dir(ctx):
    """No checkpoint dir, a folder source with an archive, one sqlite sink in insert mode: the
    database is the checkpoint store. SIGKILL at random points; every row once, every file
    archived once."""
    rng = random.Random(int(os.environ.get("PIPEC_TEST_SEED", "0")) or 7)
    inbox, arch = os.path.join(ctx.tmp, "inbox"), os.path.join(ctx.tmp, "arch")
    os.makedirs(inbox)
    per, nfiles = 4000, 6
    for k in range(nfiles):
        with open(os.path.join(ctx.tmp, "p.tmp"), "w") as f:
            f.write(drv_input(per, start=k * per))
        os.rename(os.path.join(ctx.tmp, "p.tmp"), os.path.join(inbox, "part-%02d.csv" % k))
    kw = dict(SRC_KIND="folder", IN="inbox", ARCHIVE="arch", DB="db/f.db", PIPEC_RT_CHUNK=2048,
              SLOW_US=4000, CKPT_EVERY_US=15000)
    kills = kill_loop(ctx, ["--once"], kw, rng)
    assert kills >= 2, kills
    assert not os.path.exists(os.path.join(ctx.tmp, "ck")) and not os.path.exists(os.path.join(ctx.tmp, ".pipec"))
    run_drv(ctx, ["--once"], **kw)
    check_drv(ctx, list(range(per * nfiles)), os.path.join(ctx.tmp, "db", "f.db"))
    assert os.listdir(inbox) == [] and sorted(os.listdir(arch)) == ["part-%02d.csv" % k for k in range(nfiles)]


def test_drv_sinks_disagree_catch_up(ctx):
    """A crash between the two sqlite sinks' commits (SIGKILL at the COMMIT of the second
    database, after the first committed): the restart resumes from the older checkpoint and
    replays up to the newer one without writing to the sink that holds it. Every row once, also
    with a checkpoint dir, a file sink and the kill at several commits in a row."""
    total = 12000
    with open(os.path.join(ctx.tmp, "in.csv"), "w") as f:
        f.write(drv_input(total))
    good = list(range(total))
    for ckpt in ("ck", ""):
        for db in ("a", "b"):
            for ext in ("db", "db-wal", "db-shm"):
                try:
                    os.unlink(os.path.join(ctx.tmp, "%s%s.%s" % (db, ckpt, ext)))
                except FileNotFoundError:
                    pass
        kw = dict(IN="in.csv", DB="a%s.db" % ckpt, DB2="b%s.db" % ckpt, CKPT=ckpt,
                  PIPEC_RT_CHUNK=1024, SLOW_US=1000, CKPT_EVERY_US=1)
        if ckpt:
            kw["OUT"] = "ev.jsonl"
        disagree = 0
        for n in (3, 4, 5, 3, 6, 7):
            p = run_drv(ctx, check_rc=None, KILL="commit:%d" % n, KILL_DB="b%s.db" % ckpt, **kw)
            assert p.returncode == -signal.SIGKILL, (n, p.returncode, p.stderr[-2000:])
            a = table_ids(os.path.join(ctx.tmp, "a%s.db" % ckpt), "ev")
            b = table_ids(os.path.join(ctx.tmp, "b%s.db" % ckpt), "ev2")
            assert len(a) == len(set(a)) and len(b) == len(set(b))
            disagree += "sqlite sinks disagree" in p.stderr
        assert disagree >= 4, disagree
        p = run_drv(ctx, **kw)
        assert "sqlite sinks disagree" in p.stderr and "caught up" in p.stderr, p.stderr[-2000:]
        check_drv(ctx, good, os.path.join(ctx.tmp, "a%s.db" % ckpt),
                  os.path.join(ctx.tmp, "b%s.db" % ckpt),
                  os.path.join(ctx.tmp, "ev.jsonl") if ckpt else None)


def test_drv_bounded_rerun_without_checkpoint_dir(ctx):
    """No checkpoint dir, a bounded file source: a run that was killed resumes from the
    checkpoint in the database (rows once); a run that completed is not resumed: a rerun starts
    from the beginning (rerun = redo; insert mode then holds the rows twice)."""
    total = 30000
    with open(os.path.join(ctx.tmp, "in.csv"), "w") as f:
        f.write(drv_input(total))
    kw = dict(IN="in.csv", DB="r.db", PIPEC_RT_CHUNK=512, SLOW_US=3000, CKPT_EVERY_US=10000)
    kills = kill_loop(ctx, (), kw, random.Random(3), max_kills=4, lo=0.1, hi=0.3)
    assert kills >= 2, kills
    n0 = len(table_ids(os.path.join(ctx.tmp, "r.db"), "ev"))
    assert 0 < n0 < total, n0
    p = run_drv(ctx, **kw)
    assert "resuming from checkpoint" in p.stderr and " done: in=%d " % (total - n0) in p.stderr, p.stderr
    check_drv(ctx, list(range(total)), os.path.join(ctx.tmp, "r.db"))
    p = run_drv(ctx, IN="in.csv", DB="r.db")
    assert "the last run completed" in p.stderr and " done: in=%d " % total in p.stderr, p.stderr
    assert table_ids(os.path.join(ctx.tmp, "r.db"), "ev") == list(range(total)) * 2
    # the stored checkpoint is text: the pipeline, its seq and the finished marker
    con = sqlite3.connect(os.path.join(ctx.tmp, "r.db"))
    try:
        (text,) = con.execute("SELECT CAST(value AS TEXT) FROM pipec_checkpoint WHERE key = "
                              "'sqlitedrv/ev'").fetchone()
    finally:
        con.close()
    lines = text.splitlines()
    assert lines[0] == "pipec-checkpoint 3" and lines[1] == "pipeline sqlitedrv", lines
    assert any(l.startswith("seq ") for l in lines) and "finished" in lines and lines[-1] == "end", lines
