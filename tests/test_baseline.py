import random
from contextlib import nullcontext

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import fake_split, repo_params
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import check_estimator

from sentiment.baseline import (
    MIN_TEXTS_PER_WORKER,
    NBSVMClassifier,
    StableCountVectorizer,
    StableTfidfVectorizer,
    build,
    predict_proba,
)
from sentiment.dataset import clean
from sentiment.search import (
    BaselineParams,
    fit_predict,
    grid_points,
    point_label,
    search_space,
    select_and_refit,
    select_on_validation,
)


def params(**over):
    """The repo's `baseline` params with `over` applied; a dict merges into a model's section,
    e.g. nbsvm={"C": [0.3]}. The builders take a grid's first value."""
    return repo_params(BaselineParams, "baseline", **over)


@pytest.fixture(scope="module")
def data():
    tr, te = (clean(fake_split(n, s).assign(uid=lambda d: d.index.astype(str)), "x") for n, s in ((300, 0), (100, 1)))
    return tr, te


@pytest.mark.parametrize("name", ["bow_rf", "tfidf_lr", "nbsvm"])
def test_learns_tiny_separable_set(name, data, tmp_path):
    tr, te = data
    model = build(name, params()).fit(tr.text.tolist(), tr.label.values)
    prob = predict_proba(model, te.text)
    assert prob.shape == (len(te),) and ((prob >= 0) & (prob <= 1)).all()
    assert ((prob >= 0.5) == te.label.values).mean() >= 0.9
    # the saved pipeline carries its own normalisation: raw, shouty input works the same
    joblib.dump(model, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    a, b = predict_proba(loaded, ["it was great, wonderful!"]), predict_proba(loaded, ["IT WAS GREAT!!! WONDERFUL"])
    assert a[0] > 0.5 and np.isclose(a, b).all()
    assert (predict_proba(loaded, te.text) == prob).all()


def test_seeded(data):
    tr, te = data
    fit = lambda: predict_proba(build("bow_rf", params(seed=3)).fit(tr.text, tr.label), te.text)
    assert (fit() == fit()).all()


def test_build_takes_the_first_value_of_a_grid():
    p = params(nbsvm={"ngram_max": [3, 2], "C": [0.3, 1.0]}, tfidf_lr={"C": [16.0, 32.0]})
    model = build("nbsvm", p)
    assert model.named_steps["vec"].ngram_range == (1, 3) and model.named_steps["nb"].C == 0.3
    assert build("tfidf_lr", p).named_steps["lr"].C == 16.0


def test_unknown_model():
    with pytest.raises(ValueError, match="known"):
        build("svm", params())


def test_search_space_is_the_params_grids_in_pipeline_terms():
    p = params(
        nbsvm={"min_df": [2, 3], "ngram_max": [1, 3], "tf": ["log"], "C": [0.1, 1.0]},
        tfidf_lr={"ngram_max": [2], "C": [8.0, 16.0]},
    )
    space = search_space("nbsvm", p)
    assert space == {
        "vec__min_df": [2, 3],
        "vec__ngram_range": [(1, 1), (1, 3)],
        "nb__tf": ["log"],
        "nb__C": [0.1, 1.0],
    }
    assert search_space("tfidf_lr", p) == {"tfidf__ngram_range": [(1, 2)], "lr__C": [8.0, 16.0]}
    assert search_space("bow_rf", p) == {}  # the reference is not tuned
    points = grid_points(space)
    assert len(points) == 8 and point_label("nbsvm", points[-1]) == "min_df=3 ngram_max=3 tf=log C=1.0"
    for point in points:  # every point is a setting of the built pipeline
        build("nbsvm", p).set_params(**point)


# --- deterministic max_features cut ---------------------------------------------------------


def tied_corpus(seed=0):
    """60 made-up words with counts 1..4 (so ~15 words share each count), spread over 40 docs."""
    rng = random.Random(seed)
    words = sorted({"".join(rng.choice("abcdefghij") for _ in range(4)) for _ in range(60)})
    counts = {w: rng.randint(1, 4) for w in words}
    tokens = [w for w in words for _ in range(counts[w])]
    rng.shuffle(tokens)
    docs = [" ".join(tokens[i::40]) for i in range(40)]
    return docs, counts


def rule(counts: dict, k: int) -> list:
    return sorted(counts, key=lambda t: (-counts[t], t))[:k]


def cuts_inside_a_tie(counts, k):
    ranked = rule(counts, len(counts))
    return counts[ranked[k - 1]] == counts[ranked[k]]


@pytest.mark.parametrize("cls", [StableCountVectorizer, StableTfidfVectorizer])
@pytest.mark.parametrize("k", [5, 23, 37])
def test_cut_keeps_what_the_rule_says(cls, k):
    docs, counts = tied_corpus()
    assert cuts_inside_a_tie(counts, k)
    vec = cls(max_features=k).fit(docs)
    kept = sorted(rule(counts, k))
    # kept terms, and sklearn's column order (by term) among them
    assert vec.vocabulary_ == {t: i for i, t in enumerate(kept)}
    if cls is StableCountVectorizer:
        X = vec.transform(docs)
        assert np.asarray(X.sum(axis=0)).ravel().tolist() == [counts[t] for t in kept]


def test_cut_ranks_document_frequency_when_binary_and_respects_min_df():
    docs, _ = tied_corpus(1)
    df = {t: sum(t in d.split() for d in docs) for t in {t for d in docs for t in d.split()}}
    eligible = {t: c for t, c in df.items() if c >= 2}
    k = next(k for k in range(len(eligible) // 2, len(eligible)) if cuts_inside_a_tie(eligible, k))
    vec = StableCountVectorizer(binary=True, min_df=2, max_features=k).fit(docs)
    assert sorted(vec.vocabulary_) == sorted(rule(eligible, k))


def permuted(X, vocabulary, perm):
    """The same counts with column j moved to perm[j]."""
    inv = np.argsort(perm)
    return sp.csr_array(X[:, inv]), {t: int(perm[j]) for t, j in vocabulary.items()}


@pytest.mark.parametrize("cls", [StableCountVectorizer, StableTfidfVectorizer])
def test_cut_does_not_depend_on_the_order_ties_arrive_in(cls):
    """What numpy's unstable argsort does: hand back tied counts in an arbitrary order. The
    kept terms must still be the rule's; sklearn's own cut follows the order it is given."""
    docs, counts = tied_corpus()
    k = 23
    full = CountVectorizer().fit(docs)
    X = full.transform(docs)
    rng = np.random.default_rng(0)
    perms = [rng.permutation(X.shape[1]) for _ in range(8)]

    def kept(limit_features):
        out = []
        for perm in perms:
            Xp, vocab = permuted(X, full.vocabulary_, perm)
            limit_features(Xp, vocab, len(docs), 1, k)
            out.append(tuple(sorted(vocab)))
        return out

    assert set(kept(cls()._limit_features)) == {tuple(sorted(rule(counts, k)))}
    # the test has teeth: sklearn's cut changes with the order of the tied columns
    assert len(set(kept(CountVectorizer()._limit_features))) > 1


def tie_heavy_params(texts):
    """bow_rf on bigrams with max_features set inside a tie of equal counts (the other models'
    vectorizers get the same cut in the test: it is no param of theirs)."""
    vec = CountVectorizer(
        preprocessor=build("bow_rf", params()).named_steps["bow"].preprocessor,
        token_pattern=build("bow_rf", params()).named_steps["bow"].token_pattern,
        stop_words="english",
        ngram_range=(1, 2),
    ).fit(texts)
    tfs = np.asarray(vec.transform(texts).sum(axis=0)).ravel()
    counts = dict(zip(vec.get_feature_names_out(), tfs))
    k = next(k for k in range(40, len(counts)) if cuts_inside_a_tie(counts, k))
    return params(bow_rf={"ngram_max": 2, "max_features": k, "n_estimators": 30})


@pytest.mark.parametrize("name", ["bow_rf", "tfidf_lr", "nbsvm"])
def test_row_order_does_not_change_the_model(name, data):
    tr, te = data
    texts, y = tr.text.tolist(), tr.label.values
    p = tie_heavy_params(texts)
    order = np.random.default_rng(1).permutation(len(texts))

    def fit(idx):
        model = build(name, p, n_jobs=1)
        model[0].set_params(max_features=p.bow_rf.max_features)
        if name == "bow_rf":
            # a bootstrap draws rows by position, so only a forest without it can be order-free
            model.set_params(rf__bootstrap=False)
        return model.fit([texts[i] for i in idx], y[idx])

    a, b = fit(np.arange(len(texts))), fit(order)
    assert a[0].vocabulary_ == b[0].vocabulary_ and len(a[0].vocabulary_) == p.bow_rf.max_features
    pa, pb = a.predict_proba(te.text.tolist()), b.predict_proba(te.text.tolist())
    if name == "bow_rf":
        assert (pa == pb).all()
    else:  # same optimum; float sums over rows in another order differ in the last bits
        np.testing.assert_allclose(pa, pb, rtol=0, atol=1e-5)


# --- NB-SVM ------------------------------------------------------------------------------------


def test_nbsvm_log_count_ratio_and_scaling():
    X = np.array([[2, 0, 1], [0, 1, 0], [1, 1, 0], [0, 3, 0]], dtype=float)
    y = np.array([1, 0, 1, 0])
    m = NBSVMClassifier(alpha=1.0, C=10.0, random_state=0).fit(sp.csr_array(X), y)
    p = 1 + np.array([2, 1, 1])  # binarised positive rows, smoothed
    q = 1 + np.array([0, 2, 0])
    np.testing.assert_allclose(m.r_, np.log(p / p.sum()) - np.log(q / q.sum()), rtol=1e-12)
    # the regression sees binarised features scaled by r
    lr = m.lr_
    np.testing.assert_allclose(m.decision_function(X), ((X > 0) * m.r_) @ lr.coef_.ravel() + lr.intercept_)
    # counts, their binarisation, dense and sparse input: one model
    for other in (X > 0, sp.csr_array(X > 0, dtype=float), X):
        m2 = NBSVMClassifier(alpha=1.0, C=10.0, random_state=0).fit(other, y)
        np.testing.assert_allclose(m2.r_, m.r_)
        np.testing.assert_allclose(m2.predict_proba(X), m.predict_proba(X), atol=1e-10)


def test_nbsvm_log_tf_scales_log_counts():
    X = np.array([[2, 0, 1], [0, 1, 0], [1, 1, 0], [0, 3, 0]], dtype=float)
    y = np.array([1, 0, 1, 0])
    b = NBSVMClassifier(C=10.0, random_state=0).fit(X, y)
    m = NBSVMClassifier(C=10.0, random_state=0, tf="log").fit(sp.csr_array(X), y)
    np.testing.assert_allclose(m.r_, b.r_)  # r always comes from the binarised counts
    np.testing.assert_allclose(
        m.decision_function(X), (np.log1p(X) * m.r_) @ m.lr_.coef_.ravel() + m.lr_.intercept_, rtol=1e-6
    )
    np.testing.assert_allclose(m.predict_proba(sp.csr_array(X)), m.predict_proba(X), atol=1e-10)
    assert not np.allclose(m.lr_.coef_, b.lr_.coef_)  # a count of 2 or 3 is not a count of 1 here
    with pytest.raises(ValueError, match="tf must be one of"):
        NBSVMClassifier(tf="sqrt").fit(X, y)


def test_nbsvm_r_sign_on_sentiment_words(data):
    tr, _ = data
    model = build("nbsvm", params()).fit(tr.text.tolist(), tr.label.values)
    vocab, r = model.named_steps["vec"].vocabulary_, model.named_steps["nb"].r_
    assert all(r[vocab[w]] > 1 for w in ("great", "wonderful", "superb"))
    assert all(r[vocab[w]] < -1 for w in ("awful", "boring", "terrible"))
    assert abs(r[vocab["film"]]) < 0.5
    assert list(model.classes_) == [0, 1]


def test_nbsvm_clone_and_grid_search(data):
    tr, _ = data
    est = NBSVMClassifier(alpha=0.5, C=3.0, max_iter=50, random_state=7)
    c = clone(est)
    assert c is not est and c.get_params() == est.get_params() and not hasattr(c, "r_")
    pipe = clone(build("nbsvm", params()))
    gs = GridSearchCV(pipe, {"nb__C": [0.1, 1.0], "nb__alpha": [0.5, 1.0]}, cv=2).fit(tr.text.tolist(), tr.label.values)
    assert gs.best_score_ >= 0.9


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize("tf", NBSVMClassifier.TF)
def test_nbsvm_passes_sklearn_estimator_checks(tf):
    check_estimator(NBSVMClassifier(random_state=0, tf=tf))


def test_nbsvm_is_binary():
    with pytest.raises(ValueError, match="Only binary"):
        NBSVMClassifier().fit(np.eye(3), [0, 1, 2])


# --- selection on the validation split ---------------------------------------------------------


class CountingVectorizer(StableCountVectorizer):
    fits = 0

    def fit_transform(self, raw_documents, y=None):
        type(self).fits += 1
        return super().fit_transform(raw_documents, y)


class RecordingNBSVM(NBSVMClassifier):
    seen = []

    def fit(self, X, y):
        super().fit(X, y)
        type(self).seen.append((self.get_params(), X.shape[0], np.array(y), self.lr_.coef_.copy()))
        return self


def _split(data):
    tr, te = data
    return tr.text.tolist(), tr.label.values, te.text.tolist(), te.label.values


def test_selection_picks_the_obviously_best_point(data):
    tr_x, tr_y, va_x, va_y = _split(data)
    pipe = build("nbsvm", params())
    # one feature (the most frequent term) cannot separate; the full vocabulary can
    grid = {"vec__max_features": [1, None], "nb__C": [0.5, 1.0]}
    best, rows = select_on_validation(pipe, grid, tr_x, tr_y, va_x, va_y)
    assert [{k: r[k] for k in grid} for r in rows] == grid_points(grid)
    assert grid_points(grid)[0] == {"vec__max_features": 1, "nb__C": 0.5}  # last key fastest
    assert all(r["val_accuracy"] < 0.7 for r in rows[:2]) and all(r["val_accuracy"] >= 0.9 for r in rows[2:])
    assert best["vec__max_features"] is None
    # equal accuracies: the earlier point wins
    if rows[2]["val_accuracy"] == rows[3]["val_accuracy"]:
        assert best == {"vec__max_features": None, "nb__C": 0.5}


def test_selection_tie_goes_to_the_first_point(data):
    tr_x, tr_y, va_x, va_y = _split(data)
    grid = {"nb__C": [2.0, 1.0, 3.0]}  # all separate the toy set perfectly
    best, rows = select_on_validation(build("nbsvm", params()), grid, tr_x, tr_y, va_x, va_y)
    assert len({r["val_accuracy"] for r in rows}) == 1
    assert best == {"nb__C": 2.0}


def test_selection_fits_on_train_only(data):
    tr_x, tr_y, va_x, va_y = _split(data)
    pipe = build("nbsvm", params())
    pipe.steps[-1] = ("nb", RecordingNBSVM(C=1.0, random_state=42))
    grid = {"vec__ngram_range": [(1, 1), (1, 2)], "nb__C": [0.01, 1.0]}
    RecordingNBSVM.seen = []
    best, rows = select_on_validation(pipe, grid, tr_x, tr_y, va_x, va_y)
    assert len(RecordingNBSVM.seen) == len(rows) == 4
    for (_, n_rows, y, _), _row in zip(RecordingNBSVM.seen, rows):
        assert n_rows == len(tr_x) and (y == tr_y).all()
    # each point's score is that of a model fitted on train alone, scored on val
    for (_, _, _, coef), row in zip(RecordingNBSVM.seen, rows):
        alone = clone(pipe).set_params(**{k: row[k] for k in grid}).fit(tr_x, tr_y)
        np.testing.assert_array_equal(alone[-1].lr_.coef_, coef)
        assert row["val_accuracy"] == (alone.predict(va_x) == va_y).mean()
    # val labels only score: flipping them flips every accuracy and changes no fit
    _, flipped = select_on_validation(pipe, grid, tr_x, tr_y, va_x, 1 - va_y)
    for a, b in zip(rows, flipped):
        assert b["val_accuracy"] == pytest.approx(1 - a["val_accuracy"])


def test_selection_vectorises_once_per_vectorizer_setting(data):
    tr_x, tr_y, va_x, va_y = _split(data)
    pipe = build("nbsvm", params())
    pipe.steps[0] = ("vec", CountingVectorizer(**pipe.named_steps["vec"].get_params()))
    CountingVectorizer.fits = 0
    _, rows = select_on_validation(
        pipe, {"vec__ngram_range": [(1, 1), (1, 2)], "nb__C": [0.1, 1.0, 10.0]}, tr_x, tr_y, va_x, va_y
    )
    assert len(rows) == 6 and CountingVectorizer.fits == 2


def _direct_accuracy(pipe, point, tr_x, tr_y, va_x, va_y):
    return (clone(pipe).set_params(**point).fit(tr_x, tr_y).predict(va_x) == va_y).mean()


def test_min_df_grid_vectorises_once_and_matches_separate_fits(data):
    tr_x, tr_y, va_x, va_y = _split(data)
    pipe = build("nbsvm", params())
    pipe.steps[0] = ("vec", CountingVectorizer(**pipe.named_steps["vec"].get_params()))
    pipe.steps[-1] = ("nb", RecordingNBSVM(C=1.0, random_state=42))
    grid = {"vec__ngram_range": [(1, 1), (1, 2)], "vec__min_df": [1, 3, 8], "nb__C": [0.01, 1.0]}
    CountingVectorizer.fits, RecordingNBSVM.seen = 0, []
    _, rows = select_on_validation(pipe, grid, tr_x, tr_y, va_x, va_y)
    assert CountingVectorizer.fits == 2  # one per ngram_range: min_df is a column mask
    seen = RecordingNBSVM.seen
    assert len({coef.shape for *_, coef in seen}) >= 4  # min_df changes the vocabulary here
    for (_, _, _, coef), row in zip(seen, rows):
        point = {k: row[k] for k in grid}
        alone = clone(pipe).set_params(**point).fit(tr_x, tr_y)
        np.testing.assert_array_equal(alone[-1].lr_.coef_, coef)  # the very same features and fit
        assert row["val_accuracy"] == _direct_accuracy(pipe, point, tr_x, tr_y, va_x, va_y)


def test_selection_in_worker_processes_matches_one_process(data):
    # the stage fits a vectorisation's grid points in parallel processes: same rows, same order
    tr_x, tr_y, va_x, va_y = _split(data)
    grid = {"vec__min_df": [1, 3], "nb__C": [0.01, 0.1, 1.0]}
    best1, one = select_on_validation(build("nbsvm", params()), grid, tr_x, tr_y, va_x, va_y, n_jobs=1)
    best2, two = select_on_validation(build("nbsvm", params()), grid, tr_x, tr_y, va_x, va_y, n_jobs=2)
    assert best1 == best2 and len(one) == len(two) == 6
    assert len({tuple(np.round(r["val_prob"], 6)) for r in one}) > 1  # the points differ
    for a, b in zip(one, two):
        assert {k: a[k] for k in grid} == {k: b[k] for k in grid}
        assert a["val_accuracy"] == b["val_accuracy"]
        np.testing.assert_array_equal(a["val_prob"], b["val_prob"])


def test_predict_proba_in_worker_processes_matches_one_process(data):
    tr_x, tr_y, va_x, _ = _split(data)
    model = build("nbsvm", params()).fit(tr_x, tr_y)
    n = 2 * MIN_TEXTS_PER_WORKER  # enough for 2 workers
    texts = [f"{t} {i}" for i in range(n // len(va_x) + 1) for t in va_x][:n]
    one = predict_proba(model, texts)
    np.testing.assert_array_equal(predict_proba(model, texts, n_jobs=2), one)
    assert len(one) == n and 0 < one.mean() < 1


def test_tfidf_min_df_is_not_masked(data):
    # tf-idf rows are L2-normalised over the kept terms: dropping columns is not min_df there
    tr_x, tr_y, va_x, va_y = _split(data)
    pipe = build("tfidf_lr", params())
    grid = {"tfidf__min_df": [1, 5], "lr__C": [0.01, 1.0]}
    _, rows = select_on_validation(pipe, grid, tr_x, tr_y, va_x, va_y)
    for row in rows:
        point = {k: row[k] for k in grid}
        assert row["val_accuracy"] == _direct_accuracy(pipe, point, tr_x, tr_y, va_x, va_y), point


def test_fit_predict_keeps_validation_out_of_sample_and_refits_for_test(data):
    tr, te = data
    val, test = te.iloc[:50], te.iloc[50:]
    both = pd.concat([tr, val], ignore_index=True)
    alone = lambda df: build("nbsvm", params()).fit(df.text.tolist(), df.label.values)
    steps = []
    model = build("nbsvm", params())
    val_prob, test_prob = fit_predict(
        model, tr, val, test, refit_on=both, step=lambda what: steps.append(what) or nullcontext()
    )
    assert steps == ["fit", "predict_val", "refit", "predict_test"]
    np.testing.assert_array_equal(val_prob, predict_proba(alone(tr), val.text))  # never saw val
    np.testing.assert_array_equal(test_prob, predict_proba(alone(both), test.text))
    assert not np.array_equal(test_prob, predict_proba(alone(tr), test.text))  # the refit changed the model
    np.testing.assert_array_equal(predict_proba(model, test.text), test_prob)  # the model kept is the refit
    # no refit: test comes from the same train-only model
    _, plain = fit_predict(build("nbsvm", params()), tr, val, test)
    np.testing.assert_array_equal(plain, predict_proba(alone(tr), test.text))


@pytest.mark.parametrize("name", ["tfidf_lr", "nbsvm"])
def test_selection_val_prob_is_the_train_only_fit_so_it_is_not_refit(name, data):
    tr, te = data
    val, test = te.iloc[:50], te.iloc[50:]
    grid = (
        {"vec__min_df": [1, 2], "nb__tf": ["binary", "log"], "nb__C": [0.1, 1.0]}
        if name == "nbsvm"
        else {"tfidf__ngram_range": [(1, 1), (1, 2)], "lr__C": [1.0, 8.0]}
    )
    best, rows = select_on_validation(build(name, params()), grid, tr.text, tr.label, val.text, val.label)
    fresh = build(name, params()).set_params(**best).fit(tr.text.tolist(), tr.label.values)
    for r in rows:  # every point's val_prob is its own fit's
        assert r["val_prob"].shape == (len(val),)
        assert r["val_accuracy"] == np.mean((r["val_prob"] >= 0.5) == val.label.values)
    chosen = next(r["val_prob"] for r in rows if {k: r[k] for k in grid} == best)
    np.testing.assert_allclose(chosen, predict_proba(fresh, val.text), rtol=1e-6, atol=1e-9)
    steps, model = [], build(name, params()).set_params(**best)
    both = pd.concat([tr, val], ignore_index=True)
    got_val, got_test = fit_predict(
        model, tr, val, test, refit_on=both, val_prob=chosen, step=lambda what: steps.append(what) or nullcontext()
    )
    assert steps == ["refit", "predict_test"] and got_val is chosen
    refit = build(name, params()).set_params(**best).fit(both.text.tolist(), both.label.values)
    np.testing.assert_array_equal(got_test, predict_proba(refit, test.text))
    # without a refit the train-only model must exist to predict test: it is fitted
    steps.clear()
    fit_predict(
        build(name, params()).set_params(**best),
        tr,
        val,
        test,
        val_prob=chosen,
        step=lambda what: steps.append(what) or nullcontext(),
    )
    assert steps == ["fit", "predict_test"]


@pytest.mark.parametrize("cls", [StableCountVectorizer, StableTfidfVectorizer])
def test_fitted_vectorizer_pickles_to_the_same_bytes(cls, data):
    # sklearn keeps id(stop_words), a memory address: the saved models' bytes changed every run
    import io

    vecs = [cls(stop_words=["the", "a", "of"]).fit(data[0].text.tolist()) for _ in range(2)]  # two lists, two ids
    dumps = []
    for vec in vecs:
        vec.transform(["the film"])
        buf = io.BytesIO()
        joblib.dump(vec, buf)
        dumps.append(buf.getvalue())
    assert dumps[0] == dumps[1]


def _dump(obj) -> bytes:
    import io

    buf = io.BytesIO()
    joblib.dump(obj, buf)
    return buf.getvalue()


def test_restrict_min_df_is_fitting_with_that_min_df(data):
    texts = data[0].text.tolist()
    low = StableCountVectorizer(ngram_range=(1, 2), min_df=1)
    X = low.fit_transform(texts)
    for k in (2, 5):
        direct = StableCountVectorizer(ngram_range=(1, 2), min_df=k)
        want = direct.fit_transform(texts)
        restricted = clone(low).fit(texts)
        got = restricted.restrict_min_df(low.transform(texts), k)
        assert len(direct.vocabulary_) < len(low.vocabulary_)  # k drops terms here
        assert (got != want).nnz == 0 and got.shape == want.shape
        assert _dump(restricted) == _dump(direct)  # same params, vocabulary, dict order, value types
    with pytest.raises(ValueError, match="max_features"):
        StableCountVectorizer(max_features=10).fit(texts).restrict_min_df(X, 2)


@pytest.mark.parametrize("name", ["nbsvm", "tfidf_lr"])
def test_select_and_refit_is_selection_then_the_plain_refit(name, data):
    tr, te = data
    val, extra = te.iloc[:50], te.iloc[50:]
    # words that only val and extra have: they must not reach the selection's features
    val = val.assign(text=val.text + " zzvalonly")
    extra = extra.assign(text=extra.text + " zzextraonly zzvalonly")
    grid = (
        {"vec__min_df": [1, 2, 3], "nb__C": [0.1, 1.0]}
        if name == "nbsvm"
        else {"tfidf__min_df": [1, 2], "lr__C": [1.0, 8.0]}
    )
    pipe = build(name, params())
    if name == "nbsvm":
        pipe.steps[0] = ("vec", CountingVectorizer(**pipe.named_steps["vec"].get_params()))
    args = (grid, tr.text, tr.label.values, val.text, val.label.values)
    want_best, want_rows = select_on_validation(pipe, *args)
    CountingVectorizer.fits, steps = 0, []
    best, rows, model = select_and_refit(
        pipe, *args, extra.text, extra.label.values, step=lambda what: steps.append(what) or nullcontext()
    )
    assert steps == ["select", "refit"] and best == want_best
    for a, b in zip(rows, want_rows):  # every point scored as by a train-only fit
        assert a["val_accuracy"] == b["val_accuracy"]
        np.testing.assert_array_equal(a["val_prob"], b["val_prob"])
    all_texts = tr.text.tolist() + val.text.tolist() + extra.text.tolist()
    all_y = np.concatenate([tr.label.values, val.label.values, extra.label.values])
    plain = clone(pipe).set_params(**best).fit(all_texts, all_y)
    assert _dump(model) == _dump(plain)  # the very model a plain refit gives
    assert "zzextraonly" in model[0].vocabulary_ or best.get("vec__min_df", best.get("tfidf__min_df")) > 1
    if name == "nbsvm":
        assert CountingVectorizer.fits == 2  # the search's one + the plain refit above; none for the refit
