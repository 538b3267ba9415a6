"""The sentence set, its split, per-domain metrics and the CheckList-style behavioural tests."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from sentiment import DataError
from sentiment.behaviour import build_suite, failures, run_suite
from sentiment.robustness import domain_metrics, domain_table, plot_rows
from sentiment.sentences import load_sentences, split_halves

POS_WORDS = {
    "good",
    "great",
    "excellent",
    "amazing",
    "wonderful",
    "fantastic",
    "brilliant",
    "enjoyable",
    "delightful",
    "superb",
    "lovely",
    "perfect",
    "outstanding",
    "impressive",
    "fun",
    "loved",
    "recommended",
    "wonderful.",
}


def sentence_file(d, rows=None, sums=True):
    d.mkdir(parents=True, exist_ok=True)
    if rows is None:
        rows = [
            {"source": s, "id": i, "text": f"{s} sentence {i} is {'good' if i % 2 else 'bad'}.", "label": i % 2}
            for s in ("amazon", "yelp", "imdb")
            for i in range(40)
        ]
    pd.DataFrame(rows).to_parquet(d / "sentences.parquet")
    if sums:
        digest = hashlib.sha256((d / "sentences.parquet").read_bytes()).hexdigest()
        (d / "SHA256SUMS").write_text(f"{digest}  sentences.parquet\n")
    return d


def test_load_and_split_is_stratified_and_seeded(tmp_path):
    df = load_sentences(sentence_file(tmp_path / "s"))
    assert len(df) == 120 and df.uid.is_unique and set(df.columns) == {"uid", "source", "label", "text"}
    a, b = split_halves(df, 0.5, 42), split_halves(df, 0.5, 42)
    assert a.half.tolist() == b.half.tolist()
    counts = a.groupby(["half", "source", "label"]).size()
    assert (counts == 10).all() and len(counts) == 12  # every source x label split evenly
    assert split_halves(df, 0.5, 7).half.tolist() != a.half.tolist()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda df: df.drop(columns="label"), r"missing column\(s\) \['label'\]"),
        (lambda df: df.assign(label=2), r"labels must be 0/1, got \[2\]"),
        (lambda df: df.assign(text=["   "] + df.text.tolist()[1:]), "text at index 0 is empty"),
    ],
)
def test_bad_sentence_files_fail_naming_the_problem(tmp_path, change, message):
    d = sentence_file(tmp_path / "s")
    rows = change(pd.read_parquet(d / "sentences.parquet")).to_dict("records")
    sentence_file(d, rows)
    with pytest.raises(DataError, match=message):
        load_sentences(d)


def test_a_changed_sentence_file_fails_its_checksum(tmp_path):
    d = sentence_file(tmp_path / "s")
    df = pd.read_parquet(d / "sentences.parquet")
    df.iloc[:5].to_parquet(d / "sentences.parquet")
    with pytest.raises(DataError, match="checksum mismatch"):
        load_sentences(d)
    (d / "sentences.parquet").unlink()
    with pytest.raises(DataError, match="not found"):
        load_sentences(d)


def test_domain_metrics_per_half_and_source_with_cis(tmp_path):
    df = split_halves(load_sentences(sentence_file(tmp_path / "s")), 0.5, 0)
    perfect = df.label.values.astype(float)
    keyword = np.where(df.text.str.contains("good"), 0.9, 0.1)
    half_right = np.where(df.source == "yelp", 1 - perfect, perfect)  # wrong on every yelp sentence
    m = domain_metrics(df, {"perfect": perfect, "keyword": keyword, "flipped_yelp": half_right}, 100, 0)
    assert m["perfect"]["report"]["amazon"]["accuracy"] == 1.0 and m["perfect"]["report"]["amazon"]["n"] == 20
    assert (
        m["flipped_yelp"]["report"]["yelp"]["accuracy"] == 0.0
        and m["flipped_yelp"]["selection"]["imdb"]["accuracy"] == 1
    )
    lo, hi = m["keyword"]["report"]["imdb"]["accuracy_ci"]
    assert lo <= m["keyword"]["report"]["imdb"]["accuracy"] <= hi
    table = domain_table(m, {"perfect": 0.9})
    assert table.splitlines()[2].startswith("| perfect | 1.000") and "0.9000" in table
    assert table.splitlines()[0].endswith("| IMDB test (long reviews) |")
    # other prepared data: its dataset.json name, in the table and in the plot rows
    assert (
        domain_table(m, {"perfect": 0.9}, dataset="support_tickets")
        .splitlines()[0]
        .endswith("| support_tickets test |")
    )
    rows = plot_rows(m, {"perfect": 0.9}, dataset="support_tickets")
    assert {"model": "perfect", "domain": "support_tickets test", "accuracy": 0.9} in rows


def test_suite_is_deterministic_and_sized():
    a, b = build_suite(50, 3), build_suite(50, 3)
    assert [t.texts + t.perturbed for t in a] == [t.texts + t.perturbed for t in b]
    assert [t.texts for t in build_suite(50, 4)] != [t.texts for t in a]
    kinds = {t.kind for t in a}
    assert kinds == {"mft", "inv", "dir"} and all(len(t.texts) == 50 for t in a)
    by_name = {t.name: t for t in a}
    assert all(" not " in s or "n't" in s for s in by_name["negated positive -> negative"].texts)
    assert all(p == s.upper() for s, p in zip(by_name["upper case"].texts, by_name["upper case"].perturbed))
    assert len(set(by_name["positive sentences"].texts)) == 50  # distinct cases, not repeats
    noisy = by_name["typos (2 swapped letters)"]
    assert all(sorted(s) == sorted(p) and s != p for s, p in zip(noisy.texts, noisy.perturbed))


def test_failure_rules():
    suite = {t.name: t for t in build_suite(20, 0)}
    notbad = suite["negated negative -> not negative"]
    assert failures(notbad, np.array([0.4] * 10 + [0.6] * 10), None, 0.1).mean() == 0.5  # negative = failure
    inv = suite["upper case"]
    p = np.full(20, 0.7)
    assert failures(inv, p, np.r_[np.full(5, 0.3), np.full(15, 0.9)], 0.1).sum() == 5  # label flips only
    up = suite["add a positive clause"]
    assert failures(up, p, np.r_[np.full(4, 0.55), np.full(16, 0.65)], 0.1).sum() == 4  # fell by more than 0.1


def test_a_keyword_model_passes_vocabulary_but_fails_negation():
    """A bag of positive words: fine on plain sentences, blind to "not"."""

    def score(texts):
        return np.array(
            [
                0.9 if set(t.lower().split()) & POS_WORDS or any(w in t.lower() for w in POS_WORDS) else 0.1
                for t in texts
            ]
        )

    r = run_suite(build_suite(100, 0), score, 0.1, 3)
    assert r["positive sentences"]["failure_rate"] == 0 and r["negative sentences"]["failure_rate"] == 0
    assert r["negated positive -> negative"]["failure_rate"] == 1.0
    assert r["upper case"]["failure_rate"] == 0
    worst = r["negated positive -> negative"]["worst"]
    assert len(worst) == 3 and all(c["p_positive"] == 0.9 for c in worst)
