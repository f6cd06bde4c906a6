"""``rft loop``: rounds of sample, score, report, (select, SFT), RL and validation, resumable.

Layout of ``RUN_DIR``::

    loop.json                  the options of the run (a resumed run must give the same, but --rounds)
    round-0/valid-*.jsonl      the starting model on the validation split (the baseline)
    round-N/samples.jsonl      k samples per training item from the round's starting model
    round-N/scores.jsonl       their scores, report.txt and report.html the reward-signal report
    round-N/sft.jsonl          with select_sft: the best-of-k samples (SFT warm-up of the round)
    round-N/pairs.jsonl, reward-model/, spec.json
                               with refresh_rm: pairs of the round's samples, the retrained reward
                               model, and the spec that uses it from the next round on
    round-N/model/             the policy after the round's RL
    round-N/valid-*.jsonl      that policy on the validation split
    summary.json, summary.md, summary.svg   train and validation reward per round

Every step writes its output whole (a temporary file or directory renamed into place), and a step
whose output exists is not run again: a killed loop, run again with the same command, continues
from the last finished step.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..kernel.errors import RftError
from ..report.scores import score_rows
from ..run.jsonl import dumps_line
from ..run.rows import count_rows
from ..run.output_files import atomic_text
from ..kernel.registry import default_registry
from ..kernel.spec import load_spec

__all__ = ["LoopOptions", "mean_reward", "run_loop"]

STATE = "loop.json"


@dataclass(frozen=True)
class LoopOptions:
    """What the loop trains, on what, and how; the run directory keeps them for a resume."""

    spec: str
    model: str
    train: str
    valid: str
    run_dir: str
    rounds: int = 2
    k: int = 4
    eval_k: int = 1
    temperature: float = 1.0
    max_tokens: int = 64
    trainer: str = "grpo"
    max_steps: int = 20
    learning_rate: float = 1e-6
    num_generations: int = 4
    per_device_train_batch_size: int = 8
    select_sft: bool = False
    min_reward: float = 1.0
    sft_epochs: float = 1.0
    sft_learning_rate: float = 1e-5
    refresh_rm: bool = False
    rm_steps: int = 50
    rm_learning_rate: float = 1e-5
    seed: int = 0
    device: str = "auto"


def run_loop(options: LoopOptions, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run (or continue) the loop; returns the summary rows (round, train_reward, valid_reward)."""
    run_dir = Path(options.run_dir)
    _claim(run_dir, options)
    spec = Path(options.spec).resolve()
    if options.refresh_rm:
        _reward_model_nodes(_spec_mapping(spec), spec)  # a spec without a reward_model grader fails first
    policy = options.model
    _validate(options, run_dir / "round-0", policy, spec, log)
    for number in range(1, options.rounds + 1):
        folder = run_dir / f"round-{number}"
        folder.mkdir(exist_ok=True)
        samples = folder / "samples.jsonl"
        _step(samples, log, f"round {number}: sampling {options.k} per training item",
              lambda out: _sample(options, policy, Path(options.train), out, options.k, seed=options.seed + number))
        _step(folder / "scores.jsonl", log, f"round {number}: scoring",
              lambda out: _score(spec, samples, out, folder / "report.html", folder / "report.txt"))
        start = policy
        if options.select_sft:
            start = _warm_up(options, folder, policy, log, number)
        next_spec = spec
        if options.refresh_rm:
            next_spec = _refresh_reward_model(options, folder, spec, log, number)
        _step(folder / "model", log, f"round {number}: {options.trainer} training",
              lambda out: _train(options, spec, start, out, folder / "train-log.json", number))
        policy = str(folder / "model")
        _validate(options, folder, policy, spec, log)
        spec = next_spec
        rows = _summary(run_dir, options.rounds)
        log(f"round {number}: train reward {_text(rows[number]['train_reward'])}, "
            f"validation reward {_text(rows[number]['valid_reward'])}")
    return _summary(run_dir, options.rounds)


def _text(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _claim(run_dir: Path, options: LoopOptions) -> None:
    """Start ``run_dir`` with ``options``, or accept it for a resume when it holds the same options."""
    run_dir.mkdir(parents=True, exist_ok=True)
    state = run_dir / STATE
    wanted = asdict(options)
    if state.exists():
        kept = json.loads(state.read_text())
        changed = sorted(key for key in set(wanted) | set(kept) if kept.get(key) != wanted.get(key) and key != "rounds")
        if changed:
            raise RftError(f"{run_dir}: holds a loop run with other options ({', '.join(changed)} differ, see "
                           f"{state}): give the same options to resume it, or another -o for a new run")
        if kept.get("rounds") != options.rounds:  # more rounds continue a finished run
            with atomic_text(state) as out:
                out.write(json.dumps(wanted, indent=2) + "\n")
        return
    if any(run_dir.iterdir()):
        raise RftError(f"{run_dir}: not empty and not a loop run (no {STATE}): give an empty or new directory")
    with atomic_text(state) as out:
        out.write(json.dumps(wanted, indent=2) + "\n")


def _step(output: Path, log: Callable[[str], None], what: str, make: Callable[[Path], None]) -> None:
    """Make ``output`` with ``make(temporary)`` unless it exists; the temporary path becomes ``output``
    only once complete, so a killed step leaves no output and runs again."""
    if output.exists():
        return
    log(what)
    temporary = output.with_name(f".{output.name}.partial")
    if temporary.is_dir():
        shutil.rmtree(temporary)
    temporary.unlink(missing_ok=True)
    make(temporary)
    temporary.replace(output)


def _sample(options: LoopOptions, model: str, data: Path, out: Path, k: int, seed: int) -> None:
    from .sampling import SampleOptions, sample_file

    sample_file(data, out, SampleOptions(model=model, k=k, backend="transformers", temperature=options.temperature,
                                         max_tokens=options.max_tokens, seed=seed, device=options.device))


def _score(spec: Path, samples: Path, out: Path, html: Path | None = None, text: Path | None = None) -> None:
    from ..run.data import read_tasks
    from ..report.summary import Summary, write_report
    from ..run.runner import run

    grader = load_spec(spec)
    threshold = grader.pass_threshold()
    summary = Summary(1.0 if threshold is None else threshold)
    with open(out, "w", encoding="utf-8") as handle:
        for scored in run(grader, read_tasks(samples)):
            handle.write(dumps_line(scored.to_row()))
            summary.add(scored.task.index, scored.result, scored.task.id)
    if text is not None:
        with atomic_text(text) as stream:
            write_report(summary, stream, html=html, title=f"rft loop: {samples}")


def mean_reward(scores: Path) -> float | None:
    """The mean reward of a scores file's samples (failures count 0; ``not_applicable`` ones are left out)."""
    rewards = [row["reward"] for _, row in score_rows(scores) if row["status"] != "not_applicable"]
    return sum(rewards) / len(rewards) if rewards else None


def _validate(options: LoopOptions, folder: Path, policy: str, spec: Path, log: Callable[[str], None]) -> None:
    folder.mkdir(exist_ok=True)
    samples = folder / "valid-samples.jsonl"
    name = folder.name.replace("-", " ")
    _step(samples, log, f"{name}: sampling the validation split",
          lambda out: _sample(options, policy, Path(options.valid), out, options.eval_k, seed=options.seed + 10_000))
    _step(folder / "valid-scores.jsonl", log, f"{name}: scoring the validation split",
          lambda out: _score(spec, samples, out))


def _warm_up(options: LoopOptions, folder: Path, policy: str, log: Callable[[str], None], number: int) -> str:
    """Best-of-k of the round's samples as SFT rows, and the policy fine-tuned on them (or the policy
    as it was when no sample qualified)."""
    from .select import select_file
    from .sft import train_sft

    sft = folder / "sft.jsonl"
    _step(sft, log, f"round {number}: selecting best-of-{options.k}",
          lambda out: select_file(folder / "scores.jsonl", folder / "samples.jsonl", out, min_reward=options.min_reward))
    if not count_rows(sft):
        log(f"round {number}: no sample reached --min-reward {options.min_reward:g}: no SFT this round")
        return policy
    _step(folder / "model-sft", log, f"round {number}: SFT on the selected samples",
          lambda out: train_sft(policy, sft, out, epochs=options.sft_epochs, learning_rate=options.sft_learning_rate,
                                per_device_train_batch_size=options.per_device_train_batch_size, seed=options.seed))
    return str(folder / "model-sft")


def _refresh_reward_model(options: LoopOptions, folder: Path, spec: Path, log: Callable[[str], None], number: int) -> Path:
    """Pairs of the round's graded samples, the spec's reward model retrained on them, and the spec using it."""
    from .pairs import pairs_file
    from .reward_training import train_reward_model

    mapping = _spec_mapping(spec)
    nodes = _reward_model_nodes(mapping, spec)
    pairs = folder / "pairs.jsonl"
    _step(pairs, log, f"round {number}: preference pairs",
          lambda out: pairs_file(folder / "scores.jsonl", folder / "samples.jsonl", out))
    if not count_rows(pairs):
        log(f"round {number}: no pair (every item's samples had one reward): the reward model stays")
        return spec
    base = _model_path(nodes[0], spec)
    _step(folder / "reward-model", log, f"round {number}: retraining the reward model",
          lambda out: train_reward_model(pairs, out, base, max_steps=options.rm_steps, seed=options.seed,
                                         learning_rate=options.rm_learning_rate,
                                         per_device_train_batch_size=options.per_device_train_batch_size))
    for node, field in nodes:
        node[field] = str((folder / "reward-model").resolve())
    refreshed = folder / "spec.json"
    if not refreshed.exists():
        with atomic_text(refreshed) as out:
            out.write(json.dumps(mapping, indent=2) + "\n")
    return refreshed.resolve()


def _spec_mapping(spec: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(spec.read_text(encoding="utf-8"))


def _reward_model_nodes(node: Any, spec: Path) -> list[tuple[dict[str, Any], str]]:
    """Every grader in the spec mapping that declares a ``retrainable_model`` (reward_model), with that
    field's name; RftError when there is none."""
    registry = default_registry()
    found = []
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            known = registry.get(current["type"]) if isinstance(current.get("type"), str) else None
            field = known.cls.retrainable_model if known is not None else None
            if field is not None and isinstance(current.get(field), str):
                found.append((current, field))
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    if not found:
        raise RftError(f"{spec}: --refresh-rm needs a reward_model grader in the spec, and it has none "
                       "(a grader type declaring a retrainable_model)")
    return found


def _model_path(node: tuple[dict[str, Any], str], spec: Path) -> str:
    """The reward model's directory, read as the grader reads it (relative to the spec's folder)."""
    mapping, field = node
    path = Path(mapping[field])
    return str(path if path.is_absolute() else (spec.parent / path))


def _train(options: LoopOptions, spec: Path, model: str, out: Path, log_file: Path, number: int) -> None:
    from .training import train

    trainer = train(spec, model, options.train, trainer=options.trainer, output_dir=out, max_steps=options.max_steps,
                    learning_rate=options.learning_rate, num_generations=options.num_generations,
                    per_device_train_batch_size=options.per_device_train_batch_size,
                    max_completion_length=options.max_tokens,
                    config={"seed": options.seed + number, "temperature": options.temperature})
    trainer.save_model(str(out))
    with atomic_text(log_file) as handle:
        handle.write(json.dumps(trainer.state.log_history) + "\n")


def _summary(run_dir: Path, rounds: int) -> list[dict[str, Any]]:
    """The summary rows of the rounds done so far, also written as summary.json, summary.md and summary.svg."""
    rows = []
    for number in range(rounds + 1):
        folder = run_dir / f"round-{number}"
        train_scores, valid_scores = folder / "scores.jsonl", folder / "valid-scores.jsonl"
        rows.append({
            "round": number,
            "train_reward": mean_reward(train_scores) if train_scores.exists() else None,
            "valid_reward": mean_reward(valid_scores) if valid_scores.exists() else None,
        })
    with atomic_text(run_dir / "summary.json") as out:
        out.write(json.dumps(rows, indent=2) + "\n")
    with atomic_text(run_dir / "summary.md") as out:
        out.write("| round | train reward (samples of the round) | validation reward (after the round) |\n|---|---|---|\n")
        out.writelines(f"| {row['round']} | {_text(row['train_reward'])} | {_text(row['valid_reward'])} |\n" for row in rows)
    from .loop_plot import reward_plot

    with atomic_text(run_dir / "summary.svg") as out:
        out.write(reward_plot(rows))
    return rows
