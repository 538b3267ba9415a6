"""Binary sentiment metrics as a Hugging Face `evaluate` module.

A thin wrapper: the numbers come from `sentiment.metrics`, the project's one implementation
(point estimates and bootstrap CIs share its weighted code), so the Trainer, the evaluate
stage and your own notebook compute them identically:

    import evaluate
    metric = evaluate.load("src/sentiment/binary_sentiment")   # a local path: works offline
    metric.compute(predictions=[1, 0], references=[1, 1], prediction_scores=[0.9, 0.4])

Needs the project's package importable (`pip install -e .`, as scripts/setup.sh does).
"""

import datasets
import evaluate

from sentiment.metrics import bootstrap_ci, compute_metrics

_DESCRIPTION = (
    "Accuracy, precision, recall, F1, macro-F1, ROC-AUC, MCC and log loss of a binary "
    "classifier (positive class = 1), optionally with percentile-bootstrap 95% CIs."
)
_KWARGS = """
Args:
    predictions: predicted labels (0/1).
    references: true labels (0/1).
    prediction_scores: P(label = 1) for each example (for ROC-AUC and log loss).
    n_bootstrap: bootstrap resamples for 95% CIs (0: none). seed: their random seed.
Returns:
    a dict of the metrics; with n_bootstrap > 0 also `ci95`: {metric: (low, high)}.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class BinarySentiment(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("int8"),
                    "references": datasets.Value("int8"),
                    "prediction_scores": datasets.Value("float64"),
                }
            ),
        )

    def _compute(self, predictions, references, prediction_scores, n_bootstrap: int = 0, seed: int = 42):
        out = compute_metrics(references, predictions, prediction_scores)
        if n_bootstrap:
            out["ci95"] = bootstrap_ci(references, predictions, prediction_scores, n_bootstrap, seed)
        return out
