"""suite_kafkaharness.py - a self-check of tests/kafkaserver.py, the throwaway Kafka broker
(librdkafka's mock cluster, tests/kafka/mockbroker.c) the Kafka tests share: it starts and
writes its bootstrap file, creates topics of 8 partitions on demand, holds 100000 messages sent
by kcat and gives them all back to confluent_kafka, keeps a consumer group's committed offsets
for the next consumer of the group, splits 8 partitions between two consumers of one group, and
stops by its PID leaving nothing behind (also when the run that started it is killed). Run alone
with `tests/run.py -k kafkaharness`."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkaserver  # noqa: E402
from proc_util import alive  # noqa: E402

ck = kafkaserver.ck


def _server():
    """The shared broker; a clear failure when the tools are missing."""
    assert kafkaserver.available(), "cc, librdkafka-dev, kcat or confluent_kafka missing (make deps)"
    return kafkaserver.server()


def _value(i):
    """Message i of the bulk test: 100 bytes, its number first."""
    return ("%07d,2024-01-01T00:00:%02d,user%d,view," % (i, i % 60, i % 977)).ljust(100, "x")


def _wait_assignment(consumers, want, timeout=30):
    """Polls the consumers (a dict name -> Consumer, each subscribed) until their assignments
    are non-empty and together cover `want` partitions; returns {name: sorted partitions}.
    Messages polled meanwhile are dropped, so call it before producing anything to read."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for c in consumers.values():
            m = c.poll(0.05)
            assert m is None or m.error(), "a message before the test produced any: %r" % m
        got = {name: sorted(tp.partition for tp in c.assignment())
               for name, c in consumers.items()}
        if all(got.values()) and sum(len(v) for v in got.values()) == want:
            return got
    raise AssertionError("no assignment of %d partitions within %ds: %r" % (want, timeout, got))


def test_kafka_broker_starts(ctx):
    k = _server()
    assert k.running and k.pid == k._proc.pid
    assert k.top.startswith(os.path.join("/tmp", kafkaserver.PREFIX)), k.top
    with open(k.bootstrap_file) as f:
        text = f.read()
    assert text.endswith("\n") and text.count("\n") == 1, repr(text)
    assert text.strip() == k.bootstrap()
    servers = k.bootstrap().split(",")
    assert len(servers) == kafkaserver.BROKERS, servers
    for s in servers:
        host, port = s.rsplit(":", 1)
        assert host == "127.0.0.1" and 0 < int(port) < 65536, s
        socket.create_connection((host, int(port)), timeout=5).close()
    # No temp file of the atomic write is left beside it.
    assert sorted(os.listdir(k.top)) == ["bootstrap", "broker.log", "broker.pid", "owner"], \
        os.listdir(k.top)
    # The retention patch took (librdkafka 2.0.2 of Debian 12): 1M 100-byte messages fit.
    assert k.retention_bytes == kafkaserver.RETENTION_BYTES, k.retention_note


def test_kafka_topic_of_8_partitions(ctx):
    k = _server()
    topic = k.new_topic("harness", 8)
    assert topic.startswith("harness_")
    # Metadata as kcat sees it: one topic of 8 partitions, each led by a broker of the cluster.
    p = ctx.run([kafkaserver.KCAT, "-L", "-J", "-b", k.bootstrap(), "-t", topic])
    md = json.loads(p.stdout)
    (t,) = md["topics"]
    assert t["topic"] == topic and "error" not in t, t
    assert sorted(part["partition"] for part in t["partitions"]) == list(range(8)), t
    broker_ids = {b["id"] for b in md["brokers"]}
    assert all(part["leader"] in broker_ids for part in t["partitions"]), t
    # ... and as confluent_kafka sees it; a second new_topic is another, empty topic.
    other = k.new_topic("harness", 3)
    assert other != topic
    topics = k.topics()
    assert topics[topic] == 8 and topics[other] == 3, topics
    assert k.watermarks(other) == {0: (0, 0), 1: (0, 0), 2: (0, 0)}
    assert k.consume(other) == []
    try:
        k.create_topic(topic, 8)
    except AssertionError as e:
        assert "already exists" in str(e), e
    else:
        raise AssertionError("creating an existing topic did not fail")


def test_kafka_100k_messages_kcat_to_confluent(ctx):
    k = _server()
    topic = k.new_topic("bulk", 8)
    n = 100000
    values = [_value(i) for i in range(n)]
    keys = ["user%d" % (i % 977) for i in range(n)]
    t0 = time.time()
    assert k.produce(topic, values, keys=keys) == n
    t1 = time.time()
    marks = k.watermarks(topic)
    assert all(lo == 0 for lo, hi in marks.values()), marks
    assert sum(hi for lo, hi in marks.values()) == n, marks
    assert all(hi > 0 for lo, hi in marks.values()), "a partition got nothing: %r" % marks
    records = k.consume(topic)
    t2 = time.time()
    assert len(records) == n, len(records)
    # Every message once, with its key; within a partition in the order sent, offsets dense.
    assert sorted(r.value for r in records) == values
    by_part = {}
    for r in records:
        i = int(r.value[:7])
        assert r.key == keys[i] and r.headers == [], r
        by_part.setdefault(r.partition, []).append((r.offset, i))
    for p, got in by_part.items():
        assert [o for o, _ in got] == list(range(len(got))), p
        assert [i for _, i in got] == sorted(i for _, i in got), p
    # The same key always lands in the same partition.
    part_of = {}
    for r in records:
        assert part_of.setdefault(r.key, r.partition) == r.partition, r.key
    print("    kcat produce %.0f msg/s, confluent_kafka consume %.0f msg/s" %
          (n / (t1 - t0), n / (t2 - t1)))


def test_kafka_group_commit_and_resume(ctx):
    k = _server()
    topic = k.new_topic("commit", 8)
    group = "harness-commit"
    n = 800
    k.produce(topic, ["m%d" % i for i in range(n)], keys=["k%d" % i for i in range(n)])
    everything = {(r.partition, r.offset): r.value for r in k.consume(topic)}
    assert len(everything) == n

    conf = k.consumer_config(group, **{"enable.auto.commit": False})
    assert conf["session.timeout.ms"] == 6000 and conf["fetch.wait.max.ms"] == 20, conf
    c1 = ck.Consumer(conf)
    c1.subscribe([topic])
    seen1 = {}
    deadline = time.time() + 30
    while len(seen1) < n // 2 and time.time() < deadline:
        m = c1.poll(0.2)
        if m is not None and not m.error():
            seen1[(m.partition(), m.offset())] = m.value().decode()
    assert len(seen1) >= n // 2, "consumer 1 read %d messages in 30s" % len(seen1)
    # Commit exactly what was read: the next offset of each partition touched.
    commit = {}
    for p, o in seen1:
        commit[p] = max(commit.get(p, 0), o + 1)
    c1.commit(offsets=[ck.TopicPartition(topic, p, o) for p, o in commit.items()],
              asynchronous=False)
    c1.close()
    assert k.committed(group, topic) == {p: commit.get(p) for p in range(8)}
    # What consumer 1 read is a prefix of each partition.
    assert all(o < commit[p] for p, o in seen1) and \
        len(seen1) == sum(commit.values()), (len(seen1), commit)

    # Consumer 2 of the group resumes there: exactly the rest, nothing twice.
    c2 = ck.Consumer(conf)
    c2.subscribe([topic])
    seen2 = {}
    deadline = time.time() + 30
    while len(seen1) + len(seen2) < n and time.time() < deadline:
        m = c2.poll(0.2)
        if m is not None and not m.error():
            key = (m.partition(), m.offset())
            assert key not in seen1 and key not in seen2, "read twice: %r" % (key,)
            seen2[key] = m.value().decode()
    c2.close()
    assert {**seen1, **seen2} == everything, (len(seen1), len(seen2))


def test_kafka_two_consumers_split_partitions(ctx):
    k = _server()
    topic = k.new_topic("split", 8)
    conf = k.consumer_config("harness-split", **{"session.timeout.ms": 6000})
    consumers = {"a": ck.Consumer(conf), "b": ck.Consumer(conf)}
    try:
        for c in consumers.values():
            c.subscribe([topic])
        got = _wait_assignment(consumers, 8)
        assert sorted(got["a"] + got["b"]) == list(range(8)), got
        assert len(got["a"]) == 4 and len(got["b"]) == 4, got  # range assignor, 8 / 2
        # Each reads the messages of its own partitions, and only those.
        n = 400
        k.produce(topic, ["s%d" % i for i in range(n)], keys=["k%d" % i for i in range(n)])
        read = {"a": [], "b": []}
        deadline = time.time() + 30
        while sum(map(len, read.values())) < n and time.time() < deadline:
            for name, c in consumers.items():
                m = c.poll(0.05)
                if m is not None and not m.error():
                    read[name].append(m.partition())
        assert sum(map(len, read.values())) == n, {a: len(b) for a, b in read.items()}
        for name in read:
            assert read[name] and set(read[name]) <= set(got[name]), (name, got, set(read[name]))
    finally:
        for c in consumers.values():
            c.close()


def test_kafka_broker_stops_leaving_nothing(ctx):
    # A broker of its own, not the shared one.
    _server()
    k = kafkaserver.KafkaServer()
    try:
        k.start()
        pid, top, servers = k.pid, k.top, k.bootstrap().split(",")
        topic = k.new_topic("stop", 8)
        k.produce(topic, ["x"])
        k.stop()
        assert not k.running and k.pid is None
        assert not os.path.exists("/proc/%d" % pid), "the broker's process is still there"
        for s in servers:
            host, port = s.rsplit(":", 1)
            try:
                socket.create_connection((host, int(port)), timeout=2).close()
            except OSError:
                pass
            else:
                raise AssertionError("%s still accepts connections after stop" % s)
        # A new start is a new, empty cluster.
        k.start()
        assert k.pid != pid and topic not in k.topics()
        k.stop()
    finally:
        k.cleanup()
    assert not os.path.exists(top)


def test_kafka_broker_of_a_killed_run(ctx):
    # A run that is SIGKILLed (no atexit): its broker ends by itself when its stdin closes,
    # and the next run's reaper removes the directory.
    _server()
    script = ("import sys; sys.path.insert(0, %r); import kafkaserver, time; "
              "k = kafkaserver.server(); print(k.top, k.pid, flush=True); time.sleep(120)"
              % os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    try:
        top, pid = p.stdout.readline().split()
        pid = int(pid)
        assert os.path.isdir(top) and alive(pid)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdout.close()
    deadline = time.time() + 10
    while alive(pid) and time.time() < deadline:
        time.sleep(0.02)
    assert not alive(pid), "the broker outlived its killed run"
    assert os.path.isdir(top)
    kafkaserver._reap_stale()
    assert not os.path.exists(top), "the reaper left %s" % top
    # The shared broker of this run is untouched.
    assert kafkaserver.server().running
