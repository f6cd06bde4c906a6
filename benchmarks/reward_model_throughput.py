"""reward_model throughput against a hand-written batched transformers loop on the same model and texts.

The model is a random Llama sequence classifier (no download) of a realistic shape for a CPU run;
the texts are prompt + completion pairs of varied length (10 to 150 words). Three ways to score them:

- hand-written: tokenizer(batch, padding=True) and one forward pass per batch, in input order,
  under torch.inference_mode (what one writes by hand);
- the grader's grade_batch (template rendering, length-sorted batches, truncation flags, mapping);
- the same hand-written loop on length-sorted batches (what the grader does; its overhead alone);
- the grader's grade() one sample at a time.

Run: python benchmarks/reward_model_throughput.py [--samples N] [--batch-size B]
Target (issue 6): grade_batch at >= 0.9x the hand-written loop's rate.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "tests"))  # tiny_models
os.environ.setdefault("RFT_LOAD_PLUGINS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _corpus import best_rates

from rft_core import load_spec

WORDS = "the a of to and in is it that for on with as was by capital answer city river because therefore".split()


def build_model(path: Path) -> None:
    import torch
    from tiny_models import llama_config, word_tokenizer
    from transformers import LlamaForSequenceClassification

    torch.manual_seed(0)
    tokenizer = word_tokenizer(WORDS)
    config = llama_config(
        tokenizer, hidden_size=256, layers=4, heads=4, intermediate_size=688, max_position_embeddings=512, num_labels=1
    )
    LlamaForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)


def corpus(count: int) -> tuple[list[str], list[dict]]:
    rng = random.Random(0)
    completions, items = [], []
    for _ in range(count):
        items.append({"prompt": " ".join(rng.choices(WORDS, k=rng.randint(5, 20))) + " "})
        completions.append(" ".join(rng.choices(WORDS, k=rng.randint(5, 130))))
    return completions, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    options = parser.parse_args()
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    count, batch = options.samples, options.batch_size
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rm"
        build_model(path)
        completions, items = corpus(count)
        grader = load_spec({"type": "reward_model", "model": str(path), "batch_size": batch, "max_length": 512})
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32).eval()
        texts = [item["prompt"] + completion + tokenizer.eos_token for completion, item in zip(completions, items)]

        def hand_written() -> list[float]:
            scores: list[float] = []
            with torch.inference_mode():
                for start in range(0, count, batch):
                    encoded = tokenizer(texts[start : start + batch], padding=True, truncation=True, max_length=512,
                                        return_tensors="pt")
                    scores += model(**encoded).logits[:, 0].tolist()
            return scores

        by_length = sorted(range(count), key=lambda index: len(tokenizer(texts[index])["input_ids"]))

        def hand_written_sorted() -> None:  # the same loop on length-sorted batches: the grader's overhead alone
            with torch.inference_mode():
                for start in range(0, count, batch):
                    chunk = [texts[index] for index in by_length[start : start + batch]]
                    model(**tokenizer(chunk, padding=True, truncation=True, max_length=512, return_tensors="pt")).logits

        def batched() -> list[float]:
            return [result.metadata["score"] for result in grader.grade_batch(completions, items)]

        single_count = min(count, 128)

        def one_by_one() -> None:
            for completion, item in zip(completions[:single_count], items[:single_count]):
                grader.grade(completion, item)

        expected, got = hand_written(), batched()
        worst = max(abs(a - b) for a, b in zip(expected, got))
        if worst > 1e-4:
            raise SystemExit(f"the grader and the hand-written loop disagree (by {worst:.2g}): not the same work")
        rates = best_rates({"base": hand_written, "sorted": hand_written_sorted, "batched": batched}, count, repeats=3)
        rates["one"] = best_rates({"one": one_by_one}, single_count, repeats=2)["one"]
    base = rates["base"]
    print(f"samples                         {count:,} prompt+completion texts, 10-150 words; torch threads {torch.get_num_threads()}")
    print(f"model                           random Llama classifier, 4 layers x 256 (same weights for all); "
          f"scores agree to {worst:.1g}")
    print(f"hand-written batched loop ({batch})  {base:,.1f} samples/s")
    print(f"hand-written, length-sorted     {rates['sorted']:,.1f} samples/s   (the grader's overhead alone: "
          f"grade_batch at {rates['batched'] / rates['sorted']:.2f}x this)")
    print(f"reward_model grade_batch        {rates['batched']:,.1f} samples/s   ratio to hand-written "
          f"{rates['batched'] / base:.2f}x (target >= 0.9x)")
    print(f"reward_model grade() one by one {rates['one']:,.1f} samples/s   ratio to hand-written "
          f"{rates['one'] / base:.2f}x; grade_batch is {rates['batched'] / rates['one']:.1f}x one by one")


if __name__ == "__main__":
    main()
