"""suite_tmpl.py - the template engine (compiler/tmpl*.c) checked against python3-jinja2.

Each tests/tmpl/NAME.tmpl is rendered with the model tests/tmpl/NAME.json (an empty model when
there is none) by our engine, through the test-only driver tests/tmpl/render_main.c, and by
Jinja2 configured as pipec's engine behaves: trim_blocks, lstrip_blocks, StrictUndefined,
keep_trailing_newline, plus our c_string filter. Outputs must be byte-identical.
Cases named err_*.tmpl must fail in both; NAME.err holds the first line of our diagnostic.
"""
import difflib
import glob
import json
import os
import random
import time

CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes",
          "-D_GNU_SOURCE", "-O1", "-g"]


def c_string(value):
    """The c_string filter (compiler/tmpl_filter.c): a pure-ASCII C string literal of str(value)."""
    out = ['"']
    prev = None
    for b in str(value).encode("utf-8"):
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif b < 0x20 or b >= 0x7F:
            out.append("\\%03o" % b)
        elif c == "?" and prev == ord("?"):
            out.append("\\?")
        else:
            out.append(c)
        prev = b
    out.append('"')
    return "".join(out)


def jinja_env(directory):
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, autoescape=False)
    env.filters["c_string"] = c_string
    return env


def build_driver(ctx):
    """Compiles tests/tmpl/render_main.c with the engine into the temp dir."""
    root = ctx.root
    out = os.path.join(ctx.tmp, "render_main")
    sources = sorted(glob.glob(os.path.join(root, "compiler", "tmpl*.c")))
    sources += [os.path.join(root, "compiler", n) for n in ("arena.c", "sbuf.c", "diag.c")]
    flags = CFLAGS + (["-fsanitize=address,undefined", "-fno-sanitize-recover=all"] if ctx.san else [])
    ctx.run(["cc"] + flags + ["-I" + os.path.join(root, "compiler"),
                              os.path.join(root, "tests", "tmpl", "render_main.c")] + sources + ["-o", out])
    return out


def model_path(ctx, template):
    path = os.path.splitext(template)[0] + ".json"
    if os.path.exists(path):
        return path
    empty = os.path.join(ctx.tmp, "empty.json")
    with open(empty, "w") as f:
        f.write("{}")
    return empty


def render_jinja(env, name, model_file):
    """Returns (output, None) or (None, exception)."""
    with open(model_file, encoding="utf-8") as f:
        model = json.load(f)
    try:
        return env.get_template(name).render(**model), None
    except Exception as e:  # noqa: BLE001 - any Jinja2 failure is the expected outcome for err_ cases
        return None, e


def render_ours(ctx, driver, template, model_file):
    p = ctx.run([driver, template, model_file], check=False, text=False,
                cwd=os.path.dirname(template))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def diff(want, got, name):
    lines = difflib.unified_diff(want.splitlines(True), got.splitlines(True), "jinja2/" + name, "pipec/" + name)
    return "".join(lines) or "(outputs differ only in bytes difflib does not show: %r vs %r)" % (want, got)


def check_case(ctx, env, driver, template):
    """Returns a problem description, or None when our engine agrees with Jinja2."""
    name = os.path.basename(template)
    model_file = model_path(ctx, template)
    want, jinja_error = render_jinja(env, name, model_file)
    rc, got, stderr = render_ours(ctx, driver, template, model_file)
    if name.startswith("err_"):
        expected = open(os.path.splitext(template)[0] + ".err", encoding="utf-8").read().strip()
        first = stderr.splitlines()[0] if stderr else ""
        problems = []
        if jinja_error is None:
            problems.append("jinja2 rendered it without error")
        if rc != 1 or got:
            problems.append("ours: exit %d, stdout %r (want exit 1, no output)" % (rc, got))
        if not first.endswith(expected):
            problems.append("ours said %r, want %r" % (first, expected))
        return "%s: %s" % (name, "; ".join(problems)) if problems else None
    if jinja_error is not None:
        return "%s: jinja2 failed: %r" % (name, jinja_error)
    if rc != 0:
        return "%s: ours failed (exit %d):\n%s" % (name, rc, stderr)
    if got != want:
        return "%s: output differs:\n%s" % (name, diff(want, got, name))
    return None


def test_jinja2_differential(ctx):
    driver = build_driver(ctx)
    tmpl_dir = os.path.join(ctx.root, "tests", "tmpl")
    env = jinja_env(tmpl_dir)
    templates = sorted(glob.glob(os.path.join(tmpl_dir, "*.tmpl")))
    assert len(templates) >= 12, "expected at least 12 cases in tests/tmpl, found %d" % len(templates)
    problems = [p for p in (check_case(ctx, env, driver, t) for t in templates) if p]
    if problems:
        raise AssertionError("%d of %d template cases disagree with jinja2:\n\n%s" %
                             (len(problems), len(templates), "\n\n".join(problems)))


def large_template(lines):
    """A generated template of about `lines` lines mixing every construct, and its model."""
    rnd = random.Random(7)
    parts = ["{# large generated template #}\n"]
    for k in range(lines // 10):
        parts.append("/* block %d */\n" % k)
        parts.append("{% for f in fields %}\n")
        parts.append("  {%% if f.n > %d %%}\n" % rnd.randint(0, 9))
        parts.append("    int {{ f.name }}_%d = {{ f.n + %d }}; /* {{ loop.index }} of {{ loop.length }} */\n" % (k, k))
        parts.append("  {% elif loop.first %}\n    {{ f.name | upper | c_string }}\n")
        parts.append("  {% else %}\n    {{ f.name ~ '-' ~ k }}{% if not loop.last %},{% endif %}\n")
        parts.append("  {% endif %}\n{% endfor %}\n")
        parts.append("{% set k = k + 1 %}{{ k }} {{ fields | length }} {{ names | join(', ') }}\n")
    model = {"k": 0, "fields": [{"name": "f%d" % i, "n": i} for i in range(10)],
             "names": ["n%d" % i for i in range(5)]}
    return "".join(parts), model


def test_jinja2_large_template(ctx):
    """A ~1000-line template renders the same as Jinja2, and quickly."""
    driver = build_driver(ctx)
    text, model = large_template(1000)
    template = os.path.join(ctx.tmp, "large.tmpl")
    model_file = os.path.join(ctx.tmp, "large.json")
    with open(template, "w") as f:
        f.write(text)
    with open(model_file, "w") as f:
        json.dump(model, f)
    assert text.count("\n") >= 700, text.count("\n")
    want, err = render_jinja(jinja_env(ctx.tmp), "large.tmpl", model_file)
    assert err is None, err
    t0 = time.time()
    rc, got, stderr = render_ours(ctx, driver, template, model_file)
    secs = time.time() - t0
    assert rc == 0, stderr
    if got != want:
        raise AssertionError(diff(want, got, "large.tmpl"))
    limit = 5.0 if ctx.san else 1.0
    assert secs < limit, "rendering took %.2fs (limit %.1fs)" % (secs, limit)


def random_template(rnd):
    """A random mix of text, whitespace and tags with every whitespace-control marker, always
    well-formed: whitespace handling is where template engines most often disagree."""
    texts = ["", " ", "  ", "\t", "\n", " \n", "\n  ", "x", " y ", "{ }", "}\n", "a\n\n", "\n\t b"]

    def opener(kind):
        return "{" + kind + rnd.choice(["", "", "-", "+"]) + " "

    def closer(kind):
        end = {"%": "%}", "{": "}}", "#": "#}"}[kind]
        return " " + rnd.choice(["", "", "-", "+" if kind != "{" else ""]) + end

    def block(depth):
        out = []
        for _ in range(rnd.randint(1, 4)):
            out.append(rnd.choice(texts))
            r = rnd.random()
            if r < 0.3:
                out.append(opener("{") + rnd.choice(["v", "n", "'s'", "v ~ n"]) + closer("{"))
            elif r < 0.45:
                out.append(opener("#") + "c" + closer("#"))
            elif r < 0.6 and depth < 3:
                out.append(opener("%") + "if " + rnd.choice(["v", "not v", "n > 1"]) + closer("%"))
                out.extend(block(depth + 1))
                if rnd.random() < 0.5:
                    out.append(opener("%") + "else" + closer("%"))
                    out.extend(block(depth + 1))
                out.append(opener("%") + "endif" + closer("%"))
            elif r < 0.75 and depth < 3:
                out.append(opener("%") + "for i in items" + closer("%"))
                out.extend(block(depth + 1))
                out.append(opener("%") + "endfor" + closer("%"))
            elif r < 0.85:
                out.append(opener("%") + "set unused = " + rnd.choice(["1", "'z'", "n ~ v"]) + closer("%"))
        out.append(rnd.choice(texts))
        return out

    return "".join(block(0))


def test_jinja2_random_whitespace(ctx):
    """Random templates full of whitespace-control markers render the same as with Jinja2."""
    driver = build_driver(ctx)
    rnd = random.Random(2024)
    model = {"v": "V", "n": 2, "items": [1, 2]}
    model_file = os.path.join(ctx.tmp, "model.json")
    with open(model_file, "w") as f:
        json.dump(model, f)
    env = jinja_env(ctx.tmp)
    problems = []
    for k in range(150):
        text = random_template(rnd)
        name = "random%d.tmpl" % k
        template = os.path.join(ctx.tmp, name)
        with open(template, "w") as f:
            f.write(text)
        want, err = render_jinja(env, name, model_file)
        assert err is None, "%s: jinja2 failed on %r: %r" % (name, text, err)
        rc, got, stderr = render_ours(ctx, driver, template, model_file)
        if rc != 0 or got != want:
            problems.append("%s %r:\n  jinja2: %r\n  pipec:  %r %s" % (name, text, want, got, stderr))
    if problems:
        raise AssertionError("%d of 150 random templates disagree:\n%s" % (len(problems), "\n".join(problems[:5])))
