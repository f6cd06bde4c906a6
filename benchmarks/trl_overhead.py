"""The TRL adapter's cost: reward functions against calling the graders directly, and reward time in a GRPO step.

1. Overhead: ``reward_funcs(spec)`` called the way TRL calls it (completion strings, one list per
   dataset column, trainer_state, log_metric, log_extra) against ``grader.grade_batch`` on the same
   completions with the items already built. Same rewards checked first. Target (issue 7): <= 10%.
   Each overhead is printed twice: in CPU seconds of this process (every thread counted) and in
   wall seconds. Compare runs by the CPU figure: every reward function hands its batch to a
   grading thread (the per-sample deadline), and on a busy machine the wall figure adds the wait
   for that thread to be scheduled, once per function per batch (three for the split functions,
   none for the direct calls), which moves it by tens of percent from run to run.
2. A tiny GRPO run (random 2-layer Llama, CPU): seconds spent in the reward functions as a share
   of the training time.

Run: python benchmarks/trl_overhead.py [--samples N] [--batch B] [--steps S]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "tests"))  # tiny_models
os.environ.setdefault("RFT_LOAD_PLUGINS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _corpus import best_rates, pairs

from rft_core import Sample, load_spec
from rft_core.integrations.trl import reward_funcs, reward_weights

SPEC = {
    "name": "trivia",
    "type": "multi",
    "calculate_output": "0.1 * format + 0.7 * exact + 0.2 * close",
    "graders": {
        "format": {"type": "string_check", "operation": "regex", "reference": "(?m)^Answer: .+$"},
        "exact": {"type": "string_check", "extract": "Answer:\\s*(.+)", "reference": "{{ item.answer }}", "casefold": True},
        "close": {"type": "fuzzy_match", "metric": "token_set_ratio", "extract": "Answer:\\s*(.+)", "reference": "{{ item.answer }}"},
    },
}


def overhead(count: int, batch: int) -> None:
    corpus = pairs(count)
    completions = [f"Let me think.\nAnswer: {text}" for text, _ in corpus]
    answers = [answer for _, answer in corpus]
    prompts = [f"Question {index}?" for index in range(count)]
    items = [{"answer": answer, "prompt": prompt} for answer, prompt in zip(answers, prompts)]
    samples = [Sample(text) for text in completions]  # for the lower bound: Samples built outside the timing
    grader = load_spec(SPEC)
    (composite,) = reward_funcs(grader)
    (quiet,) = reward_funcs(grader, log=False)
    split = reward_funcs(grader, split=True)

    def trl_kwargs(start: int) -> dict:
        end = start + batch
        return {
            "prompts": prompts[start:end],
            "completions": completions[start:end],
            "completion_ids": None,
            "answer": answers[start:end],
            "trainer_state": None,
            "log_metric": lambda name, value: None,  # TRL appends to a list; the cost is ours to measure
            "log_extra": lambda column, values: None,
        }

    direct = [r.reward for s in range(0, count, batch) for r in grader.grade_batch(completions[s : s + batch], items[s : s + batch])]
    adapted = [x for start in range(0, count, batch) for x in composite(**trl_kwargs(start))]
    if direct != adapted:
        raise SystemExit("the adapter and the grader disagree: not the same work")

    starts = range(0, count, batch)
    children = list(grader.children().values())
    def direct_children(texts, batch_items):  # what a hand-written loop would do: Samples once, each grader
        batch_samples = [Sample(text) for text in texts]
        return [g.grade_batch(batch_samples, batch_items) for g in children]

    def each_batch(call):  # results are dropped batch by batch, as a trainer does: no growing heap for the GC
        def run() -> None:
            for start in starts:
                call(start)

        return run

    variants = {
        "base": each_batch(lambda s: grader.grade_batch(completions[s : s + batch], items[s : s + batch])),
        "prebuilt": each_batch(lambda s: grader.grade_batch(samples[s : s + batch], items[s : s + batch])),
        "ours": each_batch(lambda s: composite(**trl_kwargs(s))),
        "quiet": each_batch(lambda s: quiet(**trl_kwargs(s))),
        "direct_split": each_batch(lambda s: direct_children(completions[s : s + batch], items[s : s + batch])),
        "split": each_batch(lambda s: [f(**kwargs) for kwargs in [trl_kwargs(s)] for f in split]),  # TRL: same lists
    }
    # interleaved, so a busy machine slows every variant alike; seconds per run of each variant
    cpu = {name: 1 / rate for name, rate in best_rates(variants, 1, repeats=7, clock=time.process_time).items()}
    wall = {name: 1 / rate for name, rate in best_rates(variants, 1, repeats=7).items()}

    def extra(name: str, baseline: str) -> str:
        return f"{cpu[name] / cpu[baseline] - 1:+.1%} CPU, {wall[name] / wall[baseline] - 1:+.1%} wall"

    print(f"completions                             {count:,} in batches of {batch} (identical rewards)")
    print(f"grader.grade_batch(completions, items)  {count / cpu['base']:,.0f} completions per CPU second   (baseline)")
    print(f"composite reward function, logging     {count / cpu['ours']:,.0f} completions per CPU second   "
          f"overhead {extra('ours', 'base')} (target <= +10%)")
    print(f"composite reward function, log=False   {count / cpu['quiet']:,.0f} completions per CPU second   "
          f"overhead {extra('quiet', 'base')}")
    print(f"split: 3 functions vs 3 grade_batch    overhead {extra('split', 'direct_split')} (Samples built once on both sides)")
    print(f"lower bound: Samples built untimed     {count / cpu['prebuilt']:,.0f} completions per CPU second   "
          f"composite function vs it {extra('ours', 'prebuilt')}")


def tiny_grpo(steps: int) -> None:
    import logging

    import torch
    import transformers
    from tiny_models import llama_config, word_tokenizer
    from transformers import LlamaForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    from rft_core.integrations.training import load_dataset

    transformers.logging.set_verbosity_error()
    logging.getLogger("trl").setLevel(logging.ERROR)
    torch.manual_seed(0)
    tokenizer = word_tokenizer(["Answer:", "Paris", "Lyon", "Amazon", "Nile", "Au", "Ag", "is", "the"])
    config = llama_config(tokenizer, hidden_size=32, max_position_embeddings=128)
    rows = [{"prompt": f"Question {i}", "answer": answer} for i, (_, answer) in enumerate(pairs(64))]

    class Timed:
        def __init__(self, func):
            self.func, self.__name__, self.seconds = func, func.__name__, 0.0

        def __call__(self, **kwargs):
            start = time.perf_counter()
            try:
                return self.func(**kwargs)
            finally:
                self.seconds += time.perf_counter() - start

    with tempfile.TemporaryDirectory() as directory:
        LlamaForCausalLM(config).save_pretrained(directory)
        tokenizer.save_pretrained(directory)
        funcs = [Timed(f) for f in reward_funcs(SPEC, split=True)]
        args = GRPOConfig(
            output_dir=os.path.join(directory, "out"), max_steps=steps, per_device_train_batch_size=16, num_generations=4,
            max_completion_length=8, logging_steps=1, report_to="none", save_strategy="no", use_cpu=True,
            reward_weights=reward_weights(SPEC), disable_tqdm=True,
        )
        trainer = GRPOTrainer(model=directory, reward_funcs=funcs, args=args, train_dataset=load_dataset(rows))
        trainer.remove_callback(transformers.PrinterCallback)  # keep the figures readable
        start = time.perf_counter()
        trainer.train()
        total = time.perf_counter() - start
    reward_seconds = sum(f.seconds for f in funcs)
    step_seconds = sum(entry["step_time"] for entry in trainer.state.log_history if "step_time" in entry)
    print(f"tiny GRPO run                           {steps} steps x 16 completions, {total:.2f} s of training")
    print(f"time in the reward functions            {reward_seconds / steps * 1000:.2f} ms per step = "
          f"{reward_seconds / step_seconds:.2%} of TRL's step_time ({step_seconds / steps * 1000:.0f} ms), "
          f"{reward_seconds / total:.2%} of the training time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=64, help="completions per reward call (TRL's generation batch)")
    parser.add_argument("--steps", type=int, default=3, help="steps of the tiny GRPO run (0 skips it)")
    args = parser.parse_args()
    overhead(args.samples, args.batch)
    if args.steps:
        try:
            import trl  # noqa: F401
        except ImportError:
            print("tiny GRPO run                         skipped: pip install 'rft-graders[trl]'")
            return
        tiny_grpo(args.steps)


if __name__ == "__main__":
    main()
