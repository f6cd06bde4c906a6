"""rft select and rft pairs on crafted data and scores: ties, statuses, failed samples, empty items, duplicates."""

from __future__ import annotations

import json

import pytest

from rft_core.cli import main
from rft_core.kernel.errors import RftError
from rft_core.integrations.pairs import pairs_file
from rft_core.integrations.select import select_file


def write_lines(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def read_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def score(index, sample_index, reward, status="ok"):
    return {"index": index, "sample_index": sample_index, "reward": reward, "status": status, "reason": None,
            "sub_rewards": {}, "errors": []}


@pytest.fixture
def graded(tmp_path):
    """Four items of sampled completions and their scores."""
    data = write_lines(tmp_path / "samples.jsonl", [
        # 0: a tie at 1.0 between a long and a short text, a duplicate of the short one, a wrong one
        {"prompt": "q0", "answer": "a", "completions": ["long answer a", "a", "b", " a "]},
        # 1: one not_applicable with the top reward, an error, a failed generation, one ok below the bar
        {"prompt": "q1", "answer": "c", "completions": ["c", "c c", None, "d"],
         "completion_errors": [None, None, "timeout", None]},
        # 2: every sample wrong
        {"prompt": "q2", "answer": "e", "completions": ["f", "g"]},
        # 3: a chat prompt, two right answers
        {"prompt": [{"role": "user", "content": "q3"}], "answer": "h", "completions": ["h", "the h"]},
    ])
    scores = write_lines(tmp_path / "scores.jsonl", [
        score(0, 0, 1.0), score(0, 1, 1.0), score(0, 2, 0.0), score(0, 3, 1.0),
        score(1, 0, 1.0, "not_applicable"), score(1, 1, 0.0, "error"), score(1, 2, 0.0, "error"), score(1, 3, 0.5),
        score(2, 0, 0.0), score(2, 1, 0.0),
        score(3, 0, 1.0), score(3, 1, 0.9),
    ])
    return data, scores


def test_select_keeps_the_best_ok_sample_per_item_shortest_on_ties(graded, tmp_path):
    data, scores = graded
    totals = select_file(scores, data, tmp_path / "sft.jsonl")
    assert read_lines(tmp_path / "sft.jsonl") == [
        {"prompt": "q0", "completion": "a"},
        {"messages": [{"role": "user", "content": "q3"}, {"role": "assistant", "content": "h"}]},
    ]
    assert totals.to_dict() == {"items": 4, "samples": 11, "rows": 2, "items_without_rows": 2, "not_ok": 2,
                                "below_min_reward": 5, "duplicates": 1, "over_per_item": 1}


def test_select_first_on_ties_every_qualifying_sample_and_a_lower_bar(graded, tmp_path):
    data, scores = graded
    select_file(scores, data, tmp_path / "first.jsonl", ties="first")
    assert read_lines(tmp_path / "first.jsonl")[0] == {"prompt": "q0", "completion": "long answer a"}
    totals = select_file(scores, data, tmp_path / "all.jsonl", min_reward=0.5, per_item=None)
    completions = [row.get("completion") or row["messages"][-1]["content"] for row in read_lines(tmp_path / "all.jsonl")]
    assert completions == ["a", "long answer a", "d", "h", "the h"]  # the not_applicable "c" never; " a " is "a"
    assert totals.items_without_rows == 1 and totals.duplicates == 1


def test_pairs_within_items_by_margin(graded, tmp_path):
    data, scores = graded
    totals = pairs_file(scores, data, tmp_path / "pairs.jsonl")
    rows = read_lines(tmp_path / "pairs.jsonl")
    assert rows == [
        {"prompt": "q0", "chosen": "long answer a", "rejected": "b"},
        {"prompt": "q0", "chosen": "a", "rejected": "b"},
        {"prompt": [{"role": "user", "content": "q3"}], "chosen": [{"role": "assistant", "content": "h"}],
         "rejected": [{"role": "assistant", "content": "the h"}]},
    ]  # item 1 has one ok sample, item 2 only ties: no pair; equal rewards never pair
    assert totals.to_dict() == {"items": 4, "pairs": 3, "items_without_pairs": 2, "not_ok": 2, "duplicates": 1}
    assert pairs_file(scores, data, tmp_path / "wide.jsonl", min_margin=0.5).pairs == 2
    assert pairs_file(scores, data, tmp_path / "one.jsonl", per_item=1).pairs == 2


def test_pairs_feed_train_rm_loader(graded, tmp_path):
    from rft_core.integrations.reward_training import load_preferences

    data, scores = graded
    pairs_file(scores, data, tmp_path / "pairs.jsonl", min_margin=0.5)
    assert [row["chosen"] for row in load_preferences(tmp_path / "pairs.jsonl")] == ["long answer a", "a"]


def test_scores_of_another_data_file_are_refused(graded, tmp_path):
    data, scores = graded
    short = write_lines(tmp_path / "short.jsonl", [{"prompt": "q0", "completions": ["x", "y", "z", "w"]}])
    with pytest.raises(RftError, match=r"scores.jsonl: line 5: row 1 sample 0 is not in .*short.jsonl"):
        select_file(scores, short, tmp_path / "out.jsonl")
    partial = write_lines(tmp_path / "partial.jsonl", [score(0, 0, 1.0)])
    with pytest.raises(RftError, match=r"partial.jsonl: no score row for .*samples.jsonl line 1 sample 1"):
        pairs_file(partial, data, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_empty_files_give_empty_outputs(tmp_path):
    empty = write_lines(tmp_path / "empty.jsonl", [])
    assert select_file(empty, empty, tmp_path / "sft.jsonl").items == 0
    assert (tmp_path / "sft.jsonl").read_text() == ""


def test_select_and_pairs_commands(graded, tmp_path, capsys):
    data, scores = graded
    assert main(["select", str(scores), "--data", str(data), "-o", str(tmp_path / "sft.jsonl"), "--per-item", "2"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["rows"] == 3 and "2 of 4 items got no row" in err
    assert main(["pairs", str(scores), "--data", str(data), "-o", str(tmp_path / "p.jsonl"), "--min-margin", "0.1"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["pairs"] == 3 and "2 of 4 items gave no pair" in err


def test_commands_refuse_to_overwrite_an_input_and_name_a_missing_file(graded, tmp_path, capsys):
    data, scores = graded
    before = scores.read_text()
    assert main(["select", str(scores), "--data", str(data), "-o", str(scores)]) == 1
    assert "-o" in capsys.readouterr().err and scores.read_text() == before
    assert main(["pairs", str(tmp_path / "nope.jsonl"), "--data", str(data), "-o", str(tmp_path / "p.jsonl")]) == 1
    assert "nope.jsonl: scores file not found" in capsys.readouterr().err


def test_a_row_without_a_prompt_is_named(tmp_path):
    data = write_lines(tmp_path / "d.jsonl", [{"question": "q", "completions": ["a", "b"]}])
    scores = write_lines(tmp_path / "s.jsonl", [score(0, 0, 1.0), score(0, 1, 0.0)])
    with pytest.raises(RftError, match=r"d.jsonl: line 1: the row has no prompt"):
        select_file(scores, data, tmp_path / "o.jsonl")


def test_add_loop_commands_registers_select_pairs_and_loop_with_their_checked_options():
    import argparse

    from rft_core.cli.loop import add_loop_commands

    parser = argparse.ArgumentParser()
    add_loop_commands(parser.add_subparsers())
    args = parser.parse_args(["select", "s.jsonl", "--data", "d.jsonl", "-o", "o.jsonl", "--per-item", "3"])
    assert (args.per_item, args.min_reward, args.ties) == (3, 1.0, "shortest")
    with pytest.raises(SystemExit):  # --per-item takes a whole number of at least 1
        parser.parse_args(["pairs", "s.jsonl", "--data", "d.jsonl", "-o", "o.jsonl", "--per-item", "0"])
