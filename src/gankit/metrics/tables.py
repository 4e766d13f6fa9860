"""Fidelity and utility of synthetic tables (CTGAN's evaluation, Xu et al. 2019, sec. 5).

Tables are ``{column: values}`` (raw values: numbers for continuous columns, category strings
for categorical ones) with a schema ``columns`` (``gankit.data.tables``):

* ``column_distances``: per continuous column the Kolmogorov–Smirnov statistic
  ``sup_x |F_real(x) − F_fake(x)|`` (``scipy.stats.ks_2samp``); per categorical column the total
  variation distance ``½ Σ_k |p_real(k) − p_fake(k)|``. 0 = same marginal, 1 = disjoint.
* ``correlation_difference``: mean over pairs of continuous columns of ``|ρ_real − ρ_fake|``
  (Pearson; a constant synthetic column has ρ = 0).
* ``ml_efficacy``: train a classifier of ``target`` on one table and test it on real held-out
  rows (F1 of the last category for a binary target, else macro F1; and accuracy), with each of
  ``CLASSIFIERS``: logistic regression on standardised features and a depth-20 decision tree
  (two of the classifiers of CTGAN's benchmark), categorical features one-hot over the schema's categories.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

Table = Mapping[str, Sequence[Any]]
CLASSIFIERS = ("logistic", "tree")


def _continuous(columns: Sequence[Mapping[str, Any]]) -> list[str]:
    return [c["name"] for c in columns if c["type"] == "continuous"]


def total_variation(real: Sequence[Any], fake: Sequence[Any]) -> float:
    """``½ Σ_k |p_real(k) − p_fake(k)|`` over the categories of either sample."""
    r = [str(v) for v in real]
    f = [str(v) for v in fake]
    cats = sorted(set(r) | set(f))
    pr = np.array([r.count(k) for k in cats], dtype=np.float64) / len(r)
    pf = np.array([f.count(k) for k in cats], dtype=np.float64) / len(f)
    return float(0.5 * np.abs(pr - pf).sum())


def column_distances(real: Table, fake: Table, columns: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """``{column: KS statistic (continuous) or TV distance (categorical)}``."""
    from scipy.stats import ks_2samp  # local: scipy is slow to import

    out = {}
    for c in columns:
        name = c["name"]
        if c["type"] == "continuous":
            out[name] = float(ks_2samp(np.asarray(real[name], float), np.asarray(fake[name], float)).statistic)
        else:
            out[name] = total_variation(real[name], fake[name])
    return out


def _correlations(table: Table, names: Sequence[str]) -> np.ndarray:
    x = np.array([np.asarray(table[n], dtype=np.float64) for n in names])  # (D, N)
    x = x - x.mean(axis=1, keepdims=True)
    norm = np.sqrt((x * x).sum(axis=1))
    safe = np.where(norm > 0, norm, 1.0)
    rho = (x @ x.T) / np.outer(safe, safe)
    rho[norm == 0, :] = 0.0
    rho[:, norm == 0] = 0.0
    return rho


def correlation_difference(real: Table, fake: Table, columns: Sequence[Mapping[str, Any]]) -> float:
    """Mean ``|ρ_real − ρ_fake|`` over pairs of continuous columns (nan with fewer than two)."""
    names = _continuous(columns)
    if len(names) < 2:
        return float("nan")
    diff = np.abs(_correlations(real, names) - _correlations(fake, names))
    i, j = np.triu_indices(len(names), k=1)
    return float(diff[i, j].mean())


def features(table: Table, columns: Sequence[Mapping[str, Any]], target: str) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix (continuous columns, then one-hots over each schema's categories) and
    the target's category ids."""
    parts = []
    for c in columns:
        if c["name"] == target:
            continue
        if c["type"] == "continuous":
            parts.append(np.asarray(table[c["name"]], dtype=np.float64)[:, None])
        else:
            values = np.asarray([str(v) for v in table[c["name"]]])
            parts.append((values[:, None] == np.asarray(c["categories"])[None, :]).astype(np.float64))
    cats = next(c["categories"] for c in columns if c["name"] == target)
    y = np.asarray([cats.index(str(v)) for v in table[target]])
    return np.concatenate(parts, axis=1), y


def _classifier(name: str, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return DecisionTreeClassifier(max_depth=20, random_state=seed)


def ml_efficacy(train: Table, test: Table, columns: Sequence[Mapping[str, Any]], target: str,
                seed: int = 0) -> dict[str, float]:
    """``{"<clf>/f1", "<clf>/accuracy"}`` for each classifier fitted on ``train``, scored on
    ``test``; ``"f1"`` is their mean. A train table with one class predicts it everywhere."""
    from sklearn.metrics import accuracy_score, f1_score

    x_train, y_train = features(train, columns, target)
    x_test, y_test = features(test, columns, target)
    k = len(next(c["categories"] for c in columns if c["name"] == target))
    out: dict[str, float] = {}
    for name in CLASSIFIERS:
        if len(np.unique(y_train)) == 1:
            pred = np.full_like(y_test, y_train[0])
        else:
            pred = _classifier(name, seed).fit(x_train, y_train).predict(x_test)
        f1 = (f1_score(y_test, pred, pos_label=k - 1, zero_division=0) if k == 2
              else f1_score(y_test, pred, average="macro", zero_division=0))
        out[f"{name}/f1"] = float(f1)
        out[f"{name}/accuracy"] = float(accuracy_score(y_test, pred))
    out["f1"] = float(np.mean([out[f"{n}/f1"] for n in CLASSIFIERS]))
    return out
