"""The two negation tests of the behavioural suite, split by the form of the negation: is it the
form the fine-tune's negation pairs are made in ("The plot was not dull.", "The plot wasn't
dull.": copula + not + adjective), or another one ("I don't think the plot is dull.", "I would
not call the plot dull.", "It was not a dull plot.")? A model that only learned the augmented
form fails the others. Same cases as the robustness stage (robustness.cases_per_test, seed).

    python scripts/negation_forms.py --run "off (default)=." --run "f7fe3f2: augment_negations=0.1=../run" \
        --out metrics/selection/negation_forms.md

Each --run is NAME=CHECKOUT: a checkout whose models/ a default run wrote (paths in the
ensemble's spec are relative to it).
"""

import argparse
import os
import re
from pathlib import Path

import numpy as np

from sentiment import THRESHOLD
from sentiment.behaviour import NEG_ADJ, POS_ADJ, build_suite, failures
from sentiment.config import load_params
from sentiment.data import NEGATION, check_texts
from sentiment.metrics import compute_metrics
from sentiment.predictor import Predictor
from sentiment.robustness import load_sentences, split_halves

TESTS = ("negated positive -> negative", "negated negative -> not negative")
# copula (+ not | contracted) + the adjective: the form sentiment.data.negate writes
AUGMENTED_FORM = re.compile(r"\b(?:(?:is|was|are|were) not|isn't|wasn't|aren't|weren't) (?:%s)\b"
                            % "|".join(POS_ADJ + NEG_ADJ))


def prob_positive(model: Predictor, texts) -> np.ndarray:
    return np.array([x.prob_positive for x in model.predict_cleaned(check_texts(texts))])


def failure_rates(model: Predictor, tests) -> dict[str, dict[str, tuple[float, int]]]:
    """{test: {form: (failure rate, cases)}} for one model; failures by the robustness stage's rule."""
    out = {}
    for t in tests:
        fail = failures(t, prob_positive(model, t.texts), None, 0.0)  # MFT tests: no tolerance applies
        seen = np.array([bool(AUGMENTED_FORM.search(s)) for s in t.texts])
        out[t.name] = {form: (float(fail[m].mean()), int(m.sum())) for form, m in
                       (("augmented form", seen), ("other forms", ~seen), ("all", np.ones_like(seen)))}
    return out


def negated_sentences(p) -> "pd.DataFrame":
    """The sentence set's selection half (never the report half) where a negation word occurs."""
    df = split_halves(load_sentences(p.data_dir), p.report_frac, p.seed)
    return df[(df.half == "selection") & df.text.str.contains(NEGATION)]


def accuracy(model: Predictor, sents) -> float:
    p = prob_positive(model, sents.text.tolist())
    return compute_metrics(sents.label.to_numpy(), (p >= THRESHOLD).astype(int), p)["accuracy"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", action="append", required=True, metavar="NAME=CHECKOUT",
                    help="a default run's checkout (its models/); repeat for each run")
    ap.add_argument("--models", nargs="+", default=["finetuned", "ensemble"])
    ap.add_argument("--out", default="metrics/selection/negation_forms.md")
    a = ap.parse_args()
    p = load_params().robustness
    tests = [t for t in build_suite(p.cases_per_test, p.seed) if t.name in TESTS]
    here = Path.cwd()
    sents = negated_sentences(p)
    lines = ["# Negation tests by form: the augmented form vs the others", "",
             f"Failure rate (cases) of the behavioural suite's negation tests ({p.cases_per_test} cases each, seed "
             f"{p.seed}); augmented form = copula + not/n't + adjective, as `sentiment.data.negate` writes. "
             "`python scripts/negation_forms.py`.", "",
             "| run | model | test | augmented form | other forms | all |", "|---|---|---|---|---|---|"]
    real = ["", f"Real sentences with a negation word (`sentiment.data.NEGATION`) in the sentence set's selection "
            f"half: {len(sents)} of them, accuracy:", "", "| run | " + " | ".join(a.models) + " |",
            "|---|" + "---|" * len(a.models)]
    for run in a.run:
        name, path = run.rsplit("=", 1)  # a name may hold "=", a path does not
        os.chdir(here / path)
        acc = []
        for m in a.models:
            model = Predictor(Path("models") / m)  # loaded once for both tables
            for test, forms in failure_rates(model, tests).items():
                cells = [f"{r:.3f} ({n})" for r, n in forms.values()]
                lines.append(f"| {name} | {m} | {test} | " + " | ".join(cells) + " |")
            acc.append(accuracy(model, sents))
        real.append(f"| {name} | " + " | ".join(f"{x:.3f}" for x in acc) + " |")
        os.chdir(here)
    lines += real
    text = "\n".join(lines) + "\n"
    Path(a.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
