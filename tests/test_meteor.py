"""Tests for graders/text/_meteor.py: text_similarity's meteor metric (nltk meteor_score, local WordNet)."""

from __future__ import annotations

import pickle
import shutil
import zipfile
from pathlib import Path

import pytest

import graders.text._meteor as meteor_module
from graders.text._meteor import LEXNAMES, WORDNET_ENV, find_wordnet, load_wordnet
from rft_core import SpecError, Status, load_spec

nltk = pytest.importorskip("nltk")
from nltk.tokenize import NLTKWordTokenizer  # noqa: E402
from nltk.translate.meteor_score import meteor_score  # noqa: E402

DEBIAN = Path("/usr/share/wordnet")
SPEC = {"type": "text_similarity", "reference": "{{ item.reference }}", "evaluation_metric": "meteor"}


@pytest.fixture(scope="module")
def wordnet_copy(tmp_path_factory) -> Path:
    """Debian's WordNet database files copied to a folder of their own (no lexnames, like Debian's),
    laid out as nltk's downloader does: <data>/corpora/wordnet."""
    folder = tmp_path_factory.mktemp("nltk_data") / "corpora" / "wordnet"
    folder.mkdir(parents=True)
    for name in meteor_module.DATABASE_FILES:
        shutil.copy(DEBIAN / name, folder / name)
    return folder


@pytest.fixture
def grader(registry):
    return load_spec(SPEC, registry=registry)


def tokens(text: str) -> list[str]:
    return NLTKWordTokenizer().tokenize(text)


def by_formula(matches: int, hypothesis: int, reference: int, chunks: int) -> float:
    """METEOR as Lavie & Agarwal (2007) define it, with nltk's defaults alpha 0.9, beta 3, gamma 0.5."""
    precision, recall = matches / hypothesis, matches / reference
    fmean = precision * recall / (0.9 * precision + 0.1 * recall)
    return (1 - 0.5 * (chunks / matches) ** 3) * fmean


FORMULA_CASES = [
    # "fast" matches "quick" only through WordNet: 3 matches in one chunk
    ("the fast car", "the quick car", by_formula(3, 3, 3, 1)),
    # "slow" matches nothing: "the" and "car" are two chunks
    ("the slow car", "the quick car", by_formula(2, 3, 3, 2)),
    # "cars" matches "car" through the Porter stemmer; case is ignored
    ("The cars", "the car", by_formula(2, 2, 2, 1)),
    # no match at all
    ("dogs bark", "the quick car", 0.0),
    # an empty answer
    ("", "the quick car", 0.0),
]


@pytest.mark.parametrize(
    ("text", "reference", "expected"), FORMULA_CASES, ids=["synonym", "no_synonym", "stem", "disjoint", "empty"]
)
def test_meteor_follows_the_published_formula(grader, text, reference, expected):
    result = grader.grade(text, {"reference": reference})
    assert result.status is Status.OK
    assert result.reward == pytest.approx(expected)


SENTENCES = [
    ("The cat sat on the mat.", "The cat is on the mat."),
    ("It is a guide to action which ensures that the military always obeys the commands of the party",
     "It is a guide to action that ensures that the military will forever heed Party commands"),
    ("A rapid brown fox leaped over the idle dog.", "The quick brown fox jumps over the lazy dog."),
]


@pytest.mark.parametrize(("text", "reference"), SENTENCES, ids=["cat", "nltk_doc", "fox"])
def test_meteor_is_nltk_meteor_score_on_word_tokens(grader, wordnet_copy, text, reference):
    # nltk's own reader on a separate copy of the database, nltk's word tokens
    expected = meteor_score([tokens(reference)], tokens(text), wordnet=load_wordnet(str(wordnet_copy)))
    assert grader.grade(text, {"reference": reference}).reward == pytest.approx(expected)


def test_nltk_documented_example(grader):
    # meteor_score's docstring: round(single_meteor_score(reference1, hypothesis1), 4) == 0.6944
    text, reference = SENTENCES[1]
    assert round(grader.grade(text, {"reference": reference}).reward, 4) == 0.6944


def test_the_lexnames_table_is_wordnet_30s():
    reader = load_wordnet(str(DEBIAN))
    assert len(LEXNAMES) == 45
    assert reader.synset("dog.n.01").lexname() == "noun.animal"
    assert reader.synset("run.v.01").lexname() == "verb.motion"
    assert reader.synset("fast.a.01").lexname() == "adj.all"
    assert "quick" in {lemma.name() for synset in reader.synsets("fast") for lemma in synset.lemmas()}


def test_pass_threshold_and_pickling(registry):
    grader = load_spec({**SPEC, "pass_threshold": 0.9}, registry=registry)
    result = grader.grade("the fast car", {"reference": "the quick car"})
    assert result.metadata == {"passed": True}
    assert pickle.loads(pickle.dumps(grader)).grade("the fast car", {"reference": "the quick car"}) == result


# --- where WordNet comes from ------------------------------------------------------------------


def test_wordnet_dir_is_relative_to_the_spec_file(registry, wordnet_copy):
    spec = wordnet_copy.parent / "spec.yaml"
    spec.write_text(
        "type: text_similarity\nevaluation_metric: meteor\nreference: '{{ item.r }}'\nwordnet_dir: wordnet\n"
    )
    grader = load_spec(spec, registry=registry)
    assert grader.meteor.location == str(wordnet_copy.resolve())
    assert grader.grade("the fast car", {"r": "the quick car"}).reward == pytest.approx(by_formula(3, 3, 3, 1))


def test_a_folder_without_wordnet_is_a_spec_error(registry, tmp_path):
    (tmp_path / "index.noun").write_text("")
    with pytest.raises(SpecError) as caught:
        load_spec({**SPEC, "wordnet_dir": str(tmp_path)}, registry=registry)
    [issue] = caught.value.issues
    assert issue.message.startswith(
        f"text_similarity: wordnet_dir {str(tmp_path)!r} is not a WordNet 3.0 dict folder (no data.noun, index.verb,"
    )
    assert "apt-get install wordnet-base" in issue.message
    assert "python -m nltk.downloader wordnet" in issue.message


def test_the_environment_variable_names_the_folder(monkeypatch, wordnet_copy, tmp_path):
    monkeypatch.setenv(WORDNET_ENV, str(wordnet_copy))
    assert find_wordnet() == str(wordnet_copy.resolve())
    monkeypatch.setenv(WORDNET_ENV, str(tmp_path / "missing"))
    with pytest.raises(ValueError, match=rf"^\${WORDNET_ENV} '.*missing' is not a folder; install WordNet 3.0"):
        find_wordnet()


def test_nltk_data_wordnet_comes_before_the_system_folder(monkeypatch, wordnet_copy):
    # nltk's data folder (NLTK_DATA) holding corpora/wordnet
    monkeypatch.delenv(WORDNET_ENV, raising=False)
    monkeypatch.setattr(nltk.data, "path", [str(wordnet_copy.parent.parent)])
    assert find_wordnet() == str(wordnet_copy)
    assert load_wordnet(find_wordnet()).synset("dog.n.01").lexname() == "noun.animal"


def test_nltk_data_wordnet_zip_as_the_downloader_leaves_it(monkeypatch, tmp_path, wordnet_copy):
    # nltk.download("wordnet") leaves <data>/corpora/wordnet.zip holding wordnet/...
    (tmp_path / "corpora").mkdir()
    with zipfile.ZipFile(tmp_path / "corpora" / "wordnet.zip", "w") as archive:  # stored: quick to write
        for path in sorted(wordnet_copy.iterdir()):
            archive.write(path, f"wordnet/{path.name}")
    monkeypatch.delenv(WORDNET_ENV, raising=False)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    location = find_wordnet()
    assert location == f"{tmp_path / 'corpora' / 'wordnet.zip'}/wordnet/"
    reader = load_wordnet(location)
    assert "quick" in {lemma.name() for synset in reader.synsets("fast") for lemma in synset.lemmas()}


def test_no_wordnet_anywhere_says_what_to_install(monkeypatch, registry, tmp_path):
    monkeypatch.delenv(WORDNET_ENV, raising=False)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setattr(meteor_module, "SYSTEM_FOLDERS", (str(tmp_path / "none"),))
    with pytest.raises(SpecError) as caught:
        load_spec(SPEC, registry=registry)
    [issue] = caught.value.issues
    assert issue.message == (
        "text_similarity: text_similarity's meteor metric needs WordNet, which was not found; install WordNet 3.0: "
        "`apt-get install wordnet-base` (Debian/Ubuntu, /usr/share/wordnet), or `python -m nltk.downloader wordnet` "
        f"(nltk's data, found through NLTK_DATA), or point wordnet_dir or ${WORDNET_ENV} at a WordNet 3.0 dict folder"
    )


def test_hostile_input_is_graded_not_crashed(grader):
    # a long answer of one repeated word: a score, promptly
    result = grader.grade("car " * 5000, {"reference": "the quick car"})
    assert result.status is Status.OK
    assert 0.0 < result.reward < 0.01
