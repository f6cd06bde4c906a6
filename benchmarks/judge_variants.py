"""rubric_model concurrency and fallback's judge call rate, against a local server with a fixed latency.

Run: python benchmarks/judge_variants.py [--samples 500] [--criteria 5] [--latency 0.1] [--concurrency 32]

The server (tests/judge_server.py) runs in its own process, answers every request after
``--latency`` seconds ("yes" to a rubric criterion, 0.5 to a score) and counts requests.
Figures printed:

- rubric_model, one call per criterion: the ideal wall time ``samples x criteria x latency /
  concurrency`` divided by the measured one, for ``grade_batch`` over every sample at once and for
  the ``rft score`` path (runner batches of 256). Target (issue 20): >= 85%. The baseline: a
  score_model making as many calls in the same run (on a loaded machine both fall short alike).
- fallback (math, then a score_model): the share of samples sent to the judge against the share
  math left undecided (parse_error). Target: equal.

Caches live in a temporary directory, so every run starts cold.
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

YES = completion('{"steps": [], "result": "yes"}').body
SCORE = completion('{"steps": [], "result": 0.5}').body


def serve(latency: float, ready, stop, count) -> None:
    def script(body, number):
        with count.get_lock():
            count.value += 1
        asks_yes_no = "enum" in str(body.get("response_format", ""))
        return Reply(YES if asks_yes_no else SCORE, delay=latency)

    with JudgeServer(script, lifetime=900) as server:
        ready.send(server.base_url)
        stop.wait(900)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--criteria", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    try:
        import openai  # noqa: F401
    except ImportError:
        print("judge_variants: skipped, needs the judge extra: pip install 'rft-graders[judge]'")
        return
    ready_receive, ready_send = multiprocessing.Pipe(duplex=False)
    stop = multiprocessing.Event()
    count = multiprocessing.Value("i", 0)
    process = multiprocessing.Process(target=serve, args=(args.latency, ready_send, stop, count), daemon=True)
    process.start()
    base_url = ready_receive.recv()
    try:
        with tempfile.TemporaryDirectory() as cache_dir:
            rubric(args, base_url, cache_dir)
            fallback(args, base_url, cache_dir, count)
    finally:
        stop.set()
        process.join(5)
        if process.is_alive():
            process.terminate()


def judge_fields(base_url: str, concurrency: int) -> dict:
    return {"model": "bench-judge", "base_url": base_url, "api_key": "bench", "max_concurrency": concurrency,
            "timeout": 30}


def rubric(args: argparse.Namespace, base_url: str, cache_dir: str) -> None:
    from rft_core import Sample, load_spec
    from rft_core.run.data import Task
    from rft_core.run.runner import run as run_tasks

    spec = {
        "type": "rubric_model",
        "input": [{"role": "user", "content": "Question: {{ item.question }}\nResponse: {{ sample.output_text }}"}],
        "criteria": [{"text": f"Meets requirement number {n}", "weight": n} for n in range(1, args.criteria + 1)],
        "cache": False,
        **judge_fields(base_url, args.concurrency),
    }
    count = args.samples
    samples = [Sample(f"response number {n}") for n in range(count)]
    items = [{"question": f"question {n % 13}"} for n in range(count)]
    grader = load_spec(spec)
    grader.grade_batch(samples[:2], items[:2])  # warm-up: imports, first connections
    ideal = count * args.criteria * args.latency / args.concurrency

    start, cpu = time.perf_counter(), time.process_time()
    results = grader.grade_batch(samples, items)
    batch_wall, batch_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert all(result.reward == 1.0 for result in results), results[0]

    tasks = [Task(index=n, sample=sample, item=item) for n, (sample, item) in enumerate(zip(samples, items))]
    start = time.perf_counter()
    scored = list(run_tasks(grader, tasks))
    runner_wall = time.perf_counter() - start
    assert all(entry.result.reward == 1.0 for entry in scored)

    baseline = load_spec({"type": "score_model", "input": spec["input"], "cache": False,
                          **judge_fields(base_url, args.concurrency)})
    calls = count * args.criteria
    start, cpu = time.perf_counter(), time.process_time()
    plain = baseline.grade_batch([Sample(f"response number {n}") for n in range(calls)], [items[0]] * calls)
    baseline_wall, baseline_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert all(result.reward == 0.5 for result in plain), plain[0]

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"rubric_model, {count} samples x {args.criteria} criteria = {calls} calls, server latency "
          f"{args.latency * 1000:.0f} ms, concurrency {args.concurrency}  ({os.cpu_count()} CPUs, load average {load:.1f})")
    print(f"  ideal wall time (calls x latency / concurrency)  {ideal:7.3f} s")
    print(f"  grade_batch, all at once                         {batch_wall:7.3f} s  efficiency {ideal / batch_wall:6.1%}"
          f"   (client CPU {batch_cpu / calls * 1000:.2f} ms per call)")
    print(f"  rft score path (runner, batches of 256)          {runner_wall:7.3f} s  efficiency {ideal / runner_wall:6.1%}"
          "   (target >= 85%)")
    print(f"  baseline: score_model, {calls} calls at once          {baseline_wall:7.3f} s  efficiency "
          f"{ideal / baseline_wall:6.1%}   (client CPU {baseline_cpu / calls * 1000:.2f} ms per call)")
    print(f"  rubric grade_batch time / baseline time          {batch_wall / baseline_wall:7.2f}x")


def fallback(args: argparse.Namespace, base_url: str, cache_dir: str, count) -> None:
    from rft_core import Status, load_spec
    from rft_core.run.data import Task
    from rft_core.run.runner import run as run_tasks
    from rft_core.kernel.types import Sample

    spec = {
        "type": "fallback",
        "graders": [
            {"type": "math", "reference": "{{ item.answer }}"},
            {"type": "score_model", "cache_dir": cache_dir,
             "input": [{"role": "user", "content": "Reference {{ item.answer }}. Answer: {{ sample.output_text }}"}],
             **judge_fields(base_url, args.concurrency)},
        ],
    }
    texts = []
    for n in range(args.samples):  # about a quarter in words (math cannot parse them), the rest boxed
        texts.append(f"I believe it is forty-{'two' if n % 2 else 'one'}, case {'i' * (n % 7)}{n // 7 * 'x'}"
                     if n % 4 == 0 else f"The answer is \\boxed{{{42 if n % 3 else 41}}}.")
    tasks = [Task(index=n, sample=Sample(text), item={"answer": "42"}) for n, text in enumerate(texts)]
    before = count.value
    start = time.perf_counter()
    scored = list(run_tasks(load_spec(spec), tasks))
    wall = time.perf_counter() - start
    calls = count.value - before
    undecided = sum(entry.result.sub_rewards["math"].status is not Status.OK for entry in scored)
    judged = sum("score_model" in entry.result.sub_rewards for entry in scored)
    total = len(scored)
    print(f"fallback (math, then score_model), {total} samples, {wall:.2f} s")
    print(f"  math left undecided   {undecided:5d} ({undecided / total:6.1%})")
    print(f"  judge calls (server)  {calls:5d} ({calls / total:6.1%})   judged samples {judged}"
          f"   (target: calls = undecided: {'yes' if calls == undecided == judged else 'NO'})")


if __name__ == "__main__":
    main()
