from pathlib import Path

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gankit.data.tables import (
    decode_table,
    diabetes_table,
    parse_columns,
    read_csv_table,
    table_from_dict,
)
from gankit.errors import ConfigError, DataError

CSV = "age,sex,city,income\n20,M,Paris,100\n\n40,F,Rome,300\n30,M,Oslo,200\n"


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_declared_columns_by_hand(tmp_path: Path) -> None:
    table = read_csv_table(write(tmp_path, CSV), "income:continuous, sex:categorical,age:continuous")
    # income: min 100 max 300 -> 2 (v - 100) / 200 - 1; age: min 20 max 40; sex: F=0, M=1; city dropped
    assert_close(table.continuous, torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]))
    assert_close(table.categorical, torch.tensor([[1], [0], [1]]))
    income, sex, age = table.columns
    assert (income["name"], income["type"], income["index"], income["min"], income["max"]) == (
        "income", "continuous", 0, 100.0, 300.0)
    assert income["mean"] == pytest.approx(200.0) and income["std"] == pytest.approx(np.std([100, 300, 200]))
    assert sex == {"name": "sex", "type": "categorical", "index": 0, "categories": ["F", "M"]}
    assert (age["index"], age["min"], age["max"]) == (1, 20.0, 40.0)


def test_inferred_columns_and_round_trip(tmp_path: Path) -> None:
    table = read_csv_table(write(tmp_path, CSV))
    assert [(c["name"], c["type"]) for c in table.columns] == [
        ("age", "continuous"), ("sex", "categorical"), ("city", "categorical"), ("income", "continuous")]
    assert table.columns[2]["categories"] == ["Oslo", "Paris", "Rome"]
    assert_close(table.categorical, torch.tensor([[1, 1], [0, 2], [1, 0]]))
    decoded = decode_table(table.continuous, table.categorical, table.columns)
    assert decoded["city"] == ["Paris", "Rome", "Oslo"] and decoded["sex"] == ["M", "F", "M"]
    assert_close(torch.tensor(decoded["income"], dtype=torch.float64), torch.tensor([100.0, 300.0, 200.0]).double())


def test_dict_entry_matches_csv_and_sorts_numeric_categories(tmp_path: Path) -> None:
    data = {"age": [20, 40, 30], "sex": ["M", "F", "M"], "income": ["100", 300.0, 200]}
    table = table_from_dict(data, [("income", "continuous"), ("sex", "categorical"), ("age", "continuous")])
    csv_table = read_csv_table(write(tmp_path, CSV), "income:continuous,sex:categorical,age:continuous")
    assert_close(table.continuous, csv_table.continuous)
    assert_close(table.categorical, csv_table.categorical)
    codes = table_from_dict({"code": [10, 9, 2, 9]}, "code:categorical")
    assert codes.columns[0]["categories"] == ["2", "9", "10"]
    assert_close(codes.categorical, torch.tensor([[2], [1], [0], [1]]))


@pytest.mark.parametrize(
    ("text", "columns", "pattern"),
    [
        (CSV, "height:continuous", r"t\.csv line 1: no column 'height' \(header: age, sex, city, income\)"),
        ("a,b\n1,2\n3,x\n", "", None),  # inferred: b is categorical, no error
        ("a,b\n1,2\n3,x\n", "b:continuous", r"t\.csv line 3 column 'b': 'x' is not a finite number"),
        ("a,b\n1,2\n3,nan\n", "b:continuous", r"line 3 column 'b': 'nan' is not a finite number"),
        ("a,b\n1,2\n\n3\n", "", r"t\.csv line 4: 1 fields, the header has 2"),
        ("a,b\n1,u\n2,u\n", "b:categorical", r"t\.csv column 'b': every value is 'u'; a categorical needs two"),
        ("a,b\n1,u\n1,v\n", "a:continuous", r"column 'a': every value is 1; a continuous column needs two"),
        ("", "", r"t\.csv: empty file"),
        ("a,b\n", "", r"t\.csv: no rows"),
        ("a,a\n1,2\n", "", r"t\.csv line 1: column 'a' appears twice"),
    ],
)
def test_csv_errors(tmp_path: Path, text: str, columns: str, pattern: str | None) -> None:
    path = write(tmp_path, text)
    if pattern is None:
        read_csv_table(path, columns)
        return
    with pytest.raises(DataError, match=pattern):
        read_csv_table(path, columns)


def test_non_utf8_and_missing_csv(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"t\.csv line 2: not UTF-8"):
        read_csv_table(write(tmp_path, b"a,b\n1,\xe9\n"))
    with pytest.raises(DataError, match="CSV file .* does not exist"):
        read_csv_table(tmp_path / "absent.csv")


def test_dict_errors() -> None:
    with pytest.raises(DataError, match="table column 'b': 2 values, column 'a' has 3"):
        table_from_dict({"a": [1, 2, 3], "b": [1, 2]})
    with pytest.raises(DataError, match="table row 1 column 'a': None is not a finite number"):
        table_from_dict({"a": [1, None, 3]}, "a:continuous")
    with pytest.raises(DataError, match="table: no column 'c'"):
        table_from_dict({"a": [1, 2]}, "c:continuous")


@pytest.mark.parametrize(("spec", "pattern"), [("age", "not name:continuous"), ("age:number", "not name:"),
                                               ("a:continuous,a:categorical", "declared twice")])
def test_parse_columns_errors(spec: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        parse_columns(spec)


def test_diabetes_matches_sklearn() -> None:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    table = diabetes_table()
    assert table.continuous.shape == (442, 10) and table.categorical.shape == (442, 1)
    assert table.continuous.min() == -1.0 and table.continuous.max() == 1.0
    decoded = decode_table(table.continuous, table.categorical, table.columns)
    for j, name in enumerate(bunch.feature_names):
        if name == "sex":
            assert_close(torch.tensor([int(v) for v in decoded[name]]), torch.from_numpy(bunch.data[:, j]).long())
        else:
            raw = torch.from_numpy(bunch.data[:, j])
            assert_close(torch.tensor(decoded[name], dtype=torch.float64), raw, rtol=1e-6, atol=1e-5)
    target = torch.from_numpy(bunch.target)
    assert_close(torch.tensor(decoded["progression"], dtype=torch.float64), target, rtol=1e-6, atol=1e-4)


def test_registered_table_datasets(tmp_path: Path) -> None:
    from gankit.config import DataConfig
    from gankit.data import build_dataset, table_dataset

    path = write(tmp_path, CSV)
    ds = build_dataset(DataConfig(name="csv", path=str(path), columns="income:continuous,sex:categorical", limit=2))
    assert len(ds) == 2 and ds.primary_field == "continuous"
    assert_close(ds.groups["main"]["continuous"], torch.tensor([[-1.0], [1.0]]))
    assert_close(ds.groups["main"]["categorical"], torch.tensor([[1], [0]]))
    assert [c["name"] for c in ds.meta["columns"]] == ["income", "sex"] and ds.meta["columns"][0]["max"] == 300.0
    with pytest.raises(ConfigError, match="data.columns"):
        build_dataset(DataConfig(name="csv", path=str(path), columns="income"))
    assert len(build_dataset(DataConfig(name="diabetes"))) == 442

    records = [{"age": 20, "sex": "M"}, {"sex": "F", "age": 40}]
    by_rows = table_dataset(records, "age:continuous,sex:categorical")
    by_columns = table_dataset({"age": [20, 40], "sex": ["M", "F"]}, "age:continuous,sex:categorical")
    for name in ("continuous", "categorical"):
        assert_close(by_rows.groups["main"][name], by_columns.groups["main"][name])
    assert_close(by_rows.groups["main"]["categorical"], torch.tensor([[1], [0]]))
    with pytest.raises(DataError, match="table row 1 column 'city'"):
        table_dataset([{"age": 1}, {"age": 2, "city": "x"}])
