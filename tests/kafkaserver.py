"""kafkaserver.py - a throwaway Kafka broker for the Python test suite.

No Kafka can be installed here, so the broker is librdkafka's mock cluster (rdkafka_mock.h),
hosted by tests/kafka/mockbroker.c: it speaks the Kafka protocol over TCP on 127.0.0.1, keeps
everything in memory, and is what the pipelines under test, kcat and confluent_kafka connect
to. `server()` builds the program (into build/tests/mockbroker, again only when the source is
newer) and starts one broker lazily, the first time a test asks for it; every Kafka test of the
run shares it and isolates itself in topics of its own (`new_topic`). The broker runs in a fresh
mkdtemp directory named /tmp/pipec-kafka-* (its bootstrap file, its log); at interpreter exit it
is stopped by its PID and the directory removed.

    import kafkaserver
    if not kafkaserver.available(): ...skip...
    k = kafkaserver.server()
    topic = k.new_topic("src", 8)                    # "src_1", a fresh topic of 8 partitions
    k.bootstrap()                                    # "127.0.0.1:PORT"
    k.produce(topic, ["a", "b"], keys=["k1", "k2"])  # with kcat; returns 2
    k.consume(topic)                                 # [Record(partition, offset, key, value,
                                                     #   headers), ...] up to the end
    k.consume(topic, n=1000, timeout=30)             # waits for 1000 first
    k.consumer_config("grp")                         # settings for our own consumers (dict;
                                                     #   client_config is the same)
    k.producer_config()                              # {"bootstrap.servers": ...}
    k.committed("grp", topic)                        # {partition: offset or None}
    k.watermarks(topic)                              # {partition: (low, high)}
    k.topics()                                       # {name: partitions}
    k.stop(); k.start()                              # a new, empty cluster on new ports
    k.broker_down(); k.broker_up()                   # every broker drops its connections and
                                                     #   refuses new ones / serves again, data kept

produce() goes through kcat (an independent client) and checks that the topic's end offsets
grew by as many messages; consume() reads with confluent_kafka in-process (by assignment, no
group), so values holding newlines, tabs or NUL come back whole. confluent_kafka is the Debian
package (python3-confluent-kafka); under a python3 that lacks it (pyenv) it is imported from
/usr/lib/python3/dist-packages when built for the same minor version.

What the mock does and does not do (librdkafka 2.0.2, measured on this machine):
- Produce, fetch, keys, headers, compression and the idempotent producer work; transactions are
  accepted but are no-ops; there is no CreateTopics (admin API), hence `new_topic`, which asks
  the broker program over its stdin.
- Any topic named in a metadata request springs into existence with 4 partitions, even with
  allow.auto.create.topics=false (the mock answers an old MetadataRequest version): a "missing
  topic" cannot be tested, and a watermark or metadata query of one topic creates it. The
  helpers here look topics up in the metadata of all topics first.
- Consumer groups with committed offsets work, but the mock delays a group's first assignment
  by a fixed 2-3 s and then waits session.timeout.ms - 1 s for members at each rebalance (a
  second member joining, and also the next member after the last one left): with
  session.timeout.ms <= 2000 no assignment ever arrives, 3000 is at the edge, the default
  45000 makes every rebalance take 44 s. `consumer_config` sets 6000 (rebalance 5 s; 4000,
  rebalance 3 s, is the least that is safe). Members that join together within the first
  delay are assigned at once, without the wait.
- A fetch waiting on an empty partition is not woken by new data: it waits fetch.wait.max.ms
  (default 500: a message produced meanwhile arrives 370-500 ms late, with 20 about 12 ms),
  so `consumer_config` sets 20.
- Retention: the mock keeps at most 5 MiB and 100000 record batches per partition and silently
  drops the oldest batches beyond that (about 47000 records of 100 bytes). No setting changes
  it; the broker program overwrites the limit in its own copy of librdkafka (see mockbroker.c)
  to RETENTION_BYTES and RETENTION_BATCHES. When that patch cannot be applied (another
  librdkafka build), the broker runs with the 5 MiB default: `retention_bytes` says which.
- In memory only: stop() loses everything, start() gives a new cluster on new ports.

A run that died without its atexit (SIGKILL) leaves its broker behind only until the broker
notices its stdin closed (it runs with --exit-on-eof); the next `server()` removes the
directories of /tmp/pipec-kafka-* whose owning process is gone (and kills a broker still
running there), never those of a live process, such as another engineer's run.
"""
import atexit
import collections
import glob
import os
import random
import select
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proc_util import alive, install_sigterm_exit, proc_start_time, run_dir_in_use  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "tests", "kafka", "mockbroker.c")
BINARY = os.path.join(ROOT, "build", "tests", "mockbroker")
HEADER = "/usr/include/librdkafka/rdkafka_mock.h"
KCAT = "/usr/bin/kcat"
SYSTEM_PYTHON_PACKAGES = "/usr/lib/python3/dist-packages"
PREFIX = "pipec-kafka-"
BROKERS = 1
RETENTION_BYTES = 256 << 20    # per partition
RETENTION_BATCHES = 10000000   # per partition
DEFAULT_RETENTION_BYTES = 5 << 20
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-D_GNU_SOURCE"]

# What consumers we write ourselves should set against the mock (see the docstring).
CONSUMER_SETTINGS = {
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "fetch.wait.max.ms": 20,
}

Record = collections.namedtuple("Record", "partition offset key value headers")


def _import_confluent_kafka():
    """confluent_kafka, from the Debian package (python3-confluent-kafka) when the running
    Python does not have it (a pyenv python3 of the same minor version): only that package is
    taken from the system's dist-packages, the path entry is removed again."""
    try:
        import confluent_kafka
        return confluent_kafka
    except ImportError:
        pass
    tag = "cpython-%d%d-" % sys.version_info[:2]
    if not glob.glob(os.path.join(SYSTEM_PYTHON_PACKAGES, "confluent_kafka", "cimpl.%s*.so" % tag)):
        return None
    sys.path.append(SYSTEM_PYTHON_PACKAGES)
    try:
        import confluent_kafka
        return confluent_kafka
    except ImportError:
        return None
    finally:
        sys.path.remove(SYSTEM_PYTHON_PACKAGES)


ck = _import_confluent_kafka()


def available():
    """True when the broker can be built (cc and the librdkafka headers with the mock cluster)
    and the clients the helpers use are there (kcat, confluent_kafka)."""
    return (shutil.which("cc") is not None and os.path.exists(HEADER) and
            os.access(KCAT, os.X_OK) and ck is not None)


def build():
    """Compiles tests/kafka/mockbroker.c into BINARY unless BINARY is newer than the source;
    returns BINARY. Two runs building at once each compile to a temp file and rename it."""
    try:
        if os.stat(BINARY).st_mtime >= os.stat(SOURCE).st_mtime:
            return BINARY
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(BINARY), exist_ok=True)
    tmp = "%s.tmp.%d" % (BINARY, os.getpid())
    p = subprocess.run(["cc"] + CFLAGS + ["-o", tmp, SOURCE, "-lrdkafka"], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, timeout=120)
    if p.returncode != 0:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise AssertionError("cannot build %s (%d):\n%s%s" % (SOURCE, p.returncode, p.stdout,
                                                              p.stderr))
    os.rename(tmp, BINARY)
    return BINARY


_server = None
_lock = threading.Lock()


def server():
    """The run's shared KafkaServer, started on the first call and stopped at interpreter exit."""
    global _server
    with _lock:
        if _server is None:
            _reap_stale()
            s = KafkaServer()
            try:
                s.start()
            except BaseException:
                s.cleanup()
                raise
            _server = s
        return _server


def _broker_pid(top):
    """The PID of the broker recorded in top/broker.pid if that process still runs in top (its
    working directory), else None: a PID reused by another process is never taken for it."""
    try:
        with open(os.path.join(top, "broker.pid")) as f:
            pid = int(f.read().split()[0])
        if alive(pid) and os.readlink("/proc/%d/cwd" % pid) == top:
            return pid
    except (OSError, ValueError, IndexError):
        pass
    return None


def _kill(pid, timeout=5.0):
    """SIGKILLs pid and waits (up to timeout) until it is gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return
    deadline = time.time() + timeout
    while alive(pid) and time.time() < deadline:
        time.sleep(0.02)


def _reap_stale():
    """Removes the brokers and directories left by runs that died without their atexit."""
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        top = os.path.join(tmp, name)
        if not name.startswith(PREFIX) or not os.path.isdir(top) or os.path.islink(top):
            continue
        if run_dir_in_use(top):
            continue
        pid = _broker_pid(top)
        if pid is not None:
            _kill(pid)
        shutil.rmtree(top, ignore_errors=True)


class KafkaServer:
    """One mock Kafka cluster (BROKERS brokers) in a fresh temp dir."""

    def __init__(self, brokers=BROKERS):
        self.brokers = brokers
        self.top = tempfile.mkdtemp(prefix=PREFIX)
        self.logfile = os.path.join(self.top, "broker.log")
        self.bootstrap_file = os.path.join(self.top, "bootstrap")
        self.pid = None              # the broker's PID while it runs
        self.retention_bytes = None  # per partition, once started
        self.retention_note = ""     # why the retention is the default, if it is
        self.start_seconds = None    # how long the last start() took (building included)
        self._proc = None
        self._bootstrap = None
        self._counter = 0
        self._cmd_lock = threading.Lock()
        self._owner_pid = os.getpid()
        with open(os.path.join(self.top, "owner"), "w") as f:
            f.write("%d %s\n" % (os.getpid(), proc_start_time(os.getpid())))
        open(self.logfile, "a").close()
        atexit.register(self._atexit)
        install_sigterm_exit()

    def log_tail(self, n=40):
        """The last n lines of the broker's log (its stderr)."""
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError as e:
            return "(no log: %s)" % e

    # --- start / stop ---------------------------------------------------------------------

    @property
    def running(self):
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self):
        """Builds the broker if needed, starts it and waits until it has written its bootstrap
        file. A new cluster each time: new ports, no topics."""
        if self.running:
            return
        t0 = time.time()
        binary = build()
        rc = self._start([binary, "--retention-bytes", str(RETENTION_BYTES),
                          "--retention-batches", str(RETENTION_BATCHES)])
        if rc == 3:  # this librdkafka cannot take the retention patch: run with its default
            self.retention_note = self.log_tail(1).strip()
            rc = self._start([binary])
            self.retention_bytes = DEFAULT_RETENTION_BYTES
        else:
            self.retention_bytes = RETENTION_BYTES
        if rc is not None:
            raise AssertionError("mockbroker exited with status %d while starting:\n%s" %
                                 (rc, self.log_tail()))
        self.start_seconds = time.time() - t0

    def _start(self, args):
        """Runs the broker; None once its bootstrap file is there, else its exit status."""
        try:
            os.unlink(self.bootstrap_file)
        except FileNotFoundError:
            pass
        self._bootstrap = None
        args = args + ["--brokers", str(self.brokers), "--bootstrap-file", self.bootstrap_file,
                       "--exit-on-eof"]
        with open(self.logfile, "ab") as log:
            self._proc = subprocess.Popen(args, cwd=self.top, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=log,
                                          start_new_session=True)
        with open(os.path.join(self.top, "broker.pid"), "w") as f:
            f.write("%d\n" % self._proc.pid)
        deadline = time.time() + START_TIMEOUT
        while True:
            rc = self._proc.poll()
            if rc is not None:
                self._close_pipes()
                self._proc = None
                return rc
            try:
                with open(self.bootstrap_file) as f:
                    line = f.read().strip()
                if line:
                    self._bootstrap = line
                    self.pid = self._proc.pid
                    return None
            except FileNotFoundError:
                pass
            if time.time() > deadline:
                self._proc.kill()
                self._proc.wait()
                self._close_pipes()
                self._proc = None
                raise AssertionError("mockbroker wrote no bootstrap file within %ds:\n%s" %
                                     (START_TIMEOUT, self.log_tail()))
            time.sleep(0.01)

    def stop(self):
        """Stops the broker by SIGTERM to its PID and waits until it has exited (SIGKILL after
        STOP_TIMEOUT, then AssertionError). Everything in it is lost."""
        if self._proc is None:
            return
        pid = self._proc.pid
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            rc = self._proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            rc = None
        self._close_pipes()
        self._proc = None
        self.pid = None
        self._bootstrap = None
        if rc != 0:
            raise AssertionError("mockbroker %s on SIGTERM:\n%s" % (
                "did not stop within %ds; killed it" % STOP_TIMEOUT if rc is None
                else "exited with status %d" % rc, self.log_tail()))

    def _close_pipes(self):
        for f in (self._proc.stdin, self._proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    def cleanup(self):
        """Stops the broker if it runs (killed if need be) and removes its dir."""
        try:
            self.stop()
        except Exception:
            pass
        shutil.rmtree(self.top, ignore_errors=True)

    def _atexit(self):
        if os.getpid() == self._owner_pid:  # not in a forked child
            self.cleanup()

    # --- the broker's command line on stdin ---------------------------------------------------

    def _command(self, line, timeout=10.0):
        """Sends one command line to the broker and returns its answer line."""
        with self._cmd_lock:
            if not self.running:
                raise AssertionError("the Kafka broker is not running:\n" + self.log_tail())
            self._proc.stdin.write(line.encode() + b"\n")
            self._proc.stdin.flush()
            fd = self._proc.stdout.fileno()
            answer = b""
            deadline = time.time() + timeout
            while not answer.endswith(b"\n"):
                left = deadline - time.time()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise AssertionError("the Kafka broker did not answer %r within %ds" %
                                         (line, timeout))
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise AssertionError("the Kafka broker closed its stdout on %r:\n%s" %
                                         (line, self.log_tail()))
                answer += chunk
            return answer.decode().strip()

    def broker_down(self, up=False):
        """Every broker drops its connections and refuses new ones (rd_kafka_mock_broker_set_down;
        with up=True set_up): an outage that keeps the data and the ports."""
        for b in range(1, self.brokers + 1):
            answer = self._command("%s %d" % ("up" if up else "down", b))
            if answer != "ok":
                raise AssertionError("broker %d %s: %s" % (b, "up" if up else "down", answer))

    def broker_up(self):
        self.broker_down(up=True)

    def new_topic(self, prefix="t", partitions=8):
        """Creates a fresh topic named prefix_N (unique in this broker) with the given number of
        partitions (replication factor 1) and returns its name."""
        base = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_"
                       for c in prefix) or "t"
        with _lock:
            self._counter += 1
            name = "%s_%d" % (base[:200], self._counter)
        self.create_topic(name, partitions)
        return name

    def create_topic(self, name, partitions):
        """Creates the topic name with the given number of partitions; AssertionError when the
        broker refuses (the topic exists, a bad name)."""
        answer = self._command("topic %s %d" % (name, partitions))
        if answer != "ok":
            raise AssertionError("cannot create topic %s: %s" % (name, answer))

    # --- clients --------------------------------------------------------------------------

    def bootstrap(self):
        """The bootstrap.servers list of the running cluster, "127.0.0.1:P1[,127.0.0.1:P2...]"."""
        if self._bootstrap is None:
            raise AssertionError("the Kafka broker is not running")
        return self._bootstrap

    def consumer_config(self, group=None, **overrides):
        """librdkafka/confluent_kafka settings for a consumer of this broker: bootstrap.servers,
        group.id (when given), the timeouts the mock needs (CONSUMER_SETTINGS),
        auto.offset.reset=earliest; overrides win (use dots: consumer_config("g",
        **{"enable.auto.commit": False}))."""
        conf = {"bootstrap.servers": self.bootstrap(), "auto.offset.reset": "earliest"}
        conf.update(CONSUMER_SETTINGS)
        if group is not None:
            conf["group.id"] = group
        conf.update(overrides)
        return conf

    def client_config(self, group=None, **overrides):
        """The same as consumer_config (the name the pipelines' Kafka settings go by)."""
        return self.consumer_config(group, **overrides)

    def producer_config(self, **overrides):
        """librdkafka/confluent_kafka settings for a producer of this broker (nothing but
        bootstrap.servers is needed; consumer settings would only draw warnings)."""
        conf = {"bootstrap.servers": self.bootstrap()}
        conf.update(overrides)
        return conf

    def _admin_consumer(self, group="pipec-kafkaserver"):
        conf = {"bootstrap.servers": self.bootstrap(), "group.id": group,
                "enable.auto.commit": False, "fetch.wait.max.ms": 20, "log_level": 3,
                # librdkafka prefetches only 100000 messages by default: 5x slower here.
                "queued.min.messages": 1000000}
        return ck.Consumer(conf)

    def topics(self, timeout=10):
        """{name: partition count} of every topic of the cluster (the query creates none)."""
        c = self._admin_consumer()
        try:
            md = c.list_topics(timeout=timeout)
            return {name: len(t.partitions) for name, t in md.topics.items()}
        finally:
            c.close()

    def partitions(self, topic, timeout=10):
        """The number of partitions of topic; AssertionError when there is no such topic (it is
        looked up among all topics, which does not create it)."""
        n = self.topics(timeout).get(topic)
        if n is None:
            raise AssertionError("no topic %s in the Kafka broker" % topic)
        return n

    def watermarks(self, topic, timeout=10):
        """{partition: (low, high)} of topic: the first offset kept and the next offset."""
        n = self.partitions(topic, timeout)
        c = self._admin_consumer()
        try:
            return {p: tuple(c.get_watermark_offsets(ck.TopicPartition(topic, p),
                                                      timeout=timeout, cached=False))
                    for p in range(n)}
        finally:
            c.close()

    def produce(self, topic, values, keys=None, partition=None, compression=None,
                timeout=120):
        """Produces values (str or bytes; a str is UTF-8) to topic with kcat, in order, with
        keys (a list as long as values, str or bytes) when given. partition: None (librdkafka's
        partitioner: by key hash, random for no key), an int (all there) or a list of ints
        (one per value). compression: None or a kcat -z codec (gzip, snappy, lz4, zstd).
        Returns the number of messages; AssertionError when kcat fails or the topic's end
        offsets did not grow by exactly that many (so produce into a topic nothing else writes
        to at the time). Values and keys may hold any bytes (newlines, tabs, NUL); kcat cannot
        send None, nor an empty value without a key (it skips empty lines): ValueError."""
        values = [_as_bytes(v, "value") for v in values]
        if keys is not None:
            keys = [_as_bytes(k, "key") for k in keys]
            if len(keys) != len(values):
                raise ValueError("produce: %d keys for %d values" % (len(keys), len(values)))
        elif any(v == b"" for v in values):
            raise ValueError("produce: kcat cannot send an empty value without a key")
        if isinstance(partition, (list, tuple)):
            if len(partition) != len(values):
                raise ValueError("produce: %d partitions for %d values" % (len(partition),
                                                                           len(values)))
            groups = collections.OrderedDict()
            for i, p in enumerate(partition):
                groups.setdefault(int(p), []).append(i)
        else:
            groups = {partition: range(len(values))}
        if not values:
            return 0
        before = sum(h for _, h in self.watermarks(topic).values())
        for p, idx in groups.items():
            self._kcat_produce(topic, [values[i] for i in idx],
                               None if keys is None else [keys[i] for i in idx], p, compression,
                               timeout)
        after = sum(h for _, h in self.watermarks(topic).values())
        if after - before != len(values):
            raise AssertionError("produce: %d messages sent to %s but its end offsets grew by %d"
                                 % (len(values), topic, after - before))
        return len(values)

    def _kcat_produce(self, topic, values, keys, partition, compression, timeout):
        mdelim = _delimiter(b"\n", values + (keys or []))
        args = [KCAT, "-P", "-q", "-b", self.bootstrap(), "-t", topic, "-D", mdelim]
        if keys is not None:
            kdelim = _delimiter(b"\t", keys, avoid=mdelim)
            args += ["-K", kdelim]
            data = b"".join(k + kdelim + v + mdelim for k, v in zip(keys, values))
        else:
            data = b"".join(v + mdelim for v in values)
        if data.count(mdelim) != len(values):  # a delimiter made of two values' bytes
            raise ValueError("produce: no message delimiter found for these values")
        if partition is not None:
            args += ["-p", str(int(partition))]
        if compression:
            args += ["-z", compression]
        p = subprocess.run(args, input=data, capture_output=True, timeout=timeout)
        if p.returncode != 0:
            raise AssertionError("kcat -P to %s failed (%d):\n%s" % (
                topic, p.returncode, p.stderr.decode(errors="replace")[-3000:]))

    def consume(self, topic, n=None, timeout=60, decode="utf-8", partitions=None):
        """The messages of topic as Records (partition, offset, key, value, headers), sorted by
        partition and offset: everything from the first kept offset of each partition up to its
        end offset as it is when called, read with confluent_kafka (by assignment: no consumer
        group, nothing committed). n: first wait (up to timeout) until the topic holds at least
        n messages, then read up to the end offsets of that moment (so more than n come back
        when more are there); AssertionError when fewer arrive in time. decode: key, value and
        header values as str in that encoding, None to keep bytes. Keys and values may be
        None; headers is a list of (name, value) pairs, [] when there are none. partitions: a
        list to read only those."""
        deadline = time.time() + timeout
        parts = list(range(self.partitions(topic))) if partitions is None else list(partitions)
        c = self._admin_consumer()
        out = []
        try:
            while True:
                marks = {p: c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=10,
                                                    cached=False) for p in parts}
                held = sum(hi - lo for lo, hi in marks.values())
                if n is None or held >= n:
                    break
                if time.time() > deadline:
                    raise AssertionError("consume %s: %d messages within %ds, wanted %d" %
                                         (topic, held, timeout, n))
                time.sleep(0.05)
            ends = {p: hi for p, (lo, hi) in marks.items()}
            pending = set(p for p, (lo, hi) in marks.items() if lo < hi)
            if pending:
                c.assign([ck.TopicPartition(topic, p, marks[p][0]) for p in sorted(pending)])
            while pending:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("consume %s: read %d of %d messages within %ds" % (
                        topic, len(out), sum(hi - lo for lo, hi in marks.values()), timeout))
                for m in c.consume(10000, timeout=min(left, 0.5)):
                    if m.error():
                        if m.error().code() == ck.KafkaError._PARTITION_EOF:
                            continue
                        raise AssertionError("consume %s: %s" % (topic, m.error()))
                    if m.partition() not in pending or m.offset() >= ends[m.partition()]:
                        continue
                    out.append(m)
                    if m.offset() + 1 >= ends[m.partition()]:
                        pending.discard(m.partition())
        finally:
            c.close()
        out.sort(key=lambda m: (m.partition(), m.offset()))

        records = []
        for m in out:
            key, value, headers = m.key(), m.value(), m.headers()
            if decode is not None:
                if key is not None:
                    key = key.decode(decode)
                if value is not None:
                    value = value.decode(decode)
                if headers:
                    headers = [(h, v if v is None else v.decode(decode)) for h, v in headers]
            records.append(Record(m.partition(), m.offset(), key, value, headers or []))
        return records

    def committed(self, group, topic, timeout=10):
        """{partition: offset} the group has committed for topic (the next offset to read),
        None for a partition without a commit."""
        n = self.partitions(topic, timeout)
        c = self._admin_consumer(group)
        try:
            tps = c.committed([ck.TopicPartition(topic, p) for p in range(n)], timeout=timeout)
        finally:
            c.close()
        return {tp.partition: (tp.offset if tp.offset >= 0 else None) for tp in tps}


def _as_bytes(v, what):
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode()
    raise ValueError("produce: a %s must be str or bytes for kcat, not %r" % (what, v))


def _delimiter(default, items, avoid=b""):
    """default when no item holds it, else a token of control bytes around letters that no item
    holds (its first and last bytes occur once in it, so no value's end can fake its start).
    Letters above f: kcat reads \\xNN escapes greedily, raw bytes are passed."""
    if not any(default in x for x in items) and default not in avoid:
        return default
    rnd = random.Random()
    for _ in range(100):
        token = (b"\x1e" + "".join(rnd.choice(string.ascii_letters[6:26]) for _ in range(10))
                 .encode() + b"\x1f")
        if token != avoid and not any(token in x for x in items):
            return token
    raise ValueError("produce: no delimiter found for these values")
