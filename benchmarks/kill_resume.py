"""kill -9 at random instants, then resume: does every run end bit for bit where an uninterrupted one does?

One uninterrupted ``gankit train`` of a tiny ring-gan run (``TRIAL_ARGS``: 40 steps, a checkpoint every
5, a sample grid every 20, a stats line every 5) is the reference. Each trial trains the same run in a
fresh directory and kills it with SIGKILL, once or twice in a row (the second kill hits the resume),
at an instant drawn from ``random.Random(f"{seed}:{trial}")``:

- a fault site of ``gankit.faults`` (``GANKIT_FAULT=<site>@<n>``, the process kills itself at the
  ``n``-th hit): ``train.step``, ``checkpoint.write`` (half the checkpoint in its temp file),
  ``stats.flush`` (half a stats line on disk), ``write:step_*.png`` (a sample grid), ``write:README.md``
  (the run README) or ``write:*`` (any atomic write), with ``n`` uniform over the hits a fresh run has;
- or a delay uniform over the reference run's wall time, after which the parent sends SIGKILL.

After each kill the checkpoint must load (or be absent). The run is then resumed to the end
(``gankit resume``; ``gankit train`` again when it was killed before its first checkpoint) and
compared with the reference: every checkpoint tensor (``torch.equal``, same dtype) and every header
field; ``stats.jsonl`` line by line without its ``time`` field; every other file byte for byte (the
sample grids and plots) except the README (it holds wall times); and no ``*.tmp`` file left anywhere.

Each trial appends one JSON line to ``<out>/runs.jsonl``; ``summary.md`` holds the counts.

usage: OMP_NUM_THREADS=1 python benchmarks/kill_resume.py [--trials 200] [--seed 0] [--out benchmarks/results/faults]
       python benchmarks/kill_resume.py --summarise [--out benchmarks/results/faults]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from gankit import cli, faults
from gankit.errors import CheckpointError
from gankit.train.checkpoint import CHECKPOINT_NAME, load_checkpoint

sys.path.insert(0, os.path.dirname(__file__))
from records import Refused, append_record, log_invocation, read_records, run_main, write_summary  # noqa: E402

RUN = "run"
STEPS, CHECKPOINT_EVERY, SAMPLE_EVERY, LOG_EVERY = 40, 5, 20, 5
TRIAL_ARGS = [
    "--preset", "ring-gan", f"train.run_name={RUN}", f"train.steps={STEPS}",
    f"train.checkpoint_every={CHECKPOINT_EVERY}", f"train.sample_every={SAMPLE_EVERY}", f"train.log_every={LOG_EVERY}",
    "train.progress=false", "data.n_samples=512", "model.g_width=32", "model.d_width=32", "train.batch_size=32",
]  # fmt: skip
# how many times a fresh run reaches each site: n is drawn from 1..HITS[site]
FINAL_FILES = 5  # samples_final, loss_curves, density, histograms, README
HITS = {
    "train.step": STEPS,
    "checkpoint.write": STEPS // CHECKPOINT_EVERY,
    "stats.flush": STEPS // LOG_EVERY,
    "write:step_*.png": STEPS // SAMPLE_EVERY,
    "write:README.md": 1,
    "write:*": 1 + STEPS // CHECKPOINT_EVERY + STEPS // SAMPLE_EVERY + FINAL_FILES,  # + config.json
}
KINDS = [*HITS, "delay"]
TEMP_FILE = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")
NOT_COMPARED = {"README.md", "stats.jsonl", CHECKPOINT_NAME}  # compared field by field, or not at all (README)


def _argv(command: str, run_dir: Path) -> list[str]:
    return ["train", "--out", str(run_dir.parent), *TRIAL_ARGS] if command == "train" else ["resume", str(run_dir)]


def _exec(argv: list[str], fault: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != faults.ENV}
    if fault:
        env[faults.ENV] = fault
    return subprocess.Popen([sys.executable, "-m", "gankit", *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _fork(argv: list[str], fault: str | None) -> int:
    """A child process that runs ``gankit.cli.main(argv)`` in this already-imported interpreter."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller
        rc = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            sys.stdout = sys.stderr = open(devnull, "w", closefd=False)  # not the parent's (a test's capture)
            faults.arm(fault)
            rc = cli.main(argv)
        finally:
            os._exit(rc)
    return pid


def _wait(pid: int, timeout: float) -> int | None:
    """The exit status of child ``pid`` (negative: killed by that signal), or None after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def gankit(command: str, run_dir: Path, fault: str | None = None, delay: float | None = None,
           launch: str = "fork") -> tuple[int, float]:
    """Run ``gankit train`` (into ``run_dir``'s parent) or ``gankit resume run_dir`` in a new process,
    with ``fault`` armed, or SIGKILLed after ``delay`` seconds. ``launch="exec"`` starts
    ``python -m gankit``; ``"fork"`` forks this process, which has gankit imported already (the same
    code in a process of its own, without the seconds of importing torch each time).
    Returns (exit status, wall seconds)."""
    argv = _argv(command, run_dir)
    start = time.perf_counter()
    timeout = delay if delay is not None else 600.0
    if launch == "exec":
        proc = _exec(argv, fault)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    else:
        pid = _fork(argv, fault)
        rc = _wait(pid, timeout)
        if rc is None:
            os.kill(pid, signal.SIGKILL)
            rc = _wait(pid, 600.0)
    return rc, time.perf_counter() - start


def temp_files(run_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if TEMP_FILE.fullmatch(p.name))


def _stats(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "time"} for line in lines]


def first_difference(reference: Path, run_dir: Path) -> str | None:
    """What first differs between two run directories (None: the run is the reference, bit for bit)."""
    want_t, want_meta = load_checkpoint(str(reference / CHECKPOINT_NAME))
    got_t, got_meta = load_checkpoint(str(run_dir / CHECKPOINT_NAME))
    if sorted(got_t) != sorted(want_t):
        return f"checkpoint tensors {sorted(set(got_t) ^ set(want_t))[:3]}"
    for key, want in want_t.items():
        if got_t[key].dtype != want.dtype or not torch.equal(got_t[key], want):
            return f"checkpoint tensor {key}"
    for key in sorted(want_meta.keys() | got_meta.keys()):
        if got_meta.get(key) != want_meta.get(key):
            return f"checkpoint header field {key}"
    want_stats, got_stats = _stats(reference / "stats.jsonl"), _stats(run_dir / "stats.jsonl")
    if got_stats != want_stats:
        at = next((i for i, (a, b) in enumerate(zip(got_stats, want_stats)) if a != b), min(len(got_stats),
                                                                                             len(want_stats)))
        return f"stats.jsonl line {at + 1}"
    files = {str(p.relative_to(reference)) for p in reference.rglob("*") if p.is_file()}
    got_files = {str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file()}
    if files != got_files:
        return f"files {sorted(files ^ got_files)[:3]}"
    for name in sorted(files - NOT_COMPARED):
        if (reference / name).read_bytes() != (run_dir / name).read_bytes():
            return name
    return None


def warm_up() -> None:
    """Import what a run imports lazily, so that forked children do not each import it again."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    import gankit.experiment  # noqa: F401  (every registry)
    import gankit.runs.training  # noqa: F401
    import gankit.viz.curves  # noqa: F401
    import gankit.viz.histograms  # noqa: F401
    import gankit.viz.toy2d  # noqa: F401

    fig = Figure()
    FigureCanvasAgg(fig)
    fig.add_subplot().plot([0, 1], label="x")
    fig.savefig(io.BytesIO(), format="png")  # loads the fonts


def reference_run(workdir: Path, launch: str = "fork") -> tuple[Path, float]:
    """The uninterrupted run (trained where the trials train, then moved to ``workdir/reference``, so
    its config's ``train.out_dir`` is theirs) and its wall seconds."""
    run_dir = workdir / "trial" / RUN
    rc, wall = gankit("train", run_dir, launch=launch)
    if rc != 0:
        raise RuntimeError(f"the reference run exited {rc}")
    reference = workdir / "reference" / RUN
    reference.parent.mkdir(parents=True)
    run_dir.rename(reference)
    return reference, wall


def draw_faults(rng: random.Random, reference_wall: float) -> list[dict]:
    """One kill, or two in a row (p = 0.4): each a fault site and its n, or a delay."""
    faults = []
    for _ in range(2 if rng.random() < 0.4 else 1):
        kind = rng.choice(KINDS)
        if kind == "delay":
            faults.append({"delay": round(rng.uniform(0.0, reference_wall), 3)})
        else:
            faults.append({"fault": f"{kind}@{rng.randint(1, HITS[kind])}"})
    return faults


def checkpoint_step(run_dir: Path) -> int | None:
    """The step of the run's checkpoint; None when there is none. A checkpoint that does not load
    raises CheckpointError: a kill must never leave one behind."""
    if not (run_dir / CHECKPOINT_NAME).exists():
        return None
    return load_checkpoint(str(run_dir / CHECKPOINT_NAME))[1]["step"]


def run_trial(workdir: Path, reference: Path, kills: list[dict], launch: str = "fork") -> dict:
    """Train with ``kills`` in a row, resume to the end, compare with ``reference`` (both made by
    ``reference_run(workdir)``)."""
    run_dir = workdir / "trial" / RUN
    shutil.rmtree(run_dir.parent, ignore_errors=True)
    record: dict = {"kills": [], "killed": 0}
    start = time.perf_counter()
    command = "train"
    for fault in kills:
        rc, _ = gankit(command, run_dir, fault.get("fault"), fault.get("delay"), launch)
        step = checkpoint_step(run_dir)
        record["kills"].append({**fault, "command": command, "killed": rc == -9, "checkpoint_step": step,
                                "temp_files": len(temp_files(run_dir))})
        record["killed"] += rc == -9
        if rc not in (0, -9):
            break
        command = "train" if step is None else "resume"
    rc, _ = gankit(command, run_dir, launch=launch)
    record.update(final_command=command, final_rc=rc, resumed=command == "resume" and rc == 0)
    record["stale_temp_files"] = temp_files(run_dir)
    record["difference"] = first_difference(reference, run_dir) if rc == 0 else f"exit status {rc}"
    record["identical"] = record["difference"] is None
    record["wall_s"] = round(time.perf_counter() - start, 2)
    return record


def summarise(path: str) -> str:
    """Counts over every trial of ``runs.jsonl``: trials, kills, resumes, bit-identical runs, stale files."""
    records = [r for r in read_records(path) if "trial" in r]
    if not records:
        raise Refused(f"{path}: no trial records")
    kills = [k for r in records for k in r["kills"]]
    lines = ["| trials | processes killed | twice in a row | resumed | trained again | bit-identical | "
             "kills that left temp files | temp files left at the end | checkpoint unloadable |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines.append(
        f"| {len(records)} | {sum(r['killed'] for r in records)} of {len(kills)} "
        f"| {sum(r['killed'] == 2 for r in records)} | {sum(r['resumed'] for r in records)} "
        f"| {sum(r['final_command'] == 'train' for r in records)} | {sum(r['identical'] for r in records)} "
        f"| {sum(k.get('temp_files', 0) > 0 for k in kills)} | {sum(len(r['stale_temp_files']) for r in records)} "
        f"| {sum(r.get('unloadable', 0) for r in records)} |"
    )
    return "\n".join(lines)


def by_site(path: str) -> str:
    """How often each kind of kill was armed and how often it killed (a site a resumed process never
    reaches, a delay past the process's end: armed, not killed)."""
    kills = [k for r in read_records(path) if "trial" in r for k in r["kills"]]
    sites = sorted({k.get("fault", "@").rpartition("@")[0] or "delay" for k in kills})
    lines = ["| kill | armed | killed |", "|---|---|---|"]
    for site in sites:
        hits = [k for k in kills if (k.get("fault", "@").rpartition("@")[0] or "delay") == site]
        lines.append(f"| `{site}` | {len(hits)} | {sum(k.get('killed', False) for k in hits)} |")
    return "\n".join(lines)


def summary_page(out: str) -> str:
    """``summarise``'s tables under the commands that made the records, their machine and threads."""
    path = os.path.join(out, "runs.jsonl")
    table = summarise(path) + "\n\n" + by_site(path)
    commands = [json.loads(line) for line in Path(out, "commands.jsonl").read_text().splitlines() if line.strip()]
    lines = ["# kill -9 and resume: bit-identical runs", ""]
    for c in commands:
        m = c["machine"]
        lines.append(f"- `OMP_NUM_THREADS={c.get('omp_num_threads')} {c['command']}` (seed {c['seed']}, "
                     f"{c.get('launch')} launch; {m.get('cpu', '?')}, {m.get('nproc', '?')} CPUs, "
                     f"torch {m['torch']} with {m['threads']} thread(s), Python {m['python']})")
    trial_args = " ".join(TRIAL_ARGS)
    lines += ["", f"Each trial: `gankit train {trial_args}`, killed as drawn, resumed to the end.", "", table]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0, help="seed of the kill instants")
    ap.add_argument("--first", type=int, default=0, help="index of the first trial (split a long run over processes)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "faults"))
    ap.add_argument("--launch", choices=("fork", "exec"), default="fork",
                    help="fork: children of this process (gankit imported once); exec: `python -m gankit` each")
    ap.add_argument("--summarise", action="store_true", help="print the table of <out>/runs.jsonl and exit")
    args = ap.parse_args()
    if args.trials < 1 or args.first < 0:
        raise Refused(f"--trials must be >= 1 and --first >= 0, got {args.trials} and {args.first}")
    path = os.path.join(args.out, "runs.jsonl")
    if not args.summarise:
        log_invocation(args.out, seed=args.seed, trials=args.trials, launch=args.launch,
                       omp_num_threads=os.environ.get("OMP_NUM_THREADS"), reference_steps=STEPS)
        if args.launch == "fork":
            warm_up()
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            reference, wall = reference_run(workdir, args.launch)
            append_record(path, {"reference_wall_s": round(wall, 2), "seed": args.seed, "first": args.first})
            for trial in range(args.first, args.first + args.trials):
                kills = draw_faults(random.Random(f"{args.seed}:{trial}"), wall)
                try:
                    rec = run_trial(workdir, reference, kills, args.launch)
                except CheckpointError as exc:  # a kill left a checkpoint that does not load
                    rec = {"kills": kills, "killed": 0, "unloadable": 1, "identical": False, "resumed": False,
                           "final_command": "none", "stale_temp_files": [], "difference": str(exc)}
                append_record(path, {"trial": trial, "seed": args.seed, "launch": args.launch, **rec})
    write_summary(args.out, summary_page(args.out))


if __name__ == "__main__":
    run_main(main)
