"""faultlib.py - shared helpers of the fault suite (tests/suite_faults.py, `make faults`).

env(): the environment without PG* variables (proc_util.env_without_pg). seed(), rounds(): FAULT_SEED (random when unset; printed by the suite) and FAULT_ROUNDS (kills
per test, default 6), so a failing run can be repeated exactly. records(): input records
(id, grp, amount) with some bad ones (amount < 0, which every fault spec's rule sends to the dead
letter). Runner: starts a pipeline binary with its stderr in a log file per run, and kills it
(SIGKILL or SIGTERM) after a random delay or at a chosen phase (a file appearing, such as the
checkpoint's temp file while a commit is under way, or a file growing). exact(): compares the ids
an independent reader found with the ids expected, naming what is missing and what is twice.
Readers: jsonl_ids, dead_ids (the dead letter's raw records), sqlite_ids (the sqlite3 program),
duckdb_ids (Parquet through DuckDB, tests/oracle/sql.mjs). tmpfs(): a small tmpfs mounted on a
folder for full-disk tests, always unmounted; SkipTest when mount is refused.
"""
import collections
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proc_util import env_without_pg as env  # noqa: E402,F401  (the pipelines' environment)
from proc_util import wait_handler  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SPECS = os.path.join(HERE, "faults")


class SkipTest(Exception):
    """The environment cannot run this fault (e.g. mount refused); the suite reports it."""


_seed = None


def seed():
    global _seed
    if _seed is None:
        v = os.environ.get("FAULT_SEED")
        _seed = int(v) if v else random.SystemRandom().randrange(1, 1 << 31)
    return _seed


def rng(name):
    """A random generator per test: the run's seed and the test's name."""
    return random.Random("%d/%s" % (seed(), name))


def rounds():
    return max(1, int(os.environ.get("FAULT_ROUNDS", "6")))


def records(first, n, r, bad_share=0.03):
    """n records from id `first` on: (id, grp, amount); about bad_share of them bad."""
    return [(i, "g%d" % (i % 5), -1 if r.random() < bad_share else i % 1000) for i in range(first, first + n)]


def csv_text(recs):
    return "id,grp,amount\n" + "".join("%d,%s,%d\n" % rec for rec in recs)


def drop_csv(folder, name, recs, tmpdir):
    """Puts a CSV file into a watched folder atomically (written elsewhere, renamed in)."""
    src = os.path.join(tmpdir, "." + name)
    with open(src, "w") as f:
        f.write(csv_text(recs))
    os.rename(src, os.path.join(folder, name))


def good_bad(recs):
    return [r[0] for r in recs if r[2] >= 0], [r[0] for r in recs if r[2] < 0]


# --- running and killing -------------------------------------------------------------------

class Runner:
    """Starts `binary` again and again with the same environment; each run's stderr goes to
    TMP/runN.log. kills counts SIGKILLs that hit a live process, by how they were aimed."""

    def __init__(self, binary, environ, tmp, args=()):
        self.binary, self.env, self.tmp, self.args = binary, environ, tmp, list(args)
        self.n = 0
        self.kills = collections.Counter()
        self.proc = None
        self.log = None

    def start(self, args=None):
        self.n += 1
        self.log = os.path.join(self.tmp, "run%d.log" % self.n)
        with open(self.log, "wb") as f:
            self.proc = subprocess.Popen([self.binary] + (self.args if args is None else list(args)),
                                         env=self.env, cwd=self.tmp, stdout=subprocess.DEVNULL,
                                         stderr=f)
        return self.proc

    def stderr(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait(self, timeout=120):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("run %d did not end within %ds:\n%s" % (self.n, timeout, self.stderr()[-3000:]))

    def signal(self, sig, how):
        """Sends sig if the run is still alive; True when it was."""
        if self.proc.poll() is not None:
            return False
        if sig == signal.SIGTERM:
            wait_handler(self.proc)
        self.proc.send_signal(sig)
        if sig == signal.SIGKILL:
            self.kills[how] += 1
        return True

    def kill_somewhen(self, r, delay=(0.01, 0.3), phase_file=None, phase_timeout=2.0):
        """SIGKILL after a random delay, or (half of the time, when phase_file is given) the moment
        phase_file exists (polled every ~0.2 ms; after phase_timeout without it, then). Returns
        the exit status of the run."""
        if phase_file and r.random() < 0.5:
            time.sleep(r.uniform(0, delay[1]))
            hit = wait_for(lambda: os.path.exists(phase_file) or self.proc.poll() is not None, phase_timeout, 0.0002)
            self.signal(signal.SIGKILL, "in a commit" if hit else "random")
        else:
            time.sleep(r.uniform(*delay))
            self.signal(signal.SIGKILL, "random")
        rc = self.wait()
        assert rc in (0, -signal.SIGKILL), "run %d: exit %r\n%s" % (self.n, rc, self.stderr()[-3000:])
        return rc

    def run(self, args=None, timeout=180, rc=0):
        """A run to its end; asserts its exit status, returns its stderr."""
        self.start(args)
        got = self.wait(timeout)
        err = self.stderr()
        assert got == rc, "run %d: exit %r, expected %r\n%s" % (self.n, got, rc, err[-3000:])
        return err


def wait_for(pred, timeout, step=0.01):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        if step:
            time.sleep(step)
    return pred()


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# --- independent readers and the exact comparison ------------------------------------------

def exact(got, want, what, dup_ok=False):
    """got (ids found, with repeats) against want (each id once): none missing, none unexpected,
    none twice unless dup_ok (at least once). Returns how many were duplicates."""
    c = collections.Counter(got)
    w = set(want)
    assert len(w) == len(want), "%s: the expectation itself has duplicates" % what
    missing = sorted(w - set(c))
    extra = sorted(set(c) - w)
    twice = sorted(k for k, v in c.items() if v > 1)
    msg = []
    if missing:
        msg.append("%d missing (e.g. %r)" % (len(missing), missing[:5]))
    if extra:
        msg.append("%d unexpected (e.g. %r)" % (len(extra), extra[:5]))
    if twice and not dup_ok:
        msg.append("%d twice (e.g. %r)" % (len(twice), twice[:5]))
    assert not msg, "%s: %s; %d found, %d expected" % (what, ", ".join(msg), len(got), len(want))
    return len(got) - len(c)


def jsonl_ids(path, key="id"):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)[key] for line in f]


def dead_ids(path):
    """The ids of the dead letter's records (raw is a CSV line or a JSON object)."""
    out = []
    for line in open(path, encoding="utf-8") if os.path.exists(path) else ():
        raw = json.loads(line)["raw"]
        out.append(json.loads(raw)["id"] if raw.startswith("{") else int(raw.split(",", 1)[0]))
    return out


def sqlite_ids(db, table):
    p = subprocess.run(["sqlite3", db, "SELECT id FROM %s" % table], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [int(x) for x in p.stdout.split()]


def duckdb_ids(root, tmp):
    """Every id in the Parquet files under root, as DuckDB reads them; also asserts that no temp
    file is left (a hidden .NAME.tmp)."""
    temps = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".tmp")]
    assert not temps, "parquet temp files left: %r" % temps[:5]
    if not any(f.endswith(".parquet") for _, _, fs in os.walk(root) for f in fs):
        return []
    q = os.path.join(tmp, "ids.sql")
    with open(q, "w") as f:
        f.write("SELECT id FROM read_parquet('%s/**/*.parquet', hive_partitioning = true);\n" % root)
    p = subprocess.run(["node", os.path.join(HERE, "oracle", "sql.mjs"), "--csv", q],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "duckdb: %s" % p.stderr[-2000:]
    return [int(x) for x in p.stdout.split()[1:]]


# --- a full disk ---------------------------------------------------------------------------

@contextlib.contextmanager
def tmpfs(path, size):
    """A tmpfs of `size` (mount's syntax, e.g. 256k) on path for the block; unmounted after,
    also on failure. SkipTest when this machine refuses the mount (not root, no CAP_SYS_ADMIN)."""
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SkipTest("cannot mount a tmpfs on %s: %s" % (path, (p.stderr or p.stdout).strip()))
    try:
        yield lambda new: subprocess.run(["mount", "-o", "remount,size=%s" % new, path], check=True)
    finally:
        if subprocess.run(["umount", path], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", path], capture_output=True)
