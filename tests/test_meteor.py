"""text_similarity's meteor metric (nltk meteor_score, local WordNet) and where it finds WordNet."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rft_core import SpecError, Status, load_spec

nltk = pytest.importorskip("nltk")
from nltk.tokenize import NLTKWordTokenizer  # noqa: E402
from nltk.corpus.reader.wordnet import WordNetCorpusReader  # noqa: E402
from nltk.translate.meteor_score import meteor_score  # noqa: E402

DEBIAN = Path("/usr/share/wordnet")
WORDNET_ENV = "RFT_WORDNET_DIR"  # documented in docs/graders/text_similarity.md
DATABASE_FILES = ("index.noun", "data.noun", "index.verb", "data.verb", "index.adj", "data.adj", "index.adv",
                  "data.adv", "noun.exc", "verb.exc", "adj.exc", "adv.exc")
# WordNet 3.0's lexicographer files in number order (its lexnames file, which Debian's wordnet-base leaves out)
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body noun.cognition "
    "noun.communication noun.event noun.feeling noun.food noun.group noun.location noun.motive noun.object "
    "noun.person noun.phenomenon noun.plant noun.possession noun.process noun.quantity noun.relation noun.shape "
    "noun.state noun.substance noun.time verb.body verb.change verb.cognition verb.communication verb.competition "
    "verb.consumption verb.contact verb.creation verb.emotion verb.motion verb.perception verb.possession "
    "verb.social verb.stative verb.weather adj.ppl"
).split()
SPEC = {"type": "text_similarity", "reference": "{{ item.reference }}", "evaluation_metric": "meteor"}


@pytest.fixture(scope="module")
def wordnet_copy(tmp_path_factory) -> Path:
    """Debian's WordNet database files copied to a folder of their own (no lexnames, like Debian's),
    laid out as nltk's downloader does: <data>/corpora/wordnet."""
    folder = tmp_path_factory.mktemp("nltk_data") / "corpora" / "wordnet"
    folder.mkdir(parents=True)
    for name in DATABASE_FILES:
        shutil.copy(DEBIAN / name, folder / name)
    return folder


class EnglishWordNet(WordNetCorpusReader):
    def map_wn(self, version="wordnet"):
        return None  # no mapping onto a downloaded WordNet (none is installed here; it is for other languages)


@pytest.fixture(scope="module")
def nltk_reader(tmp_path_factory) -> WordNetCorpusReader:
    """nltk's own WordNet reader on another copy of Debian's files, with the lexnames file it needs."""
    folder = tmp_path_factory.mktemp("wordnet_with_lexnames")
    for name in DATABASE_FILES:
        shutil.copy(DEBIAN / name, folder / name)
    categories = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
    (folder / "lexnames").write_text(
        "".join(f"{number:02d}\t{name}\t{categories[name.split('.')[0]]}\n" for number, name in enumerate(LEXNAMES))
    )
    if str(folder) not in nltk.data.path:
        nltk.data.path.append(str(folder))  # nltk reads corpora only under its data path
    return EnglishWordNet(str(folder), None)


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
def test_meteor_is_nltk_meteor_score_on_word_tokens(grader, nltk_reader, text, reference):
    # nltk's own reader on a separate copy of the database, nltk's word tokens
    expected = meteor_score([tokens(reference)], tokens(text), wordnet=nltk_reader)
    assert grader.grade(text, {"reference": reference}).reward == pytest.approx(expected)


def test_nltk_documented_example(grader):
    # meteor_score's docstring: round(single_meteor_score(reference1, hypothesis1), 4) == 0.6944
    text, reference = SENTENCES[1]
    assert round(grader.grade(text, {"reference": reference}).reward, 4) == 0.6944


def test_the_oracles_lexnames_are_wordnet_30s(nltk_reader):
    assert len(LEXNAMES) == 45
    assert nltk_reader.synset("dog.n.01").lexname() == "noun.animal"
    assert nltk_reader.synset("run.v.01").lexname() == "verb.motion"
    assert nltk_reader.synset("fast.a.01").lexname() == "adj.all"
    assert "quick" in {lemma.name() for synset in nltk_reader.synsets("fast") for lemma in synset.lemmas()}


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


def test_the_environment_variable_names_the_folder(monkeypatch, registry, wordnet_copy, tmp_path):
    monkeypatch.setenv(WORDNET_ENV, str(wordnet_copy))
    grader = load_spec(SPEC, registry=registry)
    assert grader.meteor.location == str(wordnet_copy.resolve())
    assert grader.grade("the fast car", {"reference": "the quick car"}).reward == pytest.approx(by_formula(3, 3, 3, 1))
    monkeypatch.setenv(WORDNET_ENV, str(tmp_path / "missing"))
    with pytest.raises(SpecError) as caught:
        load_spec(SPEC, registry=registry)
    [issue] = caught.value.issues
    assert re.match(rf"^text_similarity: \${WORDNET_ENV} '.*missing' is not a folder; install WordNet 3.0", issue.message)


def test_nltk_data_wordnet_comes_before_the_system_folder(monkeypatch, registry, wordnet_copy):
    # nltk's data folder (NLTK_DATA) holding corpora/wordnet
    monkeypatch.delenv(WORDNET_ENV, raising=False)
    monkeypatch.setattr(nltk.data, "path", [str(wordnet_copy.parent.parent)])
    grader = load_spec(SPEC, registry=registry)
    assert grader.meteor.location == str(wordnet_copy)
    assert grader.grade("the fast car", {"reference": "the quick car"}).reward == pytest.approx(by_formula(3, 3, 3, 1))


def test_nltk_data_wordnet_zip_as_the_downloader_leaves_it(monkeypatch, registry, tmp_path, wordnet_copy):
    # nltk.download("wordnet") leaves <data>/corpora/wordnet.zip holding wordnet/...
    (tmp_path / "corpora").mkdir()
    with zipfile.ZipFile(tmp_path / "corpora" / "wordnet.zip", "w") as archive:  # stored: quick to write
        for path in sorted(wordnet_copy.iterdir()):
            archive.write(path, f"wordnet/{path.name}")
    monkeypatch.delenv(WORDNET_ENV, raising=False)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    grader = load_spec(SPEC, registry=registry)
    assert grader.meteor.location == f"{tmp_path / 'corpora' / 'wordnet.zip'}/wordnet/"
    # "fast" matches "quick" only through the zipped WordNet's synonyms
    assert grader.grade("the fast car", {"reference": "the quick car"}).reward == pytest.approx(by_formula(3, 3, 3, 1))


SYSTEM_FOLDERS = ("/usr/share/wordnet", "/usr/local/WordNet-3.0/dict", "/usr/share/WordNet-3.0/dict")  # where it looks
NO_WORDNET = """
import nltk
from rft_core import SpecError, load_spec
nltk.data.path[:] = [{empty!r}]
try:
    load_spec({spec!r})
except SpecError as error:
    print(error.issues[0].message)
"""


def test_no_wordnet_anywhere_says_what_to_install(tmp_path):
    """In a mount namespace where the system's WordNet folders are empty (bubblewrap), with no
    $RFT_WORDNET_DIR and an empty nltk data path."""
    bwrap = shutil.which("bwrap")
    hidden = [arg for folder in SYSTEM_FOLDERS if Path(folder).is_dir() for arg in ("--tmpfs", folder)]
    command = [bwrap or "bwrap", "--bind", "/", "/", *hidden, "--dev", "/dev", "--proc", "/proc"]
    if bwrap is None or subprocess.run([*command, "true"], capture_output=True).returncode != 0:
        pytest.skip("needs bubblewrap (to hide the system's WordNet)")
    env = {key: value for key, value in os.environ.items() if key != WORDNET_ENV}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parents[1]), RFT_LOAD_PLUGINS="")
    script = NO_WORDNET.format(empty=str(tmp_path), spec=SPEC)
    done = subprocess.run([*command, sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == (
        "text_similarity: text_similarity's meteor metric needs WordNet, which was not found; install WordNet 3.0: "
        "`apt-get install wordnet-base` (Debian/Ubuntu, /usr/share/wordnet), or `python -m nltk.downloader wordnet` "
        f"(nltk's data, found through NLTK_DATA), or point wordnet_dir or ${WORDNET_ENV} at a WordNet 3.0 dict folder"
    ), done.stderr


def test_hostile_input_is_graded_not_crashed(grader):
    # a long answer of one repeated word: a score, promptly
    result = grader.grade("car " * 5000, {"reference": "the quick car"})
    assert result.status is Status.OK
    assert 0.0 < result.reward < 0.01
