"""Bounded load test of the HTTP service (src/serve.py) on loopback.

Starts the server on 127.0.0.1 and a free port with the given model, waits for /health,
then sends a fixed number of POST /predict requests from a few concurrent clients, first
with one review per request, then with batches of reviews (real IMDB test reviews), and
reports throughput (requests/s, reviews/s) and p50/p99 latency for each. Stops by itself
and shuts the server down.

  python scripts/load_test.py --model models/finetuned
  python scripts/load_test.py --model models/baseline/tfidf_lr.joblib --requests 400 --clients 8
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cpu_model() -> str:
    """The CPU, as lscpu names it (figures are only comparable on the same one)."""
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        import platform

        return platform.processor() or "unknown"


def sample_reviews(path: Path, n: int, seed: int) -> list[str]:
    import pandas as pd

    df = pd.read_parquet(path, columns=["text"])
    return df.text.sample(n=min(n, len(df)), random_state=seed).tolist()


def start_server(args, port: int, log_file) -> subprocess.Popen:
    cmd = [
        sys.executable,
        str(ROOT / "src" / "serve.py"),
        "--model",
        args.model,
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--max-batch",
        str(max(64, args.batch)),
    ]
    if args.batch_size:
        cmd += ["--batch-size", str(args.batch_size)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, env=env)


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before it was healthy")
        try:
            r = httpx.get(f"{url}/health", timeout=2)
            if r.status_code == 200:
                return r.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {timeout:.0f}s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn: graceful shutdown
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_phase(url: str, payloads: list[list[str]], clients: int) -> dict:
    """Send every payload once, `clients` at a time; per-request latency and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    nxt = iter(range(len(payloads)))

    def client():
        with httpx.Client(base_url=url, timeout=120) as c:
            while True:
                with lock:
                    i = next(nxt, None)
                if i is None:
                    return
                t = time.perf_counter()
                try:
                    r = c.post("/predict", json={"texts": payloads[i]})
                    ok = r.status_code == 200 and len(r.json()["predictions"]) == len(payloads[i])
                    why = None if ok else f"HTTP {r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as e:
                    why = f"{type(e).__name__}: {e}"
                dt = time.perf_counter() - t
                with lock:
                    (errors.append(why) if why else latencies.append(dt))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    ok = len(latencies)
    n_reviews = sum(len(p) for p in payloads) * ok / len(payloads)
    lat = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return {
        "requests": len(payloads),
        "ok": ok,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "reviews_per_request": len(payloads[0]),
        "wall_s": round(wall, 2),
        "requests_per_s": round(ok / wall, 2),
        "reviews_per_s": round(n_reviews / wall, 1),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 1),
        "latency_ms_p99": round(float(np.percentile(lat, 99)), 1),
        "latency_ms_max": round(float(lat.max()), 1),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="\n".join(__doc__.split("\n\n")[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--model", default="models/ensemble", help="model to serve (default: %(default)s)")
    ap.add_argument(
        "--data",
        default="data/raw/imdb/test.parquet",
        type=Path,
        help="reviews to send, a parquet file with a text column (default: %(default)s)",
    )
    ap.add_argument("--requests", type=int, default=200, help="single-review requests (default: %(default)s)")
    ap.add_argument(
        "--batch-requests", type=int, default=50, help="batched requests (default: %(default)s; x --batch reviews each)"
    )
    ap.add_argument("--batch", type=int, default=32, help="reviews per batched request (default: %(default)s)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default: %(default)s)")
    ap.add_argument("--warmup", type=int, default=4, help="untimed requests first (default: %(default)s)")
    ap.add_argument("--batch-size", type=int, help="server --batch-size (default: the server's)")
    ap.add_argument("--threads", type=int, help="server --threads: torch CPU threads (default: the server's)")
    ap.add_argument("--startup-timeout", type=float, default=180)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if min(args.requests, args.batch_requests, args.batch, args.clients) < 1:
        ap.error("--requests, --batch-requests, --batch and --clients must be >= 1")
    data = args.data if args.data.is_absolute() else ROOT / args.data
    if not data.is_file():
        ap.error(f"{data}: reviews file not found")

    reviews = sample_reviews(data, args.requests + args.batch_requests * args.batch, args.seed)
    singles = [[reviews[i % len(reviews)]] for i in range(args.requests)]
    batches = [
        [reviews[(i * args.batch + j) % len(reviews)] for j in range(args.batch)] for i in range(args.batch_requests)
    ]

    port = free_port()
    url = f"http://{HOST}:{port}"
    with tempfile.NamedTemporaryFile("w+", prefix="serve-", suffix=".log") as log_file:
        t = time.perf_counter()
        proc = start_server(args, port, log_file)
        try:
            health = wait_healthy(proc, url, args.startup_timeout)
            startup = time.perf_counter() - t
            print(f"server up in {startup:.1f}s at {url} on {cpu_model()}: model {health['model']}", flush=True)
            run_phase(url, singles[: args.warmup] + batches[:1], 1)  # warm-up, not timed
            results = {
                "model": health["model"],
                "cpu": cpu_model(),
                "cpus": os.cpu_count(),
                "clients": args.clients,
                "startup_s": round(startup, 1),
            }
            for name, payloads in (("single", singles), (f"batch{args.batch}", batches)):
                res = run_phase(url, payloads, args.clients)
                results[name] = res
                print(
                    f"{name:>8}: {res['ok']}/{res['requests']} ok in {res['wall_s']}s | "
                    f"{res['requests_per_s']} req/s, {res['reviews_per_s']} reviews/s | "
                    f"latency p50 {res['latency_ms_p50']} ms, p99 {res['latency_ms_p99']} ms",
                    flush=True,
                )
                if res["errors"]:
                    print(f"          {res['errors']} errors, first: {res['first_error']}", flush=True)
            with httpx.Client(base_url=url) as c:
                results["server_predict_calls"] = c.get("/health").json().get("predict_calls")
        except (RuntimeError, httpx.HTTPError) as e:
            log_file.seek(0)
            print(f"load test failed: {e}\n--- server log ---\n{log_file.read()[-4000:]}", file=sys.stderr)
            return 1
        finally:
            stop_server(proc)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return (
        1
        if any(results[k]["errors"] for k in results if isinstance(results[k], dict) and "errors" in results[k])
        else 0
    )


if __name__ == "__main__":
    sys.exit(main())
