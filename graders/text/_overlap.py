"""N-gram overlap metrics for ``text_similarity``: BLEU (sacrebleu), GLEU (nltk), ROUGE (rouge-score).

Each is imported when first used, so the core install needs none of them; a missing
one raises :class:`~rft_core.kernel.errors.MissingDependencyError` naming the ``text`` extra.
Every function takes the graded text and the reference and returns a score in [0, 1].
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any

from rft_core import MissingDependencyError

__all__ = ["OVERLAP_METRICS", "import_for", "missing_package", "overlap_score", "tokenize"]

ROUGE_TYPES = {
    "rouge_1": "rouge1",
    "rouge_2": "rouge2",
    "rouge_3": "rouge3",
    "rouge_4": "rouge4",
    "rouge_5": "rouge5",
    "rouge_l": "rougeL",
}
OVERLAP_METRICS = ("bleu", "gleu", *ROUGE_TYPES)
# what each metric imports (module, pip name); meteor's scoring is in graders/text/_meteor.py
PACKAGES = {"bleu": ("sacrebleu", "sacrebleu"), "gleu": ("nltk", "nltk"), "meteor": ("nltk", "nltk")} | {
    metric: ("rouge_score", "rouge-score") for metric in ROUGE_TYPES
}


def missing_package(metric: str) -> str | None:
    """The pip name of the package ``metric`` needs when it is not installed, else None."""
    module, package = PACKAGES[metric]
    return package if importlib.util.find_spec(module) is None else None


def overlap_score(metric: str, text: str, reference: str) -> float:
    """The ``metric`` score of ``text`` against ``reference``, in [0, 1]."""
    if metric == "bleu":
        return _bleu(text, reference)
    if metric == "gleu":
        return _gleu(text, reference)
    return _rouge(ROUGE_TYPES[metric]).score(reference, text)[ROUGE_TYPES[metric]].fmeasure


def import_for(metric: str, module: str) -> Any:
    """Import ``module``, which ``metric`` needs; MissingDependencyError naming the text extra if absent."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(PACKAGES[metric][1], "text", f"text_similarity's {metric}") from None


def _bleu(text: str, reference: str) -> float:
    return _bleu_metric().sentence_score(text, [reference]).score / 100


@lru_cache(maxsize=1)
def _bleu_metric() -> Any:
    # what sacrebleu.sentence_bleu builds on every call: 13a tokenisation, exponential smoothing,
    # effective order; built once, each grade skips that setup
    return import_for("bleu", "sacrebleu.metrics").BLEU(effective_order=True)


def _gleu(text: str, reference: str) -> float:
    gleu = import_for("gleu", "nltk.translate.gleu_score")
    return gleu.sentence_gleu([tokenize(reference)], tokenize(text))


def tokenize(text: str) -> list[str]:
    """nltk's word tokens of ``text`` (gleu and meteor)."""
    return _word_tokenizer().tokenize(text)


@lru_cache(maxsize=1)
def _word_tokenizer() -> Any:
    # nltk's word_tokenize without its sentence splitter, which needs downloaded punkt data
    return import_for("gleu", "nltk.tokenize").NLTKWordTokenizer()


@lru_cache(maxsize=None)
def _rouge(rouge_type: str) -> Any:
    metric = next(name for name, kind in ROUGE_TYPES.items() if kind == rouge_type)
    rouge_scorer = import_for(metric, "rouge_score.rouge_scorer")
    return rouge_scorer.RougeScorer([rouge_type], use_stemmer=False)
