"""Tests for graders/text/text_similarity.py."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from graders.text.text_similarity import TextSimilarity
from rft_core import SpecError, Status, load_spec


def spec(**fields) -> dict:
    return {"type": "text_similarity", "reference": "{{ item.reference }}", "evaluation_metric": "fuzzy_match", **fields}


FUZZY_CASES = [
    # identical texts
    ("Paris", "Paris"),
    # case counts: no processing, unlike fuzzy_match's default
    ("Paris", "paris"),
    # punctuation counts too
    ("Hello, World!", "hello world"),
    # a spelling variant
    ("colour", "color"),
    # nothing in common
    ("abc", "xyz"),
    # an empty answer
    ("", "Paris"),
]


@pytest.mark.parametrize(
    ("text", "reference"), FUZZY_CASES, ids=["identical", "case", "punctuation", "spelling", "disjoint", "empty"]
)
def test_fuzzy_match_is_rapidfuzz_ratio(registry, text, reference):
    result = load_spec(spec(), registry=registry).grade(text, {"reference": reference})
    assert result.status is Status.OK
    assert result.reward == pytest.approx(fuzz.ratio(text, reference) / 100)


def test_fuzzy_match_does_not_lowercase():
    # rapidfuzz with its default processor would give 1.0 here
    assert TextSimilarity(reference="paris").grade("PARIS").reward == 0.0


@pytest.mark.parametrize(
    ("threshold", "passed"),
    [
        # 10/11 = 0.909 reaches 0.9
        (0.9, True),
        # but not 0.95
        (0.95, False),
        # exactly at the threshold passes
        (10 / 11, True),
    ],
    ids=["pass", "fail", "at_threshold"],
)
def test_pass_threshold_sets_passed_but_not_the_reward(registry, threshold, passed):
    result = load_spec(spec(pass_threshold=threshold), registry=registry).grade("colour", {"reference": "color"})
    assert result.reward == pytest.approx(10 / 11)
    assert result.metadata == {"passed": passed}


def test_without_pass_threshold_there_is_no_passed():
    assert TextSimilarity(reference="color").grade("colour").metadata == {}


def test_metric_defaults_to_fuzzy_match():
    assert TextSimilarity(reference="x").config.evaluation_metric == "fuzzy_match"


def test_meteor_needs_nltk_like_the_other_text_metrics(registry, monkeypatch):
    # its scores are tested in tests/test_meteor.py
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nltk" else real(name, *a))
    with pytest.raises(SpecError) as caught:
        load_spec(spec(evaluation_metric="meteor"), registry=registry)
    [issue] = caught.value.issues
    assert issue.message == (
        "evaluation_metric 'meteor' needs the 'nltk' package, which is not installed: pip install 'rft-graders[text]'"
    )


REFERENCE = "The cat is on the mat."
OVERLAP_TEXTS = [
    # one word differs
    "The cat sat on the mat.",
    # identical
    "The cat is on the mat.",
    # reordered words
    "On the mat is the cat.",
    # nothing in common
    "Dogs bark loudly",
    # an empty answer
    "",
]
OVERLAP_IDS = ["one_word", "identical", "reordered", "disjoint", "empty"]


@pytest.mark.parametrize("text", OVERLAP_TEXTS, ids=OVERLAP_IDS)
def test_bleu_is_sacrebleu_sentence_bleu(registry, text):
    sacrebleu = pytest.importorskip("sacrebleu")
    result = load_spec(spec(evaluation_metric="bleu"), registry=registry).grade(text, {"reference": REFERENCE})
    assert result.status is Status.OK
    assert result.reward == pytest.approx(sacrebleu.sentence_bleu(text, [REFERENCE]).score / 100)


@pytest.mark.parametrize("text", OVERLAP_TEXTS, ids=OVERLAP_IDS)
def test_gleu_is_nltk_sentence_gleu(registry, text):
    pytest.importorskip("nltk")
    from nltk.tokenize import NLTKWordTokenizer
    from nltk.translate.gleu_score import sentence_gleu

    tokenize = NLTKWordTokenizer().tokenize
    result = load_spec(spec(evaluation_metric="gleu"), registry=registry).grade(text, {"reference": REFERENCE})
    assert result.reward == pytest.approx(sentence_gleu([tokenize(REFERENCE)], tokenize(text)))


ROUGE = {"rouge_1": "rouge1", "rouge_2": "rouge2", "rouge_3": "rouge3", "rouge_4": "rouge4", "rouge_5": "rouge5",
         "rouge_l": "rougeL"}


@pytest.mark.parametrize("metric", list(ROUGE))
@pytest.mark.parametrize("text", OVERLAP_TEXTS, ids=OVERLAP_IDS)
def test_rouge_is_rouge_score_f_measure(registry, metric, text):
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    expected = rouge_scorer.RougeScorer([ROUGE[metric]]).score(REFERENCE, text)[ROUGE[metric]].fmeasure
    result = load_spec(spec(evaluation_metric=metric), registry=registry).grade(text, {"reference": REFERENCE})
    assert result.reward == pytest.approx(expected)


KNOWN = [
    # values printed by the libraries themselves for "The cat sat on the mat." against REFERENCE
    ("bleu", 0.48892302243490086),
    ("gleu", 0.5909090909090909),
    ("rouge_1", 0.8333333333333334),
    ("rouge_2", 0.6),
    ("rouge_l", 0.8333333333333334),
]


@pytest.mark.parametrize(("metric", "value"), KNOWN, ids=[m for m, _ in KNOWN])
def test_known_values(metric, value):
    pytest.importorskip("sacrebleu")
    pytest.importorskip("nltk")
    pytest.importorskip("rouge_score")
    grader = TextSimilarity(reference=REFERENCE, evaluation_metric=metric)
    assert grader.grade("The cat sat on the mat.").reward == pytest.approx(value)


def test_overlap_metrics_apply_pass_threshold(registry):
    pytest.importorskip("rouge_score")
    grader = load_spec(spec(evaluation_metric="rouge_1", pass_threshold=0.8), registry=registry)
    result = grader.grade("The cat sat on the mat.", {"reference": REFERENCE})
    assert result.metadata == {"passed": True}


def test_missing_package_is_a_spec_error_with_install_advice(registry, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sacrebleu" else real(name, *a))
    with pytest.raises(SpecError) as caught:
        load_spec(spec(evaluation_metric="bleu"), registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("evaluation_metric",)
    assert issue.message == (
        "evaluation_metric 'bleu' needs the 'sacrebleu' package, which is not installed: pip install 'rft-graders[text]'"
    )


def test_missing_package_at_grade_time_is_an_error_result():
    # a fresh process, so that grading is the metric's first use; the package goes away after the spec loaded
    pytest.importorskip("sacrebleu")
    script = (
        "import sys\n"
        "from graders.text.text_similarity import TextSimilarity\n"
        "grader = TextSimilarity(reference='x', evaluation_metric='bleu')\n"
        "sys.modules['sacrebleu'] = sys.modules['sacrebleu.metrics'] = None\n"
        "result = grader.grade('x')\n"
        "print(result.status.value)\n"
        "print(result.reason)\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": root, "RFT_LOAD_PLUGINS": ""})
    status, reason = done.stdout.split("\n", 1)
    assert status == Status.ERROR.value, done.stderr
    assert "pip install 'rft-graders[text]'" in reason


def test_overlap_grader_pickles_after_use(registry):
    pytest.importorskip("rouge_score")
    grader = load_spec(spec(evaluation_metric="rouge_l"), registry=registry)
    before = grader.grade("The cat sat on the mat.", {"reference": REFERENCE})
    assert pickle.loads(pickle.dumps(grader)).grade("The cat sat on the mat.", {"reference": REFERENCE}) == before


def test_unknown_metric_lists_the_openai_choices(registry):
    with pytest.raises(SpecError) as caught:
        load_spec(spec(evaluation_metric="jaccard"), registry=registry)
    message = caught.value.issues[0].message
    for metric in ("fuzzy_match", "bleu", "gleu", "meteor", "cosine", "rouge_1", "rouge_l"):
        assert f"'{metric}'" in message


def test_normalisation_options_are_not_fields(registry):
    # text_similarity keeps OpenAI's fields; fuzzy_match has the normalisation options
    with pytest.raises(SpecError) as caught:
        load_spec(spec(casefold=True), registry=registry)
    [issue] = caught.value.issues
    assert issue.message == (
        "unknown field 'casefold'; fields: type, name, grader_timeout, input, reference, evaluation_metric, pass_threshold, "
        "embedding_model, wordnet_dir, max_input_chars, max_reference_chars"
    )


def test_missing_reference_is_a_spec_error(registry):
    with pytest.raises(SpecError) as caught:
        load_spec({"type": "text_similarity"}, registry=registry)
    [issue] = caught.value.issues
    assert issue.path == ("reference",)
    assert issue.message.startswith("missing required field 'reference'")


def test_missing_variable_is_an_invalid_variable_error(registry):
    result = load_spec(spec(), registry=registry).grade("x", {"answer": "x"})
    assert result.status is Status.ERROR
    assert result.reason == (
        "invalid_variable: item.reference in template '{{ item.reference }}': no key 'reference' (keys: answer)"
    )
    assert result.error_code == "invalid_variable_error"


OPENAI_TEXT_SIMILARITY = """
{
  "type": "text_similarity",
  "name": "Example text similarity grader",
  "input": "{{sample.output_text}}",
  "reference": "{{item.reference_answer}}",
  "pass_threshold": 0.8,
  "evaluation_metric": "fuzzy_match"
}
"""


def test_openai_json_config_works_unchanged(registry):
    grader = load_spec(json.loads(OPENAI_TEXT_SIMILARITY), registry=registry)
    assert grader.name == "Example text similarity grader"
    result = grader.grade({"output_text": "John Smith"}, {"reference_answer": "Jon Smith"})
    assert result.reward == pytest.approx(fuzz.ratio("John Smith", "Jon Smith") / 100)
    assert result.metadata == {"passed": True}


def test_reads_output_json(registry):
    grader = load_spec(spec(input="{{ sample.output_json.name }}"), registry=registry)
    assert grader.grade('{"name": "Ada"}', {"reference": "Ada"}).reward == 1.0


def test_docstring_example():
    grader = TextSimilarity(reference="{{ item.answer }}", evaluation_metric="fuzzy_match")
    assert grader.grade("colour", {"answer": "color"}).reward == 0.9090909090909091


def test_pickle_round_trip_after_use(registry):
    grader = load_spec(spec(pass_threshold=0.9), registry=registry)
    before = grader.grade("colour", {"reference": "color"})
    copy = pickle.loads(pickle.dumps(grader))
    assert copy.grade("colour", {"reference": "color"}) == before
