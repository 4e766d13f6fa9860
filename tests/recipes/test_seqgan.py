"""SeqGAN and the MLE baseline: the LSTM policy, the batched roll-outs and their rewards, the
roll-out policy's delay, config refusals, token samples in runs, exact resume."""

import json
from pathlib import Path

import pytest
import torch

from gankit.categorical import inverse_cdf
from gankit.data.tokens import sum_vocab
from gankit.errors import ConfigError
from gankit.experiment import config_from_dict
from gankit.nets import model_config
from gankit.nets.recurrent import LSTMPolicy, SequenceCNN, build_sequence_cnn
from gankit.presets import load_preset
from gankit.recipes import RECIPES, DataInfo
from gankit.recipes.rollout import rollout, rollout_rewards
from gankit.runs import resume, train
from tests.train.test_resume import _assert_identical

TINY_SEQ = [
    "data.name=sums", "data.n_samples=128", "model.embedding=6", "model.hidden=6", "model.d_embedding=4",
    "model.d_widths=[1,2]", "model.d_filters=[3,3]", "recipe.rollouts=2", "train.batch_size=8",
    "train.progress=false", "train.sample_every=3", "train.checkpoint_every=0", "train.log_every=2",
]


def _seq_cfg(preset, tmp_path, *extra):
    return load_preset(preset, [*(TINY_SEQ if preset == "oracle-seqgan" else TINY_SEQ[:3] + TINY_SEQ[-5:]),
                                f"train.out_dir={tmp_path}", *extra])


def _policy(vocab=7, T=4, seed=0):
    torch.manual_seed(seed)
    return LSTMPolicy(vocab, T, embedding=3, hidden=5, layers=1)


def test_teacher_forced_logits_equal_step_by_step_logits():
    G = _policy()
    tokens = torch.tensor([[3, 4, 5, 6], [6, 0, 3, 3]])
    state, token, steps = None, torch.full((2,), 1), []
    for t in range(4):
        logits, state = G.step(token, state)
        steps.append(logits)
        token = tokens[:, t]  # feed the true previous token (shifted by one)
    torch.testing.assert_close(G.logits(tokens), torch.stack(steps, 1))


def test_sampling_is_the_inverse_cdf_of_the_uniforms_and_avoids_bos_eos():
    G = _policy()
    u = torch.rand(300, 4, generator=torch.Generator().manual_seed(0))
    a, b = G.sample(u), G.sample(u)
    assert torch.equal(a, b) and a.shape == (300, 4)
    assert not ((a == 1) | (a == 2)).any()
    probs = torch.softmax(G.step(torch.full((1,), 1), None)[0], -1)[0]  # first-token distribution
    first = int(torch.searchsorted(probs.cumsum(0), u[0, 0].view(1), right=True))
    assert int(a[0, 0]) == first


def test_rollouts_keep_each_prefix_and_batch_every_start():
    G = _policy(T=5)
    tokens = torch.tensor([[3, 4, 5, 6, 3], [6, 6, 6, 6, 6], [0, 3, 0, 3, 0]])
    out = rollout(G, tokens, num=4)
    assert out.shape == (4, 4, 3, 5)  # (T-1, num, B, T)
    for t in range(1, 5):
        torch.testing.assert_close(out[t - 1, :, :, :t], tokens[:, :t].expand(4, 3, t), rtol=0, atol=0)


def test_rewards_average_d_over_rollouts_and_a_complete_sequence_gets_d_score():
    G = _policy(T=3)
    with torch.no_grad():  # a deterministic roll-out policy: always token 4
        G.out.weight.zero_()
        G.out.bias.fill_(-1e4)
        G.out.bias[4] = 0.0
    tokens = torch.tensor([[3, 5, 6], [6, 3, 3]])

    def score(rows):  # a "D" readable by hand: mean token id / 10
        return rows.float().mean(1) / 10

    rewards = rollout_rewards(G, score, tokens, num=3)
    expected = torch.tensor([
        [(3 + 4 + 4) / 30, (3 + 5 + 4) / 30, (3 + 5 + 6) / 30],
        [(6 + 4 + 4) / 30, (6 + 3 + 4) / 30, (6 + 3 + 3) / 30],
    ])
    torch.testing.assert_close(rewards, expected)


def test_rewards_of_a_stochastic_policy_are_monte_carlo_means():
    G = _policy(T=3)
    tokens = torch.tensor([[3, 5, 6]])
    calls = []

    def score(rows):
        calls.append(rows.clone())
        return (rows[:, -1] == 3).float()

    gen = torch.Generator().manual_seed(0)
    rewards = rollout_rewards(G, score, tokens, num=5, generator=gen)
    completions = calls[0].view(2, 5, 1, 3)
    torch.testing.assert_close(rewards[0, :2], (completions[:, :, 0, -1] == 3).float().mean(1))
    assert rewards[0, 2] == 0.0  # the last token is 6: D's score of the full sequence


def test_sequence_cnn_shapes_and_width_check():
    cfg = model_config(arch="lstm", d_widths=(1, 3), d_filters=(2, 5), d_embedding=4)
    D = build_sequence_cnn(cfg, vocab=9, seq_len=4)
    assert isinstance(D, SequenceCNN)
    out = D(torch.randint(0, 9, (6, 4)))
    assert out.logits.shape == (6,) and out.features.shape == (6, 7)
    with pytest.raises(ConfigError, match="longer than the sequences"):
        build_sequence_cnn(cfg, vocab=9, seq_len=2)


def test_sequence_recipes_refuse_other_networks_and_non_token_data(tmp_path):
    with pytest.raises(ConfigError, match="model.arch=lstm"):
        config_from_dict({"model": {"arch": "mlp"}, "recipe": {"name": "seqgan"}})
    with pytest.raises(ConfigError, match="needs token sequences|batch field"):
        train(load_preset("oracle-mle", ["data.name=ring", "data.n_samples=64", "train.steps=1",
                                         f"train.out_dir={tmp_path}", "train.progress=false"]))
    with pytest.raises(ConfigError, match="sequence recipes"):
        train(config_from_dict({"data": {"name": "ring", "n_samples": 64}, "model": {"arch": "lstm"},
                                "train": {"steps": 1, "out_dir": str(tmp_path), "progress": False}}))


def test_rollout_policy_copies_g_in_pretraining_then_follows_it_with_a_delay(tmp_path):
    cfg = _seq_cfg("oracle-seqgan", tmp_path, "recipe.rollout_update=0.75")
    recipe = RECIPES.get("seqgan")(cfg, DataInfo((9,), 0, meta={"vocab": sum_vocab()}))
    G, R = recipe.modules["G"], recipe.modules["R"]
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
    old = {k: v.clone() for k, v in R.state_dict().items()}
    recipe.after_step("G")
    for k, v in R.state_dict().items():
        torch.testing.assert_close(v, 0.75 * old[k] + 0.25 * G.state_dict()[k])
    recipe.after_step("D")  # D's steps leave it alone
    recipe.after_step("mle")
    for k, v in R.state_dict().items():
        torch.testing.assert_close(v, G.state_dict()[k], rtol=0, atol=0)


def test_seqgan_schedule_in_steps_and_no_pictures_of_tokens(tmp_path):
    cfg = _seq_cfg("oracle-seqgan", tmp_path, "recipe.pretrain_g_steps=2", "recipe.pretrain_d_steps=1",
                   "recipe.rollout_update=0.5", "train.steps=4", "train.run_name=sched", "train.log_every=1")
    run_dir = Path(train(cfg).run_dir)
    stats = [json.loads(line) for line in open(run_dir / "stats.jsonl")]
    assert "Loss/G/mle" in stats[0] and "Loss/D" not in stats[0]
    assert "Loss/D" in stats[2] and "Loss/G" not in stats[2]
    assert "Loss/G" in stats[3] and "Loss/G/mle" not in stats[3]
    assert not list(run_dir.glob("samples*/*.png")) and not (run_dir / "samples_final.png").exists()


@pytest.mark.parametrize("preset, extra", [
    ("oracle-seqgan", ["recipe.pretrain_g_steps=2", "recipe.pretrain_d_steps=2", "recipe.d_steps=2",
                       "train.ema_decay=0.9"]),
    ("oracle-mle", ["train.ema_decay=0.9"]),
])
def test_resume_is_exact(tmp_path, preset, extra):
    n, k = 7, 3  # k stops inside D's pre-training; the resumed run crosses into adversarial steps
    full = train(_seq_cfg(preset, tmp_path, f"train.steps={n}", "train.run_name=full", *extra))
    part = train(_seq_cfg(preset, tmp_path, f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


def test_each_rollout_continues_from_its_own_prefix_state():
    """Every roll-out equals its own prefix completed row by row with the same uniforms: step
    ``s`` draws one uniform per running roll-out, rows ordered (prefix length t, roll-out n, sample b)."""
    G, (B, T, num) = _policy(vocab=7, T=5, seed=3), (3, 5, 2)
    with torch.no_grad():  # larger weights: the state, hence the prefix, shapes every distribution
        for p in G.parameters():
            p.mul_(6)
    tokens = torch.tensor([[3, 4, 5, 6, 3], [6, 6, 0, 6, 6], [0, 3, 0, 3, 0]])
    out = rollout(G, tokens, num=num, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(0)
    uniforms = [torch.rand(s * num * B, generator=gen) for s in range(1, T)]
    for t in range(1, T):
        for n in range(num):
            for b in range(B):
                row, state, token = tokens[b, :t].tolist(), None, torch.tensor([1])
                for s in range(T):
                    logits, state = G.step(token, state)
                    if s >= t:
                        u = uniforms[s - 1][((t - 1) * num + n) * B + b].view(1)
                        row.append(int(inverse_cdf(logits, u)))
                    token = torch.tensor([row[s]])
                assert out[t - 1, n, b].tolist() == row, (t, n, b)


def test_seqgan_reward_of_a_complete_sequence_is_d_probability_without_dropout(tmp_path):
    cfg = _seq_cfg("oracle-seqgan", tmp_path, "model.d_dropout=0.5")
    recipe = RECIPES.get("seqgan")(cfg, DataInfo((9,), 0, meta={"vocab": sum_vocab()}))
    D = recipe.modules["D"].train()
    tokens = torch.randint(3, 15, (4, 9), generator=torch.Generator().manual_seed(0))
    rewards = rollout_rewards(recipe.modules["R"], recipe._probability_real, tokens, num=2)
    assert D.training  # restored after scoring
    D.eval()
    torch.testing.assert_close(rewards[:, -1], torch.sigmoid(D(tokens).logits))
    assert ((rewards > 0) & (rewards < 1)).all()


def test_samples_decode_to_text_up_to_the_first_pad(tmp_path):
    cfg = _seq_cfg("oracle-mle", tmp_path)
    recipe = RECIPES.get("mle")(cfg, DataInfo((9,), 0, meta={"vocab": sum_vocab()}))
    z = recipe.latent(6, torch.Generator().manual_seed(0))
    with torch.no_grad():  # pads likely: some rows stop early
        recipe.modules["G"].out.bias[0] = 2.0
    texts = recipe.sample_text(recipe.modules, z)
    tokens = recipe.sample(recipe.modules, z).long()
    vocab = sum_vocab()
    for row, text in zip(tokens.tolist(), texts):
        n = row.index(0) if 0 in row else 9
        assert text == "".join(vocab[t] for t in row[:n])
    assert all(set(t) <= set("+0123456789=") for t in texts) and min(map(len, texts)) < 9
