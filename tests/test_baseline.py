import joblib
import numpy as np
import pytest

from conftest import fake_split
from sentiment.baseline import build, predict_proba
from sentiment.config import BaselineParams
from sentiment.data import clean


@pytest.fixture(scope="module")
def data():
    tr, te = (clean(fake_split(n, s).assign(uid=lambda d: d.index.astype(str)), "x")
              for n, s in ((300, 0), (100, 1)))
    return tr, te


@pytest.mark.parametrize("name", ["bow_rf", "tfidf_lr"])
def test_learns_tiny_separable_set(name, data, tmp_path):
    tr, te = data
    p = BaselineParams(n_jobs=1)
    model = build(name, p).fit(tr.text.tolist(), tr.label.values)
    prob = predict_proba(model, te.text)
    assert prob.shape == (len(te),) and ((prob >= 0) & (prob <= 1)).all()
    assert ((prob >= 0.5) == te.label.values).mean() >= 0.9
    # the saved pipeline carries its own normalisation: raw, shouty input works the same
    joblib.dump(model, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    a, b = predict_proba(loaded, ["it was great, wonderful!"]), predict_proba(loaded, ["IT WAS GREAT!!! WONDERFUL"])
    assert a[0] > 0.5 and np.isclose(a, b).all()


def test_seeded(data):
    tr, te = data
    fit = lambda: predict_proba(build("bow_rf", BaselineParams(n_jobs=1, seed=3)).fit(tr.text, tr.label), te.text)
    assert (fit() == fit()).all()


def test_unknown_model():
    with pytest.raises(ValueError, match="known"):
        build("svm", BaselineParams())
