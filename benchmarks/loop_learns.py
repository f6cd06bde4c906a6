"""Does `rft loop` raise the validation reward on a small learnable task? (tiny model, CPU, minutes)

The task: answer with the word "yes" (reward 1 when the completion contains it, else 0). The policy
is a random 2-layer Llama over nine words, built here (no download). The training split holds
16 rows and the validation split 16 other rows of the same prompts ("say", "tell"); with
``--unseen-prompt`` the validation prompt is "speak", which training never shows. Each round samples 8
completions per training prompt, keeps the correct ones for an SFT step (best-of-k, the ReFT
warm-up), runs GRPO, and samples the validation split (4 per prompt, the same seed every round).

    PYTHONPATH=. python benchmarks/loop_learns.py [RUN_DIR] [--unseen-prompt]

Prints the summary table (validation reward per round; round 0 is the starting model) and writes
RUN_DIR/summary.svg. Run it again with the same RUN_DIR to continue a killed run.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from tiny_models import save_tiny_llama

from rft_core.integrations.loop import LoopOptions, run_loop

WORDS = ["say", "tell", "speak", "yes", "no", "maybe", "ok", "fine", "sure"]
SPEC = {"type": "string_check", "name": "yes", "operation": "like", "input": "{{ sample.output_text }}",
        "reference": "yes"}


def main() -> None:
    arguments = [argument for argument in sys.argv[1:] if argument != "--unseen-prompt"]
    valid_prompts = ["speak "] if "--unseen-prompt" in sys.argv else ["say ", "tell "]
    run_dir = Path(arguments[0]) if arguments else Path(tempfile.mkdtemp(prefix="rft-loop-"))
    work = run_dir.parent / f"{run_dir.name}-task"
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "policy").exists():
        save_tiny_llama(work / "policy", WORDS)
    (work / "spec.json").write_text(json.dumps(SPEC))
    (work / "train.jsonl").write_text("".join(json.dumps({"prompt": p}) + "\n" for p in ["say ", "tell "] * 8))
    valid_rows = [{"prompt": valid_prompts[number % len(valid_prompts)], "id": f"valid-{number}"} for number in range(16)]
    (work / "valid.jsonl").write_text("".join(json.dumps(row) + "\n" for row in valid_rows))
    options = LoopOptions(
        spec=str(work / "spec.json"), model=str(work / "policy"), train=str(work / "train.jsonl"),
        valid=str(work / "valid.jsonl"), run_dir=str(run_dir), rounds=3, k=8, eval_k=4, max_tokens=4,
        max_steps=8, learning_rate=2e-2, num_generations=4, per_device_train_batch_size=8, select_sft=True,
        sft_learning_rate=1e-2, device="cpu",
    )
    rows = run_loop(options, log=lambda message: print(message, file=sys.stderr, flush=True))
    print((run_dir / "summary.md").read_text())
    print(f"validation reward: {rows[0]['valid_reward']:.3f} -> {rows[-1]['valid_reward']:.3f} "
          f"(ratio {rows[-1]['valid_reward'] / max(rows[0]['valid_reward'], 1e-9):.2f}); plot: {run_dir / 'summary.svg'}")


if __name__ == "__main__":
    main()
