#!/usr/bin/python3
"""run.py - the benchmark behind `make bench`: the row path of a compiled pipeline against
baselines run in the same invocation, on the same file, on the same core.

Steps: generate bench/data/events.csv (5M shop events, a few bad rows, tests/gen_events.py),
build bench/rowpath.yaml with bin/pipec (timed), then run each contender --repeat times:
  pipeline  the compiled bench/rowpath.yaml (CSV -> rules -> derive -> filter -> JSON lines)
  wc -l     reading the file once: the floor of any line-oriented tool
  awk       the same job in awk: split fields, check the field count, event_type and price,
            compute revenue, filter, print JSON lines (less validation than the pipeline: no
            timestamp, integer range or UTF-8 checks, no CSV quoting)
For each: best wall seconds, CPU seconds (user+sys of that child, os.wait4), peak RSS (ru_maxrss),
rows/s and MB/s of input, and pipeline/baseline ratios. Prints a table and appends one row per
contender to bench/results.csv with a timestamp and the git commit.

Options: --rows N (default 5000000), --repeat N (default 3), --reuse-data (keep an existing
bench/data/events.csv made with the same --rows and seed), --no-pin (do not taskset -c 0).
"""
import argparse
import csv
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
DATA = os.path.join(BENCH, "data")
sys.path.insert(0, os.path.join(ROOT, "tests"))
import gen_events as gen  # noqa: E402

SEED = 5
SUMMARY_RE = re.compile(r"done: in=(\d+) out=(\d+) dead=(\d+) dropped=(\d+)")

AWK = r'''
BEGIN { FS = ","; ok["view"] = 1; ok["cart"] = 1; ok["purchase"] = 1 }
NR == 1 { next }
{ sub(/\r$/, "") }
NF == 0 { next }
NF != 7 || !($4 in ok) || $6 !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ || $3 !~ /^-?[0-9]+$/ { dead++; next }
$6 + 0 < 0 { dead++; next }
{
    q = ($7 == "") ? 1 : $7 + 0
    rev = ($4 == "purchase") ? $6 * q : 0
}
$4 == "view" && $6 + 0 < 500 { dropped++; next }
{
    printf "{\"event_id\":\"%s\",\"event_time\":\"%s\",\"user_id\":%s,\"event_type\":\"%s\",\"product_id\":%s,\"price\":%s,\"quantity\":%s,\"revenue\":%.17g}\n", $1, $2, $3, $4, $5, $6, ($7 == "" ? "null" : $7), rev
    out++
}
END { printf "awk: out=%d dead=%d dropped=%d\n", out, dead, dropped > "/dev/stderr" }
'''


def git_commit():
    try:
        p = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        c = p.stdout.strip() if p.returncode == 0 else "none"
        p = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True)
        if p.returncode == 0 and p.stdout.strip():
            c += "-dirty"
        return c
    except OSError:
        return "none"


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
RSS_FILE = os.path.join(DATA, ".rusage")


def measure(argv, stdout=None, env=None):
    """Runs argv once; returns dict(wall, user, sys, cpu, maxrss_kb, rc, stderr).
    CPU comes from os.wait4 on the child. Peak RSS cannot: a child forked from this Python process
    inherits its high-water mark (~25 MB) across exec, so when GNU time is there it runs the
    command from its own small process and reports the command's ru_maxrss (%M)."""
    if GNU_TIME:
        argv = [GNU_TIME, "-f", "%M", "-o", RSS_FILE] + argv
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=stdout if stdout is not None else subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    rss = ru.ru_maxrss
    if GNU_TIME:
        with open(RSS_FILE) as f:
            rss = int(f.read().split()[-1])
    return {"wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime, "cpu": ru.ru_utime + ru.ru_stime,
            "maxrss_kb": rss, "rc": p.returncode, "stderr": err.decode("utf-8", "replace")}


def best_of(n, argv, stdout_path=None, env=None):
    runs = []
    for _ in range(n):
        f = open(stdout_path, "wb") if stdout_path else None
        try:
            r = measure(argv, stdout=f, env=env)
        finally:
            if f:
                f.close()
        if r["rc"] != 0:
            sys.exit("bench: %s failed (exit %d):\n%s" % (" ".join(argv), r["rc"], r["stderr"][-2000:]))
        runs.append(r)
    best = min(runs, key=lambda r: r["wall"])
    best = dict(best)
    best["maxrss_kb"] = max(r["maxrss_kb"] for r in runs)
    best["runs"] = [round(r["wall"], 3) for r in runs]
    return best


def make_data(path, rows, reuse):
    stamp = path + ".params"
    params = "rows=%d seed=%d gen=%d" % (rows, SEED, int(os.path.getmtime(gen.__file__)))
    if reuse and os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == params:
        print("bench: reusing %s" % path)
        return
    t0 = time.time()
    g = gen.Generator(rows, seed=SEED, bad_rate=0.001, odd_rate=0.01, huge=False,
                      unterminated=False, bom=False)
    nrec, ndead = g.write(path, keep=False)
    with open(stamp, "w") as f:
        f.write(params)
    print("bench: generated %s: %d rows, %.1f MB, %d expected dead, in %.1f s" % (
        path, nrec, os.path.getsize(path) / 1e6, ndead, time.time() - t0))


def main():
    ap = argparse.ArgumentParser(description="pipec row-path benchmark")
    ap.add_argument("--rows", type=int, default=5000000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reuse-data", action="store_true")
    ap.add_argument("--no-pin", action="store_true")
    a = ap.parse_args()

    pipec = os.path.join(ROOT, "bin", "pipec")
    if not os.access(pipec, os.X_OK):
        sys.exit("bench: %s not built (run make all)" % pipec)
    os.makedirs(DATA, exist_ok=True)
    data = os.path.join(DATA, "events.csv")
    make_data(data, a.rows, a.reuse_data)
    nbytes = os.path.getsize(data)

    binary = os.path.join(DATA, "rowpath")
    t0 = time.perf_counter()
    p = subprocess.run([pipec, "build", os.path.join(BENCH, "rowpath.yaml"), "-o", binary],
                       capture_output=True, text=True)
    build_s = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("bench: pipec build failed:\n" + p.stderr)

    pin = [] if a.no_pin or not shutil.which("taskset") else ["taskset", "-c", "0"]
    awk = shutil.which("mawk") or shutil.which("awk")
    awk_name = os.path.basename(os.path.realpath(awk))
    out_dir = os.path.join(DATA, "out")
    os.makedirs(out_dir, exist_ok=True)
    env = dict(os.environ, INPUT=data, OUT=out_dir)

    results = []
    r = best_of(a.repeat, pin + [binary], env=env)
    m = SUMMARY_RE.findall(r["stderr"])
    if not m:
        sys.exit("bench: no summary line from the pipeline:\n" + r["stderr"][-2000:])
    nin, nout, ndead, ndrop = map(int, m[-1])
    r.update(name="pipeline", note="in=%d out=%d dead=%d dropped=%d" % (nin, nout, ndead, ndrop))
    results.append(r)

    r = best_of(a.repeat, pin + ["wc", "-l", data])
    r.update(name="wc -l", note="")
    results.append(r)

    awk_out = os.path.join(out_dir, "awk.jsonl")
    r = best_of(a.repeat, pin + [awk, AWK, data], stdout_path=awk_out)
    am = re.search(r"awk: out=(\d+) dead=(\d+) dropped=(\d+)", r["stderr"])
    r.update(name=awk_name, note="out=%s dead=%s dropped=%s" % am.groups() if am else "")
    results.append(r)

    rows = nin
    pipe = results[0]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    commit = git_commit()
    print()
    print("pipec row-path benchmark  %s  commit %s  %s  %s" % (when, commit, platform.node(),
                                                              "pinned to core 0" if pin else "not pinned"))
    print("input: %s, %d rows, %.1f MB; pipec build %.2f s; best of %d runs" % (
        os.path.relpath(data, ROOT), rows, nbytes / 1e6, build_s, a.repeat))
    hdr = "%-10s %8s %8s %8s %8s %9s %12s %8s %11s %11s" % (
        "", "wall s", "cpu s", "user s", "sys s", "RSS MiB", "rows/s", "MB/s", "pipe/x wall", "pipe/x cpu")
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        r["rows_s"] = rows / r["wall"]
        r["mb_s"] = nbytes / 1e6 / r["wall"]
        r["ratio_wall"] = pipe["wall"] / r["wall"]
        r["ratio_cpu"] = pipe["cpu"] / r["cpu"] if r["cpu"] > 0 else float("nan")
        print("%-10s %8.3f %8.3f %8.3f %8.3f %9.1f %12.0f %8.1f %11.2f %11.2f" % (
            r["name"], r["wall"], r["cpu"], r["user"], r["sys"], r["maxrss_kb"] / 1024.0,
            r["rows_s"], r["mb_s"], r["ratio_wall"], r["ratio_cpu"]))
    for r in results:
        if r["note"]:
            print("  %-8s %s   (walls: %s)" % (r["name"], r["note"], r["runs"]))
    print("pipe/x < 1: the pipeline took less than x. awk validates less than the pipeline does.")
    if not GNU_TIME:
        print("note: /usr/bin/time (Debian package 'time') missing: RSS includes this script's ~25 MB")

    path = os.path.join(BENCH, "results.csv")
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["timestamp", "commit", "host", "benchmark", "contender", "rows", "bytes",
                        "wall_s", "cpu_s", "user_s", "sys_s", "maxrss_kb", "rows_per_s", "mb_per_s",
                        "pipeline_over_this_wall", "pipeline_over_this_cpu", "pinned", "build_s", "note"])
        for r in results:
            w.writerow([when, commit, platform.node(), "rowpath", r["name"], rows, nbytes,
                        "%.4f" % r["wall"], "%.4f" % r["cpu"], "%.4f" % r["user"], "%.4f" % r["sys"],
                        r["maxrss_kb"], "%.0f" % r["rows_s"], "%.2f" % r["mb_s"],
                        "%.4f" % r["ratio_wall"], "%.4f" % r["ratio_cpu"], "yes" if pin else "no",
                        "%.3f" % build_s, r["note"]])
    print("appended to %s" % os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main()
