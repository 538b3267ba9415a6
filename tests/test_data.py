import pandas as pd
import pytest
from conftest import fake_split, repo_params

from sentiment import DataError
from sentiment.data import clean_text
from sentiment.dataset import IMDB, PrepareParams, load_hub, load_local, prepare
from sentiment.files import to_standard


def prep(**overrides):
    return repo_params(PrepareParams, "prepare", **overrides)


def test_clean_text_strips_html_entities_whitespace():
    assert clean_text("Great!<br /><br />Loved it &amp; more\n\t ok ") == "Great! Loved it & more ok"


def test_prepare_splits_stratified_and_clean(raw_dir):
    splits, stats = prepare(load_local(raw_dir), prep(val_size=0.2))
    assert set(splits) == {"train", "val", "test"}
    assert len(splits["train"]) + len(splits["val"]) + sum(stats["dropped"].get("train", {}).values()) == 200
    assert splits["val"].label.mean() == pytest.approx(0.5, abs=0.05)  # stratified
    assert not set(splits["train"].uid) & set(splits["val"].uid)
    assert not splits["test"].text.str.contains("<br").any()
    assert stats["test"]["rows"] == 100 and stats["test"]["pos"] == 50


def test_prepare_is_seeded(raw_dir):
    a, _ = prepare(load_local(raw_dir), prep(seed=1))
    b, _ = prepare(load_local(raw_dir), prep(seed=1))
    c, _ = prepare(load_local(raw_dir), prep(seed=2))
    assert a["val"].uid.tolist() == b["val"].uid.tolist() != c["val"].uid.tolist()


def test_subsample_is_stratified(raw_dir):
    splits, _ = prepare(load_local(raw_dir), prep(max_train=60, max_test=40, dedupe=False))
    assert len(splits["test"]) == 40 and splits["test"].label.sum() == 20
    assert len(splits["train"]) + len(splits["val"]) == 60


def test_dedupe_drops_train_copies_and_leaks():
    train, test = fake_split(20, 0), fake_split(10, 1)
    train.loc[1, "text"] = train.loc[0, "text"]  # duplicate inside train
    train.loc[15, "text"] = test.loc[7, "text"]  # leaked into test (same label)
    splits, stats = prepare({"train": train, "test": test}, prep(val_size=0.25))
    assert stats["dropped"] == {"train": {"duplicate": 1, "also in test": 1}}
    assert len(splits["train"]) + len(splits["val"]) == 18


def test_uids_are_unique_across_labels():
    # ids restart at 0 for each label in the official files
    df, _ = to_standard(fake_split(10, 0), "test", IMDB, ("0", "1"))
    assert df.uid.is_unique and "test/pos/0" in set(df.uid) and "test/neg/0" in set(df.uid)


def test_missing_file(raw_dir):
    (raw_dir / "test.parquet").unlink()
    with pytest.raises(DataError, match="test.parquet: data file not found"):
        load_local(raw_dir)


def test_corrupt_parquet(raw_dir):
    (raw_dir / "train.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError, match="not a readable parquet"):
        load_local(raw_dir)


def test_checksum_mismatch(raw_dir):
    (raw_dir / "SHA256SUMS").write_text("0" * 64 + "  train.parquet\n")
    with pytest.raises(DataError, match="checksum mismatch"):
        load_local(raw_dir)


@pytest.mark.parametrize(
    "change, msg",
    [
        (lambda d: d.drop(columns="text"), r"no column 'text'.*the columns are \['id', 'rating', 'label'\]"),
        (lambda d: d.assign(label=d.label + 1), r"3 label values \[.0., .1., .2.\].*prepare.rating_bands"),
        (lambda d: d.assign(text=None), "train: no rows left \\(20 no text\\)"),
        (lambda d: d.assign(text="  <br />  "), "train: no texts left after cleaning"),
        (lambda d: d.iloc[:0], "train: no rows left"),
    ],
)
def test_bad_rows_are_rejected(change, msg):
    train = change(fake_split(20, 0))
    with pytest.raises(DataError, match=msg):
        prepare({"train": train, "test": fake_split(10, 1)}, prep())


def test_texts_null_or_empty_after_cleaning_are_dropped_and_counted():
    train = fake_split(20, 0).astype({"text": object})
    train.loc[0, "text"], train.loc[1, "text"] = None, "  <br />  "
    splits, stats = prepare({"train": train, "test": fake_split(10, 1)}, prep(val_size=0.25, dedupe=False))
    assert stats["dropped"] == {"train": {"no text": 2}}
    assert len(splits["train"]) + len(splits["val"]) == 18


def test_hub_path_with_local_dataset(raw_dir):
    # the `source: hub` code path, fed a local folder instead of a hub id
    splits = load_hub(str(raw_dir))
    assert len(splits["train"]) == 200 and set(splits["test"].label) == {0, 1}


def test_hub_unreachable_is_clear():
    with pytest.raises(DataError, match="could not load dataset"):
        load_hub("no-such-user/no-such-dataset")


def test_malformed_checksum_line_is_a_clear_error(raw_dir):
    from sentiment import DataError
    from sentiment.dataset import load_local

    (raw_dir / "SHA256SUMS").write_text("not-a-digest\n")
    with pytest.raises(DataError, match=r"SHA256SUMS:1: not a '<sha256>  <file name>' line"):
        load_local(raw_dir)


def test_missing_id_is_a_clear_error():
    df = fake_split(10, 0).astype({"id": "float64"})
    df.loc[3, "id"] = float("nan")
    with pytest.raises(DataError, match="missing or not integers, e.g. row 3"):
        to_standard(df, "train", IMDB, ("0", "1"))


def test_sentence_crops_are_short_labelled_windows_and_seeded():
    from sentiment.crops import MAX_CROP_WORDS, MIN_CROP_WORDS, sentence_crops, sentences, with_crops

    assert sentences("It was great. Really! Why? no idea... ok") == [
        "It was great.",
        "Really!",
        "Why?",
        "no idea...",
        "ok",
    ]
    reviews = pd.DataFrame(
        {
            "uid": [f"train/x/{i}" for i in range(50)],
            "label": [i % 2 for i in range(50)],
            "text": [" ".join(f"Sentence {j} of review {i} is here." for j in range(6)) for i in range(50)],
        }
    )
    crops = sentence_crops(reviews, 2.0, 2, seed=1)
    assert len(crops) == 100 and crops.uid.is_unique
    source = crops.uid.str.split("#").str[0]
    by_uid = reviews.set_index("uid")
    for uid, label, text in zip(source, crops.label, crops.text):
        assert by_uid.loc[uid, "label"] == label and text in by_uid.loc[uid, "text"]  # a contiguous window
        assert 1 <= text.count(".") <= 2 and MIN_CROP_WORDS <= len(text.split()) <= MAX_CROP_WORDS
    assert crops.equals(sentence_crops(reviews, 2.0, 2, seed=1)) and not crops.equals(
        sentence_crops(reviews, 2.0, 2, 2)
    )
    # a one-word sentence grows to MIN_CROP_WORDS; a long unpunctuated review is cut
    odd = pd.DataFrame({"uid": ["a", "b"], "label": [1, 0], "text": ["Wow. It was a lovely film.", "word " * 500]})
    c = sentence_crops(odd, 20.0, 1, seed=3)
    assert c.text.str.split().str.len().between(MIN_CROP_WORDS, MAX_CROP_WORDS).all()
    assert with_crops(reviews, 0.0, 2, 1) is reviews and len(with_crops(reviews, 0.5, 2, 1)) == 75


LEX = {"terrible": -2.5, "great": 3.1, "fine": 0.8, "boring": -1.3, "dull": -1.7, "love": 3.2}


def test_negatable_takes_only_clean_one_word_cases():
    from sentiment.negation import negatable

    assert negatable("The acting was terrible.", 0, LEX).group(3) == "terrible"
    assert negatable("The songs are really great!", 1, LEX).group(3) == "great"
    assert negatable("The acting was terrible.", 1, LEX) is None  # adjective disagrees with the label
    assert negatable("The acting was not terrible.", 1, LEX) is None  # already negated
    assert negatable("The acting wasn't great at all.", 0, LEX) is None
    assert negatable("The acting was fine today.", 1, LEX) is None  # too weak to flip
    assert negatable("The acting was great, I love it.", 1, LEX) is None  # a second sentiment word
    assert negatable("Great.", 1, LEX) is None  # too short
    assert negatable("The plot " + "and more " * 15 + "was dull.", 0, LEX) is None  # too long


def test_negate_inserts_not_or_contracts():
    from sentiment.negation import negatable, negate

    s = "The plot was really dull."
    m = negatable(s, 0, LEX)
    assert negate(s, m, contracted=False) == "The plot was not really dull."
    assert negate(s, m, contracted=True) == "The plot wasn't really dull."
    s = "Was great fun, truly."
    assert negate(s, negatable(s, 1, LEX), contracted=True) == "Wasn't great fun, truly."
    s = "They were great in it."
    assert negate(s, negatable(s, 1, LEX), contracted=False) == "They were not great in it."


def test_negation_pairs_flip_the_label_of_the_negated_sentence_and_are_seeded():
    from sentiment.negation import NEGATION, negation_pairs

    reviews = pd.DataFrame(
        {
            "uid": [f"r{i}" for i in range(40)],
            "label": [i % 2 for i in range(40)],
            "text": [
                (
                    "Some words here. The story was great. The end."
                    if i % 2
                    else "Some words here. The story was terrible. The end."
                )
                if i % 4 < 2
                else "Nothing to negate in this review at all."
                for i in range(40)
            ],
        }
    )
    pairs = negation_pairs(reviews, 0.25, seed=3, lexicon=LEX)
    assert len(pairs) == 2 * 10 and pairs.uid.is_unique
    first, second = pairs.iloc[::2].reset_index(drop=True), pairs.iloc[1::2].reset_index(drop=True)
    src = first.uid.str.split("#").str[0]
    assert src.is_unique  # at most one pair per review
    assert (first.label.values == reviews.set_index("uid").label[src].values).all()
    assert (second.label == 1 - first.label).all()
    assert not first.text.str.contains(NEGATION).any() and second.text.str.contains(NEGATION).all()
    assert pairs.equals(negation_pairs(reviews, 0.25, seed=3, lexicon=LEX))
    # asking for more pairs than reviews with a negatable sentence gives what there is
    assert len(negation_pairs(reviews, 1.0, seed=3, lexicon=LEX)) == 2 * 20
    assert negation_pairs(reviews, 0.0, seed=3, lexicon=LEX).empty


def test_negation_pairs_use_the_vader_lexicon_by_default():
    from sentiment.negation import negation_pairs

    reviews = pd.DataFrame(
        {"uid": ["a", "b"], "label": [0, 1], "text": ["The movie was awful.", "The cast was wonderful."]}
    )
    pairs = negation_pairs(reviews, 1.0, seed=0)  # VADER: awful -2.0, wonderful 2.7
    assert set(pairs.text.iloc[::2]) == {"The movie was awful.", "The cast was wonderful."}
    negated = {
        "The movie was not awful.",
        "The movie wasn't awful.",
        "The cast was not wonderful.",
        "The cast wasn't wonderful.",
    }
    assert set(pairs.text.iloc[1::2]) <= negated and len(pairs) == 4
