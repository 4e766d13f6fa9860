"""The recorded fuzz run: every Hypothesis target of ``tests/faults/test_fuzz_files.py`` and
``tests/faults/test_fuzz_overrides.py`` with ``--examples`` examples each (default 1,000).

A target's body is the test's own (the same strategies, the same checks: exit 0, or exit 2 with
one error line and no half-written output) and so are its settings: derandomized (the examples
are a function of the test's source, the same on every machine), with ``GANKIT_FUZZ_EXAMPLES``
set to ``--examples``. Unlike pytest, a failing example does not stop the
target: each exception escaping an example (a traceback) is counted, the first few are kept, and
no shrinking is done. One JSON line per target in ``<out>/runs.jsonl`` (target, examples,
tracebacks, seconds, torch threads), one line per invocation in ``<out>/commands.jsonl``
(command, machine); ``<out>/summary.md`` is the table of every target's latest record.
``--table`` only rebuilds the summary.

usage: OMP_NUM_THREADS=1 python benchmarks/fuzz_inputs.py [--examples 1000] \\
           [--targets test_idx_files,...] [--out benchmarks/results/faults/fuzz]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, REPO)  # the test modules hold the targets

from records import append_record, log_invocation, read_records, run_main, write_summary  # noqa: E402

KEPT_TRACEBACKS = 3


def targets() -> dict[str, object]:
    """Every ``@given`` test of the two fuzz modules, by name."""
    from tests.faults import test_fuzz_files, test_fuzz_overrides

    found = {}
    for module in (test_fuzz_files, test_fuzz_overrides):
        for name, fn in vars(module).items():
            if name.startswith("test_") and hasattr(fn, "hypothesis"):
                found[name] = fn
    return found


def run_target(name: str, fn, fixtures: dict[str, object]) -> dict:
    """Run one target (its explicit examples, then ``GANKIT_FUZZ_EXAMPLES`` generated ones); count tracebacks."""
    body = fn.hypothesis.inner_test
    counts = {"examples": 0, "tracebacks": 0, "sites": {}, "first_tracebacks": []}

    def counted(*args, **kwargs):
        counts["examples"] += 1
        try:
            body(*args, **kwargs)
        except Exception as exc:  # an exception escaping the example: what the target exists to find
            counts["tracebacks"] += 1
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            site = f"{type(exc).__name__} at {os.path.relpath(frame.filename, REPO)}:{frame.lineno}"
            counts["sites"][site] = counts["sites"].get(site, 0) + 1  # where each kind of failure was raised
            if len(counts["first_tracebacks"]) < KEPT_TRACEBACKS:
                counts["first_tracebacks"].append(traceback.format_exc(limit=-4))

    fn.hypothesis.inner_test = counted  # no example fails, so Hypothesis never shrinks
    wanted = {k: v for k, v in fixtures.items() if k in inspect.signature(body).parameters}
    start = time.perf_counter()
    try:
        fn(**wanted)
    finally:
        fn.hypothesis.inner_test = body
    return {"target": name, **counts, "seconds": round(time.perf_counter() - start, 1)}


def summary(records: list[dict], out: str) -> str:
    latest = {r["target"]: r for r in records}
    lines = ["# Fuzzed CLI input: examples and tracebacks per target", ""]
    commands = read_records(os.path.join(out, "commands.jsonl"))
    if commands:
        last = commands[-1]
        lines += [f"- command: `{last['command']}`",
                  f"- Hypothesis: derandomized (examples fixed by each test's source), "
                  f"{last.get('examples')} generated examples per target plus its explicit ones",
                  f"- machine: {json.dumps(last['machine'])}",
                  f"- torch threads: {', '.join(sorted({str(r.get('threads')) for r in latest.values()}))}", ""]
    lines += ["| target | examples | tracebacks | seconds |", "|---|---|---|---|"]
    for name, r in latest.items():
        lines.append(f"| `{name}` | {r['examples']:,} | {r['tracebacks']} | {r['seconds']:.0f} |")
    total = sum(r["tracebacks"] for r in latest.values())
    lines += ["", f"{len(latest)} targets, {sum(r['examples'] for r in latest.values()):,} examples, "
              f"{total} tracebacks."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=1000, help="generated examples per target")
    ap.add_argument("--targets", default="", help="comma-separated target names (default: all)")
    ap.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "faults", "fuzz"))
    ap.add_argument("--table", action="store_true", help="only rebuild summary.md from runs.jsonl")
    args = ap.parse_args()
    if args.table:
        write_summary(args.out, summary(read_records(os.path.join(args.out, "runs.jsonl")), args.out))
        return
    import torch

    os.environ["GANKIT_FUZZ_EXAMPLES"] = str(args.examples)  # read when the test modules are imported
    found = targets()
    chosen = [t for t in args.targets.split(",") if t] or list(found)
    unknown = [t for t in chosen if t not in found]
    if unknown:
        raise SystemExit(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(found)}")
    runs = log_invocation(args.out, examples=args.examples, hypothesis="derandomized")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")  # never the user's feature cache
        from tests.faults.test_fuzz_files import FIXTURES

        fixtures = {}
        for name, make in FIXTURES.items():
            os.makedirs(os.path.join(tmp, name))
            fixtures[name] = make(os.path.join(tmp, name))
        for name in chosen:
            rec = run_target(name, found[name], fixtures)
            append_record(runs, {**rec, "threads": torch.get_num_threads()})
    write_summary(args.out, summary(read_records(runs), args.out))


if __name__ == "__main__":
    run_main(main)
