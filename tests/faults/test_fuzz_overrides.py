"""Fuzzed input to ``gankit train --dry-run``: override strings and preset TOML files. Every
example ends with exit 0 (and the resolved config as JSON) or exit 2 and exactly one
``gankit: error:`` line; an exception escaping ``main`` (a traceback) fails the test.

Examples per target: ``GANKIT_FUZZ_EXAMPLES`` (default 200, derandomized, for CI); the recorded
reliability run uses 1,000 or more."""

import contextlib
import io
import json
import os
import tempfile

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gankit.cli import main
from gankit.config import to_dict
from gankit.presets import load_preset, preset_path

EXAMPLES = int(os.environ.get("GANKIT_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)  # fmt: skip
PRESETS = ["ring-gan", "digits-dcgan", "mnist-infogan"]


def _known_keys() -> list[str]:
    keys = set()
    for preset in PRESETS:
        for section, table in to_dict(load_preset(preset)).items():
            if isinstance(table, dict):
                keys.update(f"{section}.{key}" for key in table)
    return sorted(keys)


KEYS = _known_keys()
WORDS = ["", "true", "false", "none", "nan", "-inf", "inf", "1e400", "-0", "0", "1", "-1", "0.5", "[1,2]", "()",
         "[", "mlp", "dcgan", "gan", "wgan", "ring", "digits", "adam", "cpu", "cuda", "train", "../..", "a,b",
         "1_000", "0x10", "1e-300", "2**64", "18446744073709551616", "é", "\x00", "\n", "=", "."]
values = st.one_of(
    st.sampled_from(WORDS),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)
keys = st.one_of(
    st.sampled_from(KEYS),
    st.sampled_from(KEYS).map(lambda k: k + ".x"),
    st.builds(lambda s, k: f"{s}.{k}", st.sampled_from(["data", "model", "recipe", "optim", "train", "name", "x"]),
              st.text(max_size=8)),
    st.text(max_size=15),
    st.sampled_from(["train.a\nb", "train.a b", "train.é", "train.", ".steps", "train..steps", "\n", " "]),
)
overrides = st.one_of(st.builds(lambda k, v: f"{k}={v}", keys, values), st.text(max_size=30))


def run_cli(args: list[str]) -> int:
    """``main(args)`` with its output captured; asserts the exit status and the shape of the output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    assert code in (0, 2), (args, code, err.getvalue())
    text = err.getvalue()
    if code == 2:
        assert text.startswith("gankit: error: ") and text.count("\n") == 1, (args, text)
    elif out.getvalue().startswith("{"):
        assert text == "", (args, text)
        json.loads(out.getvalue())  # the whole resolved config, nothing else
    return code


@FUZZ
@given(preset=st.sampled_from(PRESETS), items=st.lists(overrides, max_size=4))
@example(preset="ring-gan", items=["train.a\nb=1"])  # an unknown key once printed over two lines
@example(preset="ring-gan", items=["optim.lr_g=nan", "train.log_every=0"])
@example(preset="ring-gan", items=["train.steps.x=1", "name.x=1", "x.y.z=1"])
def test_override_strings(preset, items):
    run_cli(["train", "--dry-run", "--preset", preset, *items])


# ------------------------------------------------------------------ preset files

toml_values = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "1e400", "true", "0", "-1", "1979-05-27", "07:32:00", "[]", "[1, 'a']",
                     "{a = 1}", '"mlp"', '"ring"', '"gan"', "'''x'''", '"\\u00e9"', "0x_1", "1__0", "", "= 1"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).replace("nan", "nan")),
    st.text(max_size=12).map(json.dumps),
    st.text(max_size=12),
)


def _preset_lines(name: str) -> list[str]:
    with open(preset_path(name), encoding="utf-8") as fh:
        return fh.read().splitlines()


@st.composite
def mutated_presets(draw) -> bytes:
    """A shipped preset with some lines' values replaced, lines dropped or random lines added."""
    lines = _preset_lines(draw(st.sampled_from(PRESETS)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        what = draw(st.sampled_from(["value", "drop", "insert"]))
        if what == "value" and "=" in lines[i]:
            lines[i] = f"{lines[i].partition('=')[0]}= {draw(toml_values)}"
        elif what == "drop":
            del lines[i]
        else:
            key = draw(st.sampled_from([k.split(".", 1)[1] for k in KEYS] + ["x"]))
            extra = draw(st.sampled_from([f"{key} = {draw(toml_values)}", "[train]", "[[train]]", "[model.x]", "["]))
            lines.insert(i, extra)
        if not lines:
            break
    return "\n".join(lines).encode("utf-8", "surrogatepass")


presets = st.one_of(mutated_presets(), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
                    st.binary(max_size=200))


@FUZZ
@given(content=presets, items=st.lists(overrides, max_size=2))
@example(content=b"\x80", items=[])  # not UTF-8: once a UnicodeDecodeError traceback
@example(content=b"description = 1979-05-27\n", items=[])  # a TOML date: once a TypeError traceback
@example(content=b'"a\\nb" = 1\n', items=[])  # a quoted key with a newline
def test_preset_files(content, items):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fuzzed.toml")
        with open(path, "wb") as fh:
            fh.write(content)
        run_cli(["train", "--dry-run", "--preset", path, *items])
