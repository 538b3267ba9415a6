"""`prepare.source: files`: every format and label style, and each kind of bad input (a clear
DataError naming where, or rows dropped and counted; never a traceback)."""

import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import ROOT, labelled_texts, repo_params, write_table

from sentiment import ConfigError, DataError
from sentiment.config import validate
from sentiment.data import clean_text
from sentiment.dataset import PrepareParams, prepare, read_source

STYLES = {  # label style -> (the label of a negative and of a positive row, the params that read them)
    "binary": ((0, 1), {"positive_label": 1}),
    "words": (("neg", "pos"), {"positive_label": "pos"}),
    "rating": ((1, 5), {"positive_label": None, "rating_bands": [2, 4]}),
}


def rows(n: int, seed: int, style: str = "words") -> pd.DataFrame:
    return labelled_texts(n, seed, STYLES[style][0])


def params(data_dir, fmt="csv", style="words", **overrides) -> PrepareParams:
    base = dict(
        source="files",
        data_dir=str(data_dir),
        train_file=f"train.{fmt}",
        test_file=f"test.{fmt}",
        validation_file=None,
        text_column="review",
        label_column="sentiment",
        id_column=None,
        rating_bands=None,
        max_train=None,
        max_test=None,
        val_size=0.25,
    )
    return repo_params(PrepareParams, "prepare", **{**base, **STYLES[style][1], **overrides})


def run(p: PrepareParams):
    raw, inputs = read_source(p)
    splits, report = prepare(raw, p)
    return splits, {**report, "inputs": inputs}


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "my_reviews"
    write_table(rows(40, 0), d / "train.csv")
    write_table(rows(20, 1), d / "test.csv")
    return d


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
@pytest.mark.parametrize("style", list(STYLES))
def test_every_format_and_label_style(tmp_path, fmt, style):
    train, test = rows(40, 0, style), rows(20, 1, style)
    if style == "rating":  # a middle band of 3 stars: dropped and counted
        train.loc[[0, 1], "sentiment"] = 3
    write_table(train, tmp_path / f"train.{fmt}")
    write_table(test, tmp_path / f"test.{fmt}")
    splits, report = run(params(tmp_path, fmt, style))
    kept = len(splits["train"]) + len(splits["val"])
    assert kept == 40 - 2 * (style == "rating") and len(splits["val"]) == round(0.25 * kept + 0.01)
    assert report["dropped"] == ({"train": {"rating in the middle band": 2}} if style == "rating" else {})
    # a positive text is label 1 in every style, the same rows in every format
    want = test.sentiment.map({STYLES[style][0][1]: 1, STYLES[style][0][0]: 0})
    assert (
        splits["test"].label.tolist() == want.tolist()
        and splits["test"].text.tolist() == test.review.map(clean_text).tolist()
    )
    assert report["dataset"] == {
        "name": tmp_path.name,
        "labels": ["neg", "pos"] if style == "words" else ["negative", "positive"],
    }
    assert set(report["inputs"]) == {f"train.{fmt}", f"test.{fmt}"}
    assert splits["test"].rating.isna().all() == (style != "rating")


def test_a_validation_file_replaces_the_hold_out(data):
    write_table(rows(12, 2), data / "val.jsonl")  # formats may differ between files
    splits, report = run(params(data, validation_file="val.jsonl"))
    assert len(splits["train"]) == 40 and len(splits["val"]) == 12
    assert splits["val"].uid.str.startswith("val/").all()
    assert set(report["inputs"]) == {"train.csv", "val.jsonl", "test.csv"}


def test_overlaps_are_dropped_and_counted(data):
    train, test = rows(40, 0), rows(20, 1)
    val = rows(12, 2)
    train.loc[3, "review"] = test.review[5]  # train text also in test
    train.loc[4, "review"] = val.review[0]  # train text also in validation
    train.loc[6, "review"] = train.review[7]  # repeated in train
    val.loc[1, "review"] = test.review[2]  # validation text also in test
    for df, f in ((train, "train.csv"), (val, "val.csv"), (test, "test.csv")):
        write_table(df, data / f)
    splits, report = run(params(data, validation_file="val.csv"))
    assert report["dropped"] == {
        "train": {"duplicate": 1, "also in test": 1, "also in validation": 1},
        "val": {"also in test": 1},
    }
    assert len(splits["train"]) == 37 and len(splits["val"]) == 11 and len(splits["test"]) == 20


def test_missing_texts_and_labels_are_dropped_and_counted(data):
    train = rows(40, 0).astype(object)
    train.loc[0, "review"] = None  # an empty CSV cell
    train.loc[1, "review"] = " <br/> "  # nothing left after cleaning
    train.loc[2, "sentiment"] = None
    train.loc[3, "review"] = "NA"  # a text that says NA is a text
    write_table(train, data / "train.csv")
    splits, report = run(params(data))
    assert report["dropped"] == {"train": {"no text": 2, "label missing": 1}}
    assert len(splits["train"]) + len(splits["val"]) == 37 and "NA" in set(splits["train"].text) | set(
        splits["val"].text
    )


def test_ids_from_a_column(data):
    train = rows(40, 0).assign(key=range(100, 140))
    write_table(train, data / "train.csv")
    write_table(rows(20, 1).assign(key=range(20)), data / "test.csv")
    splits, _ = run(params(data, id_column="key"))
    assert set(splits["train"].id) | set(splits["val"].id) == set(range(100, 140))
    write_table(train.assign(key=["x"] + list(range(101, 140))), data / "train.csv")
    with pytest.raises(
        DataError, match=r"column 'key' \(prepare.id_column\) are missing or not integers, e.g. row 0: 'x'"
    ):
        run(params(data, id_column="key"))


@pytest.mark.parametrize(
    "break_it, message",
    [
        (lambda d: (d / "test.csv").unlink(), r"test.csv: file not found"),
        (lambda d: (d / "train.csv").rename(d / "train.xls"), r"train.xls: unknown extension '.xls'; use one of .csv"),
        (
            lambda d: write_table(rows(40, 0).rename(columns={"review": "body"}), d / "train.csv"),
            r"train: no column 'review' \(prepare.text_column\); the columns are \['body', 'sentiment'\]",
        ),
        (
            lambda d: write_table(rows(40, 0).assign(sentiment="pos"), d / "train.csv"),
            r"train: every text is positive; each split needs both classes",
        ),
        (
            lambda d: write_table(pd.concat([rows(40, 0), rows(2, 3).assign(sentiment="neutral")]), d / "train.csv"),
            r"3 label values \['neg', 'neutral', 'pos'\]: .*prepare.rating_bands",
        ),
        (
            lambda d: (d / "train.csv").write_bytes((d / "train.csv").read_bytes().replace(b"#0-2", b"#0-\xe92", 1)),
            r"train.csv: not UTF-8 text: byte 0xe9 at line 4, column \d+",
        ),
        (
            lambda d: write_table(rows(40, 0).assign(review=None), d / "train.csv"),
            r"train: no rows left \(40 no text\)",
        ),
        (
            lambda d: write_table(rows(40, 0).assign(sentiment=None), d / "train.csv"),
            r"train: no rows left \(40 label missing\)",
        ),
        (
            lambda d: (d / "train.csv").write_text('review,sentiment\n"an unclosed quote,pos\n'),
            r"train.csv: not a valid CSV file",
        ),
    ],
    ids=["missing file", "extension", "column", "one label", "three labels", "bytes", "no text", "no labels", "csv"],
)
def test_bad_input_is_a_clear_error(data, break_it, message):
    break_it(data)
    with pytest.raises(DataError, match=message):
        run(params(data, train_file=next(f.name for f in data.iterdir() if f.stem == "train")))


def test_positive_label_must_be_a_value(data):
    with pytest.raises(DataError, match=r"positive_label 'positive' is not a value .* its values: \['neg', 'pos'\]"):
        run(params(data, positive_label="positive"))


def test_ratings_must_be_numbers(data):
    with pytest.raises(DataError, match=r"rating_bands needs numeric ratings; column 'sentiment' has 'neg' at row 0"):
        run(params(data, positive_label=None, rating_bands=[2, 4]))


def test_too_few_texts_for_a_hold_out(tmp_path):
    write_table(rows(3, 0), tmp_path / "train.csv")
    write_table(rows(4, 1), tmp_path / "test.csv")
    with pytest.raises(DataError, match="train has 1 text.* too few for a stratified prepare.val_size=0.25 hold-out"):
        run(params(tmp_path))


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"positive_label": "pos", "rating_bands": [2, 4]}, "set exactly one"),
        ({"positive_label": None, "rating_bands": [4, 2]}, "negative_max < positive_min"),
        ({"train_file": "../elsewhere/train.csv"}, r"prepare.train_file: a path inside prepare.data_dir"),
        ({"source": "file"}, r"prepare.source: Input should be 'local', 'files' or 'hub'"),
    ],
)
def test_impossible_params_fail_at_start(bad, message):
    section = {**params("d").model_dump(), **bad}
    with pytest.raises(ConfigError, match=message):
        validate(PrepareParams, section, section="prepare")


def test_the_stage_says_what_is_wrong_without_a_traceback(tmp_path, data):
    """The real stage script: one line naming the file and the place, exit code 2."""
    (data / "train.csv").write_bytes(b"review,sentiment\ngood,pos\nbad \xff,neg\n")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"prepare": params(data).model_dump()}))
    r = subprocess.run([sys.executable, str(ROOT / "src/prepare.py")], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "train.csv: not UTF-8 text: byte 0xff at line 3, column 5" in r.stderr
