"""Stage robustness: every servable model on one-line texts from three domains and on
CheckList-style behavioural tests (src/sentiment/robustness.py, src/sentiment/behaviour.py).

Reads the trained models and the sentence set; trains nothing, so its params rerun no
training. Figures are reported on the sentence set's report half; the selection half's
are kept apart for choosing robustness settings (the ensembles' features and short-text route).
"""

import logging

from sentiment import run_stage, timed
from sentiment.config import load
from sentiment.robustness import RobustnessParams
from sentiment.scorers import ScorerParams

# the params.yaml keys this stage reads (= its dvc.yaml params; tested): its section and the
# settings of the zero-shot scorers it serves
READS = {"robustness": RobustnessParams, "pretrained_eval": ScorerParams}

N_WORST = 5  # failing cases listed per test and per source in reports/robustness.md (changes no metric)

log = logging.getLogger("robustness")


def main() -> None:
    params = load(READS)
    p = params["robustness"]
    import json

    import numpy as np

    from sentiment.behaviour import build_suite, run_suite
    from sentiment.io import read_dataset_info, write_json, write_stage_log, write_text
    from sentiment.robustness import domain_metrics, plot_rows, report_markdown, robustness_metrics
    from sentiment.sentences import load_sentences, model_scorer, split_halves

    sentences = split_halves(load_sentences(p.data_dir), p.report_frac, p.seed)
    suite = build_suite(p.cases_per_test, p.seed)
    scorers = {name: model_scorer(name, params["pretrained_eval"]) for name in p.models}  # unknown names fail now
    seconds, probs, behaviour = {}, {}, {}
    for name, score in scorers.items():
        with timed(f"{name}: {len(sentences)} sentences, {len(suite)} behavioural tests", log, seconds, name):
            probs[name] = np.asarray(score(sentences.text.tolist()), dtype="float64")
            behaviour[name] = run_suite(suite, score, p.dir_tolerance, N_WORST)
    domains = domain_metrics(sentences, probs, p.n_bootstrap, p.seed)
    accuracy = json.load(open("metrics/accuracy.json"))  # evaluate's: the prepared test split beside the domains
    test_acc = {n: accuracy[n]["test"] for n in p.models}
    dataset = read_dataset_info("data/prepared")["name"]  # what the tables call that test split
    write_json(domains, "reports/robustness/domains.json")
    write_json(
        {n: {t: r["failure_rate"] for t, r in b.items()} for n, b in behaviour.items()},
        "reports/robustness/behaviour.json",
    )
    write_json(plot_rows(domains, test_acc, dataset=dataset), "plots/robustness/domains.json")
    write_text(
        report_markdown(domains, test_acc, behaviour, sentences, probs, N_WORST, dataset=dataset),
        "reports/robustness.md",
    )
    write_json(robustness_metrics(domains, behaviour), "metrics/robustness.json")
    write_stage_log("robustness", seconds)


if __name__ == "__main__":
    run_stage(main)
