#!/usr/bin/env bash
# One call on a GPU machine (under ten minutes): the tests marked `gpu`, then the GPU measurements.
#
#   benchmarks/gpu_check.sh [OUT_DIR]          # default OUT_DIR: benchmarks/results/gpu_check
#   benchmarks/gpu_check.sh --dry [OUT_DIR]    # anywhere: parse this script, collect the gpu tests,
#                                              # run the Python parts on the CPU with --dry
#
# Writes OUT_DIR/gpu_tests.txt (pytest -m gpu; with 2+ GPUs that includes NCCL training),
# OUT_DIR/bench.json (trainer overhead ratio, Inception img/s in fp32 / channels_last / bf16 /
# torch.compile, Stacked-MNIST steps/s; see benchmarks/gpu_bench.py) and OUT_DIR/nvidia-smi.txt,
# and prints their names. PYTHON selects the interpreter (default: python).
set -euo pipefail

dry=0
out=""
for arg in "$@"; do
  case "$arg" in
    --dry) dry=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "gpu_check.sh: error: unknown option $arg" >&2; exit 2 ;;
    *) out="$arg" ;;
  esac
done
cd "$(dirname "$0")/.."
py="${PYTHON:-python}"
out="${out:-benchmarks/results/gpu_check}"
mkdir -p "$out"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"

if [ "$dry" = 1 ]; then
  bash -n "$0"
  "$py" -m pytest tests/gpu -m gpu --collect-only -p no:cacheprovider > "$out/gpu_tests.txt"
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$py" benchmarks/gpu_bench.py --dry --out "$out/bench.json"
  echo "dry run: gpu tests collected in $out/gpu_tests.txt; CPU dry results in $out/bench.json"
  exit 0
fi

nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed" > "$out/nvidia-smi.txt"
status=0
timeout 300 "$py" -m pytest tests/gpu -m gpu -q -rs -p no:cacheprovider > "$out/gpu_tests.txt" 2>&1 || status=$?
tail -n 5 "$out/gpu_tests.txt"
timeout 240 "$py" benchmarks/gpu_bench.py --out "$out/bench.json" || status=$?
echo "results: $out/gpu_tests.txt $out/bench.json $out/nvidia-smi.txt"
exit "$status"
