"""C-RNN-GAN (``rnngan``) and its likelihood baseline (``mle-continuous``): the networks against
hand-run LSTMs, the losses against their formulas, config refusals, exact resume, and a short
training run that moves the generated sines' frequency to the data's."""

import numpy as np
import pytest
import torch
from torch import nn

from gankit.data.sequences import sample_sines
from gankit.errors import ConfigError
from gankit.experiment import config_from_dict
from gankit.nets import NetSpec, model_config
from gankit.nets.recurrent_gan import BidirectionalDiscriminator, GaussianLSTM, RecurrentGenerator, build_crnn
from gankit.presets import load_preset
from gankit.recipes import RECIPES, DataInfo
from gankit.runs import load_run, resume, train
from gankit.train.loader import Batch
from tests.train.test_resume import _assert_identical

TINY = ["data.n_samples=64", "data.seq_len=6", "data.seq_features=3", "model.g_width=5", "model.d_width=4",
        "model.z_dim=2", "model.rnn_layers=1", "train.batch_size=8", "train.progress=false",
        "train.checkpoint_every=0", "train.log_every=2"]


def _cfg(preset, tmp_path, *extra):
    return load_preset(preset, [*TINY, f"train.out_dir={tmp_path}", *extra])


class _Recorder:
    def __init__(self):
        self.values = {}

    def report(self, key, value):
        self.values[key] = float(value.detach() if torch.is_tensor(value) else value)


def _ctx(rec):
    from gankit.recipes import StepContext

    return StepContext(step=0, report=rec.report, backward=lambda loss: None)


def _softplus(a):
    return np.log1p(np.exp(-np.abs(a))) + np.maximum(a, 0)


def test_generator_feeds_its_previous_output_and_fresh_noise_each_step():
    torch.manual_seed(0)
    G = RecurrentGenerator(steps=5, features=3, noise=2, width=4, layers=2)
    z = torch.randn(6, 10)
    x = G(z)  # (6, 5, 3)
    # the same LSTM run once over [z_t, x_{t-1}] built from G's own outputs reproduces every step
    previous = torch.cat([torch.zeros(6, 1, 3), x[:, :-1]], dim=1)
    h, _ = G.lstm(torch.cat([z.view(6, 5, 2), previous], dim=2))
    torch.testing.assert_close(G.out(h), x)
    z2 = z.clone()
    z2[:, 4:] += 1.0  # noise of steps 2.. changed: steps 0 and 1 stay, step 2 moves
    x2 = G(z2)
    torch.testing.assert_close(x2[:, :2], x[:, :2], rtol=0, atol=0)
    assert not torch.allclose(x2[:, 2], x[:, 2])


def test_discriminator_is_a_bidirectional_lstm_with_a_logit_per_step():
    torch.manual_seed(0)
    D = BidirectionalDiscriminator(steps=4, features=3, width=5, layers=1)
    x = torch.randn(2, 4, 3)
    out = D(x)
    forward, backward = nn.LSTM(3, 5, batch_first=True), nn.LSTM(3, 5, batch_first=True)
    sd = D.lstm.state_dict()
    forward.load_state_dict({k: sd[k] for k in forward.state_dict()})
    backward.load_state_dict({k: sd[f"{k}_reverse"] for k in backward.state_dict()})
    h_fwd, _ = forward(x)
    h_bwd = backward(x.flip(1))[0].flip(1)  # the reverse direction reads the sequence from its end
    h = torch.cat([h_fwd, h_bwd], dim=2)  # (2, 4, 10)
    w, b = D.head.weight.detach().numpy()[0], float(D.head.bias.detach())
    steps = h.detach().numpy() @ w + b  # (2, 4)
    torch.testing.assert_close(out.extra["step_logits"], torch.from_numpy(steps).float())
    torch.testing.assert_close(out.logits, torch.from_numpy(steps.mean(1)).float())
    torch.testing.assert_close(out.features, h.flatten(1))


def _recipe(tmp_path, *extra):
    cfg = _cfg("sines-rnngan", tmp_path, *extra)
    return RECIPES.get("rnngan")(cfg, DataInfo((6, 3), 0))


def test_losses_equal_per_step_bce_and_feature_matching_by_hand(tmp_path):
    torch.manual_seed(0)
    recipe = _recipe(tmp_path, "recipe.adv_g_weight=0.5", "recipe.fm_weight=2")
    D = recipe.modules["D"]
    real, fake = torch.randn(4, 6, 3), torch.randn(4, 6, 3)
    r_out, f_out = D(real), D(fake)
    r, f = r_out.extra["step_logits"].detach().numpy(), f_out.extra["step_logits"].detach().numpy()
    rec = _Recorder()
    d_loss = recipe.d_loss(Batch(real), fake, None, _ctx(rec))
    torch.testing.assert_close(d_loss, torch.tensor(float((_softplus(-r) + _softplus(f)).mean())))
    g_loss = recipe.g_loss(Batch(real), fake, None, _ctx(rec))
    phi_r, phi_f = r_out.features.detach().numpy(), f_out.features.detach().numpy()  # (4, 6 * 8)
    fm = float(((phi_r.mean(0) - phi_f.mean(0)) ** 2).sum())
    adv = float(_softplus(-f).mean())
    assert rec.values["Loss/G/fm"] == pytest.approx(fm, rel=1e-5)
    assert rec.values["Loss/G/adv"] == pytest.approx(adv, rel=1e-5)
    torch.testing.assert_close(g_loss, torch.tensor(2 * fm + 0.5 * adv))


def test_feature_matching_alone_by_default_and_real_features_are_a_fixed_target(tmp_path):
    torch.manual_seed(0)
    recipe = _recipe(tmp_path)
    real = torch.randn(4, 6, 3, requires_grad=True)
    fake = torch.randn(4, 6, 3, requires_grad=True)
    rec = _Recorder()
    recipe.g_loss(Batch(real), fake, None, _ctx(rec)).backward()
    assert set(rec.values) == {"Loss/G/fm", "Loss/G"}
    assert real.grad is None and fake.grad.abs().sum() > 0
    assert recipe.z_dim == 6 * 2  # T · model.z_dim


def test_gaussian_lstm_nll_by_hand_and_zero_noise_samples_follow_the_mean():
    torch.manual_seed(0)
    M = GaussianLSTM(steps=4, features=2, width=3, layers=1)
    x = torch.randn(5, 4, 2)
    mu, log_std = M.forward_teacher(x)
    m, s, v = mu.detach().numpy(), np.exp(log_std.detach().numpy()), x.numpy()
    nll = np.mean(np.log(s) + (v - m) ** 2 / (2 * s**2) + 0.5 * np.log(2 * np.pi))
    torch.testing.assert_close(M.nll(x), torch.tensor(nll, dtype=torch.float32))
    sample = M(torch.zeros(5, 8))  # eps = 0: every step is the mean given the sample's own past
    torch.testing.assert_close(M.forward_teacher(sample)[0], sample)
    eps = torch.randn(5, 8)
    drawn = M(eps)
    mu_d, log_std_d = M.forward_teacher(drawn)
    torch.testing.assert_close(drawn, mu_d + log_std_d.exp() * eps.view(5, 4, 2))


def test_refusals(tmp_path):
    with pytest.raises(ConfigError, match="model.arch=crnn"):
        config_from_dict({"model": {"arch": "mlp"}, "recipe": {"name": "rnngan"}})
    with pytest.raises(ConfigError, match="model.arch=crnn"):
        config_from_dict({"model": {"arch": "lstm"}, "recipe": {"name": "mle-continuous"}})
    with pytest.raises(ConfigError, match="both 0"):
        _cfg("sines-rnngan", tmp_path, "recipe.fm_weight=0")
    with pytest.raises(ConfigError, match="conditional"):
        model_config(arch="crnn", conditional=True)
    with pytest.raises(ConfigError, match="d_minibatch"):
        model_config(arch="crnn", d_minibatch="stddev")
    with pytest.raises(ConfigError, match="d_class_head"):
        model_config(arch="crnn", d_class_head=3)
    with pytest.raises(ConfigError, match=r"sequences \(T, D\)"):
        build_crnn(model_config(arch="crnn"), NetSpec((2,)))
    with pytest.raises(ConfigError, match=r"sequences \(T, D\)"):
        train(_cfg("sines-rnngan", tmp_path, "data.name=ring", "train.steps=1"))


@pytest.mark.parametrize("preset, extra", [
    ("sines-rnngan", ["recipe.n_critic=2", "recipe.adv_g_weight=0.5", "train.ema_decay=0.9"]),
    ("sines-mle", ["train.ema_decay=0.9"]),
])
def test_resume_is_exact(tmp_path, preset, extra):
    n, k = 7, 3
    full = train(_cfg(preset, tmp_path, f"train.steps={n}", "train.run_name=full", *extra))
    part = train(_cfg(preset, tmp_path, f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


def _mean_frequency(x):
    """Mean dominant frequency (cycles per sequence) of every feature of ``x`` (N, T, D)."""
    spectrum = torch.fft.rfft(x - x.mean(1, keepdim=True), dim=1).abs()  # (N, T//2 + 1, D)
    return float(spectrum[:, 1:].argmax(1).float().add(1).mean())


@pytest.mark.slow
def test_training_moves_the_frequency_and_amplitude_to_the_datas(tmp_path):
    common = ["data.n_samples=512", "model.g_width=16", "model.d_width=16", "model.rnn_layers=1", "model.z_dim=4",
              "optim.lr_g=5e-3", "optim.lr_d=5e-3", "train.batch_size=32", "train.checkpoint_every=0",
              "train.progress=false", f"train.out_dir={tmp_path}", "train.seed=1"]
    real, freq, _ = sample_sines(512, 24, 5, torch.Generator().manual_seed(0))
    target = _mean_frequency(real)
    assert abs(target - float(freq.mean())) < 0.2  # the statistic reads the sines' frequency
    def run(steps: int):  # each run its own name: two runs in one second would share the timestamped one
        cfg = load_preset("sines-rnngan", [*common, f"train.steps={steps}", f"train.run_name=steps{steps}"])
        return load_run(train(cfg).run_dir).sample(512, 0)

    untrained, trained = run(1), run(300)
    assert abs(_mean_frequency(trained) - target) < min(0.25, 0.5 * abs(_mean_frequency(untrained) - target))
    ratio = float(trained.std()) / float(real.std()), float(untrained.std()) / float(real.std())
    assert abs(ratio[0] - 1) < 0.35 < abs(ratio[1] - 1)


def test_cli_samples_sequences_as_arrays_and_refuses_a_picture(tmp_path, capsys):
    from gankit.cli import main

    run = train(_cfg("sines-rnngan", tmp_path, "train.steps=2", "train.run_name=cli")).run_dir
    out = tmp_path / "s.npz"
    assert main(["sample", str(run), "--n", "5", "--seed", "1", "--out", str(out)]) == 0
    arr = np.load(out)["samples"]
    assert arr.shape == (5, 6, 3)
    np.testing.assert_array_equal(arr, load_run(run).sample(5, 1).numpy())
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "s.png")]) == 2
    assert ".npz" in capsys.readouterr().err
