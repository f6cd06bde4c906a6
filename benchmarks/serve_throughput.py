"""`rft serve` throughput: rows/s through /score and /get_reward at 1, 8 and 64 concurrent clients,
against in-process ``grade_batch`` on the same rows, with latency percentiles.

The server is a real `rft serve` subprocess (uvicorn, access log off) on 127.0.0.1; the clients are
aiohttp coroutines in this process, each sending requests of ``--rows-per-request`` rows until the
corpus is used up (request bodies are built before the clock starts, responses are parsed inside
it); every run's rewards are checked equal to the in-process ones. The in-process baseline grades
the same rows with ``grader.grade_batch`` in batches of the same size, Samples and items built
outside the timing, in one thread. Each round runs the baseline, then the server, so a slow spell
of the machine mostly hits both; the figures are medians over ``--rounds`` rounds, with the range
of the round ratios. Spec: examples/spec.yaml, a multi of string_check + fuzzy_match.
Target (issue 17): >= 70% of in-process at 64 clients. Also printed: the server processes' CPU
seconds per row against in-process grading's.

Each ``--workers`` value gets its own server. With one worker the server is one Python process,
whose reading, grading and writing share one interpreter lock; more workers use more cores, which
the one-threaded baseline does not. The clients share the machine with the server: on a small
machine their CPU counts against it. The server tunes its garbage collector as ``rft serve``
always does (``serve.workers.freeze_startup_objects``); the in-process baseline runs with Python's
default collector, as a trainer's process would.

Run: python benchmarks/serve_throughput.py [--rows 32768] [--rows-per-request 256] [--rounds 5]
     [--clients 1 8 64] [--endpoints /score /get_reward] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from _corpus import pairs

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
            rows: int, rounds: int) -> str:
    """One line of figures: the server's rows/s against in-process, latency, CPU per row.

    Each round times in-process grading, then the server, back to back; the figures are medians
    over the rounds (a round's ratio compares two runs a second apart, so a slow spell of the
    machine mostly hits both), and the range of the ratio is printed beside it."""
    rates = {"server": [], "in_process": []}
    cpu = {"server": [], "in_process": []}
    runs: list[tuple[float, list[float]]] = []
    for _ in range(rounds):
        start, used = time.perf_counter(), time.process_time()
        in_process()
        rates["in_process"].append(rows / (time.perf_counter() - start))
        cpu["in_process"].append(time.process_time() - used)
        used = server_cpu(pid)
        seconds, latencies, rewards = asyncio.run(drive(url + endpoint, requests, clients))
        cpu["server"].append(server_cpu(pid) - used)
        if [reward for chunk in rewards for reward in chunk] != expected:
            raise SystemExit(f"{endpoint}: the server's rewards differ from grade_batch's")
        rates["server"].append(rows / seconds)
        runs.append((seconds, latencies))
    ratios = [server / local for server, local in zip(rates["server"], rates["in_process"])]
    latencies = sorted(runs)[len(runs) // 2][1]  # the median run's
    cpu_ratio = statistics.median(server / local for server, local in zip(cpu["server"], cpu["in_process"]))
    return (f"{endpoint:<11} {clients:>2} clients: {statistics.median(rates['server']):>9,.0f} rows/s = "
            f"{statistics.median(ratios):5.1%} of in-process ({statistics.median(rates['in_process']):,.0f} rows/s; "
            f"rounds {min(ratios):.0%}-{max(ratios):.0%}); latency per request p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms; server CPU per row {cpu_ratio:.2f}x in-process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=32768)
    parser.add_argument("--rows-per-request", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="rft serve --workers (server processes) to measure, one server each")
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
    requests = {endpoint: bodies(endpoint, prompts, completions, answers, size) for endpoint in args.endpoints}
    print(f"{args.rows} rows, {size} rows per request, medians of {args.rounds} rounds; "
          f"{os.cpu_count()} CPUs shared by the server, the clients and anything else running")
    for workers in args.workers:
        process, url = start_server(SPEC, workers)
        try:
            print(f"rft serve --workers {workers}")
            for endpoint in args.endpoints:
                asyncio.run(drive(url + endpoint, requests[endpoint], max(args.clients)))  # warm-up
                for clients in args.clients:
                    print(measure(url, process.pid, endpoint, requests[endpoint], clients, in_process, expected,
                                  args.rows, args.rounds), flush=True)
        finally:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    main()
