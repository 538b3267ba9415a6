"""Stage robustness: every servable model on one-line texts from three domains and on
CheckList-style behavioural tests (src/sentiment/robustness.py, src/sentiment/behaviour.py).

Reads the trained models and the sentence set; trains nothing, so its params rerun no
training. Figures are reported on the sentence set's report half; the selection half's
are kept apart for choosing robustness settings (augmentation, the ensemble's features).
"""

import logging

from sentiment import run_stage, timed
from sentiment.config import load_params

DOMAINS = "metrics/robustness/domains.json"
BEHAVIOUR = "metrics/robustness/behaviour.json"
PLOT = "plots/robustness/domains.json"
REPORT = "metrics/robustness.md"

log = logging.getLogger("robustness")


def main() -> None:
    params = load_params()  # validate before the heavy imports
    p = params.robustness
    import json

    import numpy as np

    from sentiment.behaviour import build_suite, run_suite
    from sentiment.io import write_json, write_stage_log, write_text
    from sentiment.robustness import (
        domain_metrics,
        load_sentences,
        model_scorer,
        plot_rows,
        report_markdown,
        split_halves,
    )

    sentences = split_halves(load_sentences(p.data_dir), p.report_frac, p.seed)
    suite = build_suite(p.cases_per_test, p.seed)
    scorers = {name: model_scorer(name, params.pretrained_eval) for name in p.models}  # unknown names fail now
    seconds, probs, behaviour = {}, {}, {}
    for name, score in scorers.items():
        with timed(f"{name}: {len(sentences)} sentences, {len(suite)} behavioural tests", log, seconds, name):
            probs[name] = np.asarray(score(sentences.text.tolist()), dtype="float64")
            behaviour[name] = run_suite(suite, score, p.dir_tolerance, p.n_worst)
    domains = domain_metrics(sentences, probs, p.n_bootstrap, p.seed)
    imdb_test = {n: json.load(open(f"metrics/models/{n}.json"))["test"]["accuracy"] for n in p.models}
    write_json(domains, DOMAINS)
    write_json({n: {t: r["failure_rate"] for t, r in b.items()} for n, b in behaviour.items()}, BEHAVIOUR)
    write_json(plot_rows(domains, imdb_test), PLOT)
    write_text(report_markdown(domains, imdb_test, behaviour, sentences, probs, p.n_worst), REPORT)
    write_stage_log("robustness", seconds)


if __name__ == "__main__":
    run_stage(main)
