import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import update_readme  # noqa: E402


def test_update_readme_fills_marked_block():
    readme = "intro\n<!-- results:start -->\nold\n<!-- results:end -->\nrest\n"
    out = update_readme.fill(readme, "results", "| model | acc |\n|---|---|\n| x | 0.9 |\n")
    assert out == "intro\n<!-- results:start -->\n| model | acc |\n|---|---|\n| x | 0.9 |\n<!-- results:end -->\nrest\n"
    assert update_readme.fill(out, "results", "| model | acc |\n|---|---|\n| x | 0.9 |\n") == out


def test_cost_table_comes_from_the_stage_logs(tmp_path):
    import json

    import cost_table

    machine = {"cpu": "Test CPU", "cores": 2, "cpu_isa": "avx2"}
    (tmp_path / "prepare.json").write_text(json.dumps({"seconds": {"load": 3.0, "clean_split": 2.0}, "machine": machine}))
    (tmp_path / "finetune.json").write_text(json.dumps({"seconds": {"train": 600.0, "predict_test": 300.0},
                                                        "machine": machine,
                                                        "runtime": {"device": "cpu", "precision": "fp32"}}))
    (tmp_path / "classical_ensemble.json").write_text(json.dumps({"seconds": {"logits": 6.0}, "machine": machine}))
    md = cost_table.render(tmp_path)
    assert "| classical_ensemble | 0.1 min | logits 6 s |" in md  # every dvc.yaml stage that logs
    assert "| prepare | 0.1 min | load 3 s, clean_split 2 s |" in md
    assert "| finetune | 15.0 min (cpu, fp32) | train 600 s, predict_test 300 s |" in md
    assert "**15.2 min**" in md and "Test CPU, 2 cores, avx2" in md


def test_compare_metrics_shows_differences_and_identity(tmp_path):
    import json

    import compare_metrics

    split = {"accuracy": 0.9, "f1": 0.9, "roc_auc": 0.95, "log_loss": 0.3, "n": 10}
    for run, acc in (("a", 0.9), ("b", 0.91)):
        d = tmp_path / run / "metrics/models"
        d.mkdir(parents=True)
        (d / "bow_rf.json").write_text(json.dumps({"val": split, "test": split}))
        (d / "finetuned.json").write_text(json.dumps({"val": split, "test": {**split, "accuracy": acc},
                                                      "runtime": {"precision": "bf16" if run == "a" else "fp32",
                                                                  "cpu_isa": "amx" if run == "a" else "avx2"}}))
    md = compare_metrics.compare(tmp_path / "a", tmp_path / "b")
    assert "| bow_rf | —/— → —/— |" in md and md.split("| bow_rf |")[1].split("\n")[0].endswith("| yes |")
    row = md.split("| finetuned |")[1].split("\n")[0]
    assert "bf16/amx → fp32/avx2" in row and "0.9000 → 0.9100 (+0.0100)" in row and row.endswith("| no |")


def test_augment_table_reads_validation_and_the_selection_half_only():
    import augment_table

    dom = {f"finetuned.{half}.{s}.accuracy": (0.9 if half == "selection" else 0.1) for half in ("selection", "report")
           for s in ("amazon", "imdb", "yelp")}
    beh = {"finetuned.negated positive -> negative": 0.25, "finetuned.negated negative -> not negative": 1.0}
    rows = [{"name": "crops", "params": {"augment_crops": 1.0, "crop_max_sentences": 1},
             "metrics": {"metrics/models/finetuned.json": {"val.accuracy": 0.895},
                         "metrics/robustness/domains.json": dom, "metrics/robustness/behaviour.json": beh}}]
    md = augment_table.table(rows, ["finetuned"])
    assert "| crops | 1.0 | 1 | None | None | None | 0.8950 | 0.900 | 0.900 | 0.900 | 0.900 | 0.250 | 1.000 |" in md
    assert "0.100" not in md  # the report half never enters a choice


def test_exp_table_rows_from_a_commit_and_named_runs():
    import exp_table

    row = exp_table.committed("HEAD")  # the committed default run of this checkout
    assert row["name"] == "commit HEAD" and "learning_rate" in row["params"]
    assert 0.5 < row["metrics"]["metrics/models/finetuned.json"]["val.accuracy"] <= 1
    rows = [{"name": "b", "params": {"train_size": 12000},
             "metrics": {"metrics/models/finetuned.json": {"val.accuracy": 0.9, "test.accuracy": 0.89}}},
            {"name": "a", "params": {"train_size": 6000}, "metrics": {}}]
    text = exp_table.table(rows, "train_size", models=("finetuned",))
    lines = text.splitlines()
    assert lines[2] == "| 6000 | nan | nan | a |" and lines[3] == "| 12000 | 0.9000 | 0.8900 | b |"
    # several swept keys at once (a budget trade-off); an unset or null value sorts last
    rows += [{"name": "c", "params": {"train_size": None, "max_length": 128}, "metrics": {}}]
    lines = exp_table.table(rows, ["max_length", "train_size"], models=("finetuned",)).splitlines()
    assert lines[0] == "| max_length | train_size | finetuned val acc | finetuned test acc | run |"
    assert lines[2] == "| 128 | None | nan | nan | c |" and lines[3] == "| None | 6000 | nan | nan | a |"


def test_nbsvm_cv_scores_every_variant_on_train_folds(tmp_path):
    import nbsvm_cv

    from conftest import fake_split

    fake_split(120, 0).to_parquet(tmp_path / "train.parquet")
    out = tmp_path / "cv.md"
    argv = sys.argv
    sys.argv = ["nbsvm_cv.py", "--train", str(tmp_path / "train.parquet"), "--folds", "2", "--min_df", "1",
                "--C", "1.0", "--beta", "1.0", "0.5", "--out", str(out)]
    try:
        nbsvm_cv.main()
    finally:
        sys.argv = argv
    rows = [l for l in out.read_text().splitlines() if l.startswith("| words")]
    assert len(rows) == 2 * 2 * 1 * 2  # tokens x tf x C x beta
    accs = [float(r.split("|")[5]) for r in rows]
    assert accs == sorted(accs, reverse=True) and accs[0] > 0.9  # separable cue words


def test_bench_finetune_runs_the_stage_code_path(tmp_path, tiny):
    """The benchmark builds its TrainingArguments through sentiment.finetune: it breaks when that API
    changes (it did once), so one optimizer step on a tiny model guards it."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_finetune

    from conftest import fake_split

    df = fake_split(8, 0)
    a = bench_finetune.Args(model_name=str(tiny), max_length=32, reviews=8, steps=1, batch_size=4, precision="fp32")
    assert bench_finetune.project_run(a, df, tmp_path) > 0


def test_workspace_row_from_another_checkout(tmp_path):
    import exp_table

    (tmp_path / "metrics/models").mkdir(parents=True)
    (tmp_path / "metrics/models/finetuned.json").write_text('{"val": {"accuracy": 0.89}}')
    (tmp_path / "params.yaml").write_text("augment_negations: 0.0\n")
    row = exp_table.workspace(tmp_path, "off")
    assert row == {"name": "off", "params": {"augment_negations": 0.0},
                   "metrics": {"metrics/models/finetuned.json": {"val.accuracy": 0.89}}}


def test_negation_forms_tells_the_augmented_form_from_the_others():
    from negation_forms import AUGMENTED_FORM

    from sentiment.behaviour import NEGATED
    from sentiment.data import negatable, negate

    seen = {t for t in NEGATED if AUGMENTED_FORM.search(t.format(n="plot", a="dull"))}
    assert seen == {"The {n} was not {a}.", "This {n} is not {a}.", "The {n} wasn't {a}.", "The {n} is not {a} at all."}
    s = "The plot was dull."  # what the fine-tune's negation pairs look like is the augmented form
    m = negatable(s, 0, {"dull": -1.7})
    assert all(AUGMENTED_FORM.search(negate(s, m, c)) for c in (False, True))


def test_predict_length_scores_each_length(tiny_bert, tmp_path):
    import json
    import shutil

    from conftest import fake_split
    from predict_length import scores

    model = tmp_path / "m"  # a fine-tuned model folder: weights, tokenizer and inference.json
    shutil.copytree(tiny_bert, model)
    (model / "inference.json").write_text(json.dumps({"max_length": 32, "truncation": "head_tail"}))
    rows = scores(model, fake_split(40, 0), [16, 64], batch_size=8)
    assert [r["max_length"] for r in rows] == [16, 64]
    assert all(0 <= r["accuracy"] <= 1 and 0.0 <= r["roc_auc"] <= 1 and r["log_loss"] > 0 for r in rows)


def test_nbsvm_variants_count_ratio_and_nb_score():
    import numpy as np
    import scipy.sparse as sp
    from nbsvm_variants import NBSVMVariant

    from sentiment.baseline import NBSVMClassifier

    X = sp.csr_array(np.array([[2, 0, 1], [0, 1, 0], [1, 1, 0], [0, 3, 0]], dtype=float))
    y = np.array([1, 0, 1, 0])
    stage = NBSVMClassifier(C=10.0, random_state=0).fit(X, y)
    same = NBSVMVariant(C=10.0, random_state=0).fit(X, y)  # defaults: the stage's estimator
    np.testing.assert_allclose(same.predict_proba(X), stage.predict_proba(X))
    count = NBSVMVariant(C=10.0, random_state=0, ratio="count").fit(X, y)
    p, q = 1 + np.array([3, 1, 1]), 1 + np.array([0, 4, 0])  # raw counts, smoothed
    np.testing.assert_allclose(count.r_, np.log(p / p.sum()) - np.log(q / q.sum()), rtol=1e-6)
    scored = NBSVMVariant(C=10.0, random_state=0, nb_score=True).fit(X, y)
    S = scored._scale(X)
    assert S.shape == (4, 4) and scored.lr_.coef_.shape == (1, 4)
    np.testing.assert_allclose(S.toarray()[:, 3], ((X.toarray() > 0) * scored.r_).sum(axis=1), rtol=1e-6)


def test_nbsvm_crops_at_point_narrows_the_grid_to_the_labelled_point():
    from nbsvm_crops import at_point

    from sentiment.baseline import grid_points, point_label, search_space
    from sentiment.config import ConfigError, load_params

    p = load_params(ROOT / "params.yaml").baseline
    label = "min_df=5 ngram_max=3 tf=log C=1.0"
    q = at_point(p, label)
    assert [point_label("nbsvm", pt) for pt in grid_points(search_space("nbsvm", q))] == [label]
    assert len(p.nbsvm.C) > 1  # the stage's params are left as they were
    with pytest.raises((ConfigError, ValueError)):
        at_point(p, "min_df=0 ngram_max=3 tf=log C=1.0")  # the schema's own bound: min_df >= 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter=1 on purpose
def test_nbsvm_variants_grid_rows_flag_a_solver_stopped_at_max_iter():
    import numpy as np
    from nbsvm_variants import NBSVMVariant

    from conftest import fake_split
    from sentiment.baseline import StableCountVectorizer, select_on_validation
    from sklearn.pipeline import Pipeline

    tr, va = fake_split(200, 0), fake_split(60, 1)
    pipe = Pipeline([("vec", StableCountVectorizer(ngram_range=(1, 2))), ("nb", NBSVMVariant(C=100.0, random_state=0))])
    grid = {"vec__min_df": [1, 2], "nb__max_iter": [1, 1000], "nb__ratio": ["binary", "count"]}
    _, rows = select_on_validation(pipe, grid, tr.text, tr.label.values, va.text, va.label.values)
    assert [r["converged"] for r in rows if r["nb__max_iter"] == 1] == [False] * 4
    assert all(r["converged"] for r in rows if r["nb__max_iter"] == 1000)
    count = [r for r in rows if r["nb__ratio"] == "count" and r["nb__max_iter"] == 1000]
    binary = [r for r in rows if r["nb__ratio"] == "binary" and r["nb__max_iter"] == 1000]
    assert any(not np.array_equal(a["val_prob"], b["val_prob"]) for a, b in zip(count, binary))


def test_nbsvm_recipes_scores_every_recipe_on_the_same_folds(tmp_path):
    import re

    import nbsvm_recipes

    from conftest import fake_split

    assert re.findall(nbsvm_recipes.PUNCT_TOKENS, "don't stop!") == ["don", "'", "t", "stop", "!"]  # Mesnil's tokens
    fake_split(120, 0).to_parquet(tmp_path / "train.parquet")
    out = tmp_path / "recipes.md"
    argv = sys.argv
    sys.argv = ["nbsvm_recipes.py", "--train", str(tmp_path / "train.parquet"), "--folds", "2", "--out", str(out)]
    try:
        nbsvm_recipes.main()
    finally:
        sys.argv = argv
    rows = [l.split("|") for l in out.read_text().splitlines() if l.startswith("| ") and "---" not in l][1:]
    assert [r[1].strip() for r in rows] == list(nbsvm_recipes.RECIPES)
    assert rows[0][4].strip().startswith("+0.0000")  # the stage's row is the reference
    assert all(float(r[2]) > 0.9 for r in rows)  # separable cue words: every recipe learns them


def test_sentence_ceiling_rows_per_source():
    import numpy as np
    import pandas as pd
    from sentence_ceiling import ceiling_rows

    rng = np.random.default_rng(0)
    n = 200
    sel = pd.DataFrame({"source": ["a"] * n + ["b"] * n, "label": np.tile([0, 1], n)})
    y = sel.label.values
    right = np.where(y == 1, 0.9, 0.1)
    noise = rng.uniform(0.05, 0.95, 2 * n)
    # m1 knows source a only, m2 source b only: no single model, but a per-source stacker, gets both
    prob = {"m1": np.where(sel.source == "a", right, noise), "m2": np.where(sel.source == "b", right, noise)}
    rows = ceiling_rows(sel, prob, ["m1", "m2"], folds=5, seed=0)
    assert rows["m1"]["a"] == 1.0 and rows["m2"]["b"] == 1.0 and rows["m1"]["b"] < 0.7
    assert rows["best single model per source"] == {"a": 1.0, "b": 1.0}
    assert rows["stacker fit per source on the selection half (CV)"] == {"a": 1.0, "b": 1.0}
    shared = rows["stacker fit on the selection half (one for all sources, CV)"]
    assert 0.5 < shared["a"] <= 1.0 and 0.5 < shared["b"] <= 1.0


def test_bench_compile_eager_step_runs_the_stage_loader(tiny, capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import argparse

    import bench_compile

    a = argparse.Namespace(model_name=str(tiny), max_length=16, batch_size=2, steps=1, precision="fp32", seed=0)
    bench_compile.run("eager", a)
    assert "eager: fp32" in capsys.readouterr().out


def test_classical_stack_row_fits_on_validation_and_scores_each_source():
    import numpy as np
    import pandas as pd
    from classical_stack import stack_row

    from sentiment.config import EnsembleParams

    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 100)
    val = pd.DataFrame({"label": y, "text": ["word " * 150] * len(y)})  # long reviews, like IMDB
    sel = pd.DataFrame({"source": ["a"] * 100 + ["b"] * 100, "label": y, "text": ["short text"] * len(y)})
    good, noise = np.where(y == 1, 3.0, -3.0), rng.normal(0, 1, len(y))
    Z_val, Z_sel = {"m1": good, "m2": noise}, {"m1": good, "m2": noise}
    report, acc = stack_row(["m1", "m2"], "logits", Z_val, val, Z_sel, sel, EnsembleParams())
    assert acc == {"a": 1.0, "b": 1.0} and report["nested_cv_accuracy"] == 1.0  # the informative member wins
    report, acc = stack_row(["m2"], "logits_x_length", Z_val, val, {"m2": -noise}, sel, EnsembleParams())
    assert report["C"] in EnsembleParams().C and max(acc.values()) < 0.8  # noise alone learns nothing
