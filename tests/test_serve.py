"""The HTTP API (src/serve.py) with FastAPI's TestClient on tiny models (offline, seconds)."""

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import ROOT, fake_split
from sentiment.predictor import Prediction
from serve import Batcher, Settings, create_app

REVIEWS = [r for r in fake_split(40, 3).text]  # 20 negative, 20 positive, with HTML


def settings(model, **kw):
    return Settings(**{"model": str(model), "max_batch": 8, "max_chars": 500, "batch_size": 4,
                       "precision": "fp32", "max_length": 64, "threads": 1, **kw})


@pytest.fixture(scope="module")
def client(tiny):
    with TestClient(create_app(settings(tiny))) as c:  # `with` runs the lifespan (the batch worker)
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


def test_health_and_docs(client, tiny):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["model"]["name"] == "tiny" and h["model"]["path"] == str(tiny)
    assert h["model"]["max_length"] == 64 and h["limits"] == {"max_batch": 8, "max_chars": 500}
    assert isinstance(h["git_revision"], str) and h["git_revision"]
    assert client.get("/docs").status_code == 200
    assert "/predict" in client.get("/openapi.json").json()["paths"]


BAD = [
    ({"texts": []}, 422, "at least 1 item"),
    ({"texts": ["fine", 3]}, 422, "texts.1: Input should be a valid string"),
    ({"texts": ["fine", None]}, 422, "texts.1"),
    ({"texts": "just a string"}, 422, "valid list"),
    ({"text": ["typo in the key"]}, 422, "texts: Field required"),
    ({"texts": ["fine", "   "]}, 422, "[1] are empty"),
    ({"texts": ["<br /><br />"]}, 422, "are empty"),
    ({"texts": ["a"] * 9}, 413, "the limit is 8"),
    ({"texts": ["fine", "x" * 501]}, 413, "longer than 500 characters"),
    (b"{not json", 422, "not valid JSON"),
    (b"", 422, "Field required"),
    (b"[1, 2]", 422, "valid dictionary"),
]


@pytest.mark.parametrize("body, status, message", BAD)
def test_bad_input_gets_4xx_with_message_and_server_keeps_serving(client, body, status, message):
    if isinstance(body, bytes):
        r = client.post("/predict", content=body, headers={"content-type": "application/json"})
    else:
        r = client.post("/predict", json=body)
    assert r.status_code == status, r.text
    data = r.json()
    text = data.get("message") or data["detail"]
    assert message in text, data
    assert predict(client, ["still serving"])["predictions"]


def test_oversized_body_is_refused_before_parsing(client):
    r = client.post("/predict", content=b"x" * 10_000_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "over the limit" in r.json()["detail"]


def test_concurrent_requests_match_sequential(client):
    requests = [REVIEWS[i:i + k] for i, k in zip(range(0, 40, 5), [1, 3, 5, 2, 8, 4, 1, 6])]
    sequential = [predict(client, texts)["predictions"] for texts in requests]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            parallel = list(pool.map(lambda t: predict(client, t)["predictions"], requests))
            for seq, par in zip(sequential, parallel):
                assert [p["label"] for p in par] == [p["label"] for p in seq]
                assert [p["prob_positive"] for p in par] == pytest.approx([p["prob_positive"] for p in seq], abs=1e-5)


def test_baseline_model_is_served(baseline):
    with TestClient(create_app(settings(baseline, micro_batch=False))) as c:
        body = predict(c, ["wonderful brilliant, loved it", "awful, boring, the worst"])
        assert body["model"] == "tfidf_lr"
        assert [p["label"] for p in body["predictions"]] == ["positive", "negative"]
        assert c.get("/health").json()["model"]["kind"] == "baseline"


# --- the micro-batching worker, with a slow fake model ---------------------------------------

class SlowModel:
    name, kind = "fake", "fake"

    def __init__(self):
        self.batches = []

    def predict(self, texts):
        if "boom" in texts:
            raise RuntimeError("model failure")
        self.batches.append(list(texts))
        time.sleep(0.05)
        return [Prediction("positive", len(t) / 100) for t in texts]


def test_batcher_combines_waiting_requests_and_answers_each_its_own():
    model = SlowModel()
    b = Batcher(model, max_texts=64)
    b.start()
    try:
        reqs = [[f"{'x' * i}"] * (1 + i % 3) for i in range(1, 25)]
        with ThreadPoolExecutor(12) as pool:
            out = list(pool.map(b.predict, reqs))
        for texts, preds in zip(reqs, out):
            assert [p.prob_positive for p in preds] == [len(t) / 100 for t in texts]
        assert len(model.batches) < len(reqs)  # some requests shared a call
        assert max(len(x) for x in model.batches) <= 64 + 3
        # a failing call fails only the requests in it; the worker keeps serving
        with pytest.raises(RuntimeError, match="model failure"):
            b.predict(["boom"])
        assert b.predict(["ok"])[0].prob_positive == 0.02
    finally:
        b.stop()
    assert b.predict(["after stop"])[0].prob_positive == 0.1  # runs inline once stopped


# --- the real server process ------------------------------------------------------------------

def serve(*args):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, str(ROOT / "src" / "serve.py"), *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize("model, message", [("no/such/model", "does not exist"), ("{tiny}/..", "no config.json")])
def test_unservable_model_fails_at_start_with_one_clear_line(model, message, tiny):
    proc = serve("--model", model.format(tiny=tiny), "--port", "0")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert message in out and "Traceback" not in out


def test_server_starts_answers_and_stops(baseline):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = serve("--model", baseline, "--port", port, "--no-access-log")
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        r = httpx.post(f"{url}/predict", json={"texts": ["superb and moving"]})
        assert r.status_code == 200 and r.json()["predictions"][0]["label"] == "positive"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    # graceful: the lifespan ran to its end; uvicorn then re-raises the signal it caught
    assert proc.returncode in (0, -signal.SIGTERM), out
    assert "Application shutdown complete" in out and "Traceback" not in out
