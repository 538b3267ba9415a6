import pandas as pd
import pytest

from sentiment.io import atomic_path, make_predictions, read_predictions, write_json, write_predictions


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


def test_predictions_contract_roundtrip(tmp_path):
    p = make_predictions(["a", "b", "c"], [0, 1, 1], [0.2, 0.5, 0.9])
    assert p.pred.tolist() == [0, 1, 1]
    write_predictions(p, tmp_path / "stage" / "m.parquet")
    got = read_predictions(tmp_path)
    assert list(got) == ["m"] and got["m"].equals(p)


@pytest.mark.parametrize("prob", [[0.2, 1.5], [0.2]])
def test_bad_probabilities(prob):
    with pytest.raises(ValueError, match="prob"):
        make_predictions(["a", "b"], [0, 1], prob)


def test_duplicate_uids_rejected(tmp_path):
    with pytest.raises(ValueError, match="duplicate"):
        write_predictions(make_predictions(["a", "a"], [0, 1], [0.1, 0.9]), tmp_path / "x.parquet")


def test_no_predictions(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_predictions(tmp_path)
