import numpy as np
import pandas as pd
import pytest

from sentiment.io import make_predictions
from sentiment.report import align, compare, comparison_json, error_analysis, summary_markdown


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    n = 400
    test = pd.DataFrame({"uid": [f"test/x/{i}" for i in range(n)], "label": rng.integers(0, 2, n).astype("int8"),
                         "rating": pd.array(rng.integers(1, 11, n), "Int8"),
                         "text": ["word " * int(k) for k in rng.integers(5, 900, n)]})
    good = np.clip(test.label * 0.8 + rng.random(n) * 0.3, 0, 1)
    bad = rng.random(n)
    preds = {"good": make_predictions(test.uid, test.label, good),
             "bad": make_predictions(test.uid, test.label, bad).sample(frac=1, random_state=0)}  # shuffled rows
    return test, preds


def test_compare_orders_by_accuracy_with_significance(setup):
    test, preds = setup
    table = compare(align(preds, test), n_boot=100, seed=0)
    assert table.attrs["best"] == "good" and list(table.index) == ["good", "bad"]
    assert np.isnan(table.loc["good", "mcnemar_p_vs_best"]) and table.loc["bad", "mcnemar_p_vs_best"] < 1e-6
    js = comparison_json(table)
    lo, hi = js["models"]["bad"]["ci95"]["accuracy"]
    assert lo < table.loc["bad", "accuracy"] < hi
    md = summary_markdown(table, 100)
    assert "\n| good | " in md and "\n| bad | " in md and "(best)" in md


def test_align_reorders_shuffled_predictions(setup):
    test, preds = setup
    aligned = align(preds, test)
    assert aligned["bad"].uid.tolist() == test.uid.tolist()


def test_align_rejects_partial_predictions(setup):
    test, preds = setup
    preds["bad"] = preds["bad"].iloc[:-1]
    with pytest.raises(ValueError, match="do not cover"):
        align(preds, test)


def test_error_analysis(setup):
    test, preds = setup
    md = error_analysis("bad", align(preds, test)["bad"], test, n_errors=5)
    assert "## Accuracy by star rating" in md and ">800" in md
    assert md.split("most confident mistakes")[1].count("| test/x/") == 5
