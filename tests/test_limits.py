"""Size caps of the text metrics: huge texts get a status, not minutes of work. The default caps are
read from the table in docs/graders/index.md#size-limits, so the graders keep what the docs promise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graders.text.fuzzy_match import FuzzyMatch
from graders.text.string_check import StringCheck
from graders.text.text_similarity import TextSimilarity
from rft_core import Status, Template, load_spec

FUZZY_METRICS = ["ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio", "WRatio", "QRatio", "levenshtein",
                 "jaro_winkler"]
SIMILARITY_METRICS = ["fuzzy_match", "bleu", "gleu", "rouge_1", "rouge_5", "rouge_l"]


def build(grader: str, metric: str | None, **fields):
    if grader == "fuzzy_match":
        return FuzzyMatch(reference="{{ item.answer }}", metric=metric, **fields)
    if grader == "text_similarity":
        return TextSimilarity(reference="{{ item.answer }}", evaluation_metric=metric, **fields)
    return StringCheck(reference="{{ item.answer }}", operation="like", **fields)


DOCS = Path(__file__).resolve().parents[1] / "docs" / "graders" / "index.md"


def documented_limits() -> dict[tuple[str, str], tuple[int, int]]:
    """(grader, metric) -> (max_input_chars, max_reference_chars) from the docs' table of defaults;
    metric "every operation" for string_check, ``rouge_1`` ... ``rouge_5`` spelled out."""
    section = DOCS.read_text(encoding="utf-8").split("### Size limits", 1)[1].split("\n#", 1)[0]
    limits = {}
    for row in re.findall(r"^\| `(\w+)` \| (.+?) \| ([\d,]+) \| ([\d,]+) \|$", section, re.M):
        grader, metrics, max_input, max_reference = row
        names = re.findall(r"`(\w+)`", metrics) or [metrics]
        if "…" in metrics:  # rouge_1 … rouge_5
            first, last = (int(name.rpartition("_")[2]) for name in names if name.startswith("rouge_"))
            names += [f"rouge_{n}" for n in range(first, last + 1)]
        limits.update({(grader, name): (int(max_input.replace(",", "")), int(max_reference.replace(",", "")))
                       for name in names})
    return limits


DEFAULTS = documented_limits()


def default_limits(grader: str, metric: str | None) -> tuple[int, int]:
    return DEFAULTS[grader, metric or "every operation"]


CASES = [("fuzzy_match", m) for m in FUZZY_METRICS] + [("text_similarity", m) for m in SIMILARITY_METRICS] + [
    ("string_check", None)
]


@pytest.mark.parametrize(("grader", "metric"), CASES, ids=[f"{g}-{m}" for g, m in CASES])
def test_an_input_one_over_the_default_cap_is_a_parse_error_on_both_paths(grader, metric):
    max_input, _ = default_limits(grader, metric)
    text = "ab " * (max_input // 3) + "x" * (max_input % 3 + 1)
    assert len(text) == max_input + 1
    graded = build(grader, metric)
    one = graded.grade(text, {"answer": "ab"})
    [batched] = graded.grade_batch([text], [{"answer": "ab"}])
    for result in (one, batched):
        assert result.status is Status.PARSE_ERROR
        assert result.reason == f"input has {max_input + 1:,} characters, over max_input_chars={max_input:,}"
        assert result.error_code == "sample_parse_error"


@pytest.mark.parametrize(("grader", "metric"), CASES, ids=[f"{g}-{m}" for g, m in CASES])
def test_a_reference_one_over_the_default_cap_is_an_error(grader, metric):
    _, max_reference = default_limits(grader, metric)
    reference = "r" * (max_reference + 1)
    result = build(grader, metric).grade("short answer", {"answer": reference})
    assert result.status is Status.ERROR
    assert result.reason == (
        f"reference has {max_reference + 1:,} characters, over max_reference_chars={max_reference:,}; "
        "raise max_reference_chars in the spec to compare it"
    )


@pytest.mark.parametrize(("grader", "metric"), CASES, ids=[f"{g}-{m}" for g, m in CASES])
def test_texts_at_the_caps_set_in_the_spec_are_graded_and_one_more_is_not(grader, metric):
    graded = build(grader, metric, max_input_chars=12, max_reference_chars=5)
    assert graded.grade("the answer 1", {"answer": "ans 1"}).status is Status.OK
    assert graded.grade("the answer 12", {"answer": "ans 1"}).status is Status.PARSE_ERROR
    assert graded.grade("the answer 1", {"answer": "ans 12"}).status is Status.ERROR


def test_a_1mb_output_against_a_10000_character_reference_with_partial_ratio_is_refused_at_once():
    # the reproduction of issue 14: unbounded, partial_ratio ran for more than 900 s
    result = build("fuzzy_match", "partial_ratio").grade("a" * 1_000_000, {"answer": "a" * 10_000})
    assert result.status is Status.ERROR
    assert "over max_reference_chars=1,000" in result.reason


def test_a_10mb_output_is_refused_by_every_overlap_metric():
    text = "word " * 2_000_000
    for metric in SIMILARITY_METRICS:
        assert build("text_similarity", metric).grade(text, {"answer": "word"}).status is Status.PARSE_ERROR


def test_caps_are_spec_fields_that_must_be_positive(registry):
    grader = load_spec({"type": "fuzzy_match", "reference": "x", "max_reference_chars": 3}, registry=registry)
    assert grader.grade("x", {}).status is Status.OK
    with pytest.raises(Exception, match="max_input_chars"):
        load_spec({"type": "text_similarity", "reference": "x", "max_input_chars": 0}, registry=registry)


def test_the_documented_defaults_name_every_metric_and_only_known_ones():
    similarity = set(SIMILARITY_METRICS) | {"rouge_2", "rouge_3", "rouge_4", "meteor", "cosine"}
    known = {("fuzzy_match", m) for m in FUZZY_METRICS} | {("text_similarity", m) for m in similarity}
    assert set(DEFAULTS) == known | {("string_check", "every operation")}


def test_siblings_with_different_reference_caps_still_prepare_their_texts_once(registry, monkeypatch):
    calls = []
    render = Template.render_batch
    monkeypatch.setattr(Template, "render_batch", lambda self, *args: calls.append(self.text) or render(self, *args))
    spec = {"type": "multi", "graders": {
        "exact": {"type": "string_check", "reference": "{{ item.answer }}"},  # reference cap 1,000,000
        "close": {"type": "fuzzy_match", "reference": "{{ item.answer }}", "metric": "partial_ratio"},  # 1,000
    }}
    grader = load_spec(spec, registry=registry)
    results = grader.grade_batch(["ab", "cd"], [{"answer": "ab"}, {"answer": "r" * 1_001}])
    assert calls == ["{{ sample.output_text }}", "{{ item.answer }}"]  # once for both siblings
    assert results[0].sub_rewards["close"].reward == 1.0
    # the long reference fails the batch path of fuzzy_match only; one by one it is that row's error
    assert results[1].sub_rewards["exact"].status is Status.OK
    assert results[1].sub_rewards["close"].status is Status.ERROR
