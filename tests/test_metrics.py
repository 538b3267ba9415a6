import numpy as np
import pytest
from sklearn import metrics as skm

from sentiment.metrics import bootstrap_ci, class_report, compute_metrics, mcnemar


@pytest.fixture
def preds():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    prob = np.clip(0.3 * y + rng.random(500) * 0.7, 0, 1).round(2)  # rounding makes ties
    return y, (prob >= 0.5).astype(int), prob


def test_matches_sklearn(preds):
    y, pred, prob = preds
    m = compute_metrics(y, pred, prob)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, prob))
    assert m["mcc"] == pytest.approx(skm.matthews_corrcoef(y, pred))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, prob), rel=1e-6)


def test_class_report_matches_sklearn(preds):
    y, pred, _ = preds
    ours = class_report(y, pred)
    ref = skm.classification_report(y, pred, output_dict=True)
    for cls, name in (("0", "negative"), ("1", "positive")):
        assert ours.loc[name, "f1"] == pytest.approx(ref[cls]["f1-score"])
        assert ours.loc[name, "recall"] == pytest.approx(ref[cls]["recall"])
        assert ours.loc[name, "support"] == ref[cls]["support"]


def test_degenerate_predictions_do_not_crash():
    m = compute_metrics([0, 1, 1], [0, 0, 0], [0.1, 0.2, 0.3])
    assert m["precision"] == 0 and m["f1"] == 0 and m["roc_auc"] == 1


def test_bootstrap_ci_is_seeded_and_brackets_the_estimate(preds):
    y, pred, prob = preds
    a = bootstrap_ci(y, pred, prob, n_boot=200, seed=1)
    assert a == bootstrap_ci(y, pred, prob, n_boot=200, seed=1)
    assert a != bootstrap_ci(y, pred, prob, n_boot=200, seed=2)
    m = compute_metrics(y, pred, prob)
    for k, (lo, hi) in a.items():
        assert lo <= m[k] <= hi, k
    # ~ normal-approximation width for accuracy: 2 * 1.96 * sqrt(p(1-p)/n)
    p = m["accuracy"]
    assert a["accuracy"][1] - a["accuracy"][0] == pytest.approx(3.92 * np.sqrt(p * (1 - p) / 500), rel=0.25)


def test_mcnemar():
    y = np.array([1] * 100)
    same = mcnemar(y, y, y)
    assert same["p_value"] == 1.0
    a = y.copy()
    b = y.copy()
    b[:30] = 0  # b wrong on 30 reviews where a is right
    r = mcnemar(y, a, b)
    assert r["a_right_b_wrong"] == 30 and r["b_right_a_wrong"] == 0 and r["p_value"] < 1e-8
    assert mcnemar(y, b, a)["p_value"] == r["p_value"]


def test_bootstrap_weights_equal_explicit_resampling(preds):
    """A resample as multinomial weights gives exactly the metrics of the resampled rows."""
    from sentiment.metrics import weighted_metrics

    y, pred, prob = preds
    rng = np.random.default_rng(7)
    for _ in range(5):
        idx = rng.integers(0, len(y), len(y))
        w = np.bincount(idx, minlength=len(y))
        assert (w != 1).any()
        weighted = weighted_metrics(y, pred, prob, w)
        explicit = compute_metrics(y[idx], pred[idx], prob[idx])
        for k, v in explicit.items():
            assert weighted[k][0] == pytest.approx(v, rel=1e-9, abs=1e-12), k


def test_hf_evaluate_module_is_the_same_implementation(preds):
    """evaluate.load(<repo path>) works offline and returns this module's numbers, CIs included."""
    import evaluate

    from sentiment.metrics import HF_METRIC_DIR

    y, pred, prob = preds
    metric = evaluate.load(str(HF_METRIC_DIR))
    got = metric.compute(predictions=pred, references=y, prediction_scores=prob, n_bootstrap=50, seed=3)
    ci = got.pop("ci95")
    assert got == pytest.approx(compute_metrics(y, pred, prob))
    assert ci == {k: pytest.approx(v) for k, v in bootstrap_ci(y, pred, prob, 50, 3).items()}


@pytest.mark.e2e
def test_src_does_not_shadow_the_evaluate_package():
    import subprocess
    import sys

    from conftest import ROOT

    out = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, 'src'); import evaluate; print(evaluate.__file__)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "site-packages" in out.stdout and "/src/" not in out.stdout
