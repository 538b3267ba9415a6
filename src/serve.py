"""HTTP API for real-time sentiment predictions (FastAPI + uvicorn).

  python src/serve.py --port 8000      # serves models/ensemble, the best model on validation
  curl -s localhost:8000/predict -H 'content-type: application/json' \\
       -d '{"texts": ["A wonderful film", "Two hours I will never get back."]}'

POST /predict {"texts": [...]} -> {"predictions": [{"label", "prob_positive"}, ...], "model"};
GET /health (the model, its dataset and its two label names); interactive docs at /docs, the
contract at /openapi.json (limits and every error status included). The model is loaded once, before the server accepts connections.
Inference runs on one worker thread that owns the model; requests that arrive while it is
busy go into its next predict call together (micro-batching; measured with
scripts/load_test.py: 1.5-2.6x the single-review throughput of a plain lock at 8 clients,
the same at 1). A request that waits on the model longer than --timeout gets 503, so a
stuck, failing or dead worker never hangs clients. Settings come from the command line or
SENTIMENT_* environment variables.
"""

import argparse
import asyncio
import logging
import os
import queue
import sys
import threading
import time
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

# Only local models are loaded: never wait on the hub; keep library chatter off stderr.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.encoders import jsonable_encoder  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, StrictStr, StringConstraints, ValidationError, create_model  # noqa: E402
from pydantic_settings import BaseSettings, SettingsConfigDict  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402

from sentiment import THRESHOLD, ConfigError, setup_logging  # noqa: E402
from sentiment.predictor import DEFAULT_MODEL, PRECISIONS, TRUNCATIONS, InputError, check_texts  # noqa: E402 (no torch)

log = logging.getLogger("serve")


class Settings(BaseSettings):
    """Server settings: command-line options override SENTIMENT_<NAME> environment variables."""

    model_config = SettingsConfigDict(env_prefix="SENTIMENT_", extra="forbid", frozen=True)

    model: str = Field(
        DEFAULT_MODEL, description="fine-tuned model directory, ensemble directory or baseline .joblib file"
    )
    host: str = Field("127.0.0.1", description="interface to listen on (0.0.0.0: all; mind who can reach it)")
    port: int = Field(8000, ge=0, le=65535)
    max_batch: int = Field(64, ge=1, description="most texts per request")
    max_chars: int = Field(20000, ge=1, description="most characters per text")
    batch_size: int = Field(32, ge=1, description="texts per forward pass")
    timeout: float = Field(
        30, gt=0, description="seconds a request may wait for the model, queueing included (503 beyond)"
    )
    max_length: int | None = Field(None, gt=2, description="tokens per text (default: the model's inference.json)")
    truncation: Literal[TRUNCATIONS] | None = None
    precision: Literal[PRECISIONS] | None = None
    threads: int | None = Field(None, ge=1, description="torch CPU threads (default: torch's, one per core)")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    access_log: bool = True

    @property
    def max_body_bytes(self) -> int:
        """Largest body a valid request can need: every text at max_chars, each character
        JSON-escaped at worst (12 bytes: a \\uXXXX surrogate pair), plus some slack."""
        return self.max_batch * (self.max_chars * 12 + 8) + 1024


# --- API schema: the contract, limits included --------------------------------------------------


class Prediction(BaseModel):
    label: str = Field(
        ..., description="one of the model's two label names (the API description and GET /health name them)"
    )
    prob_positive: float = Field(
        ..., ge=0, le=1, description=f"P(positive); label is the second (positive) name when >= {THRESHOLD}"
    )


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(..., description="one per text, in request order")
    model: str = Field(..., description="name of the model that answered")


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(..., description='where: e.g. ["body", "texts", 3] is the text at index 3')
    msg: str
    type: str


class ErrorResponse(BaseModel):
    message: str = Field(..., description="one readable line")
    detail: list[ErrorItem] = Field(default_factory=list, description="422: one entry per problem")


def request_model(settings: Settings) -> type[BaseModel]:
    """The request schema with this server's limits, so /openapi.json states them."""
    text = Annotated[StrictStr, StringConstraints(min_length=1, max_length=settings.max_chars, pattern=r"\S")]
    return create_model(
        "PredictRequest",
        __config__=ConfigDict(
            extra="forbid",
            json_schema_extra={
                "examples": [
                    {"texts": ["A wonderful film, I loved every minute.", "Dull, predictable and far too long."]}
                ]
            },
        ),
        texts=(
            list[text],
            Field(
                ...,
                min_length=1,
                max_length=settings.max_batch,
                description=(
                    "reviews to classify, raw text: HTML is cleaned like the training data. A text that is empty once "
                    "cleaned (whitespace, tags or entities only) is rejected with 422 naming its index."
                ),
            ),
        ),
    )


def error_responses(settings: Settings) -> dict[int | str, dict[str, Any]]:
    return {
        code: {"model": ErrorResponse, "description": why}
        for code, why in {
            400: "the body could not be read (e.g. not UTF-8)",
            413: f"the body is over {settings.max_body_bytes} bytes (checked while reading, chunked bodies too)",
            422: "the body is not valid JSON or breaks the schema above, or a text is empty once cleaned; "
            "`detail[].loc` names the field and the text's index",
            503: f"the model did not answer within {settings.timeout:g} s or failed; logged on the server, retry later",
        }.items()
    }


def _problem(status: int, message: str, detail: list | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"message": message, "detail": detail or []}, headers=headers)


def _loc_msg(e: dict) -> str:
    if e.get("type") == "json_invalid":
        return f"body is not valid JSON ({(e.get('ctx') or {}).get('error', 'decode error')})"
    if e.get("type") in {"string_too_short", "string_pattern_mismatch"}:
        e = {**e, "msg": "empty or whitespace-only text"}
    loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
    return f"{loc}: {e.get('msg')}"


class BodyLimit:
    """ASGI middleware: 413 once a body exceeds `limit` bytes, counted as it is read, so a
    chunked body (no Content-Length) is bounded too."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:  # refuse without reading
            return await self._too_large(f"{int(declared)} bytes")(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # FastAPI re-raises an HTTPException raised while reading the body
                raise HTTPException(413, f"request body over the limit of {self.limit} bytes")
            return message

        await self.app(scope, counted, send)

    def _too_large(self, size: str) -> JSONResponse:
        return _problem(413, f"request body of {size} is over the limit of {self.limit} bytes")


# --- the inference worker ---------------------------------------------------------------------

_STOP = object()


class Batcher:
    """One thread owns the model (fast tokenizers are not thread-safe). Requests that arrive
    while it is busy wait in a queue and go into its next predict call together, at most
    max_texts texts (a request is never split). Texts are checked and cleaned before they
    are queued, so one bad request never fails the others in a batch."""

    def __init__(self, predictor, max_texts: int):
        self.predictor, self.max_texts = predictor, max_texts
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._work, name="predict-worker", daemon=True)
        self.calls = 0  # predict calls made: /health shows how much batching happens

    def submit(self, cleaned: list[str]) -> Future:
        future: Future = Future()
        self.queue.put((cleaned, future))
        return future

    def stop(self) -> None:
        self.queue.put(_STOP)  # what is queued before it is still answered
        self.thread.join(timeout=5)  # a stuck model must not block shutdown (daemon thread)

    def _work(self) -> None:
        carry = None
        while (item := carry or self.queue.get()) is not _STOP:
            batch, n, carry = [item], len(item[0]), None
            while True:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP or n + len(nxt[0]) > self.max_texts:
                    carry = nxt
                    break
                batch.append(nxt)
                n += len(nxt[0])
            self._answer([(texts, f) for texts, f in batch if f.set_running_or_notify_cancel()])  # not timed out

    def _answer(self, batch) -> None:
        if not batch:
            return
        try:
            self.calls += 1
            preds = self.predictor.predict_cleaned([t for texts, _ in batch for t in texts])
        except Exception as e:  # every request in the call gets the error; the worker lives on
            for _, f in batch:
                f.set_exception(e)
            return
        start = 0
        for texts, f in batch:
            f.set_result(preds[start : start + len(texts)])
            start += len(texts)


# --- app --------------------------------------------------------------------------------------


def load_predictor(settings: Settings):
    """The model, or PredictorError (a ConfigError) saying why it cannot be served."""
    from sentiment.predictor import Predictor

    return Predictor(
        settings.model,
        max_length=settings.max_length,
        truncation=settings.truncation,
        precision=settings.precision,
        batch_size=settings.batch_size,
        threads=settings.threads,
    )


def create_app(settings: Settings | None = None, predictor=None) -> FastAPI:
    """The API around a model loaded now (or the given predictor): a bad model fails here."""
    settings = settings or Settings()
    predictor = predictor or load_predictor(settings)
    worker: dict[str, Batcher] = {}  # one per lifespan: a thread cannot be restarted
    started = time.time()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker["batcher"] = Batcher(predictor, max_texts=max(settings.max_batch, settings.batch_size))
        worker["batcher"].thread.start()
        log.info("serving %s", predictor.info())
        yield
        worker.pop("batcher").stop()

    def alive() -> Batcher | None:
        b = worker.get("batcher")
        return b if b is not None and b.thread.is_alive() else None

    app = FastAPI(
        title=f"{predictor.dataset} sentiment",
        version="1",
        lifespan=lifespan,
        description=f"Binary sentiment of texts like the model's training data ({predictor.dataset}): label "
        f"`{predictor.labels[1]}` when P(positive) >= {THRESHOLD}, else `{predictor.labels[0]}`. "
        f"Model: `{predictor.name}` ({predictor.kind}). Limits: {settings.max_batch} texts "
        f"per request, {settings.max_chars} characters per text, bodies up to "
        f"{settings.max_body_bytes} bytes; every error answers `ErrorResponse`.",
    )
    app.state.settings, app.state.predictor = settings, predictor
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    PredictRequest = request_model(settings)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = [{k: e[k] for k in ("loc", "msg", "type")} for e in exc.errors()]  # not the (huge) input
        return _problem(
            422, "invalid request: " + "; ".join(_loc_msg(e) for e in exc.errors()), jsonable_encoder(errors)
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        # keep the exception's headers: a 405's Allow (RFC 9110), a 401's WWW-Authenticate
        return _problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.post("/predict", response_model=PredictResponse, responses=error_responses(settings))
    async def predict(req: PredictRequest):  # type: ignore[valid-type]
        try:
            cleaned = check_texts(req.texts)  # the library's policy; the one cleaning of this request
        except InputError as e:
            return _problem(
                422,
                f"invalid request: texts: {e}",
                [
                    {
                        "loc": ["body", "texts", i],
                        "msg": "empty once cleaned (whitespace/HTML only)",
                        "type": "empty_text",
                    }
                    for i in e.indices
                ],
            )
        batcher = alive()
        if batcher is None:
            log.error("the inference worker is not running: answering 503")
            return _problem(503, "the inference worker is not running; retry later")
        future = asyncio.wrap_future(batcher.submit(cleaned))
        try:
            preds = await asyncio.wait_for(future, settings.timeout)  # cancels it if still queued
        except TimeoutError:
            log.error(
                "inference did not finish within %g s: answering 503 (worker stuck or overloaded)", settings.timeout
            )
            return _problem(503, f"the model did not answer within {settings.timeout:g} s; retry later")
        except Exception:  # a model failure is the server's, but must not take it down
            log.exception("inference failed: answering 503")
            return _problem(503, "inference failed; the error is logged on the server")
        return {
            "predictions": [{"label": p.label, "prob_positive": p.prob_positive} for p in preds],
            "model": predictor.name,
        }

    @app.get("/health", responses={503: {"description": "the inference worker is not running"}})
    async def health():
        batcher = alive()
        body = {
            "status": "ok" if batcher else "inference worker not running",
            "model": predictor.info(),
            "uptime_s": round(time.time() - started, 1),
            "predict_calls": batcher.calls if batcher else None,
            "limits": {
                "max_batch": settings.max_batch,
                "max_chars": settings.max_chars,
                "max_body_bytes": settings.max_body_bytes,
                "timeout_s": settings.timeout,
            },
        }
        return body if batcher else JSONResponse(body, status_code=503)

    return app


# --- command line ---------------------------------------------------------------------------


def parse_args(argv=None) -> dict:
    """Only the options given: the rest come from SENTIMENT_* variables or the defaults."""
    fields = Settings.model_fields
    ap = argparse.ArgumentParser(
        prog="serve.py",
        description=__doc__.split("\n\n")[0],
        epilog="Every option can also be set as an environment variable SENTIMENT_<NAME>, e.g. SENTIMENT_PORT=8080.",
    )

    def opt(name, **kw):
        f = fields[name.replace("-", "_")]
        kw.setdefault("help", f"{f.description or ''} (default: {f.default})".strip())
        ap.add_argument(f"--{name}", **kw)

    opt("model", type=str)
    opt("host")
    opt("port", type=int)
    opt("max-batch", type=int)
    opt("max-chars", type=int)
    opt("batch-size", type=int)
    opt("timeout", type=float)
    opt("max-length", type=int)
    opt("truncation", choices=TRUNCATIONS, help="default: the model's inference.json")
    opt("precision", choices=PRECISIONS, help="default: auto (bf16 where this hardware has it)")
    opt("threads", type=int)
    opt("log-level", choices=["critical", "error", "warning", "info", "debug"])
    opt("access-log", action=argparse.BooleanOptionalAction, help="log every request (default: on)")
    return {k: v for k, v in vars(ap.parse_args(argv)).items() if v is not None}


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_logging()
    try:
        settings = Settings(**args)
    except ValidationError as e:
        log.error("invalid settings: %s", "; ".join(_loc_msg(x) for x in e.errors()))
        return 2
    logging.getLogger().setLevel(settings.log_level.upper())
    try:
        app = create_app(settings)
    except ConfigError as e:
        log.error("cannot serve: %s", e)
        return 2
    import uvicorn

    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=settings.access_log
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
