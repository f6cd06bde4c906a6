"""Train a model with GRPO, the spec as its reward (examples/spec.yaml: format + exact + close).

    pip install 'rft-graders[trl]'
    python examples/train_grpo.py --model Qwen/Qwen2.5-0.5B-Instruct --max-steps 50

The same as `rft train examples/spec.yaml --model ... --data examples/train.jsonl --eval-data examples/valid.jsonl`,
spelled out with TRL. Rows: a chat `prompt` and the columns the spec reads (`{{ item.answer }}`).
"""

import argparse

import torch
from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer

from rft_core import reward_funcs, reward_weights

SPEC = "examples/spec.yaml"

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True, help="a causal LM path or hub id")
parser.add_argument("--max-steps", type=int, default=50)
parser.add_argument("--output-dir", default="grpo-trivia")
args = parser.parse_args()

data = load_dataset("json", data_files={"train": "examples/train.jsonl", "valid": "examples/valid.jsonl"})

# One reward function per grader of the multi (TRL logs rewards/format/mean, rewards/exact/mean, ...),
# weighted so that their sum is the spec's calculate_output: 0.1 * format + 0.7 * exact + 0.2 * close.
config = GRPOConfig(
    output_dir=args.output_dir,
    max_steps=args.max_steps,
    reward_weights=reward_weights(SPEC),
    num_generations=4,
    per_device_train_batch_size=4,
    max_completion_length=128,
    eval_strategy="steps",  # eval_reward: the mean reward on the validation rows (OpenAI's valid_reward_mean)
    eval_steps=10,
    logging_steps=1,
    report_to="none",
    use_cpu=not torch.cuda.is_available(),  # TRL's default bf16 needs an accelerator
)
trainer = GRPOTrainer(
    model=args.model,
    reward_funcs=reward_funcs(SPEC, split=True),
    args=config,
    train_dataset=data["train"],
    eval_dataset=data["valid"],
)
trainer.train()
trainer.save_model(args.output_dir)
