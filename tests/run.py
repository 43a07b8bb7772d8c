#!/usr/bin/python3
"""run.py - the test runner behind `make test`.

Runs every unit-test binary (build/tests/test_*) and every test function of the suites in
tests/suite_*.py (functions named test_*, called with a Ctx), prints one line per test and
ends with the closing line `N passed, N failed`. Exit status 1 when anything failed.

Options: --san (use the sanitizer build: build-san/ and bin/pipec-san), -k SUBSTR (only tests
whose name contains SUBSTR), --update-golden (rewrite golden files instead of comparing),
--faults (only the fault suite, tests/suite_faults.py, which a run without it skips: `make faults`).
A test that raises an exception named SkipTest is reported as SKIP with its reason.
"""
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Ctx:
    """What a suite's test function gets: paths of the build, a fresh temp dir, helpers."""

    def __init__(self, san, update_golden):
        self.root = ROOT
        self.san = san
        self.update_golden = update_golden
        self.build = os.path.join(ROOT, "build-san" if san else "build")
        self.pipec = os.path.join(ROOT, "bin", "pipec-san" if san else "pipec")
        self.tmp = None

    def run(self, args, check=True, **kw):
        """Runs a command (list), returns CompletedProcess with text stdout/stderr."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("cwd", ROOT)
        p = subprocess.run(args, **kw)
        if check and p.returncode != 0:
            raise AssertionError("command failed (%d): %s\nstdout:\n%s\nstderr:\n%s" %
                                 (p.returncode, " ".join(map(str, args)), p.stdout, p.stderr))
        return p

    def build_pipeline(self, spec, out=None):
        """Compiles a spec with pipec into a binary in the temp dir (sanitized under --san)."""
        out = out or os.path.join(self.tmp, os.path.splitext(os.path.basename(spec))[0])
        args = [self.pipec, "build", spec, "-o", out]
        if self.san:
            args.append("--sanitize")
        self.run(args)
        return out


def discover_suites(faults=False):
    suites = []
    tests_dir = os.path.join(ROOT, "tests")
    for name in sorted(os.listdir(tests_dir)):
        if name.startswith("suite_") and name.endswith(".py") and (name == "suite_faults.py") == faults:
            spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(tests_dir, name))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            suites.append(mod)
    return suites


def main():
    args = sys.argv[1:]
    san = "--san" in args
    update = "--update-golden" in args
    faults = "--faults" in args
    only = None
    if "-k" in args:
        only = args[args.index("-k") + 1]
    ctx = Ctx(san, update)
    passed = failed = skipped = 0
    failures = []

    def report(name, ok, secs, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("PASS %-60s %6.2fs" % (name, secs), flush=True)
        else:
            failed += 1
            failures.append(name)
            print("FAIL %-60s %6.2fs" % (name, secs), flush=True)
            if detail:
                print("    " + detail.rstrip().replace("\n", "\n    "), flush=True)

    unit_dir = os.path.join(ctx.build, "tests")
    if os.path.isdir(unit_dir) and not faults:
        for name in sorted(os.listdir(unit_dir)):
            path = os.path.join(unit_dir, name)
            if not name.startswith("test_") or not os.access(path, os.X_OK) or (only and only not in name):
                continue
            t0 = time.time()
            p = subprocess.run([path], capture_output=True, text=True, cwd=ROOT)
            tail = (p.stdout.strip().splitlines() or [""])[-1]
            report("unit/" + name + " (" + tail + ")", p.returncode == 0, time.time() - t0,
                   p.stdout + p.stderr if p.returncode else "")

    for mod in discover_suites(faults):
        for fname in sorted(n for n in dir(mod) if n.startswith("test_")):
            name = mod.__name__[len("suite_"):] + "/" + fname[len("test_"):]
            if only and only not in name:
                continue
            with tempfile.TemporaryDirectory(prefix="pipec-test-") as tmp:
                ctx.tmp = tmp
                t0 = time.time()
                try:
                    getattr(mod, fname)(ctx)
                    report(name, True, time.time() - t0)
                except Exception as e:
                    if type(e).__name__ == "SkipTest":
                        skipped += 1
                        print("SKIP %-60s %6.2fs  %s" % (name, time.time() - t0, e), flush=True)
                        continue
                    report(name, False, time.time() - t0, traceback.format_exc())

    if failures:
        print("\nfailed:\n  " + "\n  ".join(failures))
    print("%d passed, %d failed" % (passed, failed) + (", %d skipped" % skipped if skipped else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
