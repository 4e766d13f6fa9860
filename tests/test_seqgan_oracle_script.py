"""benchmarks/seqgan_oracle.py refuses what it cannot run in one line, exit 2, before logging."""

from tests.test_benchmark_scripts import assert_refused, run_script


def test_unknown_method_and_other_data_are_refused_before_logging(tmp_path):
    out = tmp_path / "out"
    proc = run_script("seqgan_oracle.py", "--methods", "mle,leakgan", "--out", str(out))
    assert_refused(proc, "seqgan_oracle.py", "'leakgan'")
    proc = run_script("seqgan_oracle.py", "--methods", "mle", "--set", "data.name=sums", "--out", str(out))
    assert_refused(proc, "seqgan_oracle.py", "seqgan-oracle")
    proc = run_script("seqgan_oracle.py", "--methods", "mle", "--set", "recipe.rollouts=2", "--out", str(out))
    assert_refused(proc, "seqgan_oracle.py", "recipe.rollouts")  # seqgan-only keys go through --seqgan-set
    assert not out.exists()
