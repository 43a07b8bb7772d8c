"""pgserver.py - a throwaway PostgreSQL 15 server for the Python test suite.

`server()` starts one server lazily, the first time a test asks for it, and every PostgreSQL
test of the run shares it; each test isolates itself in a database of its own (`new_db`). The
server lives in a fresh mkdtemp directory named /tmp/pipec-pg-* (data dir, socket dir, log file, all owned
by the `postgres` user, since initdb and postgres refuse to run as root), listens on 127.0.0.1
on a private port and on a private socket dir, trusts every local and 127.0.0.1 connection
(superuser `postgres`, UTF8, locale C.UTF-8) and runs with wal_level=logical. fsync stays on
(tests check durability). At interpreter exit it is stopped by its PID and the directory removed.

    import pgserver
    if not pgserver.available(): ...skip...
    pg = pgserver.server()
    db = pg.new_db("sink")                     # "sink_1", a fresh empty database
    pg.psql("create table t (a int, b text); insert into t values (1, null)", db=db)
    pg.psql("select a, b from t", db=db)       # [["1", None]]
    pg.dsn(db)                                 # "host=127.0.0.1 port=N user=postgres dbname=sink_1"
    pg.stop(); pg.start()                      # same port, same data

psql results are lists of rows, each a list of strings, with None for NULL (psql -P null=\\N).
psql prints them as CSV (--csv) rather than tab-separated (-A -F '\\t'), so values holding tabs,
commas, quotes or newlines come back whole; a value that is the two characters \\N reads as None.

A run that died without its atexit (SIGKILL) leaves its server behind: the next `server()` stops
and removes the servers of /tmp/pipec-pg-* whose owning process is gone (never those of a live
process, such as another engineer's run).
"""
import atexit
import csv
import io
import os
import pwd
import sys
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proc_util import alive, install_sigterm_exit, proc_start_time, run_dir_in_use  # noqa: E402

BIN = "/usr/lib/postgresql/15/bin"
PSQL = "/usr/bin/psql"
PREFIX = "pipec-pg-"
USER = "postgres"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0

# Server settings given on the postgres command line (besides port, socket dir, listen address).
SETTINGS = {
    "wal_level": "logical",
    "max_replication_slots": "8",
    "max_wal_senders": "8",
    "synchronous_commit": "on",
    "fsync": "on",
}

_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}
# -c takes one argument, and Linux caps one argument at 128 KiB: longer SQL goes through stdin.
_MAX_ARG = 100000


def available():
    """True when the PostgreSQL 15 server and psql are installed."""
    return all(os.access(p, os.X_OK) for p in (os.path.join(BIN, "postgres"),
                                               os.path.join(BIN, "initdb"), PSQL))


_server = None
_lock = threading.Lock()


def server():
    """The run's shared PgServer, started on the first call and stopped at interpreter exit."""
    global _server
    with _lock:
        if _server is None:
            _reap_stale()
            s = PgServer()
            try:
                s.start()
            except BaseException:
                s.cleanup()
                raise
            _server = s
        return _server


def _clean_env():
    """The environment without PG* variables (PGOPTIONS, PGSERVICE... would change what runs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCLIENTENCODING"] = "UTF8"
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


def _cluster_pids(datadir):
    """The live processes whose working directory is datadir: the postmaster chdirs there and
    every process of the cluster inherits it."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.readlink("/proc/%s/cwd" % name) == datadir and alive(int(name)):
                    pids.append(int(name))
            except OSError:
                pass
    return pids


def _kill_cluster(datadir, pid=None):
    """Last resort: SIGQUIT the postmaster, then SIGKILL whatever of the cluster is left."""
    if pid is not None and alive(pid):
        try:
            os.kill(pid, signal.SIGQUIT)
        except OSError:
            pass
        deadline = time.time() + 10
        while alive(pid) and time.time() < deadline:
            time.sleep(0.05)
    for p in _cluster_pids(datadir):
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def _reap_stale():
    """Stops and removes the servers left by runs that died without their atexit."""
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        top = os.path.join(tmp, name)
        if not name.startswith(PREFIX) or not os.path.isdir(top) or os.path.islink(top):
            continue
        if run_dir_in_use(top):
            continue
        datadir = os.path.join(top, "data")
        _kill_cluster(datadir, _read_pid(datadir))
        shutil.rmtree(top, ignore_errors=True)


def _read_pid(datadir):
    """The postmaster's PID from the first line of DATADIR/postmaster.pid, or None."""
    try:
        with open(os.path.join(datadir, "postmaster.pid")) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def _port_free(port):
    """True when 127.0.0.1:port can be bound (with SO_REUSEADDR, as the postmaster binds it)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _pick_port():
    """A free port below the ephemeral range, so that no outgoing connection takes it while the
    server is stopped between stop() and start(); port 0's choice if none is found."""
    lo = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    if lo > 11000:
        for _ in range(50):
            port = random.randrange(10000, lo)
            if _port_free(port):
                return port
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _conninfo_value(v):
    v = str(v)
    if v and all(c.isalnum() or c in "_-." for c in v):
        return v
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


class PgServer:
    """One PostgreSQL 15 cluster in a fresh temp dir. start() the first time runs initdb."""

    def __init__(self):
        self.top = tempfile.mkdtemp(prefix=PREFIX)
        self.datadir = os.path.join(self.top, "data")
        self.sockdir = os.path.join(self.top, "sock")
        self.logfile = os.path.join(self.top, "server.log")
        self.port = None
        self.pid = None            # the postmaster's PID, from postmaster.pid
        self.start_seconds = None  # how long the last start() took (initdb included)
        self._proc = None          # the postmaster's Popen (it is our child)
        self._counter = 0
        self._owner_pid = os.getpid()
        self._initdb_done = False
        pw = pwd.getpwnam(USER) if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self._uid, self._gid = pw.pw_uid, pw.pw_gid
        self._groups = os.getgrouplist(pw.pw_name, pw.pw_gid)
        with open(os.path.join(self.top, "owner"), "w") as f:
            f.write("%d %s\n" % (os.getpid(), proc_start_time(os.getpid())))
        os.mkdir(self.sockdir, 0o700)
        open(self.logfile, "a").close()
        for p in (self.top, self.sockdir, self.logfile):
            os.chown(p, self._uid, self._gid)
        os.chmod(self.top, 0o700)
        atexit.register(self._atexit)
        install_sigterm_exit()

    # --- running the server's programs as the postgres user -------------------------------

    def _popen_kw(self):
        kw = {"cwd": self.top, "env": _clean_env(), "stdin": subprocess.DEVNULL}
        if os.geteuid() == 0:
            kw.update(user=self._uid, group=self._gid, extra_groups=self._groups)
        return kw

    def _initdb(self):
        args = [os.path.join(BIN, "initdb"), "-D", self.datadir, "-U", USER, "-E", "UTF8",
                "--locale=C.UTF-8", "--auth=trust"]
        p = subprocess.run(args, capture_output=True, text=True, timeout=120, **self._popen_kw())
        if p.returncode != 0:
            raise AssertionError("initdb failed (%d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
        self._initdb_done = True

    def log_tail(self, n=40):
        """The last n lines of the server log."""
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError as e:
            return "(no log: %s)" % e

    # --- start / stop ---------------------------------------------------------------------

    @property
    def running(self):
        """True while the postmaster is alive."""
        if self._proc is not None:  # the postmaster is our child: poll() also reaps it
            return self._proc.poll() is None
        return alive(self.pid)

    def start(self):
        """Starts the server (initdb the first time) and waits until it accepts connections.
        The first start picks a free port, trying another if the server cannot bind it; later
        starts use the same port and data dir."""
        if self.running:
            return
        t0 = time.time()
        if not self._initdb_done:
            self._initdb()
        if self.port is not None:
            try:
                self._start_on(self.port)
            except _PortInUse:
                raise AssertionError("postgres could not bind its port %d again:\n%s" %
                                     (self.port, self.log_tail())) from None
        else:
            for attempt in range(5):
                port = _pick_port()
                try:
                    self._start_on(port)
                    self.port = port
                    break
                except _PortInUse:
                    if attempt == 4:
                        raise AssertionError("postgres could not bind a port in 5 tries:\n" +
                                             self.log_tail())
        self.start_seconds = time.time() - t0

    def _start_on(self, port):
        args = [os.path.join(BIN, "postgres"), "-D", self.datadir, "-p", str(port),
                "-k", self.sockdir, "-c", "listen_addresses=127.0.0.1"]
        for k, v in SETTINGS.items():
            args += ["-c", "%s=%s" % (k, v)]
        mark = os.path.getsize(self.logfile)
        with open(self.logfile, "ab") as log:
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True, **self._popen_kw())
        self.pid = None
        deadline = time.time() + START_TIMEOUT
        while True:
            rc = self._proc.poll()
            if rc is not None:
                with open(self.logfile, errors="replace") as f:
                    f.seek(mark)
                    new = f.read()
                self._proc = None
                if "could not bind" in new or "could not create any TCP/IP sockets" in new:
                    raise _PortInUse()
                raise AssertionError("postgres exited with status %d while starting on port %d:\n%s"
                                     % (rc, port, self.log_tail()))
            pid = _read_pid(self.datadir)
            if pid == self._proc.pid:
                p = subprocess.run([os.path.join(BIN, "pg_isready"), "-q", "-h", "127.0.0.1",
                                    "-p", str(port), "-U", USER, "-d", "postgres", "-t", "2"],
                                   env=_clean_env(), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if p.returncode == 0:
                    self.pid = pid
                    return
            if time.time() > deadline:
                pid = self._proc.pid
                _kill_cluster(self.datadir, pid)
                self._proc.wait()
                self._proc = None
                raise AssertionError("postgres did not accept connections on port %d within "
                                     "%ds:\n%s" % (port, START_TIMEOUT, self.log_tail()))
            time.sleep(0.05)

    def stop(self, mode="fast"):
        """Stops the server by signalling the postmaster's PID (mode fast: SIGINT, smart:
        SIGTERM, immediate: SIGQUIT, a crash-like stop), then waits until the postmaster is
        gone and the port is free."""
        if self._proc is None and not alive(self.pid):
            self.pid = None
            return
        pid = self.pid if self.pid is not None else self._proc.pid
        try:
            os.kill(pid, _SIGNALS[mode])
        except ProcessLookupError:
            pass
        deadline = time.time() + STOP_TIMEOUT
        while self.running and time.time() < deadline:
            time.sleep(0.02)
        if self.running:
            tail = self.log_tail()
            _kill_cluster(self.datadir, pid)
            self._reap_child()
            raise AssertionError("postgres did not stop (%s) within %ds; killed it:\n%s" %
                                 (mode, STOP_TIMEOUT, tail))
        self._reap_child()
        self.pid = None
        deadline = time.time() + 10
        while not _port_free(self.port) and time.time() < deadline:
            time.sleep(0.02)

    def _reap_child(self):
        if self._proc is not None:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None

    def cleanup(self):
        """Stops the server if it runs (fast, else immediate, else killed) and removes its dir."""
        try:
            self.stop("fast")
        except Exception:
            _kill_cluster(self.datadir, self.pid)
            self._reap_child()
        shutil.rmtree(self.top, ignore_errors=True)

    def _atexit(self):
        if os.getpid() == self._owner_pid:  # not in a forked child
            self.cleanup()

    # --- clients --------------------------------------------------------------------------

    def dsn(self, db="postgres"):
        """A libpq conninfo string reaching the server over TCP as the superuser."""
        return "host=127.0.0.1 port=%d user=%s dbname=%s" % (self.port, USER, _conninfo_value(db))

    def new_db(self, prefix="t"):
        """Creates a fresh, empty database named prefix_N (unique in this server) and returns
        its name."""
        base = "".join(c if c in "abcdefghijklmnopqrstuvwxyz0123456789_" else "_"
                       for c in prefix.lower()) or "t"
        with _lock:
            self._counter += 1
            name = "%s_%d" % (base[:50], self._counter)
        self.psql('create database "%s"' % name)
        return name

    def psql(self, sql, db="postgres", timeout=120):
        """Runs sql with psql (stopping at the first error) and returns the rows it printed, each
        a list of strings, None for NULL. Raises AssertionError with psql's stderr on failure.
        Several statements in one string run as one implicit transaction; the rows of each
        statement that returns rows are all returned."""
        args = [PSQL, "-X", "-q", "--csv", "-t", "-v", "ON_ERROR_STOP=1",
                "-P", "null=\\N", "-d", self.dsn(db)]
        data = None
        if len(sql.encode()) > _MAX_ARG:
            args += ["-1", "-f", "-"]
            data = sql.encode()
        else:
            args += ["-c", sql]
        p = subprocess.run(args, input=data, capture_output=True, env=_clean_env(),
                           timeout=timeout, stdin=None if data is not None else subprocess.DEVNULL)
        if p.returncode != 0:
            raise AssertionError("psql failed (%d) on %s: %s\n%s" % (
                p.returncode, db, sql if len(sql) < 2000 else sql[:2000] + "...",
                p.stderr.decode(errors="replace").strip()))
        # One CSV record a row (values holding commas, quotes or newlines are quoted); psql
        # prints a row of one empty string as an empty line, which csv reads as [].
        out = io.StringIO(p.stdout.decode(), newline="")
        return [[None if v == "\\N" else v for v in row] or [""] for row in csv.reader(out)]


class _PortInUse(Exception):
    pass
