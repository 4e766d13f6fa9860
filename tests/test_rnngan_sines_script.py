"""benchmarks/rnngan_sines.py refuses what it cannot run in one line, exit 2, before logging."""

from tests.test_benchmark_scripts import assert_refused, run_script


def test_unknown_method_other_data_and_the_held_out_seed_are_refused_before_logging(tmp_path):
    out = tmp_path / "out"
    proc = run_script("rnngan_sines.py", "--methods", "mle,timegan", "--out", str(out))
    assert_refused(proc, "rnngan_sines.py", "'timegan'")
    proc = run_script("rnngan_sines.py", "--methods", "mle", "--set", "data.name=ring", "--out", str(out))
    assert_refused(proc, "rnngan_sines.py", "held-out sines")
    proc = run_script("rnngan_sines.py", "--methods", "rnngan", "--set", "data.seed=1", "--out", str(out))
    assert_refused(proc, "rnngan_sines.py", "--eval-data-seed")
    assert not out.exists()
