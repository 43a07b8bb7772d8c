"""suite_schema.py - `pipec schema`, the JSON Schema of the spec format, checked with a validator we
did not write (python3-jsonschema, Draft 2020-12): the schema is itself valid, it accepts every
spec `pipec check` accepts, it rejects typical mistakes (each of which `pipec check` rejects too:
the schema is never stricter than the checker), and docs/pipec.schema.json is current."""
import copy
import glob
import json
import os

import jsonschema
import yaml

SPEC_GLOBS = ["pipelines/*.yaml", "tests/e2e/*.yaml", "tests/kafka/*.yaml", "tests/specs/*.yaml",
              "bench/*.yaml", "../shared/design/examples/*.yaml"]


def _schema(ctx):
    return json.loads(ctx.run([ctx.pipec, "schema"]).stdout)


def _validator(ctx):
    schema = _schema(ctx)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _as_json(text):
    """A YAML document as an editor's YAML-to-JSON view sees it: dates and times stay strings."""
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def _check_ok(ctx, path):
    return ctx.run([ctx.pipec, "check", path], check=False).returncode == 0


def _spec_paths(ctx):
    paths = []
    for pattern in SPEC_GLOBS:
        paths += sorted(glob.glob(os.path.join(ctx.root, pattern)))
    return paths


def test_schema_is_valid_draft_2020_12(ctx):
    schema = _schema(ctx)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"] and schema["description"]
    assert schema["required"] == ["pipeline", "source", "schema", "sinks"]
    # descriptions come from the option tables
    start = schema["properties"]["source"]["properties"]["kafka"]["properties"]["start"]
    assert start["enum"] == ["earliest", "latest"] and "where a new group starts" in start["description"]


def test_schema_output_is_deterministic(ctx):
    a = ctx.run([ctx.pipec, "schema"]).stdout
    out = os.path.join(ctx.tmp, "s.json")
    ctx.run([ctx.pipec, "schema", "-o", out])
    assert open(out).read() == a == ctx.run([ctx.pipec, "schema"]).stdout


def test_schema_usage_errors(ctx):
    for args in (["schema", "extra"], ["schema", "-o"], ["schema", "-o", "a", "-o", "b"]):
        p = ctx.run([ctx.pipec] + args, check=False)
        assert p.returncode == 2 and "usage:" in p.stderr, (args, p.returncode, p.stderr)
    p = ctx.run([ctx.pipec, "schema", "-o", os.path.join(ctx.tmp, "no", "such", "dir", "s.json")], check=False)
    assert p.returncode == 1 and "cannot write" in p.stderr, p.stderr


def test_schema_file_in_docs_is_current(ctx):
    """docs/pipec.schema.json, for editors, is what `pipec schema` prints (make docs refreshes it)."""
    got = ctx.run([ctx.pipec, "schema"]).stdout
    assert open(os.path.join(ctx.root, "docs", "pipec.schema.json")).read() == got, \
        "docs/pipec.schema.json is stale: run make docs"


def test_spec_md_documents_schema_command(ctx):
    doc = open(os.path.join(ctx.root, "docs", "spec.md")).read()
    assert "`pipec schema" in doc and "yaml-language-server: $schema=" in doc and "yaml.schemas" in doc
    assert "schema [-o FILE]" in ctx.run([ctx.pipec, "--help"]).stdout


def test_every_checked_spec_validates(ctx):
    """Every spec `pipec check` accepts is valid under the schema (the schema is never stricter)."""
    v = _validator(ctx)
    accepted = 0
    for path in _spec_paths(ctx):
        if not _check_ok(ctx, path):
            continue
        accepted += 1
        errors = sorted(v.iter_errors(_as_json(open(path).read())), key=str)
        assert not errors, "%s: %s" % (os.path.relpath(path, ctx.root), errors[0].message)
    pipelines = glob.glob(os.path.join(ctx.root, "pipelines", "*.yaml"))
    e2e = glob.glob(os.path.join(ctx.root, "tests", "e2e", "*.yaml"))
    assert accepted >= len(pipelines) + len(e2e) > 20, accepted


# A valid base spec and the mistakes made to it. Each mistake is (name, edit of the spec's
# dict); the result must be rejected by the schema and by `pipec check`.
BASE = """\
pipeline: schema_base
source:
  folder: {path: in, archive: done, poll: 2s, max_record: 64KiB}
  format:
    csv: {header: true, delimiter: ";"}
schema:
  ts: {type: timestamp, format: "%Y-%m-%d %H:%M:%S"}
  user: string
  kind: {type: string, one_of: [view, buy], nullable: true}
  price: float64
rules:
  price_ok: price >= 0
derive:
  cents: cast(price * 100 as int64)
windows:
  per_minute:
    tumbling: 1m
    time: ts
    group_by: [kind]
    select: {n: count(), revenue: sum(price)}
sinks:
  rows_out:
    file: {path: out/rows.jsonl}
  totals:
    from: per_minute
    sqlite: {path: out/t.db, table: totals, mode: upsert, key: [window_start, kind]}
  screen:
    stdout:
dead_letter:
  file: {path: out/dead.jsonl}
checkpoint: {path: state, every: 10s}
"""


def _set(path, value):
    def edit(spec):
        node = spec
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def _delete(path):
    def edit(spec):
        node = spec
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return edit


MISTAKES = [
    ("unknown top-level key", _set(["sink"], {"x": {"stdout": None}})),
    ("unknown source option", _set(["source", "folder", "pol"], "1s")),
    ("two source kinds", _set(["source", "file"], {"path": "in.csv"})),
    ("source without a kind", _delete(["source", "folder"])),
    ("sink without a kind", _set(["sinks", "rows_out"], {"where": "price > 1"})),
    ("sink with two kinds", _set(["sinks", "rows_out", "stdout"], None)),
    ("unknown sink connector", _set(["sinks", "rows_out"], {"fil": {"path": "x"}})),
    ("bad enum value: sink mode", _set(["sinks", "totals", "sqlite", "mode"], "replace")),
    ("bad enum value: file sink format", _set(["sinks", "rows_out", "file", "format"], "xml")),
    ("bad enum value: guarantee", _set(["guarantee"], "twice")),
    ("wrong type for a boolean option", _set(["source", "format", "csv", "header"], "yes please")),
    ("boolean option given a number", _set(["source", "folder", "delete"], 1)),
    ("missing sinks", _delete(["sinks"])),
    ("missing pipeline", _delete(["pipeline"])),
    ("missing schema", _delete(["schema"])),
    ("no sinks at all", _set(["sinks"], {})),
    ("schema field map with an unknown key", _set(["schema", "price"], {"type": "float64", "nulable": True})),
    ("schema field map without a type", _set(["schema", "price"], {"nullable": True})),
    ("unknown type name", _set(["schema", "price"], "float")),
    ("bad field name", _set(["schema", "2price"], "float64")),
    ("duration given a number", _set(["checkpoint", "every"], 10)),
    ("size that is no size", _set(["source", "folder", "max_record"], "lots")),
    ("delimiter of two characters", _set(["source", "format", "csv", "delimiter"], ";;")),
    ("unknown csv option", _set(["source", "format", "csv", "separator"], ";")),
    ("two formats", _set(["source", "format", "json"], {})),
    ("window with two kinds", _set(["windows", "per_minute", "session"], {"gap": "5m"})),
    ("window without a kind", _delete(["windows", "per_minute", "tumbling"])),
    ("unknown window key", _set(["windows", "per_minute", "groupby"], ["kind"])),
    ("hopping without every", _set(["windows", "per_minute"], {"hopping": {"size": "2m"}, "select": {"n": "count()"}})),
    ("group_by not a list", _set(["windows", "per_minute", "group_by"], "kind")),
    ("rule given a map", _set(["rules", "price_ok"], {"expr": "price >= 0"})),
    ("checkpoint with path and postgres", _set(["checkpoint", "postgres"], "dbname=x")),
    ("dead letter with an unknown key", _set(["dead_letter", "file", "paht"], "x")),
    ("file sink without its path", _set(["sinks", "rows_out", "file"], {"format": "csv"})),
]


def _write(ctx, name, spec):
    path = os.path.join(ctx.tmp, name.replace(" ", "_").replace(":", "") + ".yaml")
    with open(path, "w") as f:
        yaml.safe_dump(spec, f, sort_keys=False)
    return path


def test_base_spec_is_valid(ctx):
    """The base of the mistakes is valid both ways, so each mistake alone makes it invalid."""
    v = _validator(ctx)
    spec = _as_json(BASE)
    path = _write(ctx, "base", spec)
    assert _check_ok(ctx, path), ctx.run([ctx.pipec, "check", path], check=False).stderr
    errors = list(v.iter_errors(_as_json(open(path).read())))
    assert not errors, errors[0].message


def test_typical_mistakes_are_rejected_by_schema_and_checker(ctx):
    v = _validator(ctx)
    assert len(MISTAKES) >= 12
    problems = []
    for name, edit in MISTAKES:
        spec = _as_json(BASE)
        edit(spec)
        path = _write(ctx, name, spec)
        if v.is_valid(_as_json(open(path).read())):
            problems.append("schema accepts: " + name)
        if _check_ok(ctx, path):
            problems.append("pipec check accepts (the schema would be stricter): " + name)
    assert not problems, "\n".join(problems)


def test_yaml_scalars_the_checker_takes_as_text_validate(ctx):
    """Where the checker reads text, YAML may have made a number, a boolean or a quoted string:
    `${VAR}` paths, quoted "true", a digit as delimiter, a number as a CSV column name."""
    v = _validator(ctx)
    spec = _as_json(BASE)
    spec["source"]["folder"]["path"] = "${INPUT:-in}"
    spec["source"]["folder"]["max_record"] = 65536
    spec["source"]["format"]["csv"]["header"] = "true"
    spec["source"]["format"]["csv"]["delimiter"] = 5
    spec["schema"]["user"] = {"type": "string", "column": 1, "default": 0}
    spec["sinks"]["totals"]["sqlite"]["path"] = "${OUT}/t.db"
    spec["sinks"]["rows_out"]["where"] = True
    path = _write(ctx, "scalars", spec)
    assert _check_ok(ctx, path), ctx.run([ctx.pipec, "check", path], check=False).stderr
    errors = list(v.iter_errors(_as_json(open(path).read())))
    assert not errors, errors[0].message
