"""`rft serve` throughput: rows/s through /score and /get_reward at 1, 8 and 64 concurrent clients,
against in-process ``grade_batch`` on the same rows, with latency percentiles.

The server is a real `rft serve` subprocess (uvicorn, access log off) on 127.0.0.1; the clients are
aiohttp coroutines in this process, each sending requests of ``--rows-per-request`` rows until the
corpus is used up (request bodies are built before the clock starts, responses are parsed inside
it). Rewards from the server are checked equal to the in-process ones first. The in-process
baseline grades the same rows with ``grader.grade_batch`` in batches of the same size, Samples
and items built outside the timing; it takes turns with the server runs (best of ``--repeats``
each), so a noisy neighbour slows both alike. Spec: examples/spec.yaml, a multi of string_check + fuzzy_match.
Target (issue 17): >= 70% of in-process at 64 clients. Also printed: the server process's CPU
seconds per row against in-process grading's (steadier than rows/s when the machine is shared).

The clients share the machine with the server: on a small machine their CPU counts against it.
The server moves its start-up objects out of the garbage collector's sight (``gc.freeze``, as
``rft serve`` always does); the in-process baseline runs with Python's default collector.

Run: python benchmarks/serve_throughput.py [--rows 32768] [--rows-per-request 256] [--repeats 3]
     [--clients 1 8 64] [--endpoints /score /get_reward] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from _corpus import best_rates, pairs

from rft_core import Sample, load_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "spec.yaml"  # trivia: a multi of string_check and fuzzy_match
CLIENTS = (1, 8, 64)


def corpus(rows: int) -> tuple[list[str], list[str], list[str]]:
    """(prompts, completions, answers)."""
    data = pairs(rows)
    prompts = [f"<|im_start|>user\nQuestion {index}?<|im_end|>\n<|im_start|>assistant\n" for index in range(rows)]
    completions = [f"Let me think.\nAnswer: {text}" for text, _ in data]
    return prompts, completions, [answer for _, answer in data]


def bodies(endpoint: str, prompts: list[str], completions: list[str], answers: list[str], size: int) -> list[bytes]:
    """The request bodies, ``size`` rows each."""
    out = []
    for start in range(0, len(prompts), size):
        p, c, a = prompts[start:start + size], completions[start:start + size], answers[start:start + size]
        if endpoint == "/score":
            body = {"rows": [{"output_text": text, "answer": answer, "prompt": prompt}
                             for prompt, text, answer in zip(p, c, a)]}
        else:
            body = {"query": [prompt + text + "<|im_end|>" for prompt, text in zip(p, c)], "prompts": p, "labels": a}
        out.append(orjson.dumps(body))
    return out


def rewards_of(endpoint: str, answer: dict) -> list[float]:
    return [row["reward"] for row in answer["rows"]] if endpoint == "/score" else answer["rewards"]


async def drive(url: str, requests: list[bytes], clients: int) -> tuple[float, list[float], list[list[float]]]:
    """Seconds for all requests with ``clients`` concurrent clients, each request's latency, and the rewards."""
    queue = list(enumerate(requests))
    queue.reverse()
    latencies: list[float] = []
    rewards: list[list[float]] = [[] for _ in requests]
    endpoint = url.rsplit("/", 1)[1]
    headers = {"Content-Type": "application/json"}

    async def client(session: aiohttp.ClientSession) -> None:
        while queue:
            index, body = queue.pop()
            sent = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                payload = orjson.loads(await response.read())
            latencies.append(time.perf_counter() - sent)
            rewards[index] = rewards_of("/" + endpoint, payload)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as session:
        start = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        seconds = time.perf_counter() - start
    return seconds, latencies, rewards


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int) -> float:
    """CPU seconds of the server: its process and, with --workers, its worker processes."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_seconds(pid) + sum(cpu_seconds(int(child)) for child in children)


def start_server(spec: Path, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "rft_core.cli", "serve", str(spec), "--port", str(port), "--log-level", "warning",
               "--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("rft serve did not start")


def measure(url: str, pid: int, endpoint: str, requests: list[bytes], clients: int, in_process, expected: list[float],
            rows: int, repeats: int) -> str:
    """One line of figures: the server's rows/s against in-process, latency, CPU per row (runs taking turns)."""
    runs: list[tuple[float, list[float]]] = []
    cpu = {"server": 0.0, "in_process": 0.0}

    def timed_in_process() -> None:
        start = time.process_time()
        in_process()
        cpu["in_process"] += time.process_time() - start

    def through_server() -> None:
        start = server_cpu(pid)
        seconds, latencies, rewards = asyncio.run(drive(url + endpoint, requests, clients))
        cpu["server"] += server_cpu(pid) - start
        if [reward for chunk in rewards for reward in chunk] != expected:
            raise SystemExit(f"{endpoint}: the server's rewards differ from grade_batch's")
        runs.append((seconds, latencies))

    rates = best_rates({"in_process": timed_in_process, "server": through_server}, rows, repeats)
    latencies = min(runs)[1]
    return (f"{endpoint:<11} {clients:>2} clients: {rates['server']:>9,.0f} rows/s = "
            f"{rates['server'] / rates['in_process']:5.1%} of in-process ({rates['in_process']:,.0f} rows/s); "
            f"latency per request p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms; server CPU per row "
            f"{cpu['server'] / cpu['in_process']:.2f}x in-process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32768)
    parser.add_argument("--rows-per-request", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="rft serve --workers (server processes)")
    parser.add_argument("--clients", type=int, nargs="+", default=list(CLIENTS), help="concurrent clients to measure")
    parser.add_argument("--endpoints", nargs="+", default=["/score", "/get_reward"], choices=["/score", "/get_reward"])
    args = parser.parse_args()
    prompts, completions, answers = corpus(args.rows)
    grader = load_spec(SPEC)
    samples = [Sample(text) for text in completions]
    items = [{"answer": answer, "prompt": prompt} for answer, prompt in zip(answers, prompts)]
    size = args.rows_per_request

    def in_process() -> list[float]:
        rewards: list[float] = []
        for start in range(0, len(samples), size):
            results = grader.grade_batch(samples[start:start + size], items[start:start + size])
            rewards.extend(result.reward for result in results)
        return rewards

    expected = in_process()
    process, url = start_server(SPEC, args.workers)
    try:
        print(f"{args.rows} rows, {size} rows per request, best of {args.repeats}, rft serve --workers {args.workers}; "
              f"{os.cpu_count()} CPUs shared by the server, the clients and anything else running")
        for endpoint in args.endpoints:
            requests = bodies(endpoint, prompts, completions, answers, size)
            for clients in args.clients:
                print(measure(url, process.pid, endpoint, requests, clients, in_process, expected, args.rows,
                              args.repeats), flush=True)
    finally:
        process.terminate()
        process.wait(30)


if __name__ == "__main__":
    main()
