"""suite_gen.py - the deploy files of `pipec gen SPEC -o DIR` (compiler/gen_ddl.c, gen_docker.c,
gen_grafana.c), checked against the real parts they describe:
- DDL: NAME.postgres.sql applied to a throwaway PostgreSQL (tests/pgserver.py) and NAME.sqlite.sql
  to sqlite3 give exactly the tables (columns, types, keys, constraints; in SQLite the very text)
  that the runtime itself creates when the pipeline runs on an empty database, and the pipeline
  then runs on the pre-created tables with the same rows;
- Dockerfile: parsed (known instructions, two named stages, a non-root USER, HEALTHCHECK and
  EXPOSE iff a metrics endpoint); the runtime stage's packages are exactly the Debian packages
  owning the binary's DT_NEEDED libraries (readelf, dpkg -S), every library ldd lists is in their
  dependency closure (apt-cache depends), the build stage holds every header and library pipec's
  own build uses; the HEALTHCHECK command run by sh against a live endpoint;
- dashboard: Grafana's required fields, every PromQL expression through `promtool check rules`,
  every metric name one a live binary exports;
- reproducible output, stale files removed, goldens for taxi_speed_layer's Dockerfile and
  dashboard (tests/golden/gen_taxi_speed_layer.*, make golden-update to accept a change)."""
import difflib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import pgserver  # noqa: E402
from proc_util import env_without_pg as _env, run_summary as _summary  # noqa: E402

# A spec with every kind of table the runtime makes: a PostgreSQL upsert sink, one keyed on a
# nullable column and an expression (UNIQUE NULLS NOT DISTINCT, schema-qualified), a merge sink of
# a window (hidden avg columns), a dead-letter table, the checkpoint table; two SQLite sinks in
# one database, one keyed.
GEN_TABLES = """
pipeline: gen_tables
source:
  file: {path: "${INPUT}"}
  format:
    csv: {header: true}
schema:
  id: int64
  at: timestamp
  kind: {type: string, one_of: [a, b]}
  amount: float64
  qty: {type: int32, nullable: true}
  day: {type: date, nullable: true}
  ok: {type: bool, nullable: true}
rules:
  amount_not_negative: amount >= 0
windows:
  per_minute:
    tumbling: 1m
    time: at
    group_by: [kind]
    select:
      n: count()
      total: sum(amount)
      avg_amount: avg(amount)
sinks:
  rows_pg:
    postgres: {dsn: "${PG_DSN}", table: gen_rows, mode: upsert, key: [id], create: true}
  by_qty_pg:
    columns: {id: id, q: qty, label: "kind || '-x'"}
    postgres: {dsn: "${PG_DSN}", table: public.gen_by_qty, mode: upsert, key: [q, label], create: true}
  window_pg:
    from: per_minute
    postgres: {dsn: "${PG_DSN}", table: gen_minutes, mode: merge, key: [window_start, kind], create: true}
  rows_lite:
    sqlite: {path: "${OUT}/gen.db", table: gen_rows, mode: upsert, key: [id]}
  window_lite:
    from: per_minute
    sqlite: {path: "${OUT}/gen.db", table: gen_minutes}
dead_letter:
  postgres: {dsn: "${PG_DSN}", table: gen_errors, create: true}
"""

# Pipelines with different parts for the Dockerfile checks, every one of pipelines/ (among them
# SQLite only; PostgreSQL; Kafka and Parquet; Kafka, PostgreSQL and a TLS metrics endpoint) and a
# plain metrics endpoint.
DOCKER_SPECS = sorted("pipelines/" + f for f in os.listdir(os.path.join(ROOT, "pipelines")) if f.endswith(".yaml")) + \
    ["tests/e2e/metrics.yaml"]
DOCKER_INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
                       "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
SANITIZER_LIBS = ("libasan.", "libubsan.")


def _gen(ctx, spec, out, cwd=ROOT):
    ctx.run([ctx.pipec, "gen", spec, "-o", out], cwd=cwd)
    return out


def _spec_name(spec):
    with open(os.path.join(ROOT, spec)) as f:
        return re.search(r"^pipeline:\s*(\w+)", f.read(), re.M).group(1)


def _has_metrics(spec):
    with open(os.path.join(ROOT, spec)) as f:
        return re.search(r"^metrics:", f.read(), re.M) is not None


# ---- reproducible output, stale files ---------------------------------------------------------

def test_outputs_reproducible_and_stale_files_removed(ctx):
    for spec in DOCKER_SPECS:
        a, b = (_gen(ctx, spec, os.path.join(ctx.tmp, d, _spec_name(spec))) for d in ("a", "b"))
        files = sorted(os.listdir(a))
        assert files == sorted(os.listdir(b)), (files, os.listdir(b))
        for f in files:
            assert open(os.path.join(a, f), "rb").read() == open(os.path.join(b, f), "rb").read(), (spec, f)
        name = _spec_name(spec)
        assert "Dockerfile" in files and name + ".c" in files, files
        assert (name + ".dashboard.json" in files) == _has_metrics(spec), (spec, files)
    # quickstart has one SQLite sink and no PostgreSQL: no postgres.sql; no metrics: no dashboard
    assert sorted(os.listdir(os.path.join(ctx.tmp, "a", "quickstart"))) == \
        ["Dockerfile", "quickstart.c", "quickstart.sqlite.sql"]
    # the same spec without its metrics and its database sink: the old files go
    spec = os.path.join(ctx.tmp, "m.yaml")
    text = open(os.path.join(ROOT, "tests/e2e/metrics.yaml")).read()
    text = text.replace("sinks:\n", "sinks:\n  db:\n    sqlite: {path: \"${OUT}/m.db\", table: m}\n")
    open(spec, "w").write(text)
    out = _gen(ctx, spec, os.path.join(ctx.tmp, "m"))
    assert sorted(os.listdir(out)) == ["Dockerfile", "e2e_metrics.c", "e2e_metrics.dashboard.json",
                                       "e2e_metrics.sqlite.sql"], os.listdir(out)
    open(spec, "w").write(text.split("metrics:\n  listen")[0].replace("  db:\n    sqlite: {path: \"${OUT}/m.db\", table: m}\n", ""))
    _gen(ctx, spec, out)
    assert sorted(os.listdir(out)) == ["Dockerfile", "e2e_metrics.c"], os.listdir(out)


# ---- DDL ---------------------------------------------------------------------------------------

def _pg_catalog(srv, db):
    """Tables, columns, constraints and indexes of the public schema, in a comparable form."""
    cols = srv.psql("SELECT table_name, column_name, ordinal_position, data_type, is_nullable, "
                    "coalesce(column_default, '') FROM information_schema.columns "
                    "WHERE table_schema = 'public' ORDER BY 1, 3", db=db)
    cons = srv.psql("SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2", db=db)
    idx = srv.psql("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c "
                   "ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1", db=db)
    return cols, cons, idx


def _sqlite_catalog(path):
    con = sqlite3.connect(path)
    try:
        master = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
        info = {t: con.execute("SELECT * FROM pragma_table_info(?)", (t,)).fetchall()
                for (kind, t, _, _) in master if kind == "table"}
        return master, info
    finally:
        con.close()


def _sqlite_rows(path, table):
    con = sqlite3.connect(path)
    try:
        return sorted(con.execute('SELECT * FROM "%s"' % table).fetchall(), key=repr)
    finally:
        con.close()


def _gen_tables_input(path):
    with open(path, "w") as f:
        f.write("id,at,kind,amount,qty,day,ok\n")
        for i in range(500):
            f.write("%d,2024-05-01T10:%02d:%02dZ,%s,%s,%s,%s,%s\n" % (
                i, i // 60 % 60, i % 60, "ab"[i % 2], "-1.5" if i % 37 == 0 else "%d.25" % (i % 90),
                "" if i % 5 == 0 else i % 7, "" if i % 3 == 0 else "2024-05-%02d" % (1 + i % 28),
                "" if i % 4 == 0 else "true" if i % 2 else "false"))


def test_ddl_matches_the_tables_the_runtime_creates(ctx):
    """The DDL alone makes exactly the tables a run makes on an empty database (PostgreSQL:
    columns, types, constraints, indexes; SQLite: the stored CREATE text itself), and a run on
    the pre-created tables writes the same rows."""
    assert pgserver.available(), "PostgreSQL 15 is not installed (make deps installs it)"
    srv = pgserver.server()
    spec = os.path.join(ctx.tmp, "gen_tables.yaml")
    open(spec, "w").write(GEN_TABLES)
    binary = ctx.build_pipeline(spec)
    out = _gen(ctx, spec, os.path.join(ctx.tmp, "gen"))
    data = os.path.join(ctx.tmp, "in.csv")
    _gen_tables_input(data)
    db_rt, db_ddl = srv.new_db("gen_runtime"), srv.new_db("gen_ddl")
    lite_rt, lite_ddl = os.path.join(ctx.tmp, "rt"), os.path.join(ctx.tmp, "ddl")
    os.makedirs(lite_ddl)

    def run(db, lite):
        p = ctx.run([binary], env=_env(PG_DSN=srv.dsn(db), INPUT=data, OUT=lite), cwd=ctx.tmp)
        assert _summary(p.stderr) == {"in": 500, "out": 486, "dead": 14, "dropped": 0}, p.stderr

    run(db_rt, lite_rt)
    with open(os.path.join(out, "gen_tables.postgres.sql")) as f:
        srv.psql(f.read(), db=db_ddl)
    with open(os.path.join(out, "gen_tables.sqlite.sql")) as f:
        ctx.run(["sqlite3", os.path.join(lite_ddl, "gen.db")], input=f.read())
    want_pg, want_lite = _pg_catalog(srv, db_rt), _sqlite_catalog(os.path.join(lite_rt, "gen.db"))
    tables = sorted({r[0] for r in want_pg[0]})
    assert tables == ["gen_by_qty", "gen_errors", "gen_minutes", "gen_rows", "pipec_checkpoint"], tables
    assert any("UNIQUE NULLS NOT DISTINCT (q, label)" in c[3] for c in want_pg[1]), want_pg[1]
    assert [t for (k, t, _, _) in want_lite[0] if k == "table"] == ["gen_minutes", "gen_rows", "pipec_checkpoint"]
    assert _pg_catalog(srv, db_ddl) == want_pg
    assert _sqlite_catalog(os.path.join(lite_ddl, "gen.db")) == want_lite
    # the pipeline on the pre-created tables: same catalog, same rows
    run(db_ddl, lite_ddl)
    assert _pg_catalog(srv, db_ddl) == want_pg
    assert _sqlite_catalog(os.path.join(lite_ddl, "gen.db")) == want_lite
    for t in ("gen_rows", "gen_by_qty", "gen_minutes"):
        q = "SELECT * FROM %s ORDER BY 1, 2, 3" % t
        assert srv.psql(q, db=db_ddl) == srv.psql(q, db=db_rt), t
    q = "SELECT pipeline, position, raw, reason, detail FROM gen_errors ORDER BY position"
    assert srv.psql(q, db=db_ddl) == srv.psql(q, db=db_rt)
    for t in ("gen_rows", "gen_minutes"):
        assert _sqlite_rows(os.path.join(lite_ddl, "gen.db"), t) == _sqlite_rows(os.path.join(lite_rt, "gen.db"), t), t


def test_ddl_of_the_example_pipelines_applies(ctx):
    """Every pipeline's DDL applies to PostgreSQL and SQLite (twice: IF NOT EXISTS); the shared
    kafka group of taxi_speed_layer gets pipec_kafka_offsets."""
    srv = pgserver.server()
    seen = set()
    for spec in sorted(os.listdir(os.path.join(ROOT, "pipelines"))):
        if not spec.endswith(".yaml"):
            continue
        name = _spec_name("pipelines/" + spec)
        out = _gen(ctx, "pipelines/" + spec, os.path.join(ctx.tmp, name))
        for f in sorted(os.listdir(out)):
            if f.endswith(".postgres.sql"):
                db = srv.new_db("gen_" + name)
                sql = open(os.path.join(out, f)).read()
                srv.psql(sql, db=db)
                srv.psql(sql, db=db)
                seen.add(name)
                tables = {r[0] for r in srv.psql("SELECT table_name FROM information_schema.tables "
                                                  "WHERE table_schema = 'public'", db=db)}
                assert "pipec_checkpoint" in tables, (name, tables)
                assert ("pipec_kafka_offsets" in tables) == (name == "taxi_speed_layer"), (name, tables)
            elif f.endswith(".sqlite.sql"):
                sql = open(os.path.join(out, f)).read()
                for _ in range(2):
                    ctx.run(["sqlite3", os.path.join(ctx.tmp, name + ".db")], input=sql)
                seen.add(name)
    assert {"quickstart", "user_activity_pg", "taxi_speed_layer", "bitcoin_daily_avg"} <= seen, seen


# ---- Dockerfile --------------------------------------------------------------------------------

def _dockerfile(text):
    """[(INSTRUCTION, arguments)] of a Dockerfile: comments dropped (also inside continued
    lines, as Docker does), continuation lines joined."""
    out, cur = [], None
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("#") or (cur is None and not s):
            continue
        cur = (cur + " " if cur is not None else "") + (s[:-1].rstrip() if s.endswith("\\") else s)
        if not s.endswith("\\"):
            kw, _, args = cur.partition(" ")
            out.append((kw.upper(), args.strip()))
            cur = None
    assert cur is None, "a continued line at the end"
    return out


def _stages(instrs):
    """{stage name: [(INSTRUCTION, args)]} in order, and the FROM images."""
    stages, images, cur = {}, {}, None
    for kw, args in instrs:
        assert kw in DOCKER_INSTRUCTIONS, "unknown instruction %s" % kw
        if kw == "FROM":
            m = re.match(r"^(\S+) AS (\w+)$", args)
            assert m, "an unnamed stage: FROM %s" % args
            cur = m.group(2)
            assert cur not in stages, "stage %s twice" % cur
            stages[cur], images[cur] = [], m.group(1)
        else:
            assert cur is not None, "%s before FROM" % kw
            stages[cur].append((kw, args))
    return stages, images


def _apt_packages(stage):
    pkgs = []
    for kw, args in stage:
        if kw == "RUN" and "apt-get install" in args:
            part = args.split("--no-install-recommends", 1)[1].split("&&", 1)[0]
            pkgs += part.split()
    return pkgs


_OWNERS = {}


def _dpkg_owners(paths):
    """{path: the package owning it}, trying each path, its real path and the /lib <-> /usr/lib
    twin (Debian 12 merged /usr); one dpkg -S for the lot, cached."""
    cands = {}
    for path in paths:
        if path in _OWNERS:
            continue
        c = [os.path.normpath(path), os.path.realpath(path)]
        for x in list(c):
            c.append("/usr" + x if x.startswith("/lib/") else x[4:] if x.startswith("/usr/lib/") else x)
        cands[path] = c
    found = {}
    todo = sorted({x for c in cands.values() for x in c})
    if todo:
        p = subprocess.run(["dpkg", "-S"] + todo, capture_output=True, text=True)
        for line in p.stdout.splitlines():
            pkgs, _, f = line.partition(": ")
            found.setdefault(f.strip(), pkgs.split(",")[0].split(":")[0].strip())
    for path, c in cands.items():
        owner = next((found[x] for x in c if x in found), None)
        assert owner, "no package owns %s" % path
        _OWNERS[path] = owner
    return {p: _OWNERS[p] for p in paths}


def _dpkg_owner(path):
    return _dpkg_owners([path])[path]


def _closure(pkgs):
    p = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                        "--no-breaks", "--no-replaces", "--no-enhances"] + sorted(pkgs),
                       capture_output=True, text=True, check=True)
    return {line.strip().split(":")[0] for line in p.stdout.splitlines() if line and not line.startswith(" ")}


def _libraries(binary):
    """(DT_NEEDED sonames, {soname: path} of everything ldd resolves)."""
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = {}
    for line in ldd.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m:
            paths[m.group(1)] = m.group(2)
        else:
            m = re.match(r"\s*(/\S+) \(", line)   # the dynamic loader
            if m:
                paths[os.path.basename(m.group(1))] = m.group(1)
    return needed, paths


def _check_dockerfile(ctx, spec, text, binary):
    name = _spec_name(spec)
    metrics = _has_metrics(spec)
    stages, images = _stages(_dockerfile(text))
    assert list(stages) == ["build", "runtime"], list(stages)
    assert images == {"build": "debian:12", "runtime": "debian:12-slim"}, images
    assert text.startswith("# syntax=docker/dockerfile:1\n"), text[:80]
    assert "--build-context pipec=" in text   # the named context COPY --from=pipec reads
    for stage, instrs in stages.items():
        for kw, args in instrs:
            m = re.match(r"--from=(\S+)", args)
            if kw == "COPY" and m:
                assert (stage, m.group(1)) in {("build", "pipec"), ("runtime", "build")}, (stage, args)
    rt = stages["runtime"]
    kws = [kw for kw, _ in rt]
    users = [args for kw, args in rt if kw == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root"), users
    assert any(kw == "RUN" and "useradd" in a and "--uid %s" % users[-1].split(":")[0] in a for kw, a in rt)
    assert ("HEALTHCHECK" in kws) == metrics and ("EXPOSE" in kws) == metrics, (spec, kws)
    assert ("COPY", "--from=build /out/%s /usr/local/bin/%s" % (name, name)) in rt
    assert json.loads(dict(rt)["ENTRYPOINT"]) == ["/usr/local/bin/" + name]
    assert "bin/pipec build" in [a for kw, a in stages["build"] if kw == "RUN"][-1]
    spec_copy = [json.loads(a) for kw, a in stages["build"] if kw == "COPY" and a.startswith("[")]
    assert spec_copy == [[os.path.basename(spec), "/src/spec/" + os.path.basename(spec)]], spec_copy
    pkgs = _apt_packages(rt)
    if metrics:
        assert pkgs.count("curl") == 1, pkgs   # the HEALTHCHECK's probe
        pkgs.remove("curl")
    assert len(pkgs) == len(set(pkgs)), pkgs
    # exactly the packages of the binary's own libraries (the sanitizer runtimes aside)
    needed, paths = _libraries(binary)
    own = [s for s in needed if not s.startswith(SANITIZER_LIBS)]
    owners = _dpkg_owners(list(paths.values()))
    want = {owners[paths[s]] for s in own}
    assert set(pkgs) == want, (spec, sorted(pkgs), sorted(want))
    # and every library loaded, directly or not, comes with them
    closure = _closure(set(pkgs) | ({"libasan8", "libubsan1"} if ctx.san else set()))
    missing = {s: owners[p] for s, p in paths.items() if owners[p] not in closure}
    assert not missing, (spec, missing)
    return stages


def _build_stage_covers_pipec_build(ctx, pkgs):
    """Every header pipec's sources include and every library its Makefile links belongs to a
    package the build stage installs (or to one they pull in)."""
    closure = _closure(set(pkgs))
    srcs = [os.path.join(d, f) for d in ("compiler", "runtime") for f in sorted(os.listdir(os.path.join(ROOT, d)))
            if f.endswith(".c")]
    dep = ctx.run(["cc", "-M", "-D_GNU_SOURCE", "-I/usr/include/postgresql", "-Iruntime", "-iquote", "compiler"] + srcs).stdout
    headers = {h for h in dep.replace("\\\n", " ").split() if h.startswith("/usr/")}
    owners = _dpkg_owners(sorted(headers))
    make = open(os.path.join(ROOT, "Makefile")).read()
    libs = re.search(r"^LIBS := (.*)$", make, re.M).group(1).split()
    for lib in libs:
        path = ctx.run(["cc", "-print-file-name=lib%s.so" % lib[2:]]).stdout.strip()
        assert path.startswith("/"), (lib, path)
        owners[lib] = _dpkg_owner(path)
    bad = {k: v for k, v in owners.items() if v not in closure}
    assert not bad, bad


def test_dockerfile_stages_user_healthcheck_and_packages(ctx):
    build_pkgs = None
    for spec in DOCKER_SPECS:
        out = _gen(ctx, spec, os.path.join(ctx.tmp, "gen", _spec_name(spec)))
        binary = ctx.build_pipeline(os.path.join(ROOT, spec))
        stages = _check_dockerfile(ctx, spec, open(os.path.join(out, "Dockerfile")).read(), binary)
        pkgs = _apt_packages(stages["build"])
        assert build_pkgs in (None, pkgs), (build_pkgs, pkgs)   # pipec's build needs the same everywhere
        build_pkgs = pkgs
    _build_stage_covers_pipec_build(ctx, build_pkgs)


def test_dockerfile_environment_and_metrics_listen(ctx):
    """The spec's variables are documented; defaults become ENV, secrets and required ones never
    do; a loopback listen behind a variable listens on every interface of the container."""
    text = open(os.path.join(_gen(ctx, "pipelines/taxi_speed_layer.yaml", os.path.join(ctx.tmp, "t")),
                             "Dockerfile")).read()
    for var in ("KAFKA_BROKERS", "TOPIC", "GROUP", "PG_DSN", "DLQ_TOPIC", "METRICS_LISTEN", "TLS_CERT", "TLS_KEY",
                "METRICS_PASSWORD"):
        assert re.search(r"^#   %s: " % var, text, re.M), var
    env = dict(re.findall(r'(\w+)="([^"]*)"', " ".join(a for kw, a in _dockerfile(text) if kw == "ENV")))
    assert env == {"TOPIC": "taxi_events", "GROUP": "taxi-speed", "DLQ_TOPIC": "taxi_events_dlq",
                   "METRICS_LISTEN": "0.0.0.0:9108"}, env
    assert "--insecure \"https://" in text   # TLS: the probe does not check the service's certificate
    text = open(os.path.join(_gen(ctx, "tests/e2e/metrics.yaml", os.path.join(ctx.tmp, "m")), "Dockerfile")).read()
    instrs = _dockerfile(text)
    env = dict(re.findall(r'(\w+)="([^"]*)"', " ".join(a for kw, a in instrs if kw == "ENV")))
    assert env == {"METRICS_LISTEN": "0.0.0.0:9464"}, env   # was ${METRICS_LISTEN:-127.0.0.1:9464}
    assert ("EXPOSE", "9464") in instrs
    assert "PG_DSN" not in env and "secret" not in text


def _healthcheck_cmd(text):
    hc = [a for kw, a in _dockerfile(text) if kw == "HEALTHCHECK"]
    assert len(hc) == 1, hc
    m = re.match(r"^(--\S+ )+CMD (.*)$", hc[0])
    assert m, hc[0]
    return m.group(2)


def _probe(cmd, listen):
    return subprocess.run(["sh", "-c", cmd], env=dict(os.environ, METRICS_LISTEN=listen), capture_output=True,
                          text=True, timeout=20)


def test_healthcheck_probes_a_live_endpoint(ctx):
    """The HEALTHCHECK's shell command, run by sh with the image's ENV, is 0 against a running
    binary (plain HTTP on any address or loopback; HTTPS with basic auth, whose /health needs no
    credentials) and 1 once it stopped."""
    sys.path.insert(0, HERE)
    from suite_metrics import _cert, _secure_spec, _start
    cert, key = _cert(ctx)
    plain = os.path.join(ROOT, "tests/e2e/metrics.yaml")
    for spec, extra, listens in ((plain, {}, ("0.0.0.0", "127.0.0.1")),
                                 (_secure_spec(ctx, 'password: "${METRICS_PASSWORD}"'),
                                  {"TLS_CERT": cert, "TLS_KEY": key, "METRICS_PASSWORD": "pw-%d" % os.getpid()},
                                  ("127.0.0.1",))):
        out = _gen(ctx, spec, os.path.join(ctx.tmp, "g", os.path.basename(spec)))
        text = open(os.path.join(out, "Dockerfile")).read()
        cmd = _healthcheck_cmd(text)
        assert ("--insecure" in cmd) == bool(extra) and ("https://" in cmd) == bool(extra), cmd
        binary = ctx.build_pipeline(spec)
        dirs = [os.path.join(ctx.tmp, "run_" + os.path.basename(spec), d) for d in ("in", "out", "state")]
        for d in dirs:
            os.makedirs(d)
        env = dict(os.environ, INBOX=dirs[0], OUT=dirs[1], STATE_DIR=dirs[2], METRICS_LISTEN=listens[0] + ":0", **extra)
        p, base = _start(binary, env)
        try:
            port = base.rsplit(":", 1)[1]
            for host in listens:
                r = _probe(cmd, host + ":" + port)
                assert r.returncode == 0, (spec, host, r.stderr)
        finally:
            p.terminate()
            p.wait(timeout=30)
        r = _probe(cmd, "127.0.0.1:" + port)
        assert r.returncode == 1, (spec, r.returncode, r.stderr)


# ---- Grafana dashboard -------------------------------------------------------------------------

def _live_metric_names(ctx):
    """The metric families two live binaries export: tests/e2e/metrics.yaml (a folder, a rule, a
    filter) and tests/e2e/metrics_windows.yaml (a window, a late record), each fed a file."""
    sys.path.insert(0, HERE)
    from suite_metrics import _start
    names = set()
    for spec, header, rows, done in (
            ("metrics.yaml", "id,amount,country", ["1,2.5,DE", "2,-1,DE", "3,1,XX"], 3),
            ("metrics_windows.yaml", "id,ts,country", ["1,2024-05-01T10:00:00Z,DE", "2,2024-05-01T10:05:00Z,DE",
                                                       "3,2024-05-01T10:00:01Z,DE"], 3)):
        binary = ctx.build_pipeline(os.path.join(ROOT, "tests/e2e", spec))
        dirs = [os.path.join(ctx.tmp, "live_" + spec, d) for d in ("in", "out", "state")]
        for d in dirs:
            os.makedirs(d)
        env = dict(os.environ, INBOX=dirs[0], OUT=dirs[1], STATE_DIR=dirs[2], METRICS_LISTEN="127.0.0.1:0")
        p, base = _start(binary, env)
        try:
            with open(os.path.join(dirs[0], "a.csv.tmp"), "w") as f:   # so every labelled family has a sample
                f.write("\n".join([header] + rows) + "\n")
            os.rename(os.path.join(dirs[0], "a.csv.tmp"), os.path.join(dirs[0], "a.csv"))
            deadline = time.time() + 20
            while True:
                body = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
                if re.search(r'^pipec_records_in_total\{[^}]*\} %d$' % done, body, re.M) or time.time() > deadline:
                    break
                time.sleep(0.1)
        finally:
            p.terminate()
            p.wait(timeout=30)
        names |= set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    return names


def _exprs(dash):
    return [(p["title"], t["expr"]) for p in dash["panels"] for t in p["targets"]]


def test_dashboard_model_promql_and_metric_names(ctx):
    live = _live_metric_names(ctx)
    assert {"pipec_records_in_total", "pipec_sink_rows_total", "pipec_dead_letters_total"} <= live, live
    for spec, windows in (("pipelines/taxi_speed_layer.yaml", True), ("tests/e2e/metrics.yaml", False)):
        name = _spec_name(spec)
        out = _gen(ctx, spec, os.path.join(ctx.tmp, name))
        dash = json.load(open(os.path.join(out, name + ".dashboard.json")))
        # what import needs: the datasource input, a title, a stable uid, a schema version, panels
        assert dash["__inputs"] == [{"name": "DS_PROMETHEUS", "label": "Prometheus", "description": dash["__inputs"][0]["description"],
                                     "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}]
        assert dash["uid"] == "pipec-" + name and len(dash["uid"]) <= 40
        assert dash["title"] == "pipec: " + name and isinstance(dash["schemaVersion"], int) and dash["schemaVersion"] >= 36
        assert "id" not in dash and dash["time"]["from"].startswith("now-")
        ids = [p["id"] for p in dash["panels"]]
        assert len(ids) == len(set(ids)), ids
        cells = set()
        for p in dash["panels"]:
            assert p["type"] in ("timeseries", "stat") and p["title"], p
            assert p["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, p["datasource"]
            g = p["gridPos"]
            assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0, g
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, "panels overlap at %r" % ((x, y),)
                    cells.add((x, y))
            refs = [t["refId"] for t in p["targets"]]
            assert p["targets"] and len(refs) == len(set(refs)), p["targets"]
            for t in p["targets"]:
                assert t["datasource"] == p["datasource"] and 'pipeline="%s"' % name in t["expr"], t
        var = dash["templating"]["list"][0]
        assert var["name"] == "instance" and var["datasource"]["uid"] == "${DS_PROMETHEUS}", var
        titles = {p["title"] for p in dash["panels"]}
        assert {"Throughput", "Rows per sink", "Dead letters by reason", "Records dropped", "Checkpoint age",
                "Source lag", "Batch latency", "Sink flush latency"} <= titles, titles
        assert ("Open windows" in titles) == windows and ("Late records" in titles) == windows, titles
        # every expression parses: Grafana's variables replaced as Grafana does before it queries
        rules = ["groups:", "  - name: dashboard", "    rules:"]
        for i, (_, expr) in enumerate(_exprs(dash) + [("var", "pipec_up")]):
            e = expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
            rules += ["      - record: pipec_dashboard:expr%d" % i, "        expr: %s" % json.dumps(e)]
        path = os.path.join(ctx.tmp, name + ".rules.yml")
        open(path, "w").write("\n".join(rules) + "\n")
        r = ctx.run(["promtool", "check", "rules", path])
        assert "SUCCESS: %d rules found" % (len(_exprs(dash)) + 1) in r.stdout, r.stdout
        # every metric is one a binary exports
        used = set()
        for _, expr in _exprs(dash):
            for m in re.findall(r"\b(pipec_[a-z_]+)\b", expr):
                used.add(re.sub(r"_bucket$", "", m) if m.endswith("_bucket") else m)
        unknown = used - live
        assert not unknown, unknown
        shown = {"pipec_up", "pipec_records_in_total", "pipec_records_out_total", "pipec_records_dead_total",
                 "pipec_records_dropped_total", "pipec_sink_rows_total", "pipec_dead_letters_total",
                 "pipec_checkpoint_age_seconds", "pipec_process_resident_memory_bytes"}
        assert shown <= used, shown - used


def test_goldens_of_taxi_speed_layer(ctx):
    """The Dockerfile and dashboard of one pipeline pinned (make golden-update accepts a change)."""
    out = _gen(ctx, "pipelines/taxi_speed_layer.yaml", os.path.join(ctx.tmp, "t"))
    for src, golden in (("Dockerfile", "gen_taxi_speed_layer.Dockerfile"),
                        ("taxi_speed_layer.dashboard.json", "gen_taxi_speed_layer.dashboard.json")):
        got = open(os.path.join(out, src)).read()
        path = os.path.join(ROOT, "tests", "golden", golden)
        if ctx.update_golden or not os.path.exists(path):
            open(path, "w").write(got)
            continue
        want = open(path).read()
        if got != want:
            diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "expected", "got"))
            raise AssertionError("%s differs (make golden-update to accept):\n%s" % (golden, diff[:6000]))
