"""Train a model with GRPO, the spec as its reward (examples/spec.yaml: format + exact + close).

    pip install 'rft-graders[trl]'
    python examples/train_grpo.py --model Qwen/Qwen2.5-0.5B-Instruct --max-steps 50

The same as `rft train examples/spec.yaml --model ... --data train.jsonl`, spelled out with TRL.
"""

import argparse

import torch
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from rft_core.trl import reward_funcs, reward_weights

SPEC = "examples/spec.yaml"
QUESTIONS = [  # prompt + the columns the spec reads ({{ item.answer }})
    ("What is the capital of France?", "Paris"),
    ("Which river is the longest in South America?", "Amazon"),
    ("What is the chemical symbol for gold?", "Au"),
    ("Who wrote Nineteen Eighty-Four?", "George Orwell"),
]
FORMAT = "\nThink briefly, then end with a line 'Answer: <answer>'."

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True, help="a causal LM path or hub id")
parser.add_argument("--max-steps", type=int, default=50)
parser.add_argument("--output-dir", default="grpo-trivia")
args = parser.parse_args()

rows = [{"prompt": [{"role": "user", "content": q + FORMAT}], "answer": a} for q, a in QUESTIONS]
dataset = Dataset.from_list(rows * 16)

# One reward function per grader of the multi (TRL logs rewards/format/mean, rewards/exact/mean, ...),
# weighted so that their sum is the spec's calculate_output: 0.1 * format + 0.7 * exact + 0.2 * close.
funcs = reward_funcs(SPEC, split=True)
config = GRPOConfig(
    output_dir=args.output_dir,
    max_steps=args.max_steps,
    reward_weights=reward_weights(SPEC),
    num_generations=4,
    per_device_train_batch_size=4,
    max_completion_length=128,
    logging_steps=1,
    report_to="none",
    use_cpu=not torch.cuda.is_available(),  # TRL's default bf16 needs an accelerator
)
trainer = GRPOTrainer(model=args.model, reward_funcs=funcs, args=config, train_dataset=dataset)
trainer.train()
trainer.save_model(args.output_dir)
