"""Fuzz the running server (src/serve.py, a real uvicorn process on a tiny model) with
requests generated from its own /openapi.json: the schema is the contract.

- every schema-valid request gets 200 with one prediction per text, except the one rule a
  JSON schema cannot state and the description documents: a text that is empty once
  cleaned (HTML/entities only) gets 422 naming its index;
- every request that breaks the schema gets a documented 4xx with the documented body;
- no status outside the documented ones, no 5xx, and the server keeps serving.
"""

import json
import os
import re
import subprocess
import sys

import httpx
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_serve import free_port, wait_up

from sentiment.data import clean_text
from serve import ErrorResponse, PredictResponse

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a live server, fuzzed

FUZZ = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# JSON Schema keywords this generator understands; a new one in the schema fails the test
# instead of going unfuzzed.
KNOWN = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "title",
    "description",
    "examples",
    "$ref",
}
OTHER_TYPES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.just([]), st.just({})
)


@pytest.fixture(scope="module")
def server(tiny):
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "src" / "serve.py"),
            "--model",
            str(tiny),
            "--port",
            str(port),
            "--max-batch",
            "6",
            "--max-chars",
            "300",
            "--max-length",
            "64",
            "--precision",
            "fp32",
            "--threads",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(proc, url)
        with httpx.Client(base_url=url, timeout=30) as c:
            yield proc, c
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
        assert "Traceback" not in out, out[-3000:]


@pytest.fixture(scope="module")
def contract(server):
    spec = server[1].get("/openapi.json").json()
    op = spec["paths"]["/predict"]["post"]

    def resolve(s):
        while "$ref" in s:
            s = spec["components"]["schemas"][s["$ref"].rsplit("/", 1)[1]]
        return s

    request = resolve(op["requestBody"]["content"]["application/json"]["schema"])
    return {"request": request, "resolve": resolve, "statuses": {int(c) for c in op["responses"]}}


def valid(schema, resolve):
    """Instances of `schema`."""
    schema = resolve(schema)
    assert set(schema) <= KNOWN, f"schema keywords this fuzz does not know: {set(schema) - KNOWN}"
    t = schema["type"]
    if t == "object":
        props = schema["properties"]
        return st.fixed_dictionaries(
            {k: valid(props[k], resolve) for k in schema.get("required", [])},
            optional={k: valid(v, resolve) for k, v in props.items() if k not in schema.get("required", [])},
        )
    if t == "array":
        return st.lists(
            valid(schema["items"], resolve), min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 10)
        )
    if t == "string":
        lo, hi = schema.get("minLength", 0), schema.get("maxLength", 1000)
        text = st.one_of(
            st.text(min_size=lo, max_size=min(hi, 40)),
            st.text(min_size=max(lo, hi - 3), max_size=hi),
            st.sampled_from(["<br />", "&nbsp;", "<p>a</p>", "Great film!", "\x1c"]),
        )
        pattern = schema.get("pattern")
        return text.filter(lambda s: lo <= len(s) <= hi and (pattern is None or re.search(pattern, s)))
    raise AssertionError(f"type {t!r} not handled")


def invalid(schema, resolve):
    """Values that break `schema` in exactly one way (at the top, or one level down)."""
    schema = resolve(schema)
    t = schema["type"]
    wrong = OTHER_TYPES.filter(lambda v: not (t == "array" and v == []) and not (t == "object" and v == {}))
    ways = [wrong if t != "string" else st.one_of(wrong, st.just(["a list"]))]
    if t == "object":
        props, required = schema["properties"], schema.get("required", [])
        good = valid(schema, resolve)
        for k in required:
            ways.append(good.map(lambda d, k=k: {x: v for x, v in d.items() if x != k}))
        for k, sub in props.items():
            ways.append(st.tuples(good, invalid(sub, resolve)).map(lambda p, k=k: {**p[0], k: p[1]}))
        if schema.get("additionalProperties") is False:
            ways.append(good.map(lambda d: {**d, "unexpected": 1}))
    elif t == "array":
        item, lo, hi = schema["items"], schema.get("minItems", 0), schema.get("maxItems")
        if lo > 0:
            ways.append(st.lists(valid(item, resolve), max_size=lo - 1))
        if hi is not None:
            ways.append(st.lists(valid(item, resolve), min_size=hi + 1, max_size=hi + 3))
        ways.append(
            st.tuples(
                st.lists(valid(item, resolve), max_size=(hi or 3) - 1), invalid(item, resolve), st.integers(0, hi or 3)
            ).map(lambda p: p[0][: p[2]] + [p[1]] + p[0][p[2] :])
        )
    elif t == "string":
        lo, hi = schema.get("minLength", 0), schema.get("maxLength")
        if lo > 0:
            ways.append(st.text(max_size=lo - 1))
        if hi is not None:
            ways.append(st.text(min_size=hi + 1, max_size=hi + 20))
        if schema.get("pattern") == r"\S":
            ways.append(st.text(alphabet=" \t\n\r", min_size=max(lo, 1), max_size=5))
    return st.one_of(ways)


def post(c, body):
    if isinstance(body, bytes):
        return c.post("/predict", content=body, headers={"content-type": "application/json"})
    return c.post("/predict", json=body)


def check_error(r, statuses):
    assert r.status_code in statuses and 400 <= r.status_code < 500, (r.status_code, r.text)
    ErrorResponse.model_validate(r.json())  # the documented error body


def test_schema_valid_requests_succeed(server, contract):
    c = server[1]

    @FUZZ
    @given(valid(contract["request"], contract["resolve"]))
    def run(body):
        r = post(c, body)
        empty = [i for i, t in enumerate(body["texts"]) if not clean_text(t)]
        if empty:  # the documented rule beyond the schema: 422 naming each index
            check_error(r, contract["statuses"])
            assert r.status_code == 422 and [d["loc"][-1] for d in r.json()["detail"]] == empty, r.text
        else:
            assert r.status_code == 200, r.text
            assert len(PredictResponse.model_validate(r.json()).predictions) == len(body["texts"])

    run()
    assert c.get("/health").status_code == 200 and server[0].poll() is None


def test_schema_invalid_requests_get_a_documented_4xx(server, contract):
    c = server[1]
    raw = st.sampled_from(
        [
            b"",
            b"{",
            b"[1, 2]",
            b"null",
            b'{"texts": ["caf\xe9"]}',
            b'{"texts": ["\\ud800"]}',
            b"\xff\xfe",
            json.dumps({"texts": ["x"]}).encode() + b" trailing",
        ]
    )

    @FUZZ
    @given(st.one_of(invalid(contract["request"], contract["resolve"]), raw))
    def run(body):
        check_error(post(c, body), contract["statuses"])

    run()
    huge = b'{"texts": ["' + b"x" * (6 * (300 * 12 + 8) + 2048) + b'"]}'
    check_error(post(c, huge), contract["statuses"])  # over the body limit: 413
    assert c.get("/health").status_code == 200 and server[0].poll() is None
