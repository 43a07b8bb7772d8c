"""`pipec test`, the inline tests of specs: every spec in pipelines/ carries tests and they pass;
copies with a wrong expected value, a row too few or too many and a wrong reason fail with the
pinned diff and exit 1; the input encodings and value comparison (tests/inline/*.yaml); a bad
spec exits 2 (its diagnostics are the golden tests/golden/inline_test_errors.err); tests never
change the program of a normal build; the test variant's C is warning-free."""
import glob
import os
import re

import yaml


def _test(ctx, *args, check=False):
    cmd = [ctx.pipec, "test"] + (["--sanitize"] if ctx.san else []) + list(args)
    return ctx.run(cmd, check=check)


def test_every_pipeline_passes_its_tests(ctx):
    specs = sorted(glob.glob(os.path.join(ctx.root, "pipelines", "*.yaml")))
    want = []
    for spec in specs:
        doc = yaml.safe_load(open(spec))
        tests = doc.get("tests") or []
        assert len(tests) >= 2, "%s: fewer than two inline tests" % spec
        want += ["PASS %s: %s" % (doc["pipeline"], t["name"]) for t in tests]
    p = _test(ctx, *[os.path.relpath(s, ctx.root) for s in specs])
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert lines[:-1] == want, p.stdout
    assert lines[-1] == "%d passed, 0 failed" % len(want), p.stdout


def test_encodings_and_comparison(ctx):
    p = _test(ctx, "tests/inline/encoding.yaml", "tests/inline/json_paths.yaml", "tests/inline/int_sums.yaml")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.endswith("5 passed, 0 failed\n"), p.stdout


MUTANTS = """
tests:
  - name: good
    input: &rows |
      event_id,event_time,user_id,event_type,product_id,price,quantity
      e1,2024-05-01T10:00:00Z,1,view,7,9.99,1
      e2,2024-05-01T10:00:01Z,1,purchase,7,4.125,2
      e3,2024-05-01T10:00:02Z,2,purchase,8,-3.50,
    expect:
      events: [{event_id: e1, revenue: 0}, {event_id: e2, revenue: 8.25}]
      dead_letter: [{reason: price_not_negative}]
  - name: wrong value
    input: *rows
    expect:
      events: [{event_id: e1, revenue: 0}, {event_id: e2, revenue: 8.5}]
  - name: a row not expected
    input: *rows
    expect:
      events: [{event_id: e1}]
  - name: a row missing
    input: *rows
    expect:
      purchases: [{user_id: 1}, {user_id: 2}]
  - name: wrong reason
    input: *rows
    expect:
      dead_letter: [{reason: parse}]
"""

MUTANTS_OUT = """\
PASS shop_events: good
FAIL shop_events: wrong value
    sink events: row 2, column revenue: expected 8.5, got 8.25
      expected 2 rows:
          1: {event_id: e1, revenue: 0}
        > 2: {event_id: e2, revenue: 8.5}
                                     ^^^
      actual 2 rows:
          1: {event_id: e1, revenue: 0, ...}
        > 2: {event_id: e2, revenue: 8.25, ...}
                                     ^^^^
FAIL shop_events: a row not expected
    sink events: expected 1 row, got 2: row 2 was not expected
      expected 1 row:
          1: {event_id: e1}
      actual 2 rows:
          1: {event_id: e1, ...}
        > 2: {event_id: e2, ...}
FAIL shop_events: a row missing
    sink purchases: expected 2 rows, got 1: row 2 is missing
      expected 2 rows:
          1: {user_id: 1}
        > 2: {user_id: 2}
      actual 1 row:
          1: {user_id: 1, ...}
FAIL shop_events: wrong reason
    dead letter: row 1, column reason: expected parse, got price_not_negative
      expected 1 row:
        > 1: {reason: parse}
                      ^^^^^
      actual 1 row:
        > 1: {reason: price_not_negative, ...}
                      ^^^^^^^^^^^^^^^^^^
1 passed, 4 failed
"""


def test_mutated_expectations_fail_with_a_diff(ctx):
    text = open(os.path.join(ctx.root, "pipelines", "shop_events.yaml")).read()
    spec = os.path.join(ctx.tmp, "shop_events.yaml")
    with open(spec, "w") as f:
        f.write(text[:text.index("\ntests:\n")] + MUTANTS)
    p = _test(ctx, spec)
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stdout == MUTANTS_OUT, p.stdout


def test_every_pipeline_fails_a_wrong_expectation(ctx):
    """In each spec of pipelines/, one changed expected value makes exactly that test fail."""
    for spec in sorted(glob.glob(os.path.join(ctx.root, "pipelines", "*.yaml"))):
        doc = yaml.safe_load(open(spec))
        first = doc["tests"][0]
        sink, rows = next((k, v) for k, v in first["expect"].items() if v)
        col = next(iter(rows[0]))
        rows[0][col] = "surely not this"
        out = os.path.join(ctx.tmp, os.path.basename(spec))
        with open(out, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        p = _test(ctx, out)
        assert p.returncode == 1, p.stdout + p.stderr
        assert "FAIL %s: %s\n" % (doc["pipeline"], first["name"]) in p.stdout, p.stdout
        assert re.search(r'row 1, column %s: expected "?surely not this"?, got ' % re.escape(col), p.stdout), p.stdout
        assert p.stdout.count("PASS ") == len(doc["tests"]) - 1, p.stdout


def test_bad_spec_exits_2(ctx):
    p = _test(ctx, "tests/golden/inline_test_errors.yaml", "tests/inline/encoding.yaml")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "tests/golden/inline_test_errors.yaml: 10 errors" in p.stderr, p.stderr
    assert "neither a sink nor dead_letter (did you mean 'out'?)" in p.stderr, p.stderr
    # the other spec still ran
    assert p.stdout.endswith("3 passed, 0 failed, 1 spec with errors\n"), p.stdout


def test_usage_and_specs_without_tests(ctx):
    assert _test(ctx).returncode == 2
    assert _test(ctx, "--nope", "tests/inline/encoding.yaml").returncode == 2
    spec = os.path.join(ctx.tmp, "plain.yaml")
    text = open(os.path.join(ctx.root, "pipelines", "shop_events.yaml")).read()
    with open(spec, "w") as f:
        f.write(text[:text.index("\ntests:\n")])
    p = _test(ctx, spec)
    assert p.returncode == 0 and p.stdout == "shop_events: no tests\n0 passed, 0 failed\n", p.stdout + p.stderr


def test_tests_do_not_change_a_normal_build(ctx):
    for spec in sorted(glob.glob(os.path.join(ctx.root, "pipelines", "*.yaml"))):
        text = open(spec).read()
        name = os.path.basename(spec)
        a, b = os.path.join(ctx.tmp, "a"), os.path.join(ctx.tmp, "b")
        os.makedirs(os.path.join(a, "pipelines"), exist_ok=True)
        os.makedirs(os.path.join(b, "pipelines"), exist_ok=True)
        with open(os.path.join(a, "pipelines", name), "w") as f:
            f.write(text)
        with open(os.path.join(b, "pipelines", name), "w") as f:
            f.write(text[:text.index("\ntests:\n")] + "\n")
        for d in (a, b):
            ctx.run([ctx.pipec, "gen", "pipelines/" + name, "-o", "gen"], cwd=d)
        for c in os.listdir(os.path.join(a, "gen")):
            assert open(os.path.join(a, "gen", c), "rb").read() == open(os.path.join(b, "gen", c), "rb").read(), name


def test_test_variant_c_is_warning_free(ctx):
    p = ctx.run([ctx.pipec, "test", "--keep"] + sorted(glob.glob("pipelines/*.yaml", root_dir=ctx.root)) +
                ["tests/inline/json_paths.yaml"])
    dirs = re.findall(r"test files kept in (\S+)", p.stderr)
    assert len(dirs) == len(glob.glob(os.path.join(ctx.root, "pipelines", "*.yaml"))) + 1, p.stderr
    try:
        for d in dirs:
            for c in glob.glob(os.path.join(d, "*.c")):
                ctx.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes",
                         "-Wmissing-prototypes", "-Werror", "-O1", "-Iruntime", "-c", c, "-o", c + ".o"])
    finally:
        for d in dirs:
            ctx.run(["rm", "-rf", d])


def test_json_input_key_typo_is_a_warning(ctx):
    spec = os.path.join(ctx.tmp, "typo.yaml")
    with open(spec, "w") as f:
        f.write("""pipeline: typo
source:
  file: {path: x}
  format: {json: {}}
schema:
  close: float64
  user: {type: int64, path: user.id}
sinks: {out: {stdout: {format: jsonl}}}
tests:
  - name: t
    input:
      - {closee: 1, user: {id: 1}, other: 3}
      - {close: 1, usr: {id: 1}}
    expect: {out: []}
""")
    p = ctx.run([ctx.pipec, "check", spec], check=False)
    assert p.returncode == 0, p.stderr
    warnings = [l for l in p.stderr.splitlines() if ": warning: " in l]
    assert [w.split(": warning: ")[1] for w in warnings] == [
        "no field reads key 'closee' (did you mean 'close'?)",
        "no field reads key 'usr' (did you mean 'user'?)"], p.stderr
    assert [w.split(": warning: ")[0] for w in warnings] == [spec + ":12:10", spec + ":13:20"], p.stderr
