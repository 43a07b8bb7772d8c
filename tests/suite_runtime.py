"""suite_runtime.py - end-to-end tests of the runtime's driver, sources, sinks, dead letter and
checkpoints through tests/rt/driver_main.c, a pipeline program written like generated code
(schema id int64, name string, amount float64; rule name_not_empty; filter amount >= 0; sink
`events` as JSON lines). The program is built once per run from runtime/*.c (with ASan/UBSan
under --san) and driven by environment variables; see the comment at the top of driver_main.c."""
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


def driver(ctx):
    """Builds tests/rt/driver_main.c against the runtime sources (once per run), warning-free."""
    san = ctx.san or os.environ.get("PIPEC_SANITIZE") == "1"
    if san in _BUILT:
        return _BUILT[san]
    out_dir = os.path.join(ctx.build, "rt")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "driver_main" + ("-san" if san else ""))
    srcs = sorted(glob.glob(os.path.join(ctx.root, "runtime", "*.c")))
    args = ["cc"] + CFLAGS + (SAN if san else []) + ["-I" + os.path.join(ctx.root, "runtime"),
            "-o", out, os.path.join(ctx.root, "tests", "rt", "driver_main.c")] + srcs + ["-lm"]
    p = ctx.run(args)
    assert "warning" not in p.stderr, p.stderr
    _BUILT[san] = out
    return out


def env_for(ctx, **kw):
    env = {k: v for k, v in os.environ.items()
           if k not in ("IN", "OUT", "DEAD", "CKPT", "ARCHIVE", "SRC_KIND", "DELETE", "SHOW")}
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
        time.sleep(rnd.uniform(0.03, 0.4))
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
