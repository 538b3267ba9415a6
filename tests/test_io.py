import pandas as pd
import pytest

from sentiment import DataError
from sentiment.io import (
    atomic_path,
    copy_dataset_info,
    make_predictions,
    read_dataset_info,
    read_predictions,
    write_json,
    write_predictions,
)


def test_atomic_write_leaves_nothing_on_crash(tmp_path):
    target = tmp_path / "out" / "model.bin"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert not target.exists() and list((tmp_path / "out").iterdir()) == []


def test_atomic_replaces_old_version(tmp_path):
    target = tmp_path / "m.json"
    write_json({"v": 1}, target)
    write_json({"v": 2}, target)
    assert target.read_text().strip().endswith("}") and '"v": 2' in target.read_text()


def test_atomic_directory(tmp_path):
    target = tmp_path / "model"
    for v in ("1", "2"):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "w").write_text(v)
    assert (target / "w").read_text() == "2" and len(list(tmp_path.iterdir())) == 1


def two_splits(prob_val=(0.2, 0.5), prob_test=(0.9,)):
    return [
        make_predictions("val", ["v1", "v2"], [0, 1], list(prob_val)),
        make_predictions("test", ["t1"], [1], list(prob_test)),
    ]


def test_predictions_contract_roundtrip(tmp_path):
    frames = two_splits()
    assert frames[0].pred.tolist() == [0, 1]  # the threshold: P >= 0.5 is positive
    write_predictions(frames, tmp_path / "stage" / "m.parquet", meta={"runtime": {"precision": "bf16"}})
    got = read_predictions(tmp_path)
    assert list(got) == ["m"] and got["m"].equals(pd.concat(frames, ignore_index=True))
    assert got["m"].attrs == {"meta": {"runtime": {"precision": "bf16"}}, "stage": "stage"}


def test_both_splits_required(tmp_path):
    with pytest.raises(ValueError, match=r"must cover the splits \['val', 'test'\]"):
        write_predictions(two_splits()[:1], tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="split must be"):
        make_predictions("train", ["a"], [0], [0.1])


def test_old_contract_is_named(tmp_path):
    pd.DataFrame({"uid": ["a"], "label": [0], "pred": [0], "prob": [0.1]}).to_parquet(tmp_path / "old.parquet")
    with pytest.raises(ValueError, match=r"lack column\(s\) \['split'\].*rerun its stage"):
        read_predictions(tmp_path)


def test_named_models_must_exist(tmp_path):
    write_predictions(two_splits(), tmp_path / "s" / "m.parquet")
    assert list(read_predictions(tmp_path, ["m"])) == ["m"]
    with pytest.raises(ValueError, match=r"model\(s\) \['nope'\]"):
        read_predictions(tmp_path, ["m", "nope"])


@pytest.mark.parametrize("prob", [[0.2, 1.5], [0.2]])
def test_bad_probabilities(prob):
    with pytest.raises(ValueError, match="prob"):
        make_predictions("val", ["a", "b"], [0, 1], prob)


def test_duplicate_uids_rejected(tmp_path):
    frames = [make_predictions("val", ["a", "a"], [0, 1], [0.1, 0.9]), two_splits()[1]]
    with pytest.raises(ValueError, match="duplicate"):
        write_predictions(frames, tmp_path / "x.parquet")


def test_split_rows_orders_like_the_reference():
    from sentiment.io import split_rows

    df = pd.concat(two_splits(prob_val=(0.2, 0.7)), ignore_index=True)
    ref = pd.DataFrame({"uid": ["v2", "v1"], "label": [1, 0]})
    assert split_rows(df, "val", ref, "m").prob.tolist() == [0.7, 0.2]
    with pytest.raises(ValueError, match="do not cover the prepared val split"):
        split_rows(df, "val", ref.iloc[:1], "m")
    with pytest.raises(ValueError, match="labels disagree"):
        split_rows(df, "val", ref.assign(label=[0, 0]), "m")


def test_no_predictions(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_predictions(tmp_path)


def test_dataset_info_is_checked_copied_and_imdb_without_a_file(tmp_path):
    assert read_dataset_info(tmp_path) == {"name": "IMDB", "labels": ["negative", "positive"]}  # an old model folder
    write_json({"name": "support_tickets", "labels": ["bad", "good"]}, tmp_path / "data" / "dataset.json")
    copy_dataset_info(tmp_path / "data", tmp_path / "model")
    assert read_dataset_info(tmp_path / "model") == {"name": "support_tickets", "labels": ["bad", "good"]}
    assert [p.name for p in (tmp_path / "model").iterdir()] == ["dataset.json"]  # atomic: no temp left
    for bad in ([], ["bad"], ["bad", "bad"], ["bad", ""], ["bad", 1], "bad,good"):
        write_json({"name": "x", "labels": bad}, tmp_path / "data" / "dataset.json")
        with pytest.raises(DataError, match="labels must be 2 distinct non-empty names"):
            copy_dataset_info(tmp_path / "data", tmp_path / "model")
    assert read_dataset_info(tmp_path / "model")["labels"] == ["bad", "good"]  # a failed copy changes nothing
