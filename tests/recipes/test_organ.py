"""ORGAN: the repetition penalty and the mixed reward by hand, lambda = 1 is SeqGAN exactly,
unknown objectives refused at parse time, exact resume, the presets' smoke runs and text samples."""

import dataclasses
import re
import subprocess
import sys

import pytest
import torch

from gankit.data.tokens import sum_vocab
from gankit.errors import ConfigError
from gankit.experiment import config_from_dict
from gankit.objectives import OBJECTIVES
from gankit.presets import load_preset
from gankit.recipes import RECIPES, DataInfo
from gankit.recipes.organ import repetition_weights
from gankit.recipes.rollout import rollout_rewards
from gankit.recipes.seqgan import SeqGANConfig
from gankit.runs import load_run, resume, train
from gankit.runs.files import checkpoint_meta
from tests.train.test_resume import _assert_identical

TINY = ["model.embedding=6", "model.hidden=6", "model.d_embedding=4", "model.d_widths=[1,2]",
        "model.d_filters=[3,3]", "recipe.rollouts=2", "train.batch_size=8", "train.progress=false",
        "train.sample_every=0", "train.checkpoint_every=0", "train.log_every=1"]
WORDS = ["banana", "street", "alone", "tree", "open", "river", "stone", "idea", "moon", "paper", "cat", "apple"]


def _word_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS * 3) + "\n")
    return path


def _text_cfg(tmp_path, *extra):
    return load_preset("words-organ", ["data.name=text", f"data.path={_word_file(tmp_path)}", *TINY,
                                       f"train.out_dir={tmp_path}", *extra])


def test_repetition_weights_divide_by_copies_times_the_distinct_fraction():
    a, b, c, d = [3, 4, 5], [3, 0, 5], [3, 0, 6], [6, 6, 6]  # b and c are equal up to their first pad
    rows = torch.tensor([a, a, b, c,   d, d, d, d])
    w = repetition_weights(rows, group=4)
    # batch 1: a twice, b == c twice -> 2 distinct of 4; batch 2: one distinct of 4, four copies
    torch.testing.assert_close(w, torch.tensor([0.5 / 2, 0.5 / 2, 0.5 / 2, 0.5 / 2, 0.25 / 4, 0.25 / 4, 0.25 / 4,
                                                0.25 / 4]))
    torch.testing.assert_close(repetition_weights(torch.tensor([a, d, b]), group=3), torch.ones(3))
    with pytest.raises(ValueError, match="batches of 4"):
        repetition_weights(rows[:6], group=4)


def test_unknown_objective_and_bad_weight_are_refused_at_parse_time():
    tree = {"model": {"arch": "lstm"}, "recipe": {"name": "organ", "objective": "no-such-rule"}}
    with pytest.raises(ConfigError, match="unknown objective 'no-such-rule'.*melodic_steps"):
        config_from_dict(tree)
    with pytest.raises(ConfigError, match="d_weight must be in"):
        config_from_dict({"model": {"arch": "lstm"}, "recipe": {"name": "organ", "d_weight": 1.5}})


def test_cli_refuses_an_unknown_objective_with_one_line_and_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gankit", "train", "--preset", "words-organ", "--dry-run",
                           "recipe.objective=nope"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "unknown objective 'nope'" in proc.stderr


def test_reward_mixes_d_and_the_penalised_objective_by_hand(tmp_path):
    cfg = _text_cfg(tmp_path, "recipe.d_weight=0.25", "model.d_dropout=0.5")
    vocab = ("<pad>", "<bos>", "<eos>", "a", "b", "e", "n", "t")
    recipe = RECIPES.get("organ")(cfg, DataInfo((4,), 0, meta={"vocab": vocab}))
    rows = torch.tensor([[4, 3, 6, 3],   # "bana": 3 vowel/consonant pairs of 3
                         [4, 3, 6, 3],   # the same word again
                         [7, 7, 5, 0]])  # "tte": t-t no, t-e yes -> 1/2
    D = recipe.modules["D"].eval()
    d_prob = torch.sigmoid(D(rows).logits)
    objective = torch.tensor([1.0, 1.0, 0.5])
    weights = torch.tensor([(2 / 3) / 2, (2 / 3) / 2, 2 / 3])  # two distinct rows of three
    D.train()
    torch.testing.assert_close(recipe.sequence_score(3)(rows), 0.25 * d_prob + 0.75 * objective * weights)
    assert D.training  # D scored in eval mode, then restored


def test_pure_objective_rewards_average_the_objective_over_rollouts(tmp_path):
    cfg = _text_cfg(tmp_path, "recipe.d_weight=0")
    vocab = ("<pad>", "<bos>", "<eos>", "a", "b")
    recipe = RECIPES.get("organ")(cfg, DataInfo((3,), 0, meta={"vocab": vocab}))
    R = recipe.modules["R"]
    with torch.no_grad():  # a deterministic roll-out policy: always "a"
        R.out.weight.zero_()
        R.out.bias.fill_(-1e4)
        R.out.bias[3] = 0.0
    tokens = torch.tensor([[4, 4, 4], [4, 3, 4]])  # "bbb", "bab"
    rewards = rollout_rewards(R, recipe.sequence_score(2), tokens, num=2)
    # alternation: "baa" 1/2, "bba" 1/2, "bbb" 0, "bab" 1. Prefix length 1: both rows complete to "baa"
    # (one distinct of two, two copies: weight 1/2 · 1/2); length 2: "bba", "baa" (weight 1); the last column
    # scores "bbb" and "bab" themselves (weight 1)
    expected = torch.tensor([[0.5 * 0.25, 0.5, 0.0], [0.5 * 0.25, 0.5, 1.0]])
    torch.testing.assert_close(rewards, expected)


def test_lambda_one_trains_exactly_as_seqgan(tmp_path):
    steps = ["recipe.pretrain_g_steps=2", "recipe.pretrain_d_steps=1", "train.steps=6", "train.seed=3"]
    organ = train(_text_cfg(tmp_path, *steps, "recipe.d_weight=1", "train.run_name=organ"))
    same = _text_cfg(tmp_path, *steps, "train.run_name=seqgan")
    kept = {f.name: getattr(same.recipe, f.name) for f in dataclasses.fields(SeqGANConfig) if f.name != "name"}
    seqgan = train(dataclasses.replace(same, recipe=SeqGANConfig(**kept)))
    a, _ = checkpoint_meta(organ.run_dir)
    b, _ = checkpoint_meta(seqgan.run_dir)
    modules = sorted(k for k in a if k.startswith("modules/"))
    assert modules and modules == sorted(k for k in b if k.startswith("modules/"))
    for key in modules:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    lam_half = train(_text_cfg(tmp_path, *steps, "recipe.d_weight=0.5", "train.run_name=half"))
    c, _ = checkpoint_meta(lam_half.run_dir)
    assert not torch.equal(a["modules/G/out.weight"], c["modules/G/out.weight"])  # the objective matters


def test_resume_is_exact(tmp_path):
    n, k = 7, 3  # k stops in D's pre-training; the resumed run crosses into adversarial steps
    extra = ["recipe.pretrain_g_steps=2", "recipe.pretrain_d_steps=2", "recipe.d_steps=2", "train.ema_decay=0.9"]
    full = train(_text_cfg(tmp_path, f"train.steps={n}", "train.run_name=full", *extra))
    part = train(_text_cfg(tmp_path, f"train.steps={k}", "train.run_name=part", *extra))
    resumed = resume(part.run_dir, [f"train.steps={n}"])
    assert resumed.steps == n
    _assert_identical(full.run_dir, resumed.run_dir)


def test_chorales_preset_trains_and_samples_note_lists(tmp_path, chorale_cache):
    cfg = load_preset("chorales-organ", [*TINY, "data.limit=64", "recipe.pretrain_g_steps=2",
                                         "recipe.pretrain_d_steps=1", "train.steps=4", f"train.out_dir={tmp_path}",
                                         "train.run_name=ch"])
    run_dir = train(cfg).run_dir
    out = tmp_path / "notes.txt"
    proc = subprocess.run([sys.executable, "-m", "gankit", "sample", str(run_dir), "--n", "5", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    loaded = load_run(run_dir)
    vocab = loaded.recipe.data.meta["vocab"]
    tokens = loaded.sample(5, 0, use_ema=True).long()
    assert lines == [", ".join(vocab[t] for t in row) for row in tokens.tolist()]
    note = re.compile(r"([A-G][#-]*\d|rest) \d+(\.\d+)?")
    assert len(lines) == 5 and all(note.fullmatch(x) for line in lines for x in line.split(", "))


def test_words_preset_trains_on_the_system_word_list(tmp_path):
    from gankit.data.words import WORD_LIST

    if not WORD_LIST.is_file():
        pytest.skip(f"needs {WORD_LIST}: install Debian's wamerican (scripts/install-debian-packages.sh)")
    cfg = load_preset("words-organ", [*TINY, "data.limit=64", "recipe.pretrain_g_steps=2",
                                      "recipe.pretrain_d_steps=1", "train.steps=4", f"train.out_dir={tmp_path}"])
    run = load_run(train(cfg).run_dir)
    texts = run.recipe.decode_text(run.sample(8, 0))
    assert len(texts) == 8 and all(set(t) <= set("abcdefghijklmnopqrstuvwxyz") for t in texts)


def test_every_builtin_objective_is_registered_with_a_description():
    assert {"melodic_steps", "in_key", "alternation"} <= set(OBJECTIVES.names())
    assert all(OBJECTIVES.describe(name) for name in OBJECTIVES.names())
    assert sum_vocab()  # the sums vocabulary has no letters: alternation scores 0 there
    torch.testing.assert_close(OBJECTIVES.get("alternation")(torch.tensor([[4, 5, 6]]), sum_vocab()),
                               torch.zeros(1))
