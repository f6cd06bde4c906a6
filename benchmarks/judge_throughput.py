"""score_model throughput against a local OpenAI-compatible server with a fixed latency.

Run: python benchmarks/judge_throughput.py [--judgments 1000] [--latency 0.1] [--concurrency 32]

The server (tests/judge_server.py) runs in its own process and answers every
request after ``--latency`` seconds. Figures printed:

- concurrency efficiency: the ideal wall time ``judgments x latency / concurrency``
  divided by the measured one, for ``grade_batch`` over every judgment at once and for
  the ``rft score`` path (runner batches of 256). Target (issue 5): >= 85%.
- re-scoring from the on-disk cache: the same judgments again, no requests.
  Target: < 1 s for 1,000.

The cache lives in a temporary directory, so every run starts cold.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
os.environ.setdefault("RFT_LOAD_PLUGINS", "")

from judge_server import JudgeServer, Reply, completion  # noqa: E402


def serve(latency: float, ready, stop) -> None:
    reply = completion('{"steps": [], "result": 0.5}').body

    with JudgeServer(lambda body, number: Reply(reply, delay=latency), lifetime=600) as server:
        ready.send(server.base_url)
        stop.wait(600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgments", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    try:
        import openai  # noqa: F401
    except ImportError:
        print("judge_throughput: skipped, needs the judge extra: pip install 'rft-graders[judge]'")
        return

    ready_receive, ready_send = multiprocessing.Pipe(duplex=False)
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=serve, args=(args.latency, ready_send, stop), daemon=True)
    process.start()
    base_url = ready_receive.recv()
    try:
        run(args, base_url)
    finally:
        stop.set()
        process.join(5)
        if process.is_alive():
            process.terminate()


def run(args: argparse.Namespace, base_url: str) -> None:
    from rft_core import Sample, load_spec
    from rft_core.run.data import Task
    from rft_core.run.runner import run as run_tasks

    count = args.judgments
    spec = {
        "type": "score_model",
        "model": "bench-judge",
        "input": [{"role": "user", "content": "Reference: {{ item.answer }}\nAnswer: {{ sample.output_text }}"}],
        "base_url": base_url,
        "api_key": "bench",
        "max_concurrency": args.concurrency,
        "timeout": 30,
    }
    samples = [Sample(f"answer number {n}") for n in range(count)]
    items = [{"answer": f"reference {n % 7}"} for n in range(count)]
    ideal = count * args.latency / args.concurrency

    with tempfile.TemporaryDirectory() as cache_dir:
        grader = load_spec({**spec, "cache_dir": cache_dir})
        grader.grade_batch(samples[:4], items[:4])  # warm-up: imports, TLS context, first connections

        uncached = load_spec({**spec, "cache": False})
        start, cpu = time.perf_counter(), time.process_time()
        results = uncached.grade_batch(samples, items)
        batch_wall = time.perf_counter() - start
        batch_cpu = time.process_time() - cpu
        assert all(result.reward == 0.5 for result in results), results[0]

        tasks = [Task(index=n, sample=sample, item=item) for n, (sample, item) in enumerate(zip(samples, items))]
        start = time.perf_counter()
        scored = list(run_tasks(grader, tasks))
        runner_wall = time.perf_counter() - start
        assert all(s.result.reward == 0.5 and not s.result.metadata["cached"] for s in scored[4:])

        start = time.perf_counter()
        again = list(run_tasks(load_spec({**spec, "cache_dir": cache_dir}), tasks))
        cached_wall = time.perf_counter() - start
        assert all(s.result.metadata["cached"] for s in again)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"score_model, {count} judgments, server latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}"
          f"  ({os.cpu_count()} CPUs, load average {load:.1f})")
    print(f"  ideal wall time (n x latency / concurrency)   {ideal:7.3f} s")
    print(f"  grade_batch, all at once                      {batch_wall:7.3f} s  efficiency {ideal / batch_wall:6.1%}")
    budget = args.latency / args.concurrency * 1000
    print(f"  client CPU per judgment (grade_batch)         {batch_cpu / count * 1000:7.2f} ms "
          f"(the ideal pace leaves {budget:.2f} ms per judgment on one core)")
    print(f"  rft score path (runner, batches of 256)       {runner_wall:7.3f} s  efficiency {ideal / runner_wall:6.1%}"
          "   (target >= 85%)")
    print(f"  re-score from the cache                       {cached_wall:7.3f} s  "
          f"({count / cached_wall:,.0f} judgments/s; target < 1 s for 1,000)")


if __name__ == "__main__":
    main()
