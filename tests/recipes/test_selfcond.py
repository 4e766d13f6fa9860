"""Recipe selfcond (Liu et al. 2020): cluster renumbering and the cluster draw by hand, k-means
recovering separated blobs, fakes labelled like their real batch, the refit schedule, exact resume,
sampling a saved run in the clusters' proportions, and the configurations it refuses."""

import numpy as np
import pytest
import torch
from scipy.stats import norm

from gankit.config import apply_overrides
from gankit.errors import CheckpointError, ConfigError
from gankit.experiment import config_from_dict
from gankit.presets import preset_tree
from gankit.recipes.selfcond import cluster_of, fit_clusterer, match_clusters
from gankit.runs import load_run, resume, train
from gankit.train.checkpoint import load_checkpoint, save_checkpoint
from gankit.train.trainer import Trainer
from tests.helpers import TINY_DIGITS
from tests.train.test_resume import _assert_identical

SMALL = ["recipe.clusters=4", "recipe.cluster_samples=128", "recipe.cluster_dim=8"]


def selfcond_cfg(tmp_path, *extra):
    tree = preset_tree("digits-dcgan")
    tree["recipe"] = {"name": "selfcond"}
    return config_from_dict(apply_overrides(tree, [*TINY_DIGITS, *SMALL, f"train.out_dir={tmp_path}", *extra]))


def test_match_clusters_by_hand():
    old = np.array([1, 1, 0, 0, 2, 2])
    new = np.array([0, 0, 1, 1, 2, 0])  # new 0 ~ old 1 (2 of 3), new 1 ~ old 0, new 2 ~ old 2
    np.testing.assert_array_equal(match_clusters(new, old, 3), [1, 1, 0, 0, 2, 1])
    # a one-to-one map even when two new clusters prefer the same old one: overlap 3+1 beats 2+2
    old = np.array([0, 0, 0, 0, 1, 1])
    new = np.array([0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(match_clusters(new, old, 2), [0, 0, 0, 1, 1, 1])


def test_cluster_of_inverts_the_empirical_cdf():
    counts = torch.tensor([1, 0, 3])  # CDF 0.25, 0.25, 1.0: cluster 1 is empty and never drawn
    u = torch.tensor(norm.ppf([0.1, 0.249, 0.26, 0.9]))
    torch.testing.assert_close(cluster_of(u, counts), torch.tensor([0, 0, 2, 2]))
    draws = cluster_of(torch.randn(200_000, generator=torch.Generator().manual_seed(0)), counts)
    freq = torch.bincount(draws, minlength=3).double() / len(draws)
    torch.testing.assert_close(freq, torch.tensor([0.25, 0.0, 0.75], dtype=torch.float64), atol=0.005, rtol=0)


def test_fit_clusterer_recovers_separated_blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 20)) * 10
    truth = rng.integers(0, 3, size=300)
    x = centres[truth] + rng.normal(size=(300, 20))
    assign = fit_clusterer(x[:150], k=3, dim=5, seed=0)  # fitted on half, assigns all
    np.testing.assert_array_equal(match_clusters(assign(x), truth, 3), truth)
    with pytest.raises(ConfigError, match="at least 3"):
        fit_clusterer(x[:2], k=3, dim=5, seed=0)


def test_fakes_carry_the_cluster_labels_of_their_real_batch(tmp_path):
    trainer = Trainer(selfcond_cfg(tmp_path), str(tmp_path / "r"))
    seen = []
    G = trainer.recipe.modules["G"]
    G.register_forward_pre_hook(lambda m, args: seen.append(args[1].clone()))
    index = []
    next_batch = trainer.loader.next
    trainer.loader.next = lambda: (b := next_batch(), index.append(b.index))[0]
    trainer.train_step()
    labels = trainer.recipe.labels
    assert labels.shape == (256,) and int(trainer.recipe.counts.sum()) == 256
    assert set(labels.tolist()) == {0, 1, 2, 3}
    torch.testing.assert_close(seen[0], labels[index[0]])  # D phase: G(z, c) with the real batch's clusters
    assert trainer.recipe.fitted_at == 0


def test_refits_on_schedule_and_resumes_exactly(tmp_path):
    fits = []
    trainer = Trainer(selfcond_cfg(tmp_path, "recipe.recluster_every=3"), str(tmp_path / "r"))
    fit = trainer.recipe.fit_clusters
    trainer.recipe.fit_clusters = lambda step, device: (fits.append(step), fit(step, device))
    for _ in range(7):
        trainer.train_step()
    assert fits == [0, 3, 6]

    n, k = 8, 4  # the resumed run refits at step 6 as the straight one does
    opts = ["recipe.recluster_every=3"]
    full = train(selfcond_cfg(tmp_path, f"train.steps={n}", "train.run_name=full", *opts))
    part = train(selfcond_cfg(tmp_path, f"train.steps={k}", "train.run_name=part", *opts))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    _assert_identical(full.run_dir, resumed.run_dir)
    state_full = load_checkpoint(f"{full.run_dir}/checkpoint.safetensors")[1]["recipe_state"]
    state_resumed = load_checkpoint(f"{resumed.run_dir}/checkpoint.safetensors")[1]["recipe_state"]
    assert state_full == state_resumed and state_full["fitted_at"] == 6


def test_a_saved_run_samples_clusters_in_their_proportions(tmp_path):
    result = train(selfcond_cfg(tmp_path, "train.steps=2"))
    run = load_run(result.run_dir)
    counts = torch.tensor(load_checkpoint(f"{result.run_dir}/checkpoint.safetensors")[1]["recipe_state"]["counts"])
    torch.testing.assert_close(run.recipe.counts, counts)
    z = run.recipe.latent(4000, torch.Generator().manual_seed(1))
    assert z.shape == (4000, 9)  # z_dim 8 + the cluster coordinate
    seen = []  # what G receives when the recipe samples: the noise, and the cluster its last coordinate picks
    G = run.recipe.modules["G"]
    G.register_forward_pre_hook(lambda m, args: seen.append((args[0].clone(), args[1].clone())))
    run.recipe.generate(run.recipe.modules, z)
    noise, c = seen[0]
    torch.testing.assert_close(noise, z[:, :8])
    torch.testing.assert_close(c, cluster_of(z[:, -1], counts))
    drawn = torch.bincount(c, minlength=4).double() / 4000
    torch.testing.assert_close(drawn, counts.double() / counts.sum(), atol=0.03, rtol=0)
    x = run.sample(16, seed=0)
    assert x.shape == (16, 1, 8, 8) and torch.isfinite(x).all()


def test_checkpoint_keeps_the_cluster_labels_as_a_tensor_and_refuses_bad_ones(tmp_path):
    trainer = Trainer(selfcond_cfg(tmp_path, "train.steps=1"), str(tmp_path / "r"))
    trainer.train_step()
    path = trainer.save_checkpoint()
    tensors, meta = load_checkpoint(path)
    torch.testing.assert_close(tensors["recipe/labels"], trainer.recipe.labels)
    assert "labels" not in meta["recipe_state"]  # 1 int per training example: a tensor, not JSON
    restored = Trainer(selfcond_cfg(tmp_path, "train.steps=1"), str(tmp_path / "r2"))
    restored.load_checkpoint(path)
    torch.testing.assert_close(restored.recipe.labels, trainer.recipe.labels)
    for bad in (tensors["recipe/labels"] + 4, tensors["recipe/labels"][:-1], tensors["recipe/labels"].float()):
        save_checkpoint(path, {**tensors, "recipe/labels": bad}, meta)
        with pytest.raises(CheckpointError, match="cluster labels"):
            restored.load_checkpoint(path)


@pytest.mark.parametrize("extra, words", [
    (["recipe.pack=2"], "pack must be 1"),
    (["model.conditional=true"], "model.conditional=false"),
    (["recipe.clusters=1"], "clusters must be >= 2"),
])
def test_refuses(tmp_path, extra, words):
    with pytest.raises(ConfigError, match=words):
        Trainer(selfcond_cfg(tmp_path, *extra), str(tmp_path / "r"))


def test_keeps_the_gan_recipes_own_state_ada_and_lecam(tmp_path):
    """selfcond adds its clusters to the gan recipe's state (ADA's p, LeCam's anchors), not instead of it."""
    opts = ["recipe.augment=ada", "recipe.ada_p=0.3", "recipe.lecam_weight=0.1"]
    n, k = 6, 3
    full = train(selfcond_cfg(tmp_path, f"train.steps={n}", "train.run_name=full", *opts))
    part = train(selfcond_cfg(tmp_path, f"train.steps={k}", "train.run_name=part", *opts))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    _assert_identical(full.run_dir, resumed.run_dir)
    tensors, meta = load_checkpoint(f"{full.run_dir}/checkpoint.safetensors")
    assert {"recipe/lecam_anchors", "recipe/labels"} <= set(tensors)
    assert any(key.startswith("recipe/ada_") for key in tensors) and "ada" in meta["recipe_state"]
