"""Mixed-type tables kept as typed columns: continuous and categorical.

Fields: ``continuous`` float32 ``(N, Dc)`` and ``categorical`` int64 ``(N, Dk)`` (category ids),
each in the order its columns are declared. The schema, ``meta["columns"]``, lists every column
in declaration order as a JSON-able dict:

* ``{"name", "type": "continuous", "index", "min", "max", "mean", "std"}``: the column is
  min-max scaled to [-1, 1], ``x' = 2 (x - min) / (max - min) - 1`` (the range of a tanh
  generator output), so ``x = (x' + 1) / 2 (max - min) + min`` inverts it (``decode_table``).
  ``mean`` and ``std`` (population) are of the raw values, for generators that standardise.
* ``{"name", "type": "categorical", "index", "categories"}``: id ``k`` is ``categories[k]``
  (strings, sorted; numerically when every category is a number).

``index`` is the column's position in its field. Declarations look like
``"age:continuous,sex:categorical"``; only declared columns are kept. Without one, every column
is kept and typed by inference: continuous if every value is a finite number, else
categorical (so a numeric code such as ``sex = 1, 2`` must be declared categorical).

A table must fit in memory. Errors are one ``DataError`` line naming the source (file and line,
or row) and the column: a missing declared column, an unparsable or non-finite number, a
constant column (a categorical with one value, or a continuous one with ``min == max``), a ragged
row, an empty table.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.text_files import read_utf8
from gankit.data.transforms import apply_limit, check_data_config
from gankit.errors import ConfigError, DataError, ShapeError

CONTINUOUS, CATEGORICAL = "continuous", "categorical"
COLUMN_TYPES: tuple[str, ...] = (CONTINUOUS, CATEGORICAL)

Schema = list[tuple[str, str]]
Where = Callable[[str, int], str]  # (column, row) -> "file line 7 column 'age'"


class Table(NamedTuple):
    """A table encoded as typed columns (see the module docstring)."""

    continuous: torch.Tensor  # (N, Dc) float32 in [-1, 1]
    categorical: torch.Tensor  # (N, Dk) int64
    columns: list[dict[str, Any]]  # the schema, JSON-able


def parse_columns(spec: str) -> Schema:
    """``"age:continuous,sex:categorical"`` -> ``[("age", "continuous"), ("sex", "categorical")]``.

    An empty ``spec`` gives ``[]`` (infer every column). Raises ``ConfigError`` for an entry
    without ``:type``, an unknown type, or a column declared twice.
    """
    schema: Schema = []
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        name, sep, kind = (s.strip() for s in entry.rpartition(":"))
        if not sep or not name or kind not in COLUMN_TYPES:
            raise ConfigError(f"data.columns: {entry!r} is not name:{'|'.join(COLUMN_TYPES)}")
        if any(name == n for n, _ in schema):
            raise ConfigError(f"data.columns: column {name!r} is declared twice")
        schema.append((name, kind))
    return schema


def _is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _sorted_categories(values: set[str]) -> list[str]:
    if all(_is_number(v) for v in values):
        return sorted(values, key=lambda v: (float(v), v))
    return sorted(values)


def _continuous(values: Sequence[Any], column: str, where: Where) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            out[i] = math.nan
        if not math.isfinite(out[i]):
            raise DataError(f"{where(column, i)}: {value!r} is not a finite number")
    return out


def encode_table(data: Mapping[str, Sequence[Any]], schema: Schema, source: str, where: Where) -> Table:
    """Encode the column lists ``data`` (all the same length) with ``schema`` (``[]`` = infer
    every column); ``source`` and ``where`` name the data in error messages."""
    if not data:
        raise DataError(f"{source}: no columns")
    lengths = {name: len(values) for name, values in data.items()}
    first = next(iter(data))
    for name, n in lengths.items():
        if n != lengths[first]:
            raise DataError(f"{source} column {name!r}: {n} values, column {first!r} has {lengths[first]}")
    if lengths[first] == 0:
        raise DataError(f"{source}: no rows")
    for name, _ in schema:
        if name not in data:
            raise DataError(f"{source}: no column {name!r} (columns: {', '.join(data)})")
    if not schema:
        schema = [(n, CONTINUOUS if all(_is_number(v) for v in data[n]) else CATEGORICAL) for n in data]
    cont: list[np.ndarray] = []
    cat: list[np.ndarray] = []
    columns: list[dict[str, Any]] = []
    for name, kind in schema:
        if kind == CONTINUOUS:
            raw = _continuous(data[name], name, where)
            lo, hi = float(raw.min()), float(raw.max())
            if lo == hi:
                raise DataError(f"{source} column {name!r}: every value is {lo:g}; a continuous column needs two")
            cont.append(2.0 * (raw - lo) / (hi - lo) - 1.0)
            columns.append({"name": name, "type": kind, "index": len(cont) - 1, "min": lo, "max": hi,
                            "mean": float(raw.mean()), "std": float(raw.std())})
        else:
            values = [str(v).strip() for v in data[name]]
            categories = _sorted_categories(set(values))
            if len(categories) < 2:
                raise DataError(f"{source} column {name!r}: every value is {categories[0]!r}; a categorical needs two")
            ids = {c: k for k, c in enumerate(categories)}
            cat.append(np.fromiter((ids[v] for v in values), dtype=np.int64, count=len(values)))
            columns.append({"name": name, "type": kind, "index": len(cat) - 1, "categories": categories})
    n = lengths[first]
    continuous = torch.from_numpy(np.stack(cont, axis=1).astype(np.float32) if cont else np.zeros((n, 0), np.float32))
    categorical = torch.from_numpy(np.stack(cat, axis=1) if cat else np.zeros((n, 0), np.int64))
    return Table(continuous, categorical, columns)  # (N, Dc), (N, Dk)


def records_to_columns(rows: Sequence[Mapping[str, Any]], source: str = "table") -> dict[str, list[Any]]:
    """``[{column: value}, ...]`` -> ``{column: [values]}``; every row must have the first row's keys."""
    if not rows:
        raise DataError(f"{source}: no rows")
    names = list(rows[0])
    data: dict[str, list[Any]] = {name: [] for name in names}
    for i, row in enumerate(rows):
        if set(row) != set(names):
            odd = min(set(row) ^ set(names))
            raise DataError(f"{source} row {i} column {odd!r}: row {i} has columns {list(row)}, row 0 has {names}")
        for name in names:
            data[name].append(row[name])
    return data


def table_from_dict(
    data: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    columns: str | Schema | None = None,
    source: str = "table",
) -> Table:
    """Encode an in-memory table given as ``{column: list of values}`` (``df.to_dict("list")`` of a
    pandas DataFrame) or as a list of row dicts (``df.to_dict("records")``, ``csv.DictReader``);
    ``columns`` is a declaration string, a schema list, or None (infer)."""
    if not isinstance(data, Mapping):
        data = records_to_columns(data, source)
    schema = parse_columns(columns) if isinstance(columns, str) else list(columns or [])
    for name, kind in schema:
        if kind not in COLUMN_TYPES:
            raise ConfigError(f"column {name!r}: type {kind!r} is not one of {', '.join(COLUMN_TYPES)}")
    return encode_table(data, schema, source, lambda column, i: f"{source} row {i} column {column!r}")


def read_csv_table(path: str | Path, columns: str | Schema = "") -> Table:
    """Encode the CSV file ``path`` (header row, comma-separated, UTF-8; blank lines skipped)."""
    schema = parse_columns(columns) if isinstance(columns, str) else list(columns)
    path = Path(path).expanduser()
    reader = csv.reader(io.StringIO(read_utf8(path, "CSV file"), newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{path}: empty file (expected a header row)") from None
    except csv.Error as exc:
        raise DataError(f"{path} line 1: {exc}") from None
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path} line 1: column {name!r} appears twice in the header")
        seen.add(name)
    for name, _ in schema:
        if name not in seen:
            raise DataError(f"{path} line 1: no column {name!r} (header: {', '.join(header)})")
    data: dict[str, list[str]] = {name: [] for name in header}
    line_numbers: list[int] = []
    try:
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise DataError(f"{path} line {reader.line_num}: {len(row)} fields, the header has {len(header)}")
            line_numbers.append(reader.line_num)
            for name, value in zip(header, row):
                data[name].append(value)
    except csv.Error as exc:
        raise DataError(f"{path} line {reader.line_num}: {exc}") from None
    if schema:
        data = {name: data[name] for name, _ in schema}
    return encode_table(data, schema, str(path), lambda column, i: f"{path} line {line_numbers[i]} column {column!r}")


def decode_table(
    continuous: torch.Tensor, categorical: torch.Tensor, columns: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """Invert ``encode_table``: ``{column: raw values}`` in schema order; continuous values are
    ``(x' + 1) / 2 (max - min) + min`` (floats), categorical ids become their category strings."""
    n_cont = sum(c["type"] == CONTINUOUS for c in columns)
    n_cat = len(columns) - n_cont
    if continuous.ndim != 2 or categorical.ndim != 2 or continuous.shape[1] != n_cont or categorical.shape[1] != n_cat:
        raise ShapeError(f"expected continuous (N, {n_cont}) and categorical (N, {n_cat}), "
                         f"got {tuple(continuous.shape)} and {tuple(categorical.shape)}")
    out: dict[str, list[Any]] = {}
    for col in columns:
        if col["type"] == CONTINUOUS:
            x = continuous[:, col["index"]].double()  # (N,)
            out[col["name"]] = ((x + 1.0) / 2.0 * (col["max"] - col["min"]) + col["min"]).tolist()
        else:
            cats = col["categories"]
            out[col["name"]] = [cats[k] for k in categorical[:, col["index"]].tolist()]
    return out


def whole_number_columns(raw: Mapping[str, Sequence[float]], columns: Sequence[Mapping[str, Any]]) -> list[str]:
    """The continuous columns of decoded values ``raw`` (``decode_table``) that are whole numbers
    up to the float32 encoding's error (1e-4 of the column's range)."""
    out = []
    for c in columns:
        if c["type"] == CONTINUOUS:
            v = np.asarray(raw[c["name"]], dtype=np.float64)
            if np.all(np.abs(v - np.round(v)) <= 1e-4 * (c["max"] - c["min"]) + 1e-6):
                out.append(c["name"])
    return out


def round_whole_numbers(raw: dict[str, list[Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    """``raw`` with the columns ``names`` rounded to ints (in place; returned)."""
    for name in names:
        raw[name] = [int(round(v)) for v in raw[name]]
    return raw


def diabetes_table() -> Table:
    """scikit-learn's bundled diabetes data (Efron et al. 2004, "Least Angle Regression"; 442
    patients), unscaled: ``sex`` (coded 1, 2) categorical; ``age``, ``bmi``, ``bp``, the six serum
    measurements ``s1``..``s6`` and the one-year disease ``progression`` continuous."""
    from sklearn.datasets import load_diabetes  # local: sklearn is slow to import

    bunch = load_diabetes(scaled=False)
    data: dict[str, list[Any]] = {name: bunch.data[:, j].tolist() for j, name in enumerate(bunch.feature_names)}
    data["sex"] = [str(int(v)) for v in data["sex"]]
    data["progression"] = bunch.target.tolist()
    schema = [(name, CATEGORICAL if name == "sex" else CONTINUOUS) for name in data]
    return table_from_dict(data, schema, source="diabetes")


def as_dataset(name: str, table: Table, limit: int = 0) -> Dataset:
    """A one-group dataset with fields ``continuous`` and ``categorical`` (the first ``limit`` rows
    when > 0; the schema's statistics stay those of the whole table) and ``meta["columns"]``."""
    fields = {"continuous": apply_limit(table.continuous, limit), "categorical": apply_limit(table.categorical, limit)}
    return Dataset(name, groups={"main": fields}, meta={"columns": table.columns})


def table_dataset(
    data: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    columns: str | Schema | None = None,
    name: str = "table",
) -> Dataset:
    """A dataset from an in-memory table, column lists or row dicts (see ``table_from_dict``):

    >>> ds = table_dataset({"age": [20, 40], "sex": ["M", "F"]}, "age:continuous,sex:categorical")
    >>> ds.groups["main"]["categorical"].tolist(), ds.meta["columns"][1]["categories"]
    ([[1], [0]], ['F', 'M'])
    """
    return as_dataset(name, table_from_dict(data, columns, source=name))


@DATASETS.register("csv", "a table from a CSV file, continuous and categorical columns (data.path, data.columns)")
def build_csv(cfg: DataConfig) -> Dataset:
    """The CSV file ``data.path`` with the columns declared in ``data.columns`` ("" = all, inferred)."""
    check_data_config(cfg)
    if not cfg.path:
        raise ConfigError("data.path must name the CSV file for dataset 'csv'")
    schema = parse_columns(cfg.columns)
    return as_dataset("csv", read_csv_table(cfg.path, schema), cfg.limit)


@DATASETS.register("diabetes", "scikit-learn diabetes table, 442 rows: 10 continuous columns, sex categorical")
def build_diabetes(cfg: DataConfig) -> Dataset:
    """``diabetes_table()`` as a dataset (its first ``data.limit`` rows when > 0)."""
    check_data_config(cfg)
    return as_dataset("diabetes", diabetes_table(), cfg.limit)
