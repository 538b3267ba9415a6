"""HTTP API for real-time sentiment predictions (FastAPI + uvicorn).

  python src/serve.py --model models/finetuned --port 8000
  curl -s localhost:8000/predict -H 'content-type: application/json' \\
       -d '{"texts": ["A wonderful film", "Two hours I will never get back."]}'

POST /predict {"texts": [...]} -> {"predictions": [{"label", "prob_positive"}, ...], "model"};
GET /health; interactive docs at /docs. The model is loaded once, before the server
accepts connections. Inference runs on one worker thread that owns the model; requests
waiting meanwhile are combined into the next batched predict call (micro-batching: no
added latency, higher throughput under concurrent load; --no-micro-batch turns it off).
Settings come from the command line or SENTIMENT_* environment variables.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal, Optional

# Only local models are loaded: never wait on the hub; keep library chatter off stderr.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from fastapi import FastAPI, HTTPException, Request  # noqa: E402
from fastapi.encoders import jsonable_encoder  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError  # noqa: E402
from pydantic_settings import BaseSettings, SettingsConfigDict  # noqa: E402

from sentiment import ConfigError, setup_logging  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("serve")


class Settings(BaseSettings):
    """Server settings: command-line options override SENTIMENT_<NAME> environment variables."""

    model_config = SettingsConfigDict(env_prefix="SENTIMENT_", extra="forbid", frozen=True)

    model: str = Field("models/finetuned", description="fine-tuned model directory or baseline .joblib file")
    host: str = Field("127.0.0.1", description="interface to listen on (0.0.0.0: all; mind who can reach it)")
    port: int = Field(8000, ge=0, le=65535)
    max_batch: int = Field(64, ge=1, description="most texts per request (413 beyond)")
    max_chars: int = Field(20000, ge=1, description="most characters per text (413 beyond)")
    batch_size: int = Field(32, ge=1, description="texts per forward pass")
    micro_batch: bool = Field(True, description="combine concurrently waiting requests into one predict call")
    max_length: Optional[int] = Field(None, gt=2, description="tokens per text (default: as trained)")
    truncation: Optional[Literal["head", "head_tail"]] = None
    precision: Optional[Literal["auto", "bf16", "fp16", "fp32"]] = None
    threads: Optional[int] = Field(None, ge=1, description="torch CPU threads (default: torch's, one per core)")
    params_file: str = Field("params.yaml", description="params file for max_length/truncation/precision defaults")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = True

    @property
    def max_body_bytes(self) -> int:
        """Largest acceptable request body: every text at max_chars, each char JSON-escaped (6 bytes)."""
        return self.max_batch * (self.max_chars * 6 + 8) + 1024


# --- API schema -----------------------------------------------------------------------------

class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"texts": ["A wonderful film, I loved every minute.", "Dull, predictable and far too long."]}]})

    texts: list[StrictStr] = Field(..., min_length=1, description="reviews to classify (raw text; HTML is cleaned "
                                                                  "like the training data)")


class Prediction(BaseModel):
    label: Literal["negative", "positive"]
    prob_positive: float = Field(..., ge=0, le=1, description="P(positive); label is positive when >= 0.5")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(..., description="one per text, in request order")
    model: str = Field(..., description="name of the model that answered")


class ErrorResponse(BaseModel):
    detail: str


# --- batching -------------------------------------------------------------------------------

_STOP = object()


class Batcher:
    """Runs every predict call on one worker thread that owns the model.

    Requests that arrive while a batch is running wait in a queue and are combined into the
    next call (up to max_texts texts; a request is never split), so concurrent clients share
    forward passes. Each request's texts are validated before they are queued. Before
    start() and after stop(), predict() runs directly under the same lock.
    """

    def __init__(self, predictor, max_texts: int, micro_batch: bool = True):
        self.predictor, self.max_texts, self.micro_batch = predictor, max_texts, micro_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._model_lock = threading.Lock()  # fast tokenizers are not thread-safe
        self._state_lock = threading.Lock()
        self._running = False
        self._thread: threading.Thread | None = None
        self.calls = 0  # predict calls made (tests and /health look at it)

    def start(self) -> None:
        if not self.micro_batch:
            return
        with self._state_lock:
            if self._running:
                return
            self._running = True
            self._thread = threading.Thread(target=self._work, name="predict-worker", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._state_lock:
            if not self._running:
                return
            self._running = False
            self._queue.put(_STOP)  # everything queued before it is still answered
        self._thread.join()

    def predict(self, texts: list[str]):
        fut: Future = Future()
        with self._state_lock:
            queued = self._running
            if queued:
                self._queue.put((texts, fut))
        if not queued:
            return self._run(texts)
        return fut.result()

    def _run(self, texts: list[str]):
        with self._model_lock:
            self.calls += 1
            return self.predictor.predict(texts)

    def _work(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            if item is _STOP:
                break
            items, n = [item], len(item[0])
            while n < self.max_texts:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                items.append(nxt)
                n += len(nxt[0])
            self._answer(items)

    def _answer(self, items) -> None:
        try:
            preds = self._run([t for texts, _ in items for t in texts])
        except Exception as e:  # every waiting request gets the error, the worker lives on
            for _, fut in items:
                fut.set_exception(e)
            return
        start = 0
        for texts, fut in items:
            fut.set_result(preds[start:start + len(texts)])
            start += len(texts)


# --- app ------------------------------------------------------------------------------------

def git_revision() -> str:
    try:
        r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                           timeout=5)
        return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_predictor(settings: Settings):
    """The model, or PredictorError (a ConfigError) saying why it cannot be served."""
    from sentiment.predictor import Predictor

    return Predictor(settings.model, max_length=settings.max_length, truncation=settings.truncation,
                     precision=settings.precision, batch_size=settings.batch_size, params_file=settings.params_file,
                     threads=settings.threads)


def _summary(errors) -> str:
    parts = []
    for e in errors:
        if e.get("type") == "json_invalid":
            parts.append(f"body is not valid JSON ({(e.get('ctx') or {}).get('error', 'decode error')})")
            continue
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {e.get('msg')}")
    return "; ".join(parts)


def _errors(errors) -> list[dict]:
    """Pydantic's errors without the offending input (it can be megabytes of text)."""
    return [{k: v for k, v in e.items() if k not in {"input", "url"}} for e in errors]


def create_app(settings: Settings | None = None, predictor=None) -> FastAPI:
    """The API around a model loaded now (or the given predictor): a bad model fails here."""
    settings = settings or Settings()
    predictor = predictor or load_predictor(settings)
    from sentiment.data import clean_text

    batcher = Batcher(predictor, max_texts=max(settings.max_batch, settings.batch_size),
                      micro_batch=settings.micro_batch)
    revision = git_revision()
    started = time.time()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        log.info("serving %s (git %s)", predictor.info(), revision)
        yield
        batcher.stop()

    app = FastAPI(title="IMDB sentiment", version=revision, lifespan=lifespan,
                  description="Binary sentiment (negative/positive) of English movie reviews. "
                              f"Model: `{predictor.name}` ({predictor.kind}). Limits: {settings.max_batch} texts "
                              f"per request, {settings.max_chars} characters per text (413 beyond); empty texts "
                              "and wrong types get 422.")
    app.state.settings, app.state.predictor, app.state.batcher = settings, predictor, batcher

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        size = request.headers.get("content-length")
        if size and size.isdigit() and int(size) > settings.max_body_bytes:
            return JSONResponse(status_code=413, content={
                "detail": f"request body of {int(size)} bytes is over the limit of {settings.max_body_bytes}"})
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        # FastAPI's usual 422 body (detail: list of errors) plus one readable line
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(_errors(exc.errors())),
                                                      "message": f"invalid request: {_summary(exc.errors())}"})

    @app.post("/predict", response_model=PredictResponse,
              responses={413: {"model": ErrorResponse, "description": "too many texts or a text too long"},
                         422: {"description": "not a list of non-empty strings"}})
    def predict(req: PredictRequest):
        # a plain def: FastAPI runs it in its threadpool, so inference never blocks the event loop
        texts = req.texts
        if len(texts) > settings.max_batch:
            raise HTTPException(413, f"{len(texts)} texts in one request; the limit is {settings.max_batch}: "
                                     "split them over several requests")
        long = [i for i, t in enumerate(texts) if len(t) > settings.max_chars]
        if long:
            raise HTTPException(413, f"text(s) {long[:10]} longer than {settings.max_chars} characters "
                                     f"(first has {len(texts[long[0]])})")
        empty = [i for i, t in enumerate(texts) if not clean_text(t)]
        if empty:
            raise HTTPException(422, f"text(s) {empty[:10]} are empty (or only HTML/whitespace)")
        preds = batcher.predict(texts)
        return {"predictions": [{"label": p.label, "prob_positive": p.prob_positive} for p in preds],
                "model": predictor.name}

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": predictor.info(), "git_revision": revision,
                "uptime_s": round(time.time() - started, 1), "predict_calls": batcher.calls,
                "limits": {"max_batch": settings.max_batch, "max_chars": settings.max_chars}}

    return app


# --- command line ---------------------------------------------------------------------------

def parse_args(argv=None) -> dict:
    """Only the options given: the rest come from SENTIMENT_* variables or the defaults."""
    fields = Settings.model_fields
    ap = argparse.ArgumentParser(prog="serve.py", description=__doc__.split("\n\n")[0],
                                 epilog="Every option can also be set as an environment variable SENTIMENT_<NAME>, "
                                        "e.g. SENTIMENT_PORT=8080.")
    ap.add_argument("-m", "--model", help=f"{fields['model'].description} (default: {fields['model'].default})")
    ap.add_argument("--host", help=f"{fields['host'].description} (default: {fields['host'].default})")
    ap.add_argument("--port", type=int, help="default: 8000")
    ap.add_argument("--max-batch", type=int, help=f"{fields['max_batch'].description} (default: 64)")
    ap.add_argument("--max-chars", type=int, help=f"{fields['max_chars'].description} (default: 20000)")
    ap.add_argument("--batch-size", type=int, help="texts per forward pass (default: 32)")
    ap.add_argument("--micro-batch", action=argparse.BooleanOptionalAction,
                    help="combine concurrently waiting requests into one predict call (default: on)")
    ap.add_argument("--max-length", type=int, help="tokens per text (default: as trained: the model's inference.json or card, else params.yaml)")
    ap.add_argument("--truncation", choices=["head", "head_tail"], help="default: as trained")
    ap.add_argument("--precision", choices=["auto", "bf16", "fp16", "fp32"], help="default: params.yaml (auto)")
    ap.add_argument("--threads", type=int, help=f"{fields['threads'].description}")
    ap.add_argument("--params-file", help="default: params.yaml")
    ap.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"], help="default: info")
    ap.add_argument("--access-log", action=argparse.BooleanOptionalAction, help="log every request (default: on)")
    return {k: v for k, v in vars(ap.parse_args(argv)).items() if v is not None}


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_logging()
    try:
        settings = Settings(**args)
    except ValidationError as e:
        log.error("invalid settings: %s", _summary(e.errors()))
        return 2
    logging.getLogger().setLevel(settings.log_level.upper())
    try:
        app = create_app(settings)
    except ConfigError as e:
        log.error("cannot serve: %s", e)
        return 2
    import uvicorn

    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                access_log=settings.access_log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
