"""gankit export / gankit.load_generator: a run's generator shared as safetensors + model.json
(+ ONNX), loaded back without the run, sampling exactly as the run does; bad input is one line."""

import json
import os
import pickle
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import gankit
from gankit.cli import main
from gankit.errors import CheckpointError, ConfigError
from gankit.runs import export as export_mod
from gankit.runs import load_run, train
from gankit.runs.export import export_run
from gankit.runs.exported import MODEL_NAME, WEIGHTS_NAME, ExportedGenerator, load_generator
from tests.helpers import tiny
from tests.recipes.test_new_recipes import tiny_recipe

STEPS = ["train.steps=4", "train.ema_decay=0.5"]  # EMA far from the live weights, so exporting G instead shows
METRICS = {"fid": 12.5, "n": 100}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export_runs")
    mlp = train(tiny("ring-gan", tmp, *STEPS, "train.run_name=mlp")).run_dir
    with open(os.path.join(mlp, "metrics.json"), "w") as fh:
        json.dump(METRICS, fh)
    cdcgan = train(tiny("digits-dcgan", tmp, *STEPS, "model.conditional=true", "train.run_name=cdcgan")).run_dir
    return {"mlp": mlp, "cdcgan": cdcgan}


@pytest.fixture(scope="module")
def exports(runs, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exports")
    return {name: export_run(run, str(tmp / name)) for name, run in runs.items()}


def _copy(src, tmp_path):
    dst = str(tmp_path / "copy")
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("name", ["mlp", "cdcgan"])
def test_exported_generator_samples_exactly_as_the_run(runs, exports, name):
    G = gankit.load_generator(exports[name])
    run = load_run(runs[name])
    for seed in (0, 7):
        torch.testing.assert_close(G.sample(10, seed), run.sample(10, seed), rtol=0, atol=0)
    if name == "cdcgan":
        torch.testing.assert_close(G.sample(5, 1, class_id=3), run.sample(5, 1, class_id=3), rtol=0, atol=0)
        # by hand: z ~ N(0, I) drawn with the seed, labels 0, 1, 2, .. through the EMA generator
        z = torch.randn(12, run.recipe.z_dim, generator=torch.Generator().manual_seed(4))
        c = torch.arange(12) % 10
        run.ema["G"].eval()
        with torch.no_grad():
            torch.testing.assert_close(G.sample(12, 4), run.ema["G"](z, c), rtol=0, atol=0)
    assert not torch.equal(G.sample(10, 0), run.sample(10, 0, use_ema=False))  # the EMA weights, not the live G


def test_model_json_describes_the_run(runs, exports):
    info = json.load(open(os.path.join(exports["cdcgan"], MODEL_NAME)))
    assert info["family"] == "dcgan" and info["model"]["conditional"] is True
    assert info["latent"] == {"z_dim": 8, "prior": "normal", "mean": 0.0, "std": 1.0}
    assert info["classes"] == {"num_classes": 10, "names": [str(i) for i in range(10)]}
    assert info["sample_shape"] == [1, 8, 8] and info["normalisation"]["range"] == [-1.0, 1.0]
    assert info["training"]["data"] == "digits" and info["training"]["steps"] == 4
    assert info["generator"] == {"module": "G", "inputs": ["z", "c"], "weights": "ema"}
    assert info["gankit_version"] == gankit.__version__ and info["licence"] == "MIT"
    mlp = json.load(open(os.path.join(exports["mlp"], MODEL_NAME)))
    assert mlp["metrics"] == METRICS and mlp["generator"]["inputs"] == ["z"] and mlp["classes"]["num_classes"] == 0
    card = open(os.path.join(exports["cdcgan"], "README.md")).read()
    assert "conditional on 10 classes" in card and "gankit.load_generator" in card
    assert sorted(os.listdir(exports["mlp"])) == ["README.md", "generator.safetensors", "model.json"]


def test_to_pixels_maps_the_data_range():
    x = torch.tensor([-1.5, -1.0, 0.0, 0.5, 1.0])
    assert ExportedGenerator.to_pixels(x).tolist() == [0, 0, 128, 191, 255]  # round(127.5)=128


def test_cli_exports_and_samples_an_exported_model(runs, tmp_path, capsys):
    out = str(tmp_path / "shared")
    assert main(["export", runs["cdcgan"], "--out", out, "--licence", "CC-BY-4.0"]) == 0
    assert json.load(open(os.path.join(out, MODEL_NAME)))["licence"] == "CC-BY-4.0"
    npz = str(tmp_path / "s.npz")
    assert main(["sample", out, "--n", "6", "--seed", "2", "--class", "1", "--out", npz]) == 0
    want = load_run(runs["cdcgan"]).sample(6, 2, class_id=1).numpy()
    np.testing.assert_array_equal(np.load(npz)["samples"], want)
    assert main(["sample", out, "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert os.path.getsize(tmp_path / "s.png") > 0
    capsys.readouterr()
    assert main(["sample", out, "--class-grid"]) == 2
    assert main(["sample", out, "--class", "10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "need the run directory" in err and "[0, 9]" in err


@pytest.mark.parametrize("name", ["mlp", "cdcgan"])
def test_onnx_round_trip(runs, tmp_path, name):
    pytest.importorskip("onnx", reason="onnx is not installed (pip install 'gankit[export]')")
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install 'gankit[export]')")
    out = export_run(runs[name], str(tmp_path / "m"), onnx=True)
    info = json.load(open(os.path.join(out, MODEL_NAME)))
    assert info["onnx"]["file"] == "generator.onnx" and info["onnx"]["max_abs_diff"] <= 1e-4
    G = load_generator(out)
    session = ort.InferenceSession(os.path.join(out, "generator.onnx"), providers=["CPUExecutionProvider"])
    for n in (64, 5):  # the batch axis is dynamic
        z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(n))  # (n, z_dim)
        c = torch.arange(n) % 10 if G.num_classes else None
        feeds = {"z": z.numpy()} | ({"c": c.numpy()} if c is not None else {})
        got = session.run(["x"], feeds)[0]
        with torch.no_grad():
            want = G(z, c).numpy()
        assert got.shape == want.shape == (n, *G.sample_shape)
        assert np.abs(got - want).max() <= 1e-4


def _edit_json(d, change):
    path = os.path.join(d, MODEL_NAME)
    info = json.load(open(path))
    change(info)
    json.dump(info, open(path, "w"))


TAMPERING = {
    "unknown family": (lambda i: i["model"].update(arch="nope"), "cannot rebuild"),
    "unknown key": (lambda i: i["model"].update(depth=3), "cannot rebuild"),
    "wrong net shape": (lambda i: i["net_spec"].update(sample_shape=[3]), "does not fit the mlp generator"),
    "wrong sample shape": (lambda i: i.update(sample_shape=[3]), "model.json says (3,)"),
    "bad shape": (lambda i: i.update(sample_shape=[0]), "positive integers"),
    "other format": (lambda i: i.update(format="pickle"), "not a gankit model card"),
    "no latent": (lambda i: i.pop("latent"), "incomplete model description"),
    "other prior": (lambda i: i["latent"].update(prior="uniform"), "prior 'uniform'"),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampered_model_json_is_one_line(exports, tmp_path, capsys, case):
    change, message = TAMPERING[case]
    d = _copy(exports["mlp"], tmp_path)
    _edit_json(d, change)
    with pytest.raises(CheckpointError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_generator(d)
    assert main(["sample", d, "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gankit: error:")
    assert not os.path.exists(tmp_path / "x.png")


def test_weights_of_another_architecture_or_missing_files(exports, tmp_path):
    d = _copy(exports["mlp"], tmp_path)
    shutil.copy(os.path.join(exports["cdcgan"], WEIGHTS_NAME), os.path.join(d, WEIGHTS_NAME))
    with pytest.raises(CheckpointError, match="does not fit the mlp generator.*another architecture"):
        load_generator(d)
    state = load_generator(exports["mlp"]).G.state_dict()
    key = next(iter(state))
    save_file({**state, key: torch.zeros(3, 3)}, os.path.join(d, WEIGHTS_NAME))  # same names, one shape off
    with pytest.raises(CheckpointError, match=f"{key} has shape \\(3, 3\\)"):
        load_generator(d)
    os.remove(os.path.join(d, WEIGHTS_NAME))
    with pytest.raises(CheckpointError, match="generator.safetensors not found"):
        load_generator(d)
    os.remove(os.path.join(d, MODEL_NAME))
    with pytest.raises(CheckpointError, match="model.json not found"):
        load_generator(d)
    with pytest.raises(CheckpointError, match="not found"):
        load_generator(str(tmp_path / "nothing"))


class _Payload:
    def __reduce__(self):
        return (open, (MARKER[0], "w"))


MARKER = [""]


def test_a_pickle_in_place_of_the_weights_is_never_unpickled(exports, tmp_path):
    d = _copy(exports["mlp"], tmp_path)
    MARKER[0] = str(tmp_path / "unpickled")
    with open(os.path.join(d, WEIGHTS_NAME), "wb") as fh:
        pickle.dump({"G": _Payload()}, fh)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_generator(d)
    assert not os.path.exists(MARKER[0])


def test_a_failing_export_leaves_nothing(runs, tmp_path, monkeypatch):
    def broken_card(info):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_mod, "model_card", broken_card)
    with pytest.raises(RuntimeError, match="disk full"):
        export_run(runs["mlp"], str(tmp_path / "m"))
    assert os.listdir(tmp_path) == []  # neither the target nor the temporary directory


def test_export_refusals_write_nothing(runs, exports, tmp_path, capsys):
    before = sorted(os.listdir(exports["mlp"]))
    with pytest.raises(ConfigError, match="exists"):
        export_run(runs["mlp"], exports["mlp"])
    assert sorted(os.listdir(exports["mlp"])) == before
    info = train(tiny_recipe("digits-dcgan", tmp_path, "infogan", "recipe.categorical=4", "recipe.continuous=2",
                             "train.steps=1", "train.run_name=info")).run_dir
    capsys.readouterr()
    assert main(["export", info, "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no noise-to-sample generator" in err
    assert main(["export", str(tmp_path / "no-run"), "--out", str(tmp_path / "m")]) == 2
    assert not os.path.exists(tmp_path / "m")


def test_only_plain_noise_recipes_declare_an_exportable_generator(runs):
    assert load_run(runs["cdcgan"]).recipe.exportable_generator() == ("G", ("z", "c"))
    assert load_run(runs["mlp"]).recipe.exportable_generator() == ("G", ("z",))


def test_an_onnx_graph_off_torch_is_refused_and_leaves_nothing(runs, tmp_path, monkeypatch):
    monkeypatch.setattr(export_mod, "write_onnx", lambda model, path: 2e-4)  # just over the 1e-4 tolerance
    with pytest.raises(CheckpointError, match="differs from torch by 0.0002"):
        export_run(runs["mlp"], str(tmp_path / "m"), onnx=True)
    assert os.listdir(tmp_path) == []


def test_a_run_without_ema_exports_its_live_generator(tmp_path):
    run = train(tiny("ring-gan", tmp_path / "r", "train.steps=2", "train.ema_decay=0", "train.run_name=live")).run_dir
    out = export_run(run, str(tmp_path / "m"))
    assert json.load(open(os.path.join(out, MODEL_NAME)))["generator"]["weights"] == "live"
    torch.testing.assert_close(load_generator(out).sample(8, 1), load_run(run).sample(8, 1), rtol=0, atol=0)
