import numpy as np
import pandas as pd
import pytest

from sentiment.io import make_predictions
from sentiment.report import (
    align,
    best_on_val,
    comparison_json,
    confusion_rows,
    error_analysis,
    mcnemar_matrix,
    model_metrics,
    score,
    summary_markdown,
)


def split(name, n, rng):
    prefix = "train" if name == "val" else "test"
    return pd.DataFrame(
        {
            "uid": [f"{prefix}/x/{i}" for i in range(n)],
            "label": rng.integers(0, 2, n).astype("int8"),
            "rating": pd.array(rng.integers(1, 11, n), "Int8"),
            "text": ["word " * int(k) for k in rng.integers(5, 900, n)],
        }
    )


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    splits = {"val": split("val", 200, rng), "test": split("test", 400, rng)}

    def model(quality):
        frames = []
        for s, df in splits.items():
            prob = np.clip(df.label * quality + rng.random(len(df)) * (1 - quality) + 0.5 * (quality == 0), 0, 1)
            frames.append(make_predictions(s, df.uid, df.label, prob))
        return pd.concat(frames).sample(frac=1, random_state=0)  # shuffled rows

    return splits, {"good": model(0.7), "bad": model(0.0)}


def test_scores_each_split_and_picks_the_best_on_validation(setup):
    splits, preds = setup
    tables = {s: score(align(preds, s, ref), n_boot=100, seed=0) for s, ref in splits.items()}
    assert list(tables["val"].index) == ["good", "bad"] and tables["val"].n.tolist() == [200, 200]
    assert tables["test"].n.tolist() == [400, 400]
    best = best_on_val(tables["val"])
    assert best == "good"
    pv = mcnemar_matrix(align(preds, "test", splits["test"]))
    assert pv["good"]["bad"] == pv["bad"]["good"] < 1e-6
    js = comparison_json(tables, best, pv)
    lo, hi = js["models"]["bad"]["test"]["ci95"]["accuracy"]
    assert lo < tables["test"].loc["bad", "accuracy"] < hi and js["best_on_val"] == "good"
    m = model_metrics(tables, "good", {"runtime": {"device": "cpu", "precision": "bf16", "cpu_isa": "amx", "x": 1}})
    assert (
        m["val"]["n"] == 200
        and m["test"]["n"] == 400
        and m["runtime"] == {"device": "cpu", "precision": "bf16", "cpu_isa": "amx"}
    )
    stacker = {
        "stacker": {
            "coef": {"good": 1.5, "bad": 0.1},
            "intercept": 0.0,
            "C": 1.0,
            "cv_folds": 5,
            "nested_cv_accuracy": 0.8,
        }
    }
    md = summary_markdown(tables, best, pv, 100, {"ens": stacker})
    assert "## Test (final report): 400 reviews" in md and "## Validation (model selection): 200 reviews" in md
    assert "(best on val)" in md and "| good | +1.500 |" in md


def test_best_on_val_ignores_test(setup):
    splits, preds = setup
    # swap the models' test rows: the best model must not change, since only validation chooses
    swapped = {
        "good": pd.concat([preds["good"][preds["good"].split == "val"], preds["bad"][preds["bad"].split == "test"]]),
        "bad": pd.concat([preds["bad"][preds["bad"].split == "val"], preds["good"][preds["good"].split == "test"]]),
    }
    val = score(align(swapped, "val", splits["val"]), 0, 0)
    assert best_on_val(val) == "good"


def test_align_rejects_partial_predictions(setup):
    splits, preds = setup
    preds["bad"] = preds["bad"].iloc[:-1]
    with pytest.raises(ValueError, match="do not cover"):
        align(preds, "val", splits["val"]), align(preds, "test", splits["test"])


def test_error_analysis(setup):
    splits, preds = setup
    md = error_analysis("bad", align(preds, "test", splits["test"])["bad"], splits["test"], n_errors=5)
    assert "## Accuracy by star rating" in md and ">800" in md
    assert md.split("most confident mistakes")[1].count("| test/x/") == 5
    assert "| negative |" in md.split("## Per-class report")[1] and " | neg | pos | " in md  # IMDB's names, short


def test_error_analysis_and_confusion_of_data_without_ratings_name_its_labels(setup):
    """User data: no star ratings (a null column) and its own label names (dataset.json)."""
    splits, preds = setup
    test = splits["test"].assign(rating=pd.array([None] * len(splits["test"]), "Int8"))
    df = align(preds, "test", test)["bad"]
    md = error_analysis("bad", df, test, n_errors=5, labels=["bad", "good"])
    assert "star rating" not in md and "stars" not in md and ">800" in md  # no empty section, no '?' column
    assert "| bad  |" in md.split("## Per-class report")[1] and "| good |" in md
    mistakes = md.split("most confident mistakes")[1].splitlines()
    assert mistakes[2] == "| uid | true | predicted | P(positive) | excerpt |" and len(mistakes[4].split(" | ")) == 5
    assert all(" | bad | good | " in r for r in mistakes[4:9])  # the bad model says positive to all
    rows = confusion_rows(df, ["bad", "good"])
    assert {r["actual"] for r in rows} == {"bad", "good"} and {r["predicted"] for r in rows} == {"good"}
