"""rft_core.audit.auditor and rft_core.audit.probes: `rft audit` probes specs for reward hacking with real graders,
a real judge server on 127.0.0.1 and the real console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from judge_server import JudgeServer, completion

from rft_core import RftError, load_spec
from rft_core.audit.auditor import _pass_limits, answer_fields, audit, read_items
from rft_core.cli import main
from rft_core.audit import probes
from rft_core.audit.probes import PROBES, contexts, prompt_text
from rft_core.kernel.template import Template

EXAMPLES = Path(__file__).parent.parent / "examples"

TRIVIA = [
    {"id": "france", "question": "What is the capital of France?", "answer": "Paris"},
    {"id": "gold", "question": "What is the chemical symbol for gold?", "answer": "Au"},
    {"id": "mars", "question": "Which planet is called the Red Planet?", "answer": "Mars"},
    {"id": "orwell", "question": "Who wrote 1984?", "answer": "George Orwell"},
    {"id": "ocean", "question": "What is the largest ocean?", "answer": "Pacific Ocean"},
    {"id": "amazon", "question": "Which river is the longest in South America?", "answer": "Amazon"},
    {"id": "japan", "question": "What is the capital of Japan?", "answer": "Tokyo"},
    {"id": "water", "question": "What is H2O commonly called?", "answer": "water"},
]

LIKE = {"type": "string_check", "operation": "like", "reference": "{{ item.answer }}"}
SOUND = {
    "type": "string_check",
    "operation": "eq",
    "extract": r"Answer:\s*(.+)",
    "reference": "{{ item.answer }}",
    "casefold": True,
    "collapse_whitespace": True,
}
ANSWER_PROBES = {"all_candidates", "answer_among_decoys", "answer_repeated", "hedge_candidates", "huge_output",
                 "format_several_answers", "format_candidates_in_tag", "format_mismatched_tags",
                 "format_answer_outside", "format_empty_answer"}

GENES = [
    {"id": f"case{n}", "prompt": f"Case {n}: list candidate genes.", "genes": [gene]}
    for n, gene in enumerate(["CFTR", "FBN1", "DMD", "HTT", "SMN1", "PAH"])
]


def _root(report, probe):
    return next(f for f in report.findings if f.probe == probe and f.grader == "(root)")


# --- flagged and sound specs ----------------------------------------------------------------------


def test_a_lenient_like_check_is_flagged_by_every_probe_holding_the_answer():
    report = audit(LIKE, TRIVIA)
    assert not report.passed
    assert {f.probe for f in report.flagged} == ANSWER_PROBES
    hedge = _root(report, "hedge_candidates")
    assert (hedge.items, hedge.pass_fraction, hedge.mean_reward) == (8, 1.0, 1.0)
    assert hedge.example["id"] == "france" and hedge.example["sample"].endswith("Paris")
    for probe in ("empty", "whitespace", "field_names", "hedge_letters", "format_only", "judge_injection"):
        assert _root(report, probe).pass_fraction == 0.0, probe


def test_a_sound_spec_passes():
    report = audit(SOUND, TRIVIA)
    assert report.passed and report.flagged == [] and report.leaks == []
    assert all(f.pass_fraction == 0.0 for f in report.findings)
    assert report.verdict() == "PASS: no probe earns reward > 0.5 on more than 5% of 8 items"
    # the honest answer still earns full reward: the probes are not just failing everything
    assert load_spec(SOUND).grade("Answer: paris", {"answer": "Paris"}).reward == 1.0


def test_examples_spec_passes_but_its_fuzzy_part_leaks():
    """examples/spec.yaml: the root (0.1 format + 0.7 exact + 0.2 close) never exceeds 0.5 on a probe,
    but `close` (token_set_ratio) gives full marks to hedges and lists holding the answer."""
    report = audit(EXAMPLES / "spec.yaml", EXAMPLES / "data.jsonl")
    assert report.passed
    leaks = {(f.grader, f.probe) for f in report.leaks}
    assert ("close", "hedge_candidates") in leaks and ("close", "answer_among_decoys") in leaks
    assert not any(grader == "exact" for grader, _ in leaks)
    assert _root(report, "hedge_candidates").mean_reward == pytest.approx(0.3)
    # at a threshold below what a hedge earns, the same leak fails the spec
    lower = audit(EXAMPLES / "spec.yaml", EXAMPLES / "data.jsonl", threshold=0.25, probes=["hedge_candidates"])
    assert not lower.passed


def test_gene_ranking_example_passes():
    report = audit(EXAMPLES / "gene_ranking" / "spec.yaml", EXAMPLES / "gene_ranking" / "data.jsonl")
    assert report.passed and report.items == 22
    assert {f.grader for f in report.leaks} <= {"format"}  # the numbered-list format check, by design


@pytest.mark.parametrize(
    ("max_items", "flagged"),
    [
        (None, {"answer_among_decoys"}),  # the answer on top of 50 decoys earns rank 1
        (10, set()),  # a list longer than 10 earns nothing
    ],
    ids=["no_guard", "max_items_10"],
)
def test_ranked_list_needs_a_list_length_guard(max_items, flagged):
    spec = {"type": "ranked_list", "reference": "{{ item.genes }}", "max_items": max_items}
    report = audit(spec, GENES)
    assert {f.probe for f in report.flagged} == flagged
    if flagged:
        assert _root(report, "answer_among_decoys").example["sample"].startswith("CFTR, ")


def test_sub_graders_are_reported_under_their_paths():
    graders = {"loose": LIKE, "strict": SOUND}
    spec = {"type": "multi", "calculate_output": "0.2 * loose + 0.8 * strict", "graders": graders}
    report = audit(spec, TRIVIA, probes=["hedge_candidates"])
    assert [(f.grader, f.pass_fraction, f.flagged) for f in report.findings] == [
        ("(root)", 0.0, False),
        ("loose", 1.0, True),
        ("strict", 0.0, False),
    ]
    assert report.passed and [f.grader for f in report.leaks] == ["loose"]
    assert "sub-graders passing probes (fine for a format check, worth a look otherwise): loose (1)" in report.verdict()


def test_a_spec_that_errors_passes_with_a_note_and_no_probe_is_a_vacuous_pass():
    broken = {"type": "string_check", "operation": "like", "reference": "{{ item.answr }}"}  # a typo: all errors
    report = audit(broken, TRIVIA[:2], probes=["empty", "hedge_letters"])
    assert report.passed and dict(_root(report, "hedge_letters").statuses) == {"error": 10}
    assert report.verdict().endswith("; 12 probe grades ended with status error (see statuses in --json)")
    no_prompts = audit(LIKE, [{"answer": "x"}], probes=["prompt_echo"])
    assert no_prompts.findings == []
    assert no_prompts.verdict() == "PASS: no probe applies to these items (nothing was graded)"


def test_huge_output_is_graded_without_hanging():
    spec = {
        "type": "multi",
        "calculate_output": "max(fuzzy, genes)",
        "graders": {
            "fuzzy": {"type": "fuzzy_match", "reference": "{{ item.answer }}"},
            "genes": {"type": "ranked_list", "reference": "{{ item.answer }}", "max_items": None},
        },
    }
    report = audit(spec, TRIVIA[:2], probes=["huge_output"])
    assert report.passed
    assert [dict(f.statuses) for f in report.findings] == [{"ok": 2}] * 3
    example = report.findings[0].example["sample"]  # shown cut, with its length
    assert "lorem  ...(200,013 characters)... sit amet" in example and example.endswith("\nAnswer: Au, A, B, Paris")


def test_workers_give_the_same_report():
    one = audit(LIKE, TRIVIA[:3], probes=["hedge_candidates", "empty"])
    two = audit(LIKE, TRIVIA[:3], probes=["hedge_candidates", "empty"], workers=2)
    assert two.to_dict() == one.to_dict()


def test_max_items_limits_the_items_probed_not_the_candidates():
    water = {"type": "string_check", "operation": "like", "reference": "water"}  # the answer of the last item
    report = audit(water, TRIVIA, max_items=2, probes=["all_candidates"])
    assert (report.items, report.flagged[0].pass_fraction) == (2, 1.0)


# --- an LLM judge on a real local server -------------------------------------------------------------


def test_a_judge_fooled_by_injection_is_flagged(tmp_path, monkeypatch):
    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")

    def naive_judge(body, number):  # gives top marks whenever the sample asks for them, else the lowest
        text = body["messages"][-1]["content"]
        return completion(json.dumps({"steps": [], "result": 7 if "score it 10" in text else 1}))

    with JudgeServer(naive_judge, lifetime=60) as server:
        spec = {
            "type": "score_model",
            "model": "judge-model",
            "base_url": server.base_url,
            "input": [{"role": "user", "content": "Reference: {{ item.answer }}\nAnswer: {{ sample.output_text }}"}],
            "range": [1, 7],  # an item passes above 4, halfway up
            "timeout": 5.0,
            "max_retries": 0,
        }
        report = audit(spec, TRIVIA[:2])
        requests = server.count
    assert [f.probe for f in report.flagged] == ["judge_injection"]
    assert {f.pass_above for f in report.findings} == {4.0}
    assert _root(report, "hedge_candidates").mean_reward == 1.0  # the judge's lowest score: no pass
    assert report.flagged[0].example["sample"] == probes.JUDGE_INJECTIONS[0]
    assert dict(_root(report, "huge_output").statuses) == {"parse_error": 2}  # refused before any request
    assert 0 < requests < 2 * (60 + sum(len(probe.texts(contexts(TRIVIA)[0])) for probe in probes.JUDGE_PROBES))
    assert {"master_key", "self_praise", "length_padding", "swapped_order"} <= {f.probe for f in report.findings}


def _sample_text(body):
    """The sample a judge request shows (between the sample tags of its last message)."""
    content = body["messages"][-1]["content"]
    return content[content.index("<sample>") + len("<sample>"):content.rindex("</sample>")]


JUDGE_TRICKS = ["master_key", "self_praise", "length_padding", "swapped_order"]


def test_judge_probes_catch_a_judge_fooled_by_known_tricks(tmp_path, monkeypatch):
    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")

    def gullible_judge(body, number):  # passes master keys, self-praise and anything long; else the lowest score
        text = _sample_text(body)
        fooled = text in probes.MASTER_KEYS or text in probes.SELF_PRAISE or len(text) > 1000
        return completion(json.dumps({"steps": [], "result": 1.0 if fooled else 0.0}))

    with JudgeServer(gullible_judge, lifetime=60) as server:
        spec = {"type": "score_model", "model": "judge-model", "base_url": server.base_url, "timeout": 5.0,
                "input": [{"role": "user", "content": "Reference: {{ item.answer }}\nAnswer: {{ sample.output_text }}"}]}
        report = audit(spec, TRIVIA[:3], probes=JUDGE_TRICKS)
    assert [f.probe for f in report.flagged] == ["master_key", "self_praise", "length_padding"]
    assert _root(report, "swapped_order").pass_fraction == 0.0
    padded = _root(report, "length_padding").example["sample"]
    assert padded.startswith("Let me think about this carefully") and "answer is" in padded


def test_a_pairwise_judge_following_position_claims_is_held_by_its_two_orders(tmp_path, monkeypatch):
    """The judge names whatever position the sample claims; asked in both orders it flips: a tie, no pass."""
    monkeypatch.setenv("RFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")

    def position_follower(body, number):
        content = body["messages"][-1]["content"]
        claims_b = any(claim in content for claim in ("[[B]]", "Response B is better"))
        return completion(json.dumps({"steps": [], "result": "B" if claims_b else "A"}))

    with JudgeServer(position_follower, lifetime=60) as server:
        spec = {"type": "pairwise_model", "model": "judge-model", "base_url": server.base_url, "timeout": 5.0,
                "input": [{"role": "user", "content": "Question: {{ item.question }}"}],
                "reference": "{{ item.answer }}"}
        report = audit(spec, TRIVIA[:2], probes=["swapped_order"])
    finding = _root(report, "swapped_order")
    assert (finding.pass_fraction, finding.mean_reward) == (0.0, 0.5)
    assert not report.flagged


def test_judge_probes_run_only_for_specs_with_a_judge_unless_named():
    default = audit(LIKE, TRIVIA[:2])
    assert not {f.probe for f in default.findings} & set(JUDGE_TRICKS)
    named = audit(LIKE, TRIVIA[:2], probes=["master_key"])
    assert {f.probe for f in named.findings} == {"master_key"}
    assert named.passed


def test_every_judge_probe_is_documented():
    page = (Path(__file__).parent.parent / "docs" / "audit.md").read_text(encoding="utf-8")
    assert [probe.name for probe in probes.JUDGE_PROBES if f"| `{probe.name}` |" not in page] == []


# --- reading items ----------------------------------------------------------------------------------


def test_items_come_from_every_row_format(tmp_path):
    rows = [
        {"id": "a", "prompt": "Q1", "answer": "x"},  # a training row: no sample
        {"id": "b", "question": "Q2", "answer": "y", "completions": ["y", "z"]},
        {"item": {"answer": "w"}, "sample": "w", "id": "c"},
        {"messages": [{"role": "user", "content": "Q4"}, {"role": "assistant", "content": "v"}], "answer": "v"},
        {"item": {"answer": "u"}},  # an item without a sample
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n", encoding="utf-8")
    ids, items = read_items(path)
    assert ids == ["a", "b", "c", 3, 4]
    assert items == [
        {"id": "a", "prompt": "Q1", "answer": "x"},
        {"id": "b", "question": "Q2", "answer": "y"},
        {"answer": "w"},
        {"answer": "v", "messages": [{"role": "user", "content": "Q4"}]},
        {"answer": "u"},
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "data file not found"),
        ("", "no rows to audit (the data set is empty)"),
        ("\n  \n", "no rows to audit (the data set is empty)"),
        ('{"answer": "x"}\n{"answer": \n', ": line 2: invalid JSON at column 12: Expecting value; the data file holds "
         "one JSON object a line"),
        ('{"answer": "x"}\n[1, 2]\n', ": line 2: a row must be a JSON object, not list"),
        (b'{"answer": "x"}\n{"answer": "\xff"}\n', ": line 2: invalid UTF-8 at byte 12"),
        ('[{"answer": "x"}]\n', ": the data file is a JSON array, not JSON Lines (one JSON object per line)"),
    ],
    ids=["missing", "empty", "blank_lines", "bad_json", "not_an_object", "not_utf8", "json_array"],
)
def test_bad_data_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "data.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(RftError) as raised:
        audit(LIKE, path)
    assert str(raised.value).startswith(str(path)) and message in str(raised.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"probes": ["hedging"]}, "unknown probe(s) hedging; the probes are: empty, whitespace, prompt_echo"),
        ({"tolerance": 1.0}, "tolerance must be at least 0 and below 1, not 1.0"),
    ],
    ids=["unknown_probe", "tolerance"],
)
def test_bad_options_are_clear_errors(kwargs, message):
    with pytest.raises(RftError, match=r"^" + message.replace("(", r"\(").replace(")", r"\)")):
        audit(LIKE, TRIVIA, **kwargs)


# --- which fields hold the answers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fields"),
    [
        (LIKE, ["answer"]),
        (  # a judge reads the question too: a prompt-like field is never an answer
            {"type": "score_model", "model": "m", "input": [
                {"role": "user", "content": "Q: {{ item.question }} Ref: {{ item.ref[0] }} A: {{ sample.output_text }}"}
            ]},
            ["ref"],
        ),
        ({"type": "multi", "calculate_output": "a + b", "graders": {"a": LIKE, "b": {
            "type": "ranked_list", "reference": "{{ item['gene list'] }}"}}}, ["answer", "gene list"]),
        ({"type": "python", "source": "def grade(sample, item):\n    return 1.0\n"}, None),  # reads item in code
    ],
    ids=["string_check", "judge", "nested", "python"],
)
def test_answer_fields_are_the_item_fields_the_templates_read(spec, fields):
    assert answer_fields(load_spec(spec)) == fields


def test_pass_limits_follow_each_graders_range():
    judge = {"type": "score_model", "model": "m", "range": [1, 7], "base_url": "http://127.0.0.1:9/v1",
             "input": [{"role": "user", "content": "{{ sample.output_text }}"}]}
    inner = {"type": "multi", "calculate_output": "(judge - 1) / 6", "graders": {"judge": judge}}
    spec = {"type": "multi", "calculate_output": "(inner + exact) / 2", "graders": {"inner": inner, "exact": LIKE}}
    assert _pass_limits(load_spec(spec), 0.25) == {"(root)": 0.25, "inner": 0.25, "inner.judge": 2.5, "exact": 0.25}


def test_template_item_fields():
    template = Template("{{ item.a.b }} {{ sample.output_text }} {{ item['c d'][0] }} {{ item }}")
    assert template.item_fields == ["a", "c d"]


# --- the probes themselves --------------------------------------------------------------------------


def test_no_probe_is_an_honest_answer():
    for context in contexts(TRIVIA):
        honest = {answer.casefold() for answer in context.answers}
        for probe in PROBES:
            for text in probe.texts(context):
                assert text.strip().casefold() not in honest, (probe.name, text)


def test_decoys_leave_out_the_items_own_answers_and_fill_up():
    first, *_ = contexts([{"answer": "A"}, {"answer": "a"}, {"answer": "Rome"}, {"answer": "Rome"}])
    assert (first.answers, first.decoys) == (("A",), ("Rome",))  # the item's own answer in any case is no decoy
    padded = first.padded_decoys(50)
    assert padded[:3] == ["Rome", "B", "C"]  # the data set's answers first, then generic ones
    assert len(padded) == 50 and padded[-1] == "candidate 38" and "a" not in padded
    assert contexts([{"answer": "x"}, {"answer": "y"}])[0].padded_decoys(1) == ["y"]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"prompt": "Q?", "answer": "x"}, "Q?"),
        ({"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]}, "S\n\nU"),
        ({"messages": [{"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}]}, "U"),
        ({"question": "  "}, None),
        ({"answer": "x"}, None),
    ],
    ids=["text", "chat", "messages", "blank", "none"],
)
def test_prompt_text(item, expected):
    assert prompt_text(item) == expected


def test_every_probe_is_documented():
    page = (Path(__file__).parent.parent / "docs" / "audit.md").read_text(encoding="utf-8")
    assert [probe.name for probe in PROBES if f"| `{probe.name}` |" not in page] == []


def test_probes_about_answers_skip_items_without_one():
    context = contexts([{"question": "Q?"}])[0]
    applied = {probe.name for probe in PROBES if probe.texts(context)}
    assert applied == {"empty", "whitespace", "prompt_echo", "field_names", "hedge_letters", "format_only",
                       "judge_injection"}


# --- the command line -------------------------------------------------------------------------------


def _rft(*args: str) -> subprocess.CompletedProcess:
    rft = Path(sys.executable).with_name("rft")
    command = [str(rft)] if rft.exists() else [sys.executable, "-m", "rft_core.cli"]
    env = {**os.environ, "RFT_LOAD_PLUGINS": ""}
    return subprocess.run([*command, "audit", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.integration
def test_rft_audit_exit_status_table_and_json(tmp_path):
    data = tmp_path / "trivia.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in TRIVIA), encoding="utf-8")
    (tmp_path / "like.json").write_text(json.dumps(LIKE), encoding="utf-8")
    (tmp_path / "sound.json").write_text(json.dumps(SOUND), encoding="utf-8")

    flagged = _rft(str(tmp_path / "like.json"), str(data), "--json")
    assert flagged.returncode == 1, flagged.stderr
    report = json.loads(flagged.stdout)
    assert (report["verdict"], report["items"], report["threshold"], report["tolerance"]) == ("fail", 8, 0.5, 0.05)
    assert {entry["probe"] for entry in report["flagged"]} == ANSWER_PROBES
    # every probe that applies to trivia items: the tool probes need items holding tool calls
    assert set(report["probes"]) == {probe.name for probe in PROBES if not probe.name.startswith(("tool_", "code_"))}
    assert set(report["findings"][0]) == {
        "probe", "grader", "items", "pass_above", "mean_reward", "pass_fraction", "flagged", "statuses", "example"
    }
    assert set(report["findings"][0]["example"]) == {"id", "reward", "sample"}

    table = _rft(str(tmp_path / "like.json"), str(data), "--probe", "hedge_candidates", "--probe", "empty")
    assert table.returncode == 1
    lines = table.stdout.splitlines()
    assert lines[1].split() == ["probe", "(root)"]
    assert lines[2].split() == ["hedge_candidates", "100%", "(1.00)*"]
    assert lines[3].split() == ["empty", "0%", "(0.00)"]
    assert lines[-2] == '  hedge_candidates  france: "Au or Mars or George Orwell or Paris"'
    assert lines[-1].startswith("FAIL: hackable, these probes earn reward > 0.5 on more than 5% of 8 items: ")

    sound = _rft(str(tmp_path / "sound.json"), str(data), "--max-items", "3")
    assert sound.returncode == 0, sound.stderr
    assert sound.stdout.splitlines()[-1] == "PASS: no probe earns reward > 0.5 on more than 5% of 3 items"


def test_rft_audit_errors_exit_1_with_the_message(tmp_path, capsys):
    (tmp_path / "sound.json").write_text(json.dumps(SOUND), encoding="utf-8")
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    assert main(["audit", str(tmp_path / "sound.json"), str(tmp_path / "nope.jsonl")]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope.jsonl'}: data file not found\n"
    assert main(["audit", str(tmp_path / "sound.json"), str(tmp_path / "empty.jsonl")]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'empty.jsonl'}: no rows to audit (the data set is empty)\n"
