"""Stage ensemble (and classical_ensemble): a stacker fit on the members' validation predictions,
applied to test.

`--section` names the params.yaml section, and so the model, its predictions and its records:
`ensemble` (the default model) or `classical_ensemble` (classical members only). Fits on the
members' predictions files only (val rows to fit, test rows to transform). Of the candidates in
params (`features` x `short_words`, the short-text route), it keeps the one whose worst score
over IMDB validation (nested CV) and each source of the sentence set's selection half is
highest: for that, the members (served from their model files, a zero-shot scorer from its
settings) score the selection half. Writes its own predictions under the contract, the stacker
(models/<section>) and the selection record (reports/selection/<section>.json).
"""

import argparse
import logging

from sentiment import DataError, run_stage, timed
from sentiment.config import load
from sentiment.ensemble import EnsembleParams
from sentiment.scorers import ScorerParams
from sentiment.sentences import SentenceSplitParams
from sentiment.stacker import ENSEMBLES

DATA = "data/prepared"

log = logging.getLogger("ensemble")


def reads(section: str) -> dict:
    """The params.yaml keys this stage reads (= its dvc.yaml params; tested): its own section, the
    sentence set's split (the selection half chooses) and a zero-shot member's scorer settings."""
    return {section: EnsembleParams, "robustness": SentenceSplitParams, "pretrained_eval": ScorerParams}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--section",
        choices=ENSEMBLES,
        default="ensemble",
        help="params.yaml section; also the name of the model, its predictions and its records",
    )
    name = ap.parse_args().section
    model_dir, pred_file = f"models/{name}", f"predictions/{name}/{name}.parquet"
    params = load(reads(name))
    p, r, zero_shot = params[name], params["robustness"], params["pretrained_eval"]
    import numpy as np
    import pandas as pd

    from sentiment.ensemble import (
        candidates_by_features,
        choose_stacker,
        fit_stacker,
        member_features,
        route_candidates,
        stacker_spec,
    )
    from sentiment.io import (
        atomic_path,
        copy_dataset_info,
        make_predictions,
        read_predictions,
        write_json,
        write_predictions,
        write_stage_log,
    )
    from sentiment.scorers import settings
    from sentiment.sentences import load_sentences, model_scorer, split_halves
    from sentiment.stacker import logit, route_short, stack_features

    try:
        preds = read_predictions("predictions", p.members)
    except ValueError as e:
        raise DataError(f"ensemble.members: {e}") from None
    val = pd.read_parquet(f"{DATA}/val.parquet")
    test = pd.read_parquet(f"{DATA}/test.parquet")
    Z_val = member_features(preds, p.members, "val", val)  # checks every member before fitting
    Z_test = member_features(preds, p.members, "test", test)
    y = val.label.values

    seconds, fits, candidates = {}, {}, []
    short = p.members.index(p.short_member) if p.short_member in p.members else None  # its logit column
    col = lambda Z: None if short is None else Z[:, short]  # noqa: E731
    sel = None
    if len(p.features) * len(p.short_words) > 1:  # the sentence set decides between the candidates
        sentences = split_halves(load_sentences(r.data_dir), r.report_frac, r.seed)
        sel = sentences[sentences.half == "selection"].reset_index(drop=True)
        with timed(f"members scoring {len(sel)} selection-half sentences", log, seconds, "members_sentences"):
            Z_sel = np.column_stack([logit(model_scorer(m, zero_shot)(sel.text.tolist())) for m in p.members])
    for features in p.features:
        with timed(f"fitting the {features} stacker on {len(val)} validation reviews", log, seconds, features):
            fits[features] = fit_stacker(stack_features(Z_val, val.text, features), y, p.C, p.cv_folds, p.seed)
        sel_args = (
            {}
            if sel is None
            else dict(
                sel=sel,
                sel_prob=fits[features][0].predict_proba(stack_features(Z_sel, sel.text, features))[:, 1],
                sel_short_logit=col(Z_sel),
            )
        )
        for c in route_candidates(features, fits[features][3], y, val.text, col(Z_val), p.short_words, **sel_args):
            log.info("candidate %s", c)
            candidates.append(c)
    best = choose_stacker(candidates)
    chosen, n_words = best["features"], best["short_words"]
    model, report, oof, _ = fits[chosen]
    # a zero-shot member is served by the settings pretrained_eval chose for it (its predictions' meta)
    scorers = {
        m: vars(settings(zero_shot, **df.attrs["meta"].get("settings", {})))
        for m, df in preds.items()
        if df.attrs["stage"] == "pretrained"
    }
    spec = stacker_spec(
        model, p.members, {m: df.attrs["stage"] for m, df in preds.items()}, chosen, n_words, p.short_member, scorers
    )
    weights = {m["name"]: m["coef"] for m in spec["members"]}
    log.info(
        "features %s, short_words %d, C=%s, weights %s; nested-CV validation accuracy %.4f",
        chosen,
        n_words,
        report["C"],
        {k: round(v, 3) for k, v in weights.items()},
        best["nested_cv_accuracy"],
    )
    frames = [
        make_predictions(
            "val",
            val.uid,
            val.label,  # out-of-fold: honest val metrics
            route_short(oof, col(Z_val), val.text, n_words),
        ),
        make_predictions(
            "test",
            test.uid,
            test.label,
            route_short(
                model.predict_proba(stack_features(Z_test, test.text, chosen))[:, 1], col(Z_test), test.text, n_words
            ),
        ),
    ]
    stacker = {
        "features": chosen,
        **report,
        "nested_cv_accuracy": best["nested_cv_accuracy"],
        "short_words": n_words,
        "short_member": p.short_member if n_words else None,
        "coef": weights,
        "intercept": spec["intercept"],
    }
    if chosen == "logits_x_length":
        stacker["length_coef"] = {m["name"]: m["length_coef"] for m in spec["members"]}
    # a transformer member's arithmetic decides the ensemble's numbers too: record it
    runtimes = [df.attrs["meta"]["runtime"] for df in preds.values() if df.attrs["meta"].get("runtime")]
    write_predictions(frames, pred_file, meta={"stacker": stacker, **({"runtime": runtimes[0]} if runtimes else {})})
    with atomic_path(model_dir) as tmp:
        tmp.mkdir()
        write_json(spec, tmp / "ensemble.json")
        copy_dataset_info(DATA, tmp)  # predict/serve name an ensemble's answers from its own folder
    write_json({**stacker, "candidates": candidates_by_features(candidates)}, f"reports/selection/{name}.json")
    write_stage_log(name, seconds)


if __name__ == "__main__":
    run_stage(main)
