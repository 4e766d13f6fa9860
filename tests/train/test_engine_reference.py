"""The engine against a hand-written training loop: two full trainer steps of the ``gan``
recipe (n_critic=3 critic updates, then one G update reusing the last critic update's
G(z)) must leave every parameter, and every logged statistic, equal to what the plain
loop below computes with the same initial nets, batches and latents.

The reference loop spells out the maths the engine must do:

- each critic update draws its own batch and z ~ N(0, I), zeroes D's gradients, minimises
  ``L_D`` and then (weight clipping, Arjovsky et al. 2017) clamps D's weights to [-c, c];
- WGAN critic loss ``L_D = E[D(G(z))] - E[D(x)]`` (the critic maximises E[D(x)] - E[D(G(z))]:
  real must score higher); WGAN-GP (Gulrajani et al. 2017) adds
  ``lambda * E[(||grad D(x_hat)||_2 - 1)^2]``, ``x_hat = eps x + (1 - eps) G(z)``, eps ~ U[0, 1];
  the non-saturating D loss (Goodfellow et al. 2014) is ``E[softplus(-D(x))] + E[softplus(D(G(z)))]``;
- the G update draws a batch (unused: it reuses the last critic update's fake batch) and
  minimises ``-E[D(G(z))]`` (WGAN) or ``E[softplus(-D(G(z)))]`` (NS);
- ``stats.jsonl`` holds, per logging interval, the mean of every reported value.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gankit.train.loader import EpochLoader
from gankit.train.trainer import Trainer
from tests.helpers import tiny

STEPS = 2  # == train.log_every: one stats.jsonl line holding the mean over both steps


def wgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return fake.mean() - real.mean()  # minimised: pushes D(real) up and D(fake) down


def wgan_g(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def ns_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real).mean() + F.softplus(fake).mean()  # -log sigmoid(r) - log(1 - sigmoid(f))


def ns_g(fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake).mean()  # -log sigmoid(f)


CASES = {
    "wgan-clip": (["recipe.loss=wgan", "recipe.clip_value=0.05", "optim.lr_d=0.01"], wgan_d, wgan_g),
    "wgan-gp": (["recipe.loss=wgan", "recipe.gp_weight=10"], wgan_d, wgan_g),
    "ns": (["recipe.loss=ns"], ns_d, ns_g),
}


def reference_loop(cfg, dataset, G, D, rng_state, d_adv, g_adv):
    """Train copies ``G``, ``D`` for ``STEPS`` steps by hand; returns what each update reported."""
    rc, o = cfg.recipe, cfg.optim
    torch.set_rng_state(rng_state)  # the global stream the recipe draws z (and GP's eps) from
    loader = EpochLoader(dataset, cfg.train.batch_size, cfg.train.seed, torch.device("cpu"))
    opt_d = torch.optim.Adam(D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
    opt_g = torch.optim.Adam(G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
    logs: dict[str, list[float]] = {}

    def log(name: str, value: torch.Tensor) -> None:
        logs.setdefault(name, []).append(value.item())

    for _ in range(STEPS):
        for _ in range(rc.n_critic):
            real = loader.next().x  # (B, 2)
            z = torch.randn(real.shape[0], cfg.model.z_dim)  # (B, z_dim)
            with torch.no_grad():
                fake = G(z)  # (B, 2)
            real_logits, fake_logits = D(real).logits, D(fake).logits  # (B,)
            loss = adv = d_adv(real_logits, fake_logits)
            if rc.gp_weight:
                eps = torch.rand(real.shape[0]).view(-1, 1)  # (B, 1)
                x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)  # (B, 2)
                (grad,) = torch.autograd.grad(D(x_hat).logits.sum(), x_hat, create_graph=True)  # (B, 2)
                gp = ((grad.norm(dim=1) - 1.0) ** 2).mean()
                loss = adv + rc.gp_weight * gp
                log("Loss/D/adv", adv)
                log("Loss/D/gp", gp)
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
            if rc.clip_value:
                with torch.no_grad():
                    for p in D.parameters():
                        p.clamp_(-rc.clip_value, rc.clip_value)
            log("D/real", real_logits.mean())
            log("D/fake", fake_logits.mean())
            log("Loss/D", loss)
        loader.next()  # the G update's batch: drawn, unused (G reuses the last critic update's G(z))
        g_loss = g_adv(D(G(z)).logits)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        log("Loss/G", g_loss)
    return logs


@pytest.mark.parametrize("case", list(CASES))
def test_two_steps_equal_the_reference_loop(tmp_path, case):
    extra, d_adv, g_adv = CASES[case]
    cfg = tiny("ring-gan", tmp_path, "recipe.n_critic=3", f"train.steps={STEPS}", f"train.log_every={STEPS}",
               "train.ema_decay=0", *extra)
    run_dir = tmp_path / "run"
    trainer = Trainer(cfg, str(run_dir))
    G, D = (copy.deepcopy(trainer.recipe.modules[n]) for n in ("G", "D"))
    rng_state = torch.get_rng_state()
    assert trainer.fit()

    logs = reference_loop(cfg, trainer.dataset, G, D, rng_state, d_adv, g_adv)

    for name, ref in (("G", G), ("D", D)):
        got = dict(trainer.recipe.modules[name].named_parameters())
        for key, p in ref.named_parameters():
            torch.testing.assert_close(got[key], p, msg=f"{name}.{key} differs from the reference loop")
    if cfg.recipe.clip_value:
        assert all(p.abs().max() <= cfg.recipe.clip_value for p in trainer.recipe.modules["D"].parameters())

    lines = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [STEPS]
    assert len(logs["Loss/D"]) == STEPS * cfg.recipe.n_critic and len(logs["Loss/G"]) == STEPS
    logged = {k: v for k, v in lines[0].items() if k not in ("step", "time")}
    assert sorted(logged) == sorted(logs)
    for name, values in logs.items():
        torch.testing.assert_close(logged[name], float(np.mean(values)), msg=f"logged {name} is not the interval mean")
