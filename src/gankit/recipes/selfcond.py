"""Recipe ``selfcond``: Self-Conditioned GAN (Liu, Wang, Bau, Zhu & Torralba 2020, "Diverse Image
Generation via Self-Conditioned GANs", CVPR).

A conditional GAN whose classes are not given but found: the training set is split into ``k``
clusters by k-means on the discriminator's own features, and G(z, c) and the projection D(x, c)
are conditioned on the cluster c. Each real example's label is its cluster, and every fake is
drawn with the label of a real example of its batch, so G must put mass p(c) = (cluster size) / N
on each cluster: the mode-collapse remedy is that no cluster can be dropped or under-drawn
without D noticing.

Clustering (``fit_clusterer``): D's features of ``cluster_samples`` training examples (D in
eval mode) → their first ``cluster_dim`` principal components → k-means (scikit-learn, seeded);
then every training example is assigned to its nearest centre. At step 0 D is untrained; its
random features already group similar images (the authors also cluster at initialisation).
With ``recluster_every = n`` the clusters are fitted again every n steps on D's current features,
and the new clusters are renumbered to overlap the old ones most (Hungarian matching,
``match_clusters``), so G's label embedding keeps its meaning. Clustering is part of the step
that triggers it (its cost counts in training time).

Sampling draws the cluster from the latent: ``z = [noise (z_dim) | u]`` with one extra
coordinate u ~ N(0, 1), and c = the cluster whose slice of the empirical cluster CDF holds Φ(u).
G never sees u, so noise and cluster are independent, as in training.

The D loss, G loss and every stabiliser are the ``gan`` recipe's; PacGAN packing is not
available (a pack of samples from different clusters has no single label).

Set ``model.g_label_unit_norm=true`` (Liu et al.'s G: the cluster embedding has length 1 beside z):
with the default ``N(0, 1)`` embedding of width k the label outweighs the noise, and on Stacked MNIST
G collapsed to about one output per cluster (README, "Stacked MNIST").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

import numpy as np
import torch
from torch import nn

from gankit.config import ExperimentConfig
from gankit.errors import CheckpointError, ConfigError
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.gan import GANConfig, GANRecipe
from gankit.train.loader import Batch

FEATURE_BATCH = 500  # examples per D forward when computing clustering features


@dataclass(frozen=True)
class SelfCondConfig(GANConfig):
    name: str = "selfcond"
    clusters: int = 100  # k: clusters G and D are conditioned on (Liu et al.'s Stacked MNIST: 100)
    recluster_every: int = 0  # steps between fits on D's current features (0: fit once, at step 0)
    cluster_samples: int = 25000  # training examples k-means is fitted on (then every example is assigned)
    cluster_dim: int = 256  # principal components of D's features that k-means sees

    def validate(self) -> None:
        super().validate()
        if self.pack != 1:
            raise ConfigError("recipe selfcond conditions D on one cluster per input: recipe.pack must be 1")
        if self.clusters < 2:
            raise ConfigError(f"recipe.clusters must be >= 2, got {self.clusters}")
        for key in ("cluster_samples", "cluster_dim"):
            if getattr(self, key) < 1:
                raise ConfigError(f"recipe.{key} must be >= 1, got {getattr(self, key)}")
        if self.recluster_every < 0:
            raise ConfigError(f"recipe.recluster_every must be >= 0, got {self.recluster_every}")


def match_clusters(new: np.ndarray, old: np.ndarray, k: int) -> np.ndarray:
    """Renumber the clusters of ``new`` (labels in ``0..k-1``) so that they agree with ``old`` on
    as many examples as possible (a one-to-one map, Hungarian algorithm on the k×k overlap counts)."""
    from scipy.optimize import linear_sum_assignment  # local: SciPy is slow to import
    overlap = np.zeros((k, k), dtype=np.int64)
    np.add.at(overlap, (new, old), 1)  # overlap[i, j] = examples in new cluster i and old cluster j
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    mapping = np.empty(k, dtype=np.int64)
    mapping[rows] = cols
    return mapping[new]


def fit_clusterer(features: np.ndarray, k: int, dim: int, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """Fit PCA to ``dim`` components and k-means with ``k`` centres (seeded) on ``features`` ``(n, F)``;
    returns the assignment ``(m, F) -> (m,)`` labels in ``0..k-1`` (nearest centre in PCA space).
    ``ConfigError`` when there are fewer rows than clusters."""
    from sklearn.cluster import KMeans  # local: scikit-learn is slow to import
    from sklearn.decomposition import PCA
    if features.shape[0] < k:
        raise ConfigError(f"recipe.clusters={k} needs at least {k} examples to cluster, got {features.shape[0]}")
    dim = min(dim, *features.shape)
    solver = "randomized" if dim < min(features.shape) else "full"
    pca = PCA(dim, svd_solver=solver, random_state=seed).fit(features)
    kmeans = KMeans(k, n_init=1, random_state=seed).fit(pca.transform(features))
    return lambda f: kmeans.predict(pca.transform(f)).astype(np.int64)


def cluster_of(u: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """The cluster picked by standard-normal draws ``u`` ``(n,)``: the one whose slice of the
    empirical CDF of ``counts`` ``(k,)`` holds Φ(u)."""
    cdf = torch.cumsum(counts.double(), 0) / counts.sum()
    phi = torch.special.ndtr(u.double())
    return torch.searchsorted(cdf, phi, right=True).clamp_max(counts.numel() - 1)


@RECIPES.register(
    "selfcond", "Self-conditioned GAN (Liu et al. 2020): G and D conditioned on k-means clusters of D's features"
)
class SelfCondRecipe(GANRecipe):
    config_class = SelfCondConfig

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        if cfg.model.conditional:
            raise ConfigError("recipe selfcond conditions on clusters it finds: leave model.conditional=false")
        k = cfg.recipe.clusters
        super().__init__(replace(cfg, model=replace(cfg.model, conditional=True)), replace(data, num_classes=k))
        self.rc: SelfCondConfig = cfg.recipe
        self.noise_dim = cfg.model.z_dim
        self.labels: torch.Tensor | None = None  # (N,) cluster of every training example
        self.counts = torch.ones(k, dtype=torch.int64)  # cluster sizes (uniform until the first fit)
        self.fitted_at = -1  # step of the last fit

    @property
    def z_dim(self) -> int:
        return self.noise_dim + 1  # [noise | u]: u picks the cluster when sampling

    def _new_fake(self, batch: Batch, c: torch.Tensor | None) -> torch.Tensor:
        z = torch.randn(batch.x.shape[0], self.noise_dim, device=batch.x.device)  # (B, noise_dim)
        return self.modules["G"](z, c)  # (B, *sample_shape)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        noise, u = z[:, : self.noise_dim], z[:, self.noise_dim]
        if c is None:
            c = cluster_of(u.cpu(), self.counts).to(z.device)  # (n,)
        return nets["G"](noise, c)

    # -- the clusters
    def _fit_due(self, step: int) -> bool:
        if self.labels is None:
            return True
        every = self.rc.recluster_every
        return every > 0 and step > 0 and step % every == 0 and step != self.fitted_at

    @torch.no_grad()
    def _features(self, x: torch.Tensor, device: torch.device) -> np.ndarray:
        """D's features ``(n, F)`` of examples ``x``, D in eval mode (its training mode restored)."""
        D = self.modules["D"]
        was_training = D.training
        D.eval()
        try:
            parts = []
            for chunk in x.split(FEATURE_BATCH):
                c = torch.zeros(len(chunk), dtype=torch.int64, device=device)  # the features ignore c
                parts.append(D(chunk.to(device), c).features.float().cpu())
        finally:
            D.train(was_training)
        return torch.cat(parts).numpy()

    def fit_clusters(self, step: int, device: torch.device) -> None:
        """Cluster the training set on D's current features; renumber to match the previous fit."""
        x = self.data.train_set.x  # (N, *sample_shape)
        k, seed = self.rc.clusters, self.cfg.train.seed + step
        fit_rows = torch.from_numpy(np.random.default_rng(seed).permutation(len(x))[: self.rc.cluster_samples])
        assign = fit_clusterer(self._features(x[fit_rows], device), k, self.rc.cluster_dim, seed)
        labels = np.concatenate([assign(self._features(chunk, device)) for chunk in x.split(10 * FEATURE_BATCH)])
        if self.labels is not None:
            labels = match_clusters(labels, self.labels.cpu().numpy(), k)
        self.labels = torch.from_numpy(labels).to(device)
        self.counts = torch.bincount(self.labels.cpu(), minlength=k)
        self.fitted_at = step

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        if self._fit_due(ctx.step):
            self.fit_clusters(ctx.step, batch.x.device)
            ctx.report("clusters/largest_share", float(self.counts.max()) / float(self.counts.sum()))
            ctx.report("clusters/empty", float((self.counts == 0).sum()))
        super().accumulate_gradients(phase, batch.replace(y=self.labels[batch.index]), ctx)

    # -- what a checkpoint keeps beyond the networks
    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "counts": self.counts.tolist(), "fitted_at": self.fitted_at}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)  # the gan recipe's own state (ADA)
        self.counts = torch.tensor(state["counts"], dtype=torch.int64)
        if len(self.counts) != self.rc.clusters:
            raise CheckpointError(
                f"the checkpoint has {len(self.counts)} clusters, recipe.clusters is {self.rc.clusters}"
            )
        self.fitted_at = int(state["fitted_at"])
        self.labels = None

    def state_tensors(self) -> dict[str, torch.Tensor]:
        own = {} if self.labels is None else {"labels": self.labels}
        return {**super().state_tensors(), **own}

    def load_state_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        super().load_state_tensors(tensors)  # the gan recipe's own tensors (ADA, LeCam anchors)
        labels = tensors.get("labels")
        if labels is None:
            return
        k, n = self.rc.clusters, self.data.num_examples
        valid = labels.dtype == torch.int64 and labels.dim() == 1 and labels.numel() > 0
        if not (valid and 0 <= int(labels.min()) and int(labels.max()) < k and (n == 0 or len(labels) == n)):
            raise CheckpointError(f"the checkpoint's cluster labels are not one int64 in [0, {k}) per training example")
        self.labels = labels.to(next(self.modules["G"].parameters()).device)
