"""Tests for graders/shaping/format_grader.py: the format grader's checks, scoring, modes and hostile input."""

from __future__ import annotations

import pickle

import pytest

from graders.shaping.format_grader import Format
from rft_core import SpecError, Status, load_spec
from rft_core.kernel.errors import SpecError as SpecErrorClass
from rft_core.integrations.openai_compat import export_openai

GOOD = "<think>2 + 2 = 4</think>\n<answer>4</answer>"

# (output, the checks that fail) for the default spec: <think> then <answer>, only whitespace outside
TAG_CASES = [
    # well formed, whitespace around and between the tags
    (GOOD, []),
    ("\n  <think>x</think>  <answer>Paris</answer>\n", []),
    # several answer tags: the classic paid hack
    ("<think>x</think><answer>A</answer><answer>B</answer>", ["once"]),
    # a candidate list inside the tag, in the forms trainers saw rewarded
    ("<think>x</think><answer>A or B or C</answer>", ["single_answer"]),
    ("<think>x</think><answer>3, 4 or 5</answer>", ["single_answer"]),
    ("<think>x</think><answer>\\boxed{3} \\boxed{4}</answer>", ["single_answer"]),
    # a word containing 'or' is not a list
    ("<think>x</think><answer>George Orwell</answer>", []),
    # mismatched tags
    ("<think>x</answer><answer>4</think>", ["nesting", "answer_nonempty", "single_answer"]),
    # nested tags
    ("<think>x<answer>4</answer></think>", ["nesting"]),
    # text outside the tags, before and after
    ("Sure! <think>x</think><answer>4</answer>", ["outside"]),
    ("<think>x</think><answer>4</answer> The answer is 4.", ["outside"]),
    # empty and whitespace-only answers
    ("<think>x</think><answer></answer>", ["answer_nonempty", "single_answer"]),
    ("<think>x</think><answer> \n </answer>", ["answer_nonempty", "single_answer"]),
    # wrong order
    ("<answer>4</answer><think>x</think>", ["order"]),
    # a tag missing, and no tags at all
    ("<answer>4</answer>", ["once", "order"]),
    ("4", ["once", "order", "outside", "answer_nonempty", "single_answer"]),
    ("", ["once", "order", "answer_nonempty", "single_answer"]),
    # a tag spelled otherwise counts as that tag but is malformed
    ("<think>x</think><Answer>4</Answer>", ["nesting"]),
    ("<think>x</think>< answer >4</answer>", ["nesting"]),
    # an unclosed tag
    ("<think>x</think><answer>4", ["once", "nesting", "answer_nonempty", "single_answer"]),
    # other tags are content, not structure
    ("<think>use <b>bold</b></think><answer>4</answer>", []),
]
TAG_IDS = [
    "good", "whitespace", "two_answers", "a_or_b", "list_with_or", "two_boxed", "orwell", "mismatched", "nested",
    "text_before", "text_after", "empty_answer", "blank_answer", "order", "missing_think", "no_tags", "empty",
    "case", "spaces_in_tag", "unclosed", "other_tags",
]  # fmt: skip


@pytest.mark.parametrize(("text", "failing"), TAG_CASES, ids=TAG_IDS)
def test_tag_checks(registry, text, failing):
    grader = load_spec({"type": "format"}, registry=registry)
    result = grader.grade(text)
    assert result.status is Status.OK
    assert [check for check, sub in result.sub_rewards.items() if sub.reward == 0.0] == failing
    assert result.reward == (0.0 if failing else 1.0)
    assert (result.reason is None) == (not failing)


def test_the_reason_names_each_failed_check():
    result = Format().grade("<think>x</think><answer>A</answer><answer>A or B</answer>")
    assert result.reason == "once: <answer> opens 2 and closes 2 times"
    assert Format().grade("<answer>4</answer><think>x</think>").reason == (
        "order: tags open in the order <answer> <think>, not <think> <answer>"
    )


def test_weighted_scoring_is_the_weighted_share_of_checks_passed():
    grader = Format(scoring="weighted", weights={"single_answer": 4})
    result = grader.grade("<think>x</think><answer>A or B</answer>")
    assert result.reward == pytest.approx(5 / 9)  # five checks of weight 1 pass, single_answer (4) fails
    assert grader.grade(GOOD).reward == 1.0


def test_a_weight_of_zero_turns_a_check_off():
    grader = Format(weights={"outside": 0})
    result = grader.grade("Sure! " + GOOD)
    assert result.reward == 1.0
    assert "outside" not in result.sub_rewards


def test_outside_any_and_no_answer_tag():
    grader = Format(tags=["reasoning", "code"], answer_tag=None, outside="any")
    assert list(grader.grade("").sub_rewards) == ["once", "order", "nesting"]
    assert grader.grade("Here: <reasoning>r</reasoning> and <code>x = 1</code> done").reward == 1.0


def test_custom_candidate_patterns_replace_the_defaults():
    grader = Format(candidate_patterns=[r"\|"])
    assert grader.grade("<think>x</think><answer>x > 2 or x < -2</answer>").reward == 1.0
    assert grader.grade("<think>x</think><answer>A | B</answer>").reward == 0.0


JSON_CASES = [
    ('{"answer": 4}', []),
    ('  {"answer": 4, "why": "sum"}\n', []),
    ('{"why": "sum"}', ["keys"]),
    ("[4]", ["json_object", "keys"]),
    ('```json\n{"answer": 4}\n```', ["json_object", "keys"]),
    ('Here you go: {"answer": 4}', ["json_object", "keys"]),
    ('{"answer": 4} trailing', ["json_object", "keys"]),
    ("", ["json_object", "keys"]),
]


@pytest.mark.parametrize(("text", "failing"), JSON_CASES, ids=["ok", "spaces", "missing_key", "array", "fenced",
                                                               "prefix", "suffix", "empty"])
def test_json_mode(text, failing):
    result = Format(mode="json", required_keys=["answer"]).grade(text)
    assert [check for check, sub in result.sub_rewards.items() if sub.reward == 0.0] == failing


def test_regex_mode_matches_the_whole_text():
    grader = Format(mode="regex", pattern=r"Answer: \d+")
    assert grader.grade("Answer: 42").reward == 1.0
    assert grader.grade("Answer: 42 or 43").reward == 0.0
    assert grader.grade("So. Answer: 42").reward == 0.0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"answer_tag": "final"}, "answer_tag 'final' is not one of tags ['think', 'answer']"),
        ({"mode": "regex"}, "mode regex needs a pattern"),
        ({"weights": {"regex": 1}}, "weights name unknown checks ['regex'] (mode tags has: once, order, nesting"),
        ({"tags": ["a", "A"], "answer_tag": None}, "tags ['a', 'A'] name a tag twice"),
        ({"tags": ["1x"], "answer_tag": None}, "'1x' is not a tag name"),
        ({"mode": "regex", "pattern": "(unclosed"}, "invalid regex '(unclosed'"),
    ],
    ids=["answer_tag", "no_pattern", "unknown_check", "duplicate_tag", "bad_tag", "bad_regex"],
)
def test_bad_configs_fail_the_spec_load(registry, fields, message):
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "format", **fields}, registry=registry)
    assert message in str(caught.value)


def test_all_checks_off_is_refused():
    with pytest.raises(ValueError, match="every check of mode regex is turned off"):
        Format(mode="regex", pattern="x", weights={"regex": 0})


def test_batch_equals_one_by_one_and_shared_results_are_read_only():
    texts = [text for text, _ in TAG_CASES] * 3
    grader = Format()
    batch = grader.grade_batch(texts, [{}] * len(texts))
    assert batch == [grader.grade(text) for text in texts]
    with pytest.raises(AttributeError):
        batch[0].reward = 5.0
    with pytest.raises(TypeError):
        batch[0].sub_rewards["once"] = None  # type: ignore[index]
    assert pickle.loads(pickle.dumps(batch[2])) == batch[2]


def test_openai_export_is_refused_with_the_reason(registry):
    with pytest.raises(SpecErrorClass) as caught:
        export_openai({"type": "format"}, registry=registry)
    assert "'format' is not an OpenAI grader type" in str(caught.value)
    assert "OpenAI has no structure grader: run it here, or write the check as a python grader" in str(caught.value)


# --- hostile input: a status, never a crash or a hang ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<answer>" * 100_000,  # a flood of tags
        "<think>" * 50_000 + "</think>" * 50_000 + "<answer>4</answer>",  # deep nesting
        "<think>x</think><answer>" + "A or " * 100_000 + "B</answer>",  # a huge candidate list
        "<" * 500_000 + ">" * 400_000,  # tag-like noise
        "<think>x</think><answer>" + "\\boxed{" * 100_000 + "</answer>",  # unbalanced boxes
        "\x00\ud800<think>\u202e</think><answer>\ufeff4</answer>",  # control and lone surrogate characters
    ],
    ids=["tag_flood", "deep_nesting", "huge_list", "angle_noise", "boxes", "odd_characters"],
)
def test_hostile_outputs_get_a_zero_not_a_crash(text):
    result = Format().grade(text)
    assert result.status is Status.OK and result.reward == 0.0


def test_an_input_over_the_cap_is_a_parse_error_in_a_batch_too():
    grader = Format(max_input_chars=1000)
    results = grader.grade_batch([GOOD, "x" * 1001], [{}, {}])
    assert [result.status for result in results] == [Status.OK, Status.PARSE_ERROR]
    assert results[1].reason == "input has 1,001 characters, over max_input_chars=1,000"


def test_deeply_nested_json_is_not_an_object():
    result = Format(mode="json").grade("[" * 200_000 + "]" * 200_000)
    assert result.status is Status.OK and result.reward == 0.0
    assert "not JSON" in result.reason


def test_a_regex_that_runs_too_long_is_a_timeout():
    grader = Format(mode="regex", pattern=r"(?:x+x+)+y", regex_timeout=0.05)
    result = grader.grade("x" * 5000)
    assert result.status is Status.TIMEOUT


def test_the_docs_example_rewards():
    """docs/graders/format.md's table: weights {single_answer: 3}, the rest 1 (8 in all)."""
    grader = Format(scoring="weighted", weights={"single_answer": 3})
    rows = {
        "<think>2+2=4</think>\n<answer>4</answer>": 1.0,
        "<think>…</think><answer>3 or 4</answer>": 5 / 8,
        "<think>…</think><answer>4</answer><answer>5</answer>": 7 / 8,
        "Sure! <think>…</think><answer>4</answer>": 7 / 8,
        "<think>…</answer><answer>4</think>": 3 / 8,
    }
    assert {text: grader.grade(text).reward for text in rows} == pytest.approx(rows)


# --- rft audit: the format probes ----------------------------------------------------------------

TRIVIA = [{"id": "fr", "answer": "Paris"}, {"id": "it", "answer": "Rome"}, {"id": "uk", "answer": "London"}]
FORMAT_PROBES = ["format_several_answers", "format_candidates_in_tag", "format_mismatched_tags",
                 "format_answer_outside", "format_empty_answer", "format_only", "hedge_letters"]


def test_a_strict_format_grader_passes_every_format_probe():
    from rft_core.audit.auditor import audit

    spec = {"type": "multi", "calculate_output": "answer * format", "graders": {
        "answer": {"type": "string_check", "operation": "like", "reference": "{{ item.answer }}"},
        "format": {"type": "format"},
    }}
    report = audit(spec, TRIVIA, probes=FORMAT_PROBES)
    assert report.passed
    # the 'like' answer check alone is fooled by the hacks, and each hack passes some of the format
    # checks (they are sub-rewards of their own), but the format grader's reward by none
    leaking = {finding.grader for finding in report.leaks}
    assert "answer" in leaking and "format" not in leaking


def test_a_lenient_format_regex_is_caught_by_the_format_probes():
    from rft_core.audit.auditor import audit

    lenient = {"type": "string_check", "operation": "regex", "reference": r"<think>.*</\w+>\s*<answer>.*</\w+>"}
    spec = {"type": "multi", "calculate_output": "answer * format", "graders": {
        "answer": {"type": "string_check", "operation": "like", "reference": "{{ item.answer }}"},
        "format": lenient,
    }}
    flagged = {finding.probe for finding in audit(spec, TRIVIA, probes=FORMAT_PROBES).flagged}
    assert flagged == {"format_several_answers", "format_candidates_in_tag", "format_mismatched_tags",
                       "format_answer_outside", "format_empty_answer"}


def test_weighted_scoring_shows_as_a_leak_of_partial_credit():
    from rft_core.audit.auditor import audit

    report = audit({"type": "format", "scoring": "weighted"}, TRIVIA, probes=["format_several_answers"])
    assert not report.passed  # 5 of 6 checks pass: a weighted format reward pays a hack most of its reward
    assert report.flagged[0].mean_reward == pytest.approx(5 / 6)


@pytest.mark.parametrize("fields", [{}, {"outside": "any"}, {"answer_tag": None}, {"tags": ["answer"]}],
                         ids=["default", "outside_any", "no_answer_tag", "answer_only"])
def test_the_fast_path_agrees_with_the_tag_scan(fields):
    """A well-formed output is recognised by one fullmatch; every case must give what the scan gives."""
    grader = Format(**fields)
    texts = [text for text, _ in TAG_CASES] + ["<think>a < b</think><answer>4</answer>", "<answer>x</answer>"]
    for text in texts:
        assert grader.grade(text) == grader.result(grader.scan(text)), text
