"""The stacked ensemble: fit on validation only, honest scores, clear errors for bad members."""

import numpy as np
import pandas as pd
import pytest

from sentiment import DataError
from sentiment.ensemble import (
    candidates_by_features,
    choose_stacker,
    fit_stacker,
    member_features,
    route_candidates,
    stacker_spec,
)
from sentiment.io import make_predictions
from sentiment.stacker import logit, route_short, stack_features


def splits(rng):
    return {
        s: pd.DataFrame({"uid": [f"{s}/{i}" for i in range(n)], "label": rng.integers(0, 2, n).astype("int8")})
        for s, n in (("val", 600), ("test", 400))
    }


def member(sp, rng, skill):
    """P(positive) that follows the label with strength `skill`."""
    return pd.concat(
        [
            make_predictions(
                s, df.uid, df.label, 1 / (1 + np.exp(-(skill * (2 * df.label - 1) + rng.normal(0, 1, len(df)))))
            )
            for s, df in sp.items()
        ]
    ).sample(frac=1, random_state=1)


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    sp = splits(rng)
    return sp, {"strong": member(sp, rng, 1.0), "weak": member(sp, rng, 0.4), "noise": member(sp, rng, 0.0)}


def test_stacker_weights_follow_member_quality(setup):
    sp, preds = setup
    members = ["strong", "weak", "noise"]
    X = member_features(preds, members, "val", sp["val"])
    model, report, oof, nested = fit_stacker(X, sp["val"].label.values, [0.01, 0.1, 1.0, 10.0], 5, 0)
    w = dict(zip(members, model.coef_[0]))
    assert w["strong"] > w["weak"] > abs(w["noise"])
    assert set(report["cv_accuracy_by_C"]) == set(report["cv_log_loss_by_C"]) == {"0.01", "0.1", "1.0", "10.0"}
    losses = report["cv_log_loss_by_C"]
    assert report["C"] == float(min(losses, key=losses.get))  # C by CV log loss, not accuracy
    assert len(set(losses.values())) == 4  # the grid matters here, so the line above can fail
    assert 0.7 < report["nested_cv_accuracy"] < 0.97
    assert report["nested_cv_accuracy"] == round(((nested >= 0.5) == sp["val"].label.values).mean(), 6)
    # out-of-fold validation predictions: not the refit model's own (in-sample) answers
    assert oof.shape == (600,) and not np.allclose(oof, model.predict_proba(X)[:, 1])
    stages = {"strong": "baseline", "weak": "finetune", "noise": "pretrained"}
    spec = stacker_spec(model, members, stages, scorers={"noise": {"max_length": 128}})
    assert [m.get("path") for m in spec["members"]] == ["models/baseline/strong.joblib", "models/finetuned", None]
    assert spec["members"][2]["scorer"] == {"name": "noise", "settings": {"max_length": 128}}  # served by settings
    with pytest.raises(DataError, match="'noise' has no saved model and no scorer settings"):
        stacker_spec(model, members, stages)


def test_fit_never_sees_test_rows(setup):
    """Changing every test prediction (and label) leaves the fitted stacker unchanged."""
    sp, preds = setup
    members = ["strong", "weak"]
    fit = lambda pr: fit_stacker(
        member_features(pr, members, "val", sp["val"]), sp["val"].label.values, [0.1, 1.0], 3, 0
    )[0]
    a = fit(preds)
    scrambled = {n: df.assign(prob=np.where(df.split == "test", 1 - df.prob, df.prob)) for n, df in preds.items()}
    b = fit(scrambled)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_


def test_member_errors_name_the_member(setup):
    sp, preds = setup
    with pytest.raises(DataError, match="no predictions for member 'gone'"):
        member_features(preds, ["strong", "gone"], "val", sp["val"])
    short = {**preds, "weak": preds["weak"].iloc[5:]}
    with pytest.raises(DataError, match="member 'weak'.*do not cover"):
        member_features(short, ["strong", "weak"], "val", sp["val"]) if (
            short["weak"].split == "val"
        ).sum() < 600 else member_features(short, ["strong", "weak"], "test", sp["test"])
    other = {**preds, "weak": preds["weak"].assign(uid=lambda d: d.uid + "x")}
    with pytest.raises(DataError, match="member 'weak'"):
        member_features(other, ["weak"], "val", sp["val"])


def test_logit_is_finite_at_the_edges():
    assert np.isfinite(logit([0.0, 1.0, 0.5])).all() and logit([0.5])[0] == 0


def test_candidates_are_chosen_by_their_worst_score():
    """A stacker that wins on IMDB validation but fails one sentence source loses to one that holds."""
    a = {
        "features": "logits",
        "short_words": 0,
        "nested_cv_accuracy": 0.926,
        "sentences_selection_accuracy": {"amazon": 0.88, "yelp": 0.93},
    }
    b = {
        "features": "logits_x_length",
        "short_words": 0,
        "nested_cv_accuracy": 0.924,
        "sentences_selection_accuracy": {"amazon": 0.91, "yelp": 0.92},
    }
    assert choose_stacker([a, b]) is b
    a["sentences_selection_accuracy"]["amazon"] = 0.92
    assert choose_stacker([a, b]) is a
    tie = [{"features": "b", "nested_cv_accuracy": 0.9}, {"features": "a", "nested_cv_accuracy": 0.9}]
    assert choose_stacker(tie)["features"] == "b"  # ties: the earlier in params


def test_short_texts_take_the_short_member_answer():
    texts = ["one two three", "one two three four five six", "a " * 40]
    prob, member = np.array([0.9, 0.8, 0.3]), logit([0.2, 0.1, 0.95])
    np.testing.assert_array_equal(route_short(prob, member, texts, 0), prob)  # 0: never
    np.testing.assert_allclose(route_short(prob, member, texts, 3), [0.2, 0.8, 0.3])  # at most 3 words
    np.testing.assert_allclose(route_short(prob, member, texts, 40), [0.2, 0.1, 0.95])
    np.testing.assert_array_equal(route_short(prob, None, texts, 0), prob)  # no member needed when off


def test_route_is_chosen_where_the_stacker_fails_short_texts():
    """The stacker learns on long reviews to trust a member that is wrong on one-liners; the selection
    half's short sentences make the route win, and long validation reviews keep the stacker's answers."""
    rng = np.random.default_rng(3)
    n = 1200
    y = rng.integers(0, 2, n)
    sign = 2 * y - 1
    val_texts = [" ".join(["w"] * k) for k in rng.integers(60, 400, n)]
    Z = np.column_stack([2.0 * sign + rng.normal(0, 1, n), 0.5 * sign + rng.normal(0, 1, n)])  # long: 0 is best
    model, report, oof, nested = fit_stacker(Z, y, [1.0], 3, 0)
    m = 400
    ys = rng.integers(0, 2, m)
    sel = pd.DataFrame(
        {
            "source": rng.choice(["amazon", "yelp"], m),
            "label": ys,
            "text": [" ".join(["w"] * k) for k in rng.integers(5, 20, m)],
        }
    )
    Z_sel = np.column_stack([rng.normal(0, 2, m), 1.5 * (2 * ys - 1) + rng.normal(0, 1, m)])  # short: 1 is best
    cands = route_candidates(
        "logits",
        nested,
        y,
        val_texts,
        Z[:, 1],
        [0, 32],
        sel=sel,
        sel_prob=model.predict_proba(Z_sel)[:, 1],
        sel_short_logit=Z_sel[:, 1],
    )
    off, on = cands
    assert (off["short_words"], on["short_words"]) == (0, 32)
    assert off["nested_cv_accuracy"] == on["nested_cv_accuracy"] == report["nested_cv_accuracy"]  # no val text <= 32
    assert min(on["sentences_selection_accuracy"].values()) > max(off["sentences_selection_accuracy"].values()) + 0.2
    assert choose_stacker(cands) is on
    spec = stacker_spec(model, ["long", "short"], {"long": "baseline", "short": "finetune"}, "logits", 32, "short")
    assert (spec["short_words"], spec["short_member"]) == (32, "short")
    assert "short_words" not in stacker_spec(model, ["long", "short"], {"long": "baseline", "short": "finetune"})
    grouped = candidates_by_features(cands)  # the selection record's layout
    assert list(grouped) == ["logits"] and list(grouped["logits"]) == ["0", "32"]
    assert grouped["logits"]["32"]["nested_cv_accuracy"] == on["nested_cv_accuracy"]
    assert "short_words" not in grouped["logits"]["32"]


def test_length_features_let_weights_change_with_length(setup):
    """A member that is only right on long texts gets a positive length coefficient."""
    rng = np.random.default_rng(1)
    n = 2000
    y = rng.integers(0, 2, n)
    words = rng.choice([5, 20, 500], n)
    texts = [" ".join(["w"] * k) for k in words]
    good_long = np.where(words == 500, 3.0, 0.0) * (2 * y - 1) + rng.normal(0, 1, n)
    steady = 1.0 * (2 * y - 1) + rng.normal(0, 1, n)
    Z = np.column_stack([good_long, steady])
    X = stack_features(Z, texts, "logits_x_length")
    model, report, _, _ = fit_stacker(X, y, [1.0], 3, 0)
    spec = stacker_spec(model, ["long", "steady"], {"long": "baseline", "steady": "finetune"}, "logits_x_length")
    long, steady = spec["members"]
    weight = lambda m, k: m["coef"] + m["length_coef"] * np.log(k / 170)  # noqa: E731
    assert spec["features"] == "logits_x_length"
    assert weight(long, 500) > 1.5 and abs(weight(long, 5)) < 0.3  # trusted on long texts only
    assert weight(steady, 5) > weight(steady, 500) > 0.5  # carries short texts alone
    assert report["nested_cv_accuracy"] > fit_stacker(Z, y, [1.0], 3, 0)[1]["nested_cv_accuracy"]
    with pytest.raises(ValueError, match="unknown stacker features"):
        stack_features(Z, texts, "bogus")


def test_too_few_validation_texts_for_the_folds_is_a_clear_error():
    y = np.array([0] * 20 + [1] * 6)
    X = np.random.default_rng(0).normal(size=(26, 2))
    with pytest.raises(
        DataError, match="6 text.* smaller class: too few for the stacker's nested 5-fold .*needs 7 .*ensemble.cv_folds"
    ):
        fit_stacker(X, y, [1.0], 5, 0)
    fit_stacker(X, np.array([0] * 19 + [1] * 7), [1.0], 5, 0)  # 7 per class is enough
