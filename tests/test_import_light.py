"""`import gankit` and `gankit --help` load none of the slow-to-import libraries: scikit-learn,
SciPy, matplotlib and POT are imported inside the functions that use them (in every module)."""

import json
import subprocess
import sys

HEAVY = ("sklearn", "scipy", "matplotlib", "ot")

# Runs in a fresh interpreter: which heavy modules are loaded after each stage. The last two
# stages call functions that need SciPy / scikit-learn, so the probe is shown to see them.
PROBE = f"""
import json, sys
HEAVY = {HEAVY!r}
seen = {{}}
def snap(stage):
    seen[stage] = sorted(m for m in HEAVY if m in sys.modules)
import gankit
snap("import gankit")
from gankit.cli import main
for argv in (["--help"], ["eval", "--help"], ["train", "--help"]):
    assert main(argv) == 0
snap("gankit --help")
import importlib, pkgutil
for mod in pkgutil.walk_packages(gankit.__path__, "gankit."):
    if not mod.name.endswith("__main__"):
        importlib.import_module(mod.name)
snap("every gankit module")
import numpy as np
from gankit.metrics import frechet_distance
rng = np.random.default_rng(0)
frechet_distance(rng.normal(size=(20, 2)), rng.normal(size=(20, 2)))
snap("after fid")
import torch
from gankit.rejection import platt_scale
platt_scale(torch.tensor([1.0, 2.0, 0.5]), torch.tensor([-1.0, -2.0, 0.2]))
snap("after platt_scale")
print("PROBE" + json.dumps(seen))
"""


def test_import_and_help_do_not_load_heavy_libraries():
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.rsplit("PROBE", 1)[1])
    assert seen["import gankit"] == []
    assert seen["gankit --help"] == []
    assert seen["every gankit module"] == []  # metrics, viz, recipes, run_samples, ... import them lazily
    assert "scipy" in seen["after fid"]  # the probe does see a lazily imported library
    assert "sklearn" in seen["after platt_scale"]
