"""The HTTP API (src/serve.py) with FastAPI's TestClient on tiny models (offline, seconds)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import ROOT, fake_split
from fastapi.testclient import TestClient

from sentiment.predictor import Prediction
from serve import Batcher, Settings, create_app

REVIEWS = [r for r in fake_split(40, 3).text]  # 20 negative, 20 positive, with HTML


def settings(model, **kw):
    return Settings(
        **{
            "model": str(model),
            "max_batch": 8,
            "max_chars": 500,
            "batch_size": 4,
            "precision": "fp32",
            "max_length": 64,
            "threads": 1,
            **kw,
        }
    )


@pytest.fixture(scope="module")
def client(tiny):
    with TestClient(create_app(settings(tiny))) as c:  # `with` runs the lifespan (the inference worker)
        yield c


def predict(client, texts):
    r = client.post("/predict", json={"texts": texts})
    assert r.status_code == 200, r.text
    return r.json()


def test_predict_happy_path(client):
    body = predict(client, ["A wonderful film", "Great<br /><br />film &amp; cast", "Great film & cast"])
    assert body["model"] == "tiny" and len(body["predictions"]) == 3
    for p in body["predictions"]:
        assert set(p) == {"label", "prob_positive"} and 0 <= p["prob_positive"] <= 1
        assert p["label"] == ("positive" if p["prob_positive"] >= 0.5 else "negative")
    # HTML is cleaned exactly like the training data
    assert body["predictions"][1]["prob_positive"] == pytest.approx(body["predictions"][2]["prob_positive"], abs=1e-6)


def test_health_reports_the_loaded_weights_and_settings(client, tiny):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["model"]["name"] == "tiny" and h["model"]["path"] == str(tiny)
    assert len(h["model"]["sha256"]) == 12 and h["model"]["max_length"] == 64 and h["model"]["truncation"] == "head"
    assert h["limits"]["max_batch"] == 8 and h["limits"]["max_chars"] == 500
    assert client.get("/docs").status_code == 200


def test_wrong_method_answers_405_with_allow_and_the_error_shape(client):
    r = client.get("/predict")
    assert r.status_code == 405 and r.headers["allow"] == "POST"  # RFC 9110: a 405 lists the allowed methods
    assert r.json() == {"message": "Method Not Allowed", "detail": []}


def test_openapi_states_the_limits_and_every_status(client):
    spec = client.get("/openapi.json").json()
    req = spec["components"]["schemas"]["PredictRequest"]["properties"]["texts"]
    assert (req["minItems"], req["maxItems"]) == (1, 8)
    assert (req["items"]["minLength"], req["items"]["maxLength"], req["items"]["pattern"]) == (1, 500, r"\S")
    responses = spec["paths"]["/predict"]["post"]["responses"]
    assert set(responses) == {"200", "400", "413", "422", "503"}
    for code in ("400", "413", "422", "503"):
        assert responses[code]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")


BAD = [
    ({"texts": []}, 422, "at least 1 item"),
    ({"texts": ["fine", 3]}, 422, "texts.1: Input should be a valid string"),
    ({"texts": ["fine", None]}, 422, "texts.1"),
    ({"texts": "just a string"}, 422, "valid list"),
    ({"text": ["typo in the key"]}, 422, "texts: Field required"),
    ({"texts": ["fine"], "extra": 1}, 422, "extra: Extra inputs are not permitted"),
    ({"texts": ["fine", ""]}, 422, "texts.1: empty or whitespace-only text"),
    ({"texts": ["fine", "   "]}, 422, "texts.1: empty or whitespace-only text"),
    ({"texts": ["fine", "<br /><br />"]}, 422, "text at index 1 is empty"),
    ({"texts": ["a"] * 9}, 422, "at most 8 items"),
    ({"texts": ["fine", "x" * 501]}, 422, "texts.1: String should have at most 500 characters"),
    (b"{not json", 422, "not valid JSON"),
    (b"", 422, "Field required"),
    (b"[1, 2]", 422, "valid dictionary"),
    (b'{"texts": ["caf\xe9"]}', 400, "error parsing the body"),  # not UTF-8
    (b'{"texts": ["fine", "\\ud800"]}', 422, "texts.1: Input should be a valid string"),  # a lone surrogate
]


@pytest.mark.parametrize("body, status, message", BAD)
def test_bad_input_gets_4xx_with_message_and_server_keeps_serving(client, body, status, message):
    if isinstance(body, bytes):
        r = client.post("/predict", content=body, headers={"content-type": "application/json"})
    else:
        r = client.post("/predict", json=body)
    assert r.status_code == status, r.text
    data = r.json()
    assert set(data) == {"message", "detail"} and message in data["message"], data
    if status == 422 and body and body != b"{not json":
        assert all(d["loc"][0] == "body" for d in data["detail"]), data
    assert predict(client, ["still serving"])["predictions"]


def test_empty_text_index_is_in_the_detail(client):
    r = client.post("/predict", json={"texts": ["fine", "<p></p>", "ok", "&nbsp;"]})
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["body", "texts", 1], ["body", "texts", 3]]


def test_oversized_body_is_refused_while_reading_chunked_too(client):
    limit = client.app.state.settings.max_body_bytes
    r = client.post("/predict", content=b"x" * (limit + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "over the limit" in r.json()["message"]

    sent = []

    def chunks():  # no Content-Length: the limit must hold while reading
        for _ in range(limit // 65536 + 100):
            sent.append(1)
            yield b" " * 65536

    r = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "over the limit" in r.json()["message"]
    assert predict(client, ["still serving"])["predictions"]


def test_largest_valid_request_fits_the_body_limit(client):
    # every text at max_chars of characters JSON escapes as 12 bytes (a surrogate pair)
    texts = ["\U0001f600" * 500] * 8
    import json

    body = json.dumps({"texts": texts}).encode()  # ensure_ascii: \ud83d\ude00 per character
    assert len(body) <= client.app.state.settings.max_body_bytes
    r = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text


def test_concurrent_requests_match_sequential(client):
    requests = [REVIEWS[i : i + k] for i, k in zip(range(0, 40, 5), [1, 3, 5, 2, 8, 4, 1, 6])]
    sequential = [predict(client, texts)["predictions"] for texts in requests]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            parallel = list(pool.map(lambda t: predict(client, t)["predictions"], requests))
            for seq, par in zip(sequential, parallel):
                assert [p["label"] for p in par] == [p["label"] for p in seq]
                assert [p["prob_positive"] for p in par] == pytest.approx([p["prob_positive"] for p in seq], abs=1e-5)


def test_baseline_model_is_served(baseline):
    with TestClient(create_app(settings(baseline))) as c:
        body = predict(c, ["wonderful brilliant, loved it", "awful, boring, the worst"])
        assert body["model"] == "tfidf_lr"
        assert [p["label"] for p in body["predictions"]] == ["positive", "negative"]
        h = c.get("/health").json()["model"]
        assert h["kind"] == "baseline" and len(h["sha256"]) == 12


def test_the_api_names_the_models_dataset_and_labels(client, baseline, tmp_path):
    spec = client.get("/openapi.json").json()  # a model folder without dataset.json: IMDB's
    assert (
        spec["info"]["title"] == "IMDB sentiment"
        and "`positive` when P(positive) >= 0.5" in spec["info"]["description"]
    )
    label = spec["components"]["schemas"]["Prediction"]["properties"]["label"]
    assert label["type"] == "string" and "enum" not in label  # any model's two names
    h = client.get("/health").json()["model"]
    assert h["dataset"] == "IMDB" and h["labels"] == ["negative", "positive"]

    shutil.copy(baseline, tmp_path / "tfidf_lr.joblib")
    (tmp_path / "dataset.json").write_text(json.dumps({"name": "support_tickets", "labels": ["bad", "good"]}))
    with TestClient(create_app(settings(tmp_path / "tfidf_lr.joblib"))) as c:
        spec = c.get("/openapi.json").json()["info"]
        assert spec["title"] == "support_tickets sentiment" and "`good` when" in spec["description"]
        body = predict(c, ["wonderful brilliant, loved it", "awful, boring, the worst"])
        assert [p["label"] for p in body["predictions"]] == ["good", "bad"]
        h = c.get("/health").json()["model"]
        assert h["dataset"] == "support_tickets" and h["labels"] == ["bad", "good"]


# --- a stuck or failing model: 503 and a logged error, never a hang -------------------------------


class FakeModel:
    name, kind, dataset, labels = "fake", "fake", "IMDB", ("negative", "positive")

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()

    def info(self):
        return {"name": self.name, "kind": self.kind}

    def predict_cleaned(self, texts):
        if "boom" in texts:
            raise RuntimeError("model failure")
        if "exit" in texts:
            raise SystemExit  # ends the worker thread, as an unexpected fatal error would
        if "hang" in texts:
            self.entered.set()
            self.release.wait(30)
        return [Prediction("positive", 0.75) for _ in texts]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the SystemExit below
def test_stuck_failing_or_dead_worker_answers_503_never_hangs(caplog):
    model = FakeModel()
    with TestClient(create_app(settings("unused", timeout=0.5), predictor=model)) as c:
        t = time.perf_counter()
        with ThreadPoolExecutor(3) as pool:  # one stuck call; the others queue behind it
            stuck = pool.submit(c.post, "/predict", json={"texts": ["hang"]})
            assert model.entered.wait(5)
            queued = [pool.submit(c.post, "/predict", json={"texts": ["ok"]}) for _ in range(2)]
            answers = [stuck.result()] + [f.result() for f in queued]
        assert [r.status_code for r in answers] == [503] * 3
        assert time.perf_counter() - t < 5 and "did not answer within 0.5 s" in answers[0].json()["message"]
        assert "inference did not finish within 0.5 s" in caplog.text
        model.release.set()  # the worker gets free: the server serves again
        deadline = time.monotonic() + 5
        while (r := c.post("/predict", json={"texts": ["ok"]})).status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert r.status_code == 200 and r.json()["predictions"] == [{"label": "positive", "prob_positive": 0.75}]
        r = c.post("/predict", json={"texts": ["boom"]})
        assert r.status_code == 503 and "inference failed" in r.json()["message"]
        assert "model failure" in caplog.text  # the traceback is in the server log, not the answer
        assert c.post("/predict", json={"texts": ["ok"]}).status_code == 200
        assert c.post("/predict", json={"texts": ["exit"]}).status_code == 503  # the worker dies...
        r = c.post("/predict", json={"texts": ["ok"]})  # ...and later requests get 503 at once
        assert r.status_code == 503 and "worker is not running" in r.json()["message"]
        assert "worker is not running" in caplog.text
        assert c.get("/health").status_code == 503


def test_batches_never_exceed_max_texts_and_requests_get_their_own_answers():
    class Slow:
        def __init__(self):
            self.calls = []

        def predict_cleaned(self, texts):
            self.calls.append(len(texts))
            time.sleep(0.05)
            return [Prediction("positive", len(t) / 100) for t in texts]

    model = Slow()
    b = Batcher(model, max_texts=8)
    b.thread.start()
    try:
        reqs = [["x" * i] * (1 + i % 5) for i in range(1, 30)]
        with ThreadPoolExecutor(12) as pool:
            out = list(pool.map(lambda r: b.submit(r).result(timeout=30), reqs))
        assert [[p.prob_positive for p in preds] for preds in out] == [[len(t) / 100 for t in r] for r in reqs]
        assert max(model.calls) <= 8 and len(model.calls) < len(reqs)  # shared calls, never over the cap
    finally:
        b.stop()


# --- the real server process ------------------------------------------------------------------


def serve(*args):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "src" / "serve.py"), *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("model, message", [("no/such/model", "does not exist"), ("{tiny}/..", "no config.json")])
@pytest.mark.e2e
def test_unservable_model_fails_at_start_with_one_clear_line(model, message, tiny):
    proc = serve("--model", model.format(tiny=tiny), "--port", "0")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert message in out and "Traceback" not in out


@pytest.mark.e2e
def test_serving_imports_no_training_code(tiny):
    code = (
        "import sys; sys.path.insert(0, 'src'); import serve; "
        f"serve.create_app(serve.Settings(model={str(tiny)!r}, threads=1)); "
        "print(sorted(m for m in sys.modules if m in {'sentiment.finetune', 'sentiment.baseline'} or "
        " m.startswith('transformers.trainer')))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(proc, url, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)


@pytest.mark.e2e
def test_server_starts_answers_and_stops(baseline):
    port = free_port()
    proc = serve("--model", baseline, "--port", port, "--no-access-log")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_up(proc, url)
        r = httpx.post(f"{url}/predict", json={"texts": ["superb and moving"]})
        assert r.status_code == 200 and r.json()["predictions"][0]["label"] == "positive"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    # graceful: the lifespan ran to its end; uvicorn then re-raises the signal it caught
    assert proc.returncode in (0, -signal.SIGTERM), out
    assert "Application shutdown complete" in out and "Traceback" not in out
