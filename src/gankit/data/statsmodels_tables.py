"""Real mixed-type tables bundled with statsmodels (the ``tables`` extra), with declared column types.

* ``fair``: Fair (1978), "A Theory of Extramarital Affairs" (Redbook magazine questionnaire, 6,366 women).
  Continuous ``age``, ``yrs_married``, ``children``; categorical ``rate_marriage``, ``religious``,
  ``educ``, ``occupation``, ``occupation_husb`` (questionnaire codes) and ``affair`` (``yes`` when the
  questionnaire's ``affairs`` measure is > 0, the classification target of statsmodels' own example).
* ``anes96``: the 1996 American National Election Study (944 respondents). Continuous
  ``popul`` (population of the respondent's location, thousands), ``TVnews`` (days a week),
  ``age``, ``income`` (24-level code); categorical ``selfLR``, ``ClinLR``, ``DoleLR`` (7-point
  left-right scales), ``PID`` (party identification), ``educ`` and ``vote`` (Clinton 0 / Dole 1).
"""

from __future__ import annotations

from typing import Any

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.tables import CATEGORICAL, CONTINUOUS, Table, as_dataset, table_from_dict
from gankit.data.transforms import check_data_config
from gankit.errors import ConfigError

FAIR_CONTINUOUS = ("age", "yrs_married", "children")
FAIR_CATEGORICAL = ("rate_marriage", "religious", "educ", "occupation", "occupation_husb", "affair")
ANES_CONTINUOUS = ("popul", "TVnews", "age", "income")
ANES_CATEGORICAL = ("selfLR", "ClinLR", "DoleLR", "PID", "educ", "vote")
TARGETS = {"fair": "affair", "anes96": "vote"}  # the classification target of each table (ML efficacy)


def _load(name: str) -> dict[str, list[Any]]:
    try:
        from statsmodels import datasets  # local: optional and slow to import
    except ImportError:
        raise ConfigError(f"dataset {name!r} needs statsmodels: pip install 'gankit[tables]'") from None
    frame = getattr(datasets, name).load_pandas().data
    return {str(k): v for k, v in frame.to_dict("list").items()}


def _code(values: list[float]) -> list[str]:
    return [str(int(v)) if float(v).is_integer() else str(v) for v in values]


def fair_table() -> Table:
    """statsmodels' ``fair`` table, 6,366 rows (see the module docstring)."""
    raw = _load("fair")
    data: dict[str, list[Any]] = {k: raw[k] for k in FAIR_CONTINUOUS}
    data.update({k: _code(raw[k]) for k in FAIR_CATEGORICAL[:-1]})
    data["affair"] = ["yes" if v > 0 else "no" for v in raw["affairs"]]
    schema = [(k, CONTINUOUS) for k in FAIR_CONTINUOUS] + [(k, CATEGORICAL) for k in FAIR_CATEGORICAL]
    return table_from_dict(data, schema, source="fair")


def anes96_table() -> Table:
    """statsmodels' ``anes96`` table, 944 rows (see the module docstring)."""
    raw = _load("anes96")
    data: dict[str, list[Any]] = {k: raw[k] for k in ANES_CONTINUOUS}
    data.update({k: _code(raw[k]) for k in ANES_CATEGORICAL})
    schema = [(k, CONTINUOUS) for k in ANES_CONTINUOUS] + [(k, CATEGORICAL) for k in ANES_CATEGORICAL]
    return table_from_dict(data, schema, source="anes96")


@DATASETS.register("fair", "statsmodels' affairs data, 6,366 rows: 3 continuous, 6 categorical (tables extra)")
def build_fair(cfg: DataConfig) -> Dataset:
    check_data_config(cfg)
    return as_dataset("fair", fair_table(), cfg.limit)


@DATASETS.register("anes96", "statsmodels' 1996 election study, 944 rows: 4 continuous, 6 categorical (tables extra)")
def build_anes96(cfg: DataConfig) -> Dataset:
    check_data_config(cfg)
    return as_dataset("anes96", anes96_table(), cfg.limit)
