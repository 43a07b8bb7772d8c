"""Golden tests of the compiler's diagnostics: each tests/golden/NAME.yaml is checked with
`pipec check`, and its stderr must equal tests/golden/NAME.err, whose first line is the command
that produced it. `make golden-update` rewrites the .err files (review the diff)."""
import glob
import os


def _golden_case(ctx, spec):
    rel = os.path.relpath(spec, ctx.root)
    cmd = "pipec check " + rel
    p = ctx.run([ctx.pipec, "check", rel], check=False)
    got = "# " + cmd + "\n" + p.stderr
    err_file = spec[:-5] + ".err"
    if p.returncode != 1:
        raise AssertionError("%s: expected exit 1, got %d\n%s" % (rel, p.returncode, p.stderr))
    if ctx.update_golden or not os.path.exists(err_file):
        with open(err_file, "w") as f:
            f.write(got)
        return
    want = open(err_file).read()
    if got != want:
        import difflib
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "expected", "got"))
        raise AssertionError("%s: diagnostics differ from %s\n%s" % (rel, os.path.relpath(err_file, ctx.root), diff))


def _make(spec):
    return lambda ctx: _golden_case(ctx, spec)


_here = os.path.dirname(os.path.abspath(__file__))
for _spec in sorted(glob.glob(os.path.join(_here, "golden", "*.yaml"))):
    globals()["test_" + os.path.basename(_spec)[:-5]] = _make(_spec)


def test_every_golden_has_expectation(ctx):
    missing = [s for s in glob.glob(os.path.join(ctx.root, "tests", "golden", "*.yaml"))
               if not os.path.exists(s[:-5] + ".err")]
    assert not missing, "golden specs without .err (run make golden-update and review): %s" % missing


def test_valid_specs_check_clean(ctx):
    """Every spec in pipelines/ passes `pipec check` with no diagnostics at all."""
    for spec in sorted(glob.glob(os.path.join(ctx.root, "pipelines", "*.yaml"))):
        rel = os.path.relpath(spec, ctx.root)
        p = ctx.run([ctx.pipec, "check", rel], check=False)
        assert p.returncode == 0 and p.stderr == "", "%s:\n%s" % (rel, p.stderr)
