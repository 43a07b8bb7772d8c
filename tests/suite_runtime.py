"""suite_runtime.py - end-to-end tests of the runtime's driver, sources, sinks, dead letter and
checkpoints through tests/rt/driver_main.c, a pipeline program written like generated code
(schema id int64, name string, amount float64; rule name_not_empty; filter amount >= 0; sink
`events` as JSON lines), and of window state through tests/rt/window_main.c (a tumbling
event-time window with count, count_distinct, first and max per key; tick, finish, save_state and
load_state hooks). The programs are built once per run from runtime/*.c (with ASan/UBSan under
--san) and driven by environment variables; see the comments at the top of each program."""
import glob
import json
import os
import random
import signal
import subprocess
import time

_BUILT = {}

CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
          "-Wmissing-prototypes", "-D_GNU_SOURCE", "-O2", "-g"]
SAN = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]
LIBS = ["-lsqlite3", "-lpq", "-lrdkafka", "-lzstd", "-lsnappy", "-lmicrohttpd", "-lgnutls", "-lcrypt", "-lcurl", "-lm"]
PG_INC = "-I/usr/include/postgresql"   # libpq-fe.h, for rt_postgres.c   # what runtime/*.c links against (as the Makefile and pipec build do)


def build_program(ctx, name):
    """Builds tests/rt/NAME.c against the runtime sources (once per run), warning-free."""
    san = ctx.san or os.environ.get("PIPEC_SANITIZE") == "1"
    if (name, san) in _BUILT:
        return _BUILT[(name, san)]
    out_dir = os.path.join(ctx.build, "rt")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, name + ("-san" if san else ""))
    srcs = sorted(glob.glob(os.path.join(ctx.root, "runtime", "*.c")))
    args = ["cc"] + CFLAGS + (SAN if san else []) + ["-I" + os.path.join(ctx.root, "runtime"), PG_INC,
            "-o", out, os.path.join(ctx.root, "tests", "rt", name + ".c")] + srcs + LIBS
    p = ctx.run(args)
    assert "warning" not in p.stderr, p.stderr
    _BUILT[(name, san)] = out
    return out


def driver(ctx):
    return build_program(ctx, "driver_main")


def env_for(ctx, **kw):
    env = {k: v for k, v in os.environ.items()
           if k not in ("IN", "OUT", "DEAD", "CKPT", "ARCHIVE", "SRC_KIND", "DELETE", "SHOW",
                        "WIN_S", "LATE_S", "TICK_LOG", "SLOW_US", "POLL_US")}
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    for k, v in kw.items():
        env[k] = str(v)
    return env


def run_drv(ctx, args=(), input=None, check_rc=0, **kw):
    p = subprocess.run([driver(ctx)] + list(args), input=input, capture_output=True, text=True,
                       env=env_for(ctx, **kw), cwd=ctx.tmp, timeout=120)
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError("driver exited %d (want %d)\nstdout:\n%s\nstderr:\n%s" %
                             (p.returncode, check_rc, p.stdout[-3000:], p.stderr[-3000:]))
    assert "runtime error" not in p.stderr and "Sanitizer" not in p.stderr, p.stderr
    return p


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def drop_into(folder, name, text):
    """Writes a file beside the folder, then renames it in (as writers are told to)."""
    tmp = os.path.join(os.path.dirname(folder), "." + name + ".part")
    write(tmp, text)
    os.rename(tmp, os.path.join(folder, name))


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def summary(stderr):
    lines = [l for l in stderr.splitlines() if " info: done: " in l]
    assert len(lines) == 1, stderr
    return lines[0].split(" info: ", 1)[1]


SAMPLE = ("id,name,amount\n"
          "1,alice,1.5\n"
          "2,bob,-2\n"              # dropped by the filter
          "x,carl,3\n"              # parse: id
          "\n"                      # blank: not a record
          "4,\"multi\nline\",4\n"   # a quoted newline
          "5,,5\n"                  # rule name_not_empty
          "6,dora,abc\n"            # parse: amount
          "7,eve,7e1\r\n"
          "8,\"open,8\n")           # unterminated quote at EOF


def check_sample(ctx, dead, pos_name):
    assert [r["id"] for r in jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))] == [1, 4, 7]
    got = [(d["position"], d["reason"], d["detail"]) for d in dead]
    assert got == [
        (pos_name + ":4", "parse", "field 'id': 'x' is not a valid int64"),
        (pos_name + ":8", "name_not_empty", "rule 'name_not_empty' failed"),
        (pos_name + ":9", "parse", "field 'amount': 'abc' is not a valid float64"),
        (pos_name + ":11", "parse", "unterminated quote at end of file"),
    ], got
    assert dead[0]["raw"] == "x,carl,3" and dead[3]["raw"] == "8,\"open,8\n"
    for d in dead:
        assert d["pipeline"] == "rtdriver" and d["at"].endswith("Z") and "T" in d["at"]


def test_file_source(ctx):
    write(os.path.join(ctx.tmp, "in.csv"), SAMPLE)
    p = run_drv(ctx, IN="in.csv", OUT="out/events.jsonl", DEAD="dead.jsonl")
    check_sample(ctx, jsonl(os.path.join(ctx.tmp, "dead.jsonl")), "in.csv")
    assert summary(p.stderr) == ("done: in=8 out=3 dead=4 dropped=1 sinks: events=3 "
                                 "dead: parse=3 name_not_empty=1"), p.stderr
    ev = jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))
    assert ev[1] == {"id": 4, "name": "multi\nline", "amount": 4}
    # a rerun without a checkpoint rewrites the outputs (truncated at start), never appends
    run_drv(ctx, IN="in.csv", OUT="out/events.jsonl", DEAD="dead.jsonl")
    assert len(jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))) == 3
    assert len(jsonl(os.path.join(ctx.tmp, "dead.jsonl"))) == 4


def test_stdin_and_dead_letter_on_stderr(ctx):
    p = run_drv(ctx, ["--log-format", "json"], input=SAMPLE, IN="-", OUT="out/events.jsonl")
    lines = [json.loads(l) for l in p.stderr.splitlines()]
    dead = [l for l in lines if "reason" in l]
    logs = [l for l in lines if "level" in l]
    check_sample(ctx, dead, "stdin")
    assert logs[-1]["level"] == "info" and logs[-1]["pipeline"] == "rtdriver"
    assert logs[-1]["msg"].startswith("done: in=8 out=3 dead=4 dropped=1"), logs
    assert set(logs[-1]) == {"ts", "level", "pipeline", "msg"}


def test_dead_letter_csv_and_raw_base64(ctx):
    data = b"id,name,amount\n1,a,1\n\xff\xfe,b,2\n2,\"q\"\"x\",oops\n"
    with open(os.path.join(ctx.tmp, "in.csv"), "wb") as f:
        f.write(data)
    run_drv(ctx, IN="in.csv", OUT="out/events.jsonl", DEAD="dead.jsonl")
    dead = jsonl(os.path.join(ctx.tmp, "dead.jsonl"))
    import base64
    assert base64.b64decode(dead[0]["raw_base64"]) == b"\xff\xfe,b,2"
    assert "raw_base64" not in dead[1] and dead[1]["raw"] == "2,\"q\"\"x\",oops"
    run_drv(ctx, IN="in.csv", OUT="out/events.jsonl", DEAD="dead.csv", DEAD_CSV="1")
    import csv
    with open(os.path.join(ctx.tmp, "dead.csv"), newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["pipeline", "position", "raw", "reason", "detail", "at"]
    assert rows[2][:5] == ["rtdriver", "in.csv:4", "2,\"q\"\"x\",oops", "parse",
                           "field 'amount': 'oops' is not a valid float64"], rows


def test_parse_detail_is_shortened(ctx):
    long_id = "9" * 30 + "é" * 40
    write(os.path.join(ctx.tmp, "in.csv"), "id,name,amount\n%s,n,1\n" % long_id)
    run_drv(ctx, IN="in.csv", OUT="out/events.jsonl", DEAD="dead.jsonl")
    d = jsonl(os.path.join(ctx.tmp, "dead.jsonl"))[0]
    text = d["detail"].split("'")[3]
    assert text.endswith("...") and len(text[:-3].encode()) <= 64 and "\ufffd" not in text, d


def test_too_long_records(ctx):
    rows = ["id,name,amount", "1,a,1", "2,%s,2" % ("z" * 5000), "3,c,3", "4,\"%s\n%s\",4" % ("y" * 3000, "w" * 3000), "5,e,5"]
    write(os.path.join(ctx.tmp, "in.csv"), "\n".join(rows) + "\n")
    p = run_drv(ctx, IN="in.csv", OUT="out/events.jsonl", DEAD="dead.jsonl", MAXREC=4096,
                PIPEC_RT_CHUNK=1000)
    assert [r["id"] for r in jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))] == [1, 3, 5]
    dead = jsonl(os.path.join(ctx.tmp, "dead.jsonl"))
    assert [d["position"] for d in dead] == ["in.csv:3", "in.csv:5"]
    assert dead[0]["detail"] == "record of %d bytes is longer than max_record (4096)" % len(rows[2])
    assert dead[1]["detail"] == "record of %d bytes is longer than max_record (4096)" % len(rows[4])
    assert dead[0]["raw"] == ("2," + "z" * 5000)[:1024]
    assert summary(p.stderr).startswith("done: in=5 out=3 dead=2 dropped=0")


def test_small_chunks_and_big_batches(ctx):
    rows = ["id,name,amount"] + ["%d,n%d,%d.5" % (i, i, i % 7 - 1) for i in range(20000)]
    write(os.path.join(ctx.tmp, "in.csv"), "\r\n".join(rows) + "\r\n")
    p = run_drv(ctx, IN="in.csv", OUT="out/events.jsonl", PIPEC_RT_CHUNK=777)
    ids = [r["id"] for r in jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))]
    assert ids == [i for i in range(20000) if i % 7 - 1 >= 0]
    assert summary(p.stderr).startswith("done: in=20000 out=%d dead=0 dropped=%d" % (len(ids), 20000 - len(ids)))


def folder_files(n, rows_per, bad_every=0):
    """n CSV files of rows_per rows; returns {name: text} and the expected good ids in order."""
    files, good = {}, []
    rid = 0
    for f in range(n):
        lines = ["id,name,amount"]
        for _ in range(rows_per):
            rid += 1
            if bad_every and rid % bad_every == 0:
                lines.append("%d,bad,notanumber" % rid)
            else:
                lines.append("%d,name%d,%d" % (rid, rid, rid % 100))
                good.append(rid)
        files["part-%03d.csv" % f] = "\n".join(lines) + "\n"
    return files, good


def test_folder_archive_once(ctx):
    inbox, arch = os.path.join(ctx.tmp, "inbox"), os.path.join(ctx.tmp, "arch")
    os.makedirs(inbox)
    files, good = folder_files(3, 50)
    for name in sorted(files, reverse=True):
        drop_into(inbox, name, files[name])
    write(os.path.join(inbox, ".hidden.csv"), "id,name,amount\n999,h,1\n")
    write(os.path.join(inbox, "notes.txt"), "id,name,amount\n998,t,1\n")
    write(os.path.join(arch, "part-001.csv"), "an older file of the same name\n")
    p = run_drv(ctx, ["--once"], SRC_KIND="folder", IN="inbox", ARCHIVE="arch",
                OUT="out/events.jsonl", CKPT="ck")
    assert [r["id"] for r in jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))] == good
    assert sorted(os.listdir(inbox)) == [".hidden.csv", "notes.txt"]
    assert sorted(os.listdir(arch)) == ["part-000.csv", "part-001.csv", "part-001.csv.1", "part-002.csv"]
    with open(os.path.join(arch, "part-001.csv.1")) as f:
        assert f.read() == files["part-001.csv"]
    assert summary(p.stderr).startswith("done: in=150 out=150")
    # --once with nothing left: exits at once, nothing rewritten
    p = run_drv(ctx, ["--once"], SRC_KIND="folder", IN="inbox", ARCHIVE="arch",
                OUT="out/events.jsonl", CKPT="ck")
    assert len(jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))) == 150
    assert summary(p.stderr).startswith("done: in=0 ")


def test_folder_delete(ctx):
    inbox = os.path.join(ctx.tmp, "inbox")
    os.makedirs(inbox)
    files, good = folder_files(2, 10, bad_every=4)
    for name, text in files.items():
        drop_into(inbox, name, text)
    p = run_drv(ctx, ["--once"], SRC_KIND="folder", IN="inbox", DELETE="1",
                OUT="out/events.jsonl", DEAD="dead.jsonl")
    assert os.listdir(inbox) == []
    assert [r["id"] for r in jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))] == good
    dead = jsonl(os.path.join(ctx.tmp, "dead.jsonl"))
    assert [d["position"] for d in dead] == ["inbox/part-000.csv:5", "inbox/part-000.csv:9",
                                             "inbox/part-001.csv:3", "inbox/part-001.csv:7",
                                             "inbox/part-001.csv:11"], dead
    assert summary(p.stderr) == "done: in=20 out=15 dead=5 dropped=0 sinks: events=15 dead: parse=5"


def test_folder_arrivals_then_sigterm(ctx):
    inbox, arch = os.path.join(ctx.tmp, "inbox"), os.path.join(ctx.tmp, "arch")
    os.makedirs(inbox)
    files, good = folder_files(4, 20)
    names = sorted(files)
    proc = subprocess.Popen([driver(ctx)], cwd=ctx.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env_for(ctx, SRC_KIND="folder", IN="inbox", ARCHIVE="arch",
                                                   OUT="out/events.jsonl", CKPT="ck", POLL_US=20000))
    try:
        for name in names:
            time.sleep(0.15)
            drop_into(inbox, name, files[name])
        deadline = time.time() + 10
        while time.time() < deadline and len(os.listdir(arch) if os.path.isdir(arch) else []) < 4:
            time.sleep(0.05)
        assert proc.poll() is None, "exited early"
        t0 = time.time()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert time.time() - t0 < 2, "the idle sleep was not woken by SIGTERM"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped by signal" in err
    assert sorted(os.listdir(arch)) == names and os.listdir(inbox) == []
    assert [r["id"] for r in jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))] == good


def read_checkpoint(path):
    items = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(" ")
            items.setdefault(k, []).append(v)
    return items


def test_sigterm_mid_file_commits_and_resumes(ctx):
    rows = ["id,name,amount"] + ["%d,n,%d" % (i, i) for i in range(1, 30001)]
    write(os.path.join(ctx.tmp, "in.csv"), "\n".join(rows) + "\n")
    kw = dict(IN="in.csv", OUT="out/events.jsonl", CKPT="ck", PIPEC_RT_CHUNK=4096, SLOW_US=10000,
              CKPT_EVERY_US=10_000_000)
    proc = subprocess.Popen([driver(ctx)], cwd=ctx.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env_for(ctx, **kw))
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    out = os.path.join(ctx.tmp, "out", "events.jsonl")
    n1 = len(jsonl(out))
    assert 0 < n1 < 30000, (n1, err)
    ck = read_checkpoint(os.path.join(ctx.tmp, "ck", "checkpoint"))
    assert ck["sink"] == ["%d events" % os.path.getsize(out)], ck   # everything written is committed
    src = ck["source"][0].split(" ")
    assert src[2] == "0" and src[4] == "in.csv" and int(src[1]) == n1 + 2
    assert summary(err).startswith("done: in=%d out=%d" % (n1, n1))
    p = run_drv(ctx, **kw)
    assert [r["id"] for r in jsonl(out)] == list(range(1, 30001))
    assert summary(p.stderr).startswith("done: in=%d " % (30000 - n1))
    # the file is finished: another run does nothing
    p = run_drv(ctx, **kw)
    assert len(jsonl(out)) == 30000 and summary(p.stderr).startswith("done: in=0 ")


def test_sigkill_exactly_once(ctx):
    """SIGKILL at random moments of a multi-file folder run, then a final run: every good row
    exactly once and in order, every bad row in the dead letter exactly once, every file
    archived exactly once."""
    rnd = random.Random(int(os.environ.get("PIPEC_TEST_SEED", "0")) or None)
    inbox, arch = os.path.join(ctx.tmp, "inbox"), os.path.join(ctx.tmp, "arch")
    os.makedirs(inbox)
    files, good = folder_files(8, 2500, bad_every=97)
    for name, text in files.items():
        drop_into(inbox, name, text)
    kw = dict(SRC_KIND="folder", IN="inbox", ARCHIVE="arch", OUT="out/events.jsonl",
              DEAD="out/dead.jsonl", CKPT="ck", PIPEC_RT_CHUNK=4096, SLOW_US=15000,
              CKPT_EVERY_US=30000)
    kills = mid_file = 0
    for _ in range(40):
        proc = subprocess.Popen([driver(ctx), "--once"], cwd=ctx.tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env_for(ctx, **kw))
        time.sleep(rnd.uniform(0.03, 0.2))
        if proc.poll() is not None:
            break   # finished before the kill
        proc.kill()
        proc.wait()
        kills += 1
        ck = os.path.join(ctx.tmp, "ck", "checkpoint")
        if os.path.exists(ck):
            src = read_checkpoint(ck).get("source", ["0 0 1"])[0].split(" ")
            if src[2] == "0" and int(src[0]) > 0:
                mid_file += 1   # this kill left a file half committed: the restart resumes it
        if kills >= 8:
            break
    assert kills >= 5, kills
    assert mid_file >= 1, (kills, mid_file)
    p = run_drv(ctx, ["--once"], **kw)
    ev = [r["id"] for r in jsonl(os.path.join(ctx.tmp, "out", "events.jsonl"))]
    assert ev == good, (len(ev), len(good), kills)
    dead = jsonl(os.path.join(ctx.tmp, "out", "dead.jsonl"))
    assert [int(d["raw"].split(",")[0]) for d in dead] == [i for i in range(1, 20001) if i % 97 == 0]
    assert sorted(os.listdir(arch)) == sorted(files) and os.listdir(inbox) == []
    for name, text in files.items():
        with open(os.path.join(arch, name)) as f:
            assert f.read() == text


def test_missing_variable(ctx):
    p = run_drv(ctx, check_rc=2, OUT="x.jsonl")
    assert p.stderr == "rtdriver: error: environment variable IN is not set (used by source.path)\n", p.stderr
    p = run_drv(ctx, check_rc=2, IN="in.csv", SECRET="s3cr3t")
    assert p.stderr == "rtdriver: error: environment variable OUT is not set (used by sinks.events.path)\n"
    assert "s3cr3t" not in p.stderr
    p = run_drv(ctx, check_rc=2, IN="in.csv", OUT="o", DEAD="")
    assert p.stderr == "rtdriver: error: dead_letter.path is empty\n", p.stderr


def test_fingerprint_mismatch(ctx):
    write(os.path.join(ctx.tmp, "in.csv"), "id,name,amount\n1,a,1\n")
    run_drv(ctx, IN="in.csv", OUT="o.jsonl", CKPT="ck", FP="0x1111")
    p = run_drv(ctx, check_rc=2, IN="in.csv", OUT="o.jsonl", CKPT="ck", FP="0x2222")
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and "checkpoint ck" in lines[0], p.stderr
    assert "0000000000001111" in lines[0] and "0000000000002222" in lines[0]


def test_sink_shorter_than_checkpoint(ctx):
    write(os.path.join(ctx.tmp, "in.csv"), "id,name,amount\n1,a,1\n2,b,2\n")
    run_drv(ctx, IN="in.csv", OUT="o.jsonl", CKPT="ck")
    os.truncate(os.path.join(ctx.tmp, "o.jsonl"), 5)
    p = run_drv(ctx, check_rc=1, IN="in.csv", OUT="o.jsonl", CKPT="ck")
    assert "o.jsonl has 5 bytes, fewer than the" in p.stderr, p.stderr


def test_command_line(ctx):
    p = run_drv(ctx, ["--help"])
    assert p.stdout.startswith("rtdriver: the runtime's test pipeline")
    p = run_drv(ctx, ["--version"])
    assert p.stdout == "rtdriver (pipec 0.1.0)\n"
    p = run_drv(ctx, ["--frobnicate"], check_rc=2)
    assert "unknown argument '--frobnicate'" in p.stderr and "usage: rtdriver" in p.stderr
    run_drv(ctx, ["--log-format", "xml"], check_rc=2)
    run_drv(ctx, ["--log-format"], check_rc=2)
    p = run_drv(ctx, check_rc=2, ABI="99", IN="x", OUT="y")
    assert "ABI" in p.stderr


def test_runtime_failures(ctx):
    p = run_drv(ctx, check_rc=1, IN="missing.csv", OUT="o.jsonl")
    assert "missing.csv: No such file or directory" in p.stderr and p.stderr.count("\n") == 1
    write(os.path.join(ctx.tmp, "in.csv"), "id,name,amount\n1,a,1\n")
    p = run_drv(ctx, check_rc=1, IN="in.csv", OUT="/dev/full")
    assert "cannot write /dev/full: No space left on device" in p.stderr, p.stderr
    # stdout closed early: EPIPE is reported, not a silent SIGPIPE death
    rows = ["id,name,amount"] + ["%d,n,1" % i for i in range(50000)]
    write(os.path.join(ctx.tmp, "big.csv"), "\n".join(rows) + "\n")
    proc = subprocess.Popen([driver(ctx)], cwd=ctx.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_for(ctx, IN="big.csv", OUT="o.jsonl", SHOW="csv"))
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=20)
    assert proc.returncode == 1 and "cannot write stdout: Broken pipe" in err, (proc.returncode, err)


def test_table_on_stdout(ctx):
    write(os.path.join(ctx.tmp, "in.csv"),
          "id,name,amount\n1,zoë,1.5\n22,bob,-1\n333,\"tab\there\",100\n")
    p = run_drv(ctx, IN="in.csv", OUT="o.jsonl", SHOW="table")
    assert p.stdout == (" id  |   name   | amount\n"
                        "-----+----------+--------\n"
                        "   1 | zoë      |    1.5\n"
                        " 333 | tab here |    100\n"
                        "(2 rows)\n\n"), repr(p.stdout)
    write(os.path.join(ctx.tmp, "in.csv"), "id,name,amount\n")
    p = run_drv(ctx, IN="in.csv", OUT="o.jsonl", SHOW="table")
    assert p.stdout == " id | name | amount\n----+------+--------\n(0 rows)\n\n", repr(p.stdout)
    write(os.path.join(ctx.tmp, "in.csv"), "id,name,amount\n1,\"a,b\",2\n")
    p = run_drv(ctx, IN="in.csv", OUT="o.jsonl", SHOW="csv")
    assert p.stdout == "id,name,amount\n1,\"a,b\",2\n"


def test_sigterm_while_blocked_on_stdin(ctx):
    proc = subprocess.Popen([driver(ctx)], cwd=ctx.tmp, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env_for(ctx, IN="-", OUT="o.jsonl"))
    try:
        proc.stdin.write(b"id,name,amount\n1,a,1\n2,b,-2\n")
        proc.stdin.flush()
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = err.decode()
    assert proc.returncode == 0, err
    assert summary(err).startswith("done: in=2 out=1 dead=0 dropped=1"), err
    assert [r["id"] for r in jsonl(os.path.join(ctx.tmp, "o.jsonl"))] == [1]


# ---- window state (tests/rt/window_main.c) ----------------------------------------------------

BASE_TS = 1714557600   # 2024-05-01T10:00:00Z


def window_drv(ctx):
    return build_program(ctx, "window_main")


def run_win(ctx, args=(), input=None, check_rc=0, **kw):
    p = subprocess.run([window_drv(ctx)] + list(args), input=input, capture_output=True,
                       text=True, env=env_for(ctx, **kw), cwd=ctx.tmp, timeout=120)
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError("window program exited %d (want %d)\nstderr:\n%s" %
                             (p.returncode, check_rc, p.stderr[-3000:]))
    assert "runtime error" not in p.stderr and "Sanitizer" not in p.stderr, p.stderr
    return p


def window_rows(n, seed, keys=5, late_jitter=9):
    """n CSV rows (key, ts, user) with mostly increasing times and some stragglers, some late."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        ts = BASE_TS + i // 7 + (-rnd.randint(0, late_jitter) if rnd.random() < 0.2 else 0)
        rows.append("k%d,%d,u%d" % (rnd.randrange(keys), ts, rnd.randrange(12)))
    return rows


def window_csv(rows):
    return "key,ts,user\n" + "\n".join(rows) + "\n"


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def window_expect(rows, win=10, late=5, first_line=2):
    """What window_main.c must emit (rows in emission order) and the late records' lines."""
    wins, late_lines = {}, []
    max_seen = wm = None
    for i, r in enumerate(rows):
        key, ts, user = r.split(",")
        ts = int(ts)
        start = ts - ts % win
        if wm is not None and start + win <= wm:
            late_lines.append(first_line + i)
            continue
        w = wins.setdefault((start, key), {"events": 0, "users": set(), "first": user, "last": ts})
        w["events"] += 1
        w["users"].add(user)
        w["last"] = max(w["last"], ts)
        if max_seen is None or ts > max_seen:
            max_seen, wm = ts, ts - late
    out = []
    for (start, key) in sorted(wins):   # tumbling: closing order is (start, key) order
        w = wins[(start, key)]
        out.append({"window_start": iso(start), "window_end": iso(start + win), "key": key,
                    "events": w["events"], "users": len(w["users"]), "first_user": w["first"],
                    "last_ts": w["last"] * 1000000})
    return out, late_lines


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def dead_without_at(path):
    return [{k: v for k, v in d.items() if k != "at"} for d in jsonl(path)]


def test_window_bounded_run_emits_everything(ctx):
    rows = window_rows(3000, 1)
    write(os.path.join(ctx.tmp, "in.csv"), window_csv(rows))
    want, late = window_expect(rows)
    assert len(late) > 10 and len(want) > 100
    p = run_win(ctx, IN="in.csv", OUT="out/w.jsonl", DEAD="dead.jsonl", PIPEC_RT_CHUNK=2000)
    assert jsonl(os.path.join(ctx.tmp, "out", "w.jsonl")) == want
    dead = jsonl(os.path.join(ctx.tmp, "dead.jsonl"))
    assert [d["position"] for d in dead] == ["in.csv:%d" % l for l in late]
    assert {d["reason"] for d in dead} == {"late"}
    assert summary(p.stderr) == ("done: in=3000 out=%d dead=%d dropped=0 sinks: counts=%d dead: late=%d"
                                 % (3000 - len(late), len(late), len(want), len(late))), p.stderr
    # with a checkpoint: the same, and the final state holds no open window
    p = run_win(ctx, IN="in.csv", OUT="out/w2.jsonl", DEAD="dead2.jsonl", CKPT="ck")
    assert jsonl(os.path.join(ctx.tmp, "out", "w2.jsonl")) == want
    ck = read_checkpoint(os.path.join(ctx.tmp, "ck", "checkpoint"))
    seq, length, crc = ck["state"][0].split(" ")
    assert int(length) == 24 and len(crc) == 8   # watermark, max seen, count 0
    assert sorted(os.listdir(os.path.join(ctx.tmp, "ck"))) == ["checkpoint", "state." + seq]
    # finished: a rerun reads nothing and emits nothing more
    p = run_win(ctx, IN="in.csv", OUT="out/w2.jsonl", DEAD="dead2.jsonl", CKPT="ck")
    assert jsonl(os.path.join(ctx.tmp, "out", "w2.jsonl")) == want
    assert "restored window state" in p.stderr and summary(p.stderr).startswith("done: in=0 ")


def test_window_folder_once_drains(ctx):
    rows = window_rows(2000, 2)
    inbox = os.path.join(ctx.tmp, "inbox")
    os.makedirs(inbox)
    drop_into(inbox, "a.csv", window_csv(rows[:1000]))
    drop_into(inbox, "b.csv", window_csv(rows[1000:]))
    want, late = window_expect(rows[:1000] + rows[1000:])
    run_win(ctx, ["--once"], SRC_KIND="folder", IN="inbox", ARCHIVE="arch", OUT="w.jsonl",
            DEAD="dead.jsonl", CKPT="ck")
    assert jsonl(os.path.join(ctx.tmp, "w.jsonl")) == want
    assert len(jsonl(os.path.join(ctx.tmp, "dead.jsonl"))) == len(late)


def sigterm_mid_run(ctx, kw, after=0.4):
    proc = subprocess.Popen([window_drv(ctx)], cwd=ctx.tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env_for(ctx, **kw))
    time.sleep(after)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Sanitizer" not in err and "runtime error" not in err, err
    return err


def reference_run(ctx, rows, **kw):
    """An uninterrupted run into ref/: its output bytes and dead letters (without `at`)."""
    run_win(ctx, IN="in.csv", OUT="ref/w.jsonl", DEAD="ref/dead.jsonl", **kw)
    return (read_bytes(os.path.join(ctx.tmp, "ref", "w.jsonl")),
            dead_without_at(os.path.join(ctx.tmp, "ref", "dead.jsonl")))


def test_window_sigterm_then_restart(ctx):
    rows = window_rows(30000, 3, keys=7)
    write(os.path.join(ctx.tmp, "in.csv"), window_csv(rows))
    want, _ = window_expect(rows)
    ref_out, ref_dead = reference_run(ctx, rows)
    assert jsonl(os.path.join(ctx.tmp, "ref", "w.jsonl")) == want
    kw = dict(IN="in.csv", OUT="out/w.jsonl", DEAD="out/dead.jsonl", CKPT="ck",
              PIPEC_RT_CHUNK=4096, SLOW_US=10000, CKPT_EVERY_US=10_000_000)
    err = sigterm_mid_run(ctx, kw)
    assert "stopped by signal" in err and "open windows were emitted" not in err, err
    out = os.path.join(ctx.tmp, "out", "w.jsonl")
    n1 = len(jsonl(out))
    assert 0 < n1 < len(want), (n1, err)
    ck = read_checkpoint(os.path.join(ctx.tmp, "ck", "checkpoint"))
    assert ck["pipec-checkpoint"] == ["3"] and ck["source"][0].split(" ")[2] == "0"
    assert ck["seq"] == [ck["state"][0].split(" ")[0]]   # a state file is named by its commit's seq
    seq, length, crc = ck["state"][0].split(" ")
    state = os.path.join(ctx.tmp, "ck", "state." + seq)
    assert os.path.getsize(state) == int(length) > 24   # open windows were saved, not emitted
    import zlib
    assert "%08x" % zlib.crc32(read_bytes(state)) == crc
    assert ck["sink"][0] == "%d counts" % os.path.getsize(out)
    p = run_win(ctx, **kw)
    assert "restored window state from state.%s" % seq in p.stderr, p.stderr
    assert read_bytes(out) == ref_out
    assert dead_without_at(os.path.join(ctx.tmp, "out", "dead.jsonl")) == ref_dead


def test_window_sigterm_without_checkpoint_emits(ctx):
    rows = window_rows(30000, 4)
    write(os.path.join(ctx.tmp, "in.csv"), window_csv(rows))
    want, _ = window_expect(rows)
    err = sigterm_mid_run(ctx, dict(IN="in.csv", OUT="w.jsonl", PIPEC_RT_CHUNK=4096, SLOW_US=10000))
    assert "stopped without a checkpoint: the open windows were emitted now" in err, err
    got = jsonl(os.path.join(ctx.tmp, "w.jsonl"))
    assert 0 < len(got) < len(want)
    # rows closed by the watermark are final; after them, finish emitted the open windows as far
    # as they had got
    n_fin = int(err.split("were emitted now (")[1].split(" ")[0])
    closed = len(got) - n_fin
    assert n_fin >= 1 and closed >= 1 and got[:closed] == want[:closed]
    full = {(w["window_start"], w["key"]): w for w in want}
    for r in got[closed:]:
        w = full[(r["window_start"], r["key"])]
        assert 0 < r["events"] <= w["events"] and r["first_user"] == w["first_user"], (r, w)
    assert [(r["window_start"], r["key"]) for r in got[closed:]] == \
        sorted((r["window_start"], r["key"]) for r in got[closed:])


def test_window_sigkill_exactly_once(ctx):
    """SIGKILL at random moments, then a final run: the window rows and dead letters are byte for
    byte those of an uninterrupted run (a file sink with a checkpoint: exactly once)."""
    rnd = random.Random(int(os.environ.get("PIPEC_TEST_SEED", "0")) or None)
    rows = window_rows(40000, 5, keys=6)
    write(os.path.join(ctx.tmp, "in.csv"), window_csv(rows))
    ref_out, ref_dead = reference_run(ctx, rows)
    kw = dict(IN="in.csv", OUT="out/w.jsonl", DEAD="out/dead.jsonl", CKPT="ck",
              PIPEC_RT_CHUNK=4096, SLOW_US=15000, CKPT_EVERY_US=30000)
    kills = with_state = 0
    seqs = []
    for _ in range(40):
        proc = subprocess.Popen([window_drv(ctx)], cwd=ctx.tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env_for(ctx, **kw))
        time.sleep(rnd.uniform(0.05, 0.5))
        if proc.poll() is not None:
            break   # finished before the kill
        proc.kill()
        proc.wait()
        kills += 1
        ck = os.path.join(ctx.tmp, "ck", "checkpoint")
        if os.path.exists(ck):
            items = read_checkpoint(ck)
            if "state" in items and int(items["state"][0].split(" ")[1]) > 24:
                with_state += 1
                seqs.append(int(items["state"][0].split(" ")[0]))
        if kills >= 8:
            break
    assert kills >= 5, kills
    assert with_state >= 1, (kills, with_state)
    assert seqs == sorted(seqs), seqs   # the sequence continues across restarts
    p = run_win(ctx, **kw)
    assert read_bytes(os.path.join(ctx.tmp, "out", "w.jsonl")) == ref_out, (kills, p.stderr)
    assert dead_without_at(os.path.join(ctx.tmp, "out", "dead.jsonl")) == ref_dead
    names = sorted(n for n in os.listdir(os.path.join(ctx.tmp, "ck")) if n.startswith("state"))
    assert names == ["state." + read_checkpoint(os.path.join(ctx.tmp, "ck", "checkpoint"))["state"][0].split(" ")[0]]


def open_window_checkpoint(ctx):
    """A folder run stopped by SIGTERM after reading everything: its checkpoint keeps open windows.
    Returns the run's environment, the checkpoint's state items and the state file's path."""
    rows = window_rows(500, 6)
    inbox = os.path.join(ctx.tmp, "inbox")
    os.makedirs(inbox)
    drop_into(inbox, "a.csv", window_csv(rows))
    kw = dict(SRC_KIND="folder", IN="inbox", ARCHIVE="arch", OUT="w.jsonl", CKPT="ck", POLL_US=20000)
    proc = subprocess.Popen([window_drv(ctx)], cwd=ctx.tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env_for(ctx, **kw))
    deadline = time.time() + 10
    while time.time() < deadline and not os.listdir(inbox) == []:
        time.sleep(0.05)
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "stopped by signal" in err, err
    ck = read_checkpoint(os.path.join(ctx.tmp, "ck", "checkpoint"))
    seq, length, crc = ck["state"][0].split(" ")
    assert int(length) > 24
    return kw, (seq, length, crc), os.path.join(ctx.tmp, "ck", "state." + seq)


def test_window_state_missing_or_corrupt_is_refused(ctx):
    kw, (seq, length, crc), state = open_window_checkpoint(ctx)
    good = read_bytes(state)
    ckfile = os.path.join(ctx.tmp, "ck", "checkpoint")
    with open(ckfile) as f:
        good_ck = f.read()

    def put(path, data):
        with open(path, "wb") as f:
            f.write(data)

    def refused(needle):
        p = run_win(ctx, check_rc=1, **kw)
        assert needle in p.stderr, p.stderr
        assert "done:" not in p.stderr, p.stderr
        put(state, good)
        put(ckfile, good_ck.encode())

    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0x40
    put(state, bytes(bad))
    refused("window state ck/state.%s is corrupt: CRC-32" % seq)
    put(state, good[:-3])
    refused("is corrupt: %d bytes, the checkpoint says %s" % (len(good) - 3, length))
    os.remove(state)
    refused("cannot read window state ck/state.%s named by the checkpoint: No such file" % seq)
    # the bytes match the checkpoint, but the pipeline cannot load them
    junk = good[:24] + b"\xff" * (len(good) - 24)
    put(state, junk)
    import zlib
    put(ckfile, good_ck.replace("state %s %s %s" % (seq, length, crc),
                                "state %s %s %08x" % (seq, length, zlib.crc32(junk))).encode())
    refused("the pipeline could not load it")
    # a checkpoint of this window pipeline without a state line
    put(ckfile, "".join(l for l in good_ck.splitlines(True) if not l.startswith("state ")).encode())
    refused("has no window state, but this pipeline has windows")
    # intact again: the run resumes and, on SIGTERM, keeps the windows open again
    p = run_win(ctx, ["--once"], **kw)
    assert "restored window state from state.%s" % seq in p.stderr
    assert summary(p.stderr).startswith("done: in=0 ")


def test_window_old_state_files_are_removed(ctx):
    kw, (seq, _, _), state = open_window_checkpoint(ctx)
    ckdir = os.path.join(ctx.tmp, "ck")
    assert sorted(os.listdir(ckdir)) == ["checkpoint", "state." + seq]
    for name in ("state.1", "state.%d.tmp" % (int(seq) + 1), "state.%d" % (int(seq) + 5)):
        write(os.path.join(ckdir, name), "stale")
    write(os.path.join(ckdir, "state.keep-me"), "not a state file")
    p = run_win(ctx, ["--once"], **kw)   # drains (finish) and commits
    ck = read_checkpoint(os.path.join(ckdir, "checkpoint"))
    nseq, length, _ = ck["state"][0].split(" ")
    assert int(nseq) == int(seq) + 1 and int(length) == 24, ck
    assert sorted(os.listdir(ckdir)) == ["checkpoint", "state." + nseq, "state.keep-me"]
    assert summary(p.stderr).startswith("done: in=0 ")
    # finish emitted the windows the SIGTERM kept open: all of them now, none twice
    rows = window_rows(500, 6)
    want, _ = window_expect(rows)
    assert jsonl(os.path.join(ctx.tmp, "w.jsonl")) == want


def test_window_ticks_while_idle(ctx):
    # a pipe with nothing to read: ticks keep coming
    proc = subprocess.Popen([window_drv(ctx)], cwd=ctx.tmp, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_for(ctx, IN="-", OUT="w.jsonl", TICK_LOG=1))
    try:
        proc.stdin.write(("key,ts,user\nk1,%d,u\nk1,%d,u\n" % (BASE_TS, BASE_TS + 30)).encode())
        proc.stdin.flush()
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = err.decode()
    assert proc.returncode == 0, err
    ticks = int(err.split("rtwindow ticks=")[1].split()[0])
    assert ticks >= 5, err
    # no checkpoint: the open window is emitted at the stop
    assert "stopped without a checkpoint: the open windows were emitted now (1 rows)" in err, err
    assert [r["window_start"] for r in jsonl(os.path.join(ctx.tmp, "w.jsonl"))] == \
        [iso(BASE_TS), iso(BASE_TS + 30)]
    # an idle folder with a long poll interval ticks too, and a stop still ends it at once
    os.makedirs(os.path.join(ctx.tmp, "inbox"))
    proc = subprocess.Popen([window_drv(ctx)], cwd=ctx.tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=env_for(ctx, SRC_KIND="folder", IN="inbox", OUT="w2.jsonl",
                                        CKPT="ck", POLL_US=5_000_000, TICK_LOG=1))
    time.sleep(0.8)
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert time.time() - t0 < 1, "the idle sleep was not woken by SIGTERM"
    assert proc.returncode == 0, err
    assert int(err.split("rtwindow ticks=")[1].split()[0]) >= 4, err
