"""Latent-space tools of `gankit` and `runs.LoadedRun`: class x seed grids (conditional and
InfoGAN), InfoGAN traversals, reconstructions G(E(x)) and interpolation between real examples
(with mrgan's encoder); each checked against values computed directly, and every bad input
exiting 2 with one line on stderr and no file written."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gankit.cli import main
from gankit.config import DataConfig
from gankit.data import build_dataset
from gankit.recipes.infogan import latent_traversal
from gankit.runs import load_run
from gankit.runs.artifacts import BLANK, paired_rows
from gankit.train.trainer import Trainer
from tests.helpers import tiny
from tests.recipes.test_mrgan import mrgan_cfg
from tests.recipes.test_new_recipes import tiny_recipe

NOISE, CAT = 8, 4  # the tiny infogan run: 8 noise dims, a 4-way categorical code, 2 continuous codes


def _trained_run(cfg, run_dir, steps=2):
    """A run directory with the checkpoint of ``steps`` training steps (what `gankit train`
    leaves, without its plots)."""
    trainer = Trainer(cfg, str(run_dir))
    for _ in range(steps):
        trainer.train_step()
    run_dir.mkdir()
    trainer.save_checkpoint()
    return str(run_dir)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("latent_tools")
    cfgs = {
        "cond": tiny("digits-dcgan", tmp, "model.conditional=true"),
        "plain": tiny("digits-dcgan", tmp),
        "info": tiny_recipe("digits-dcgan", tmp, "infogan", f"recipe.categorical={CAT}", "recipe.continuous=2"),
        "mrgan": mrgan_cfg(tmp, "train.ema_decay=0.9", preset="digits-dcgan"),
        "cogan": tiny_recipe("digits-dcgan", tmp, "cogan", "recipe.domain_b=negative"),
    }
    return {name: _trained_run(cfg, tmp / name) for name, cfg in cfgs.items()}


def _eval(nets):
    for m in nets.values():
        m.eval()
    return nets


def _npz(path):
    return torch.from_numpy(np.load(path)["samples"])


def test_class_grid_of_a_conditional_model(runs, tmp_path):
    run = load_run(runs["cond"])
    seeds, seed = 3, 5
    grid = run.class_grid(seeds, seed)  # (10·3, 1, 8, 8)
    assert grid.shape == (10 * seeds, 1, 8, 8)
    z = run.recipe.latent(seeds, torch.Generator().manual_seed(seed))  # the columns' latents
    nets = _eval(run.nets())
    for r in range(10):
        row = grid[r * seeds:(r + 1) * seeds]
        torch.testing.assert_close(row, run.sample(seeds, seed, class_id=r), rtol=0, atol=0)
        with torch.no_grad():
            direct = nets["G"](z, torch.full((seeds,), r))  # cell (r, j) = G(z_j, r)
        torch.testing.assert_close(row, direct)
    assert (grid[0] - grid[seeds]).abs().max() > 1e-4  # same z, another class
    out = tmp_path / "grid.npz"
    assert main(["sample", runs["cond"], "--class-grid", "--seeds", "3", "--seed", "5", "--out", str(out)]) == 0
    torch.testing.assert_close(_npz(out), grid, rtol=0, atol=0)
    png = tmp_path / "grid.png"
    assert main(["sample", runs["cond"], "--class-grid", "--seeds", "3", "--out", str(png)]) == 0
    assert Image.open(png).size == (8 * (3 * (8 + 2) + 2), 8 * (10 * (8 + 2) + 2))  # 3 columns, 10 rows


def test_class_grid_of_an_infogan_run_varies_the_categorical_code(runs):
    run = load_run(runs["info"])
    seeds, seed = 2, 7
    grid = run.class_grid(seeds, seed)  # (4·2, 1, 8, 8)
    z = run.recipe.latent(seeds, torch.Generator().manual_seed(seed))  # (2, 14)
    nets = _eval(run.nets())
    traversal = latent_traversal(run, 0, range(CAT), seed, rows=seeds)  # seed-major: row j, column r
    for r in range(CAT):
        zr = z.clone()
        zr[:, NOISE:NOISE + CAT] = F.one_hot(torch.full((seeds,), r), CAT).float()
        with torch.no_grad():
            torch.testing.assert_close(grid[r * seeds:(r + 1) * seeds], nets["G"](zr))
        for j in range(seeds):
            torch.testing.assert_close(grid[r * seeds + j], traversal[j * CAT + r], rtol=0, atol=0)


def test_traverse_command_matches_latent_traversal(runs, tmp_path):
    run = load_run(runs["info"])
    out = tmp_path / "t.npz"
    assert main(["traverse", runs["info"], "--code", "2", "--range=-2,2,5", "--rows", "3", "--seed", "4",
                 "--out", str(out)]) == 0
    expected = latent_traversal(run, 2, [-2.0, -1.0, 0.0, 1.0, 2.0], seed=4, rows=3)
    torch.testing.assert_close(_npz(out), expected, rtol=0, atol=0)
    assert main(["traverse", runs["info"], "--code", "0", "--values", "3,1", "--rows", "1", "--out", str(out)]) == 0
    torch.testing.assert_close(_npz(out), latent_traversal(run, 0, [3, 1], seed=0), rtol=0, atol=0)
    # defaults: every class of the categorical code, and 7 points over [-1, 1] for a continuous one
    torch.testing.assert_close(run.traverse(0, rows=2), latent_traversal(run, 0, range(CAT), 0, rows=2))
    torch.testing.assert_close(run.traverse(1), latent_traversal(run, 1, np.linspace(-1, 1, 7).tolist(), 0))
    png = tmp_path / "t.png"
    assert main(["traverse", runs["info"], "--code", "0", "--rows", "2", "--out", str(png)]) == 0
    assert Image.open(png).size == (8 * (CAT * (8 + 2) + 2), 8 * (2 * (8 + 2) + 2))


def _digits_test(n):
    return build_dataset(DataConfig(name="digits", split="test", resolution=8, limit=256)).x[:n]


def test_reconstruction_is_g_of_e_of_the_test_examples(runs, tmp_path):
    run = load_run(runs["mrgan"])
    real, recon = run.reconstructions(5, "test")
    x = _digits_test(5)
    torch.testing.assert_close(real, x, rtol=0, atol=0)
    nets = _eval(run.nets())
    assert nets["G"] is run.ema["G"]  # the EMA generator, the live encoder
    with torch.no_grad():
        torch.testing.assert_close(recon, nets["G"](nets["E"](x)))
    assert (recon - real).abs().max() > 1e-3  # not the identity
    out = tmp_path / "r.npz"
    assert main(["reconstruct", runs["mrgan"], "--n", "5", "--out", str(out)]) == 0
    torch.testing.assert_close(_npz(out), torch.cat([real, recon]), rtol=0, atol=0)
    png = tmp_path / "r.png"
    assert main(["reconstruct", runs["mrgan"], "--n", "5", "--out", str(png)]) == 0
    assert Image.open(png).size == (8 * (5 * (8 + 2) + 2), 8 * (2 * (8 + 2) + 2))  # real row over recon row


def test_paired_rows_puts_each_chunk_above_its_pair():
    top, bottom = torch.arange(3.0).reshape(3, 1), 10 + torch.arange(3.0).reshape(3, 1)
    rows = paired_rows(top, bottom, cols=2).flatten().tolist()
    assert rows == [0, 1, 10, 11, 2, BLANK, 12, BLANK]


def test_interpolation_between_real_examples(runs, tmp_path):
    run = load_run(runs["mrgan"])
    a, b, steps = 2, 7, 5
    x, path = run.interpolate_real(a, b, steps)
    xa, xb = _digits_test(8)[[a, b]]
    torch.testing.assert_close(x, torch.stack([xa, xb]), rtol=0, atol=0)
    nets = _eval(run.nets())
    with torch.no_grad():
        za, zb = nets["E"](xa[None]), nets["E"](xb[None])
        torch.testing.assert_close(path[0], nets["G"](za)[0])  # G(E(x_A))
        torch.testing.assert_close(path[-1], nets["G"](zb)[0])
        torch.testing.assert_close(path[2], nets["G"]((za + zb) / 2)[0])  # t = 1/2 of the linear path
    _, spherical = run.interpolate_real(a, b, steps, spherical=True)
    torch.testing.assert_close(spherical[0], path[0])
    assert (spherical[2] - path[2]).abs().max() > 1e-6
    out = tmp_path / "ab.npz"
    assert main(["interpolate", runs["mrgan"], "--between-real", f"{a},{b}", "--steps", "5", "--out", str(out)]) == 0
    torch.testing.assert_close(_npz(out), torch.cat([xa[None], path, xb[None]]), rtol=0, atol=0)


def test_bad_inputs_exit_2_with_one_line_and_write_nothing(runs, tmp_path, capsys):
    cond, plain, info, mrgan = runs["cond"], runs["plain"], runs["info"], runs["mrgan"]
    out = tmp_path / "never.png"
    cases = [
        (["sample", plain, "--class-grid"], "needs a conditional model"),
        (["sample", cond, "--class", "12"], "--class must be in [0, 9]"),
        (["sample", cond, "--class-grid", "--seeds", "0"], "--seeds must be >= 1"),
        (["sample", cond, "--class-grid", "--n", "5"], "takes neither --n nor --class"),
        (["sample", cond, "--seeds", "3"], "--seeds goes with --class-grid"),
        (["sample", plain, "--pairs"], "domain pairs need a run of a two-domain recipe"),
        (["sample", runs["cogan"], "--pairs", "--class", "1"], "takes neither --class nor --class-grid"),
        (["traverse", plain, "--code", "0"], "need a run with latent codes"),
        (["traverse", info, "--code", "3"], "code_index must be in [0, 2]"),
        (["traverse", info, "--code", "0", "--values", "0,4"], "class indices in [0, 3]"),
        (["traverse", info, "--code", "1", "--values", "a,b"], "comma-separated numbers"),
        (["traverse", info, "--code", "1", "--range", "1,2"], "--range takes lo,hi,steps"),
        (["traverse", info, "--code", "1", "--values", "1", "--range", "0,1,3"], "not allowed with"),
        (["traverse", info], "--code"),
        (["reconstruct", plain], "has no encoder"),
        (["reconstruct", mrgan, "--n", "0"], "--n must be >= 1"),
        (["reconstruct", mrgan, "--n", "100000"], "out of range: the test split has"),
        (["reconstruct", mrgan, "--split", "bogus"], "not one of train, test, all"),
        (["interpolate", plain, "--between-real", "0,1"], "has no encoder"),
        (["interpolate", mrgan, "--between-real", "0,99999"], "example index 99999 is out of range"),
        (["interpolate", mrgan, "--between-real", "3"], "two example indices"),
        (["interpolate", mrgan, "--between-real", "0,1", "--rows", "2"], "neither --rows nor --seed"),
        (["interpolate", mrgan, "--between-real", "0,1", "--steps", "1"], "--steps >= 2"),
        (["interpolate", mrgan, "--split", "test"], "go with --between-real"),
    ]
    capsys.readouterr()
    for argv, fragment in cases:
        assert main([*argv, "--out", str(out)]) == 2, argv
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gankit: error:") and fragment in lines[0], (argv, err)
        assert not out.exists(), argv


def test_pairs_of_a_cogan_run_interleave_the_two_domains(runs, tmp_path):
    run = load_run(runs["cogan"])
    out = tmp_path / "pairs.npz"
    assert main(["sample", runs["cogan"], "--pairs", "--n", "3", "--seed", "5", "--out", str(out)]) == 0
    pairs = _npz(out)
    z = run.recipe.latent(3, torch.Generator().manual_seed(5))
    nets = _eval(run.nets())
    with torch.no_grad():
        xa, xb = run.recipe.generate_pair(nets, z)
    torch.testing.assert_close(pairs[0::2], xa)
    torch.testing.assert_close(pairs[1::2], xb)
