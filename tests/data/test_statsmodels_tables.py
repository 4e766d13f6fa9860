"""The statsmodels tables: declared column types, row counts, and values checked against
statsmodels' own frames."""

import numpy as np
import pytest

from gankit.data.tables import decode_table

sm = pytest.importorskip("statsmodels.datasets", reason="the tables extra (statsmodels) is not installed")


def test_fair_columns_and_target():
    from gankit.data.statsmodels_tables import fair_table

    table = fair_table()
    frame = sm.fair.load_pandas().data
    assert table.continuous.shape == (6366, 3) and table.categorical.shape == (6366, 6)
    raw = decode_table(table.continuous, table.categorical, table.columns)
    np.testing.assert_allclose(raw["yrs_married"], frame["yrs_married"], atol=1e-4)
    assert raw["affair"] == ["yes" if v > 0 else "no" for v in frame["affairs"]]
    assert raw["educ"] == [str(int(v)) for v in frame["educ"]]


def test_anes96_columns():
    from gankit.data.statsmodels_tables import anes96_table

    table = anes96_table()
    frame = sm.anes96.load_pandas().data
    names = [c["name"] for c in table.columns if c["type"] == "categorical"]
    assert table.continuous.shape == (944, 4) and names == ["selfLR", "ClinLR", "DoleLR", "PID", "educ", "vote"]
    raw = decode_table(table.continuous, table.categorical, table.columns)
    np.testing.assert_allclose(raw["age"], frame["age"], atol=1e-4)
    assert raw["vote"] == [str(int(v)) for v in frame["vote"]]
