"""suite_expr.py - behaviour tests of the C that the expression compiler emits.

tests/expr/emit_driver.c turns every case of tests/expr/cases.txt into one C program (all cases in
one file, so the test stays fast); that program is compiled with -Wall -Wextra -Werror against the
runtime sources it needs, run, and each printed line (`TYPE VALUE` plus counters of overflow and
division by zero) is compared with the case's expectation. Under --san both the driver and the
program are built with ASan/UBSan. The driver is built from the compiler sources directly so the
suite does not depend on the state of the build directory.
"""
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CASES = os.path.join(HERE, "expr", "cases.txt")

WARN = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes",
        "-D_GNU_SOURCE"]
SAN = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]
COMPILER = ["expr_lex.c", "expr_parse.c", "expr_check.c", "expr_emit.c", "arena.c", "sbuf.c",
            "types.c", "yaml.c", "diag.c", "suggest.c"]
RUNTIME = ["rt_core.c", "rt_text.c", "rt_f64fmt.c", "rt_expr.c"]


def _cc(ctx, args):
    ctx.run(["cc"] + args)


def _cases():
    cases = []
    with open(CASES, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            expr, want = line.split(" => ", 1)
            cases.append((n, expr, want))
    return cases


def _build_and_run(ctx, cases_path):
    san = SAN if ctx.san else []
    driver = os.path.join(ctx.tmp, "emit_driver")
    _cc(ctx, WARN + ["-O1", "-g"] + san + ["-iquote", os.path.join(ROOT, "compiler"),
                                             "-iquote", os.path.join(ROOT, "runtime"),
                                             "-o", driver, os.path.join(HERE, "expr", "emit_driver.c")]
        + [os.path.join(ROOT, "compiler", c) for c in COMPILER]
        + [os.path.join(ROOT, "runtime", c) for c in RUNTIME] + ["-lyaml", "-lm"])
    gen_c = os.path.join(ctx.tmp, "expr_cases.c")
    ctx.run([driver, cases_path, gen_c])
    prog = os.path.join(ctx.tmp, "expr_cases")
    _cc(ctx, ["-std=c11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-O2", "-g"] + san +
        ["-I", os.path.join(ROOT, "runtime"), "-o", prog, gen_c]
        + [os.path.join(ROOT, "runtime", c) for c in RUNTIME] + ["-lm"])
    p = subprocess.run([prog], capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("expression program failed (%d):\n%s" % (p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout.decode("utf-8").split("\n")


def test_emitted_expressions(ctx):
    cases = _cases()
    assert len(cases) >= 80, "too few cases"
    out = _build_and_run(ctx, CASES)
    failures = []
    for i, (line, expr, want) in enumerate(cases):
        got = out[i] if i < len(out) else "<no output>"
        if got != want:
            failures.append("cases.txt:%d: %s\n    want: %s\n    got:  %s" % (line, expr, want, got))
    with open(os.path.join(ctx.tmp, "expr_cases.c"), encoding="utf-8") as f:
        text = f.read()
    # line directives point every case's statements back at its line of the cases file
    first_line = cases[0][0]
    assert '#line %d "%s"' % (first_line, CASES) in text, "no #line directive for the first case"
    if failures:
        raise AssertionError("%d of %d cases failed:\n%s" % (len(failures), len(cases), "\n".join(failures)))



def test_expression_depth_is_bounded(ctx):
    """Deep nesting is an error at its place, not a stack overflow of the parser, checker or
    emitter (found by tests/fuzz/fuzz_expr.c): 300 parentheses, 300 `not`s, 300 minus signs,
    and a chain of 1500 additions."""
    import re
    import subprocess
    cases = [("(" * 300 + "x" + ")" * 300 + " > 0", "nested deeper than 200 levels"),
             ("not " * 300 + "x > 0", "nested deeper than 200 levels"),
             ("- " * 300 + "x > 0", "nested deeper than 200 levels"),
             (" + ".join(["x"] * 1500) + " > 0", "deeper than 1000 levels"),
             ("(" * 150 + "x" + ")" * 150 + " + " + " + ".join(["x"] * 500) + " > 0", None)]
    for expr, msg in cases:
        path = os.path.join(ctx.tmp, "deep.yaml")
        with open(path, "w") as f:
            f.write('pipeline: deep\nsource:\n  file: {path: in.csv}\n  format:\n    csv: {}\n'
                    'schema:\n  x: int64\nrules:\n  r: "%s"\nsinks:\n  out:\n    file: {path: out.jsonl, format: jsonl}\n' % expr)
        r = subprocess.run([ctx.pipec, "check", path], capture_output=True, text=True, timeout=60)
        if msg is None:
            assert r.returncode == 0, r.stderr[-2000:]
        else:
            assert r.returncode == 1 and re.search(r"deep\.yaml:\d+:\d+: error: expression " + msg, r.stderr), r.stderr[-2000:]
