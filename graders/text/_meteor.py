"""METEOR for ``text_similarity``: nltk's ``meteor_score`` with WordNet read from a local folder.

nltk reads WordNet through its downloader's data (``nltk.download("wordnet")``), which rft never
fetches at run time. Any WordNet 3.0 database folder works instead, such as Debian's
``wordnet-base`` package (``/usr/share/wordnet``). That package lacks the tiny ``lexnames``
table nltk's reader opens first, so the standard table is served from here when a folder has none.
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._overlap import import_for, tokenize

__all__ = ["WORDNET_ENV", "MeteorMetric", "find_wordnet", "load_wordnet"]

WORDNET_ENV = "RFT_WORDNET_DIR"
SYSTEM_FOLDERS = ("/usr/share/wordnet", "/usr/local/WordNet-3.0/dict", "/usr/share/WordNet-3.0/dict")
DATABASE_FILES = ("index.noun", "data.noun", "index.verb", "data.verb", "index.adj", "data.adj", "index.adv",
                  "data.adv", "noun.exc", "verb.exc", "adj.exc", "adv.exc")
INSTALL_ADVICE = (
    "install WordNet 3.0: `apt-get install wordnet-base` (Debian/Ubuntu, /usr/share/wordnet), or "
    "`python -m nltk.downloader wordnet` (nltk's data, found through NLTK_DATA), or point wordnet_dir "
    f"or ${WORDNET_ENV} at a WordNet 3.0 dict folder"
)
NEEDED_FOR = "text_similarity's meteor metric"

# WordNet 3.0's lexicographer files in number order (lexnames(5WN)); the category is the prefix's
LEXNAMES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
    "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
    "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant",
    "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state",
    "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition", "verb.communication",
    "verb.competition", "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)
CATEGORIES = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
LEXNAMES_TABLE = "".join(
    f"{number:02d}\t{name}\t{CATEGORIES[name.split('.')[0]]}\n" for number, name in enumerate(LEXNAMES)
)

_LOCK = threading.Lock()


def find_wordnet(configured: str | Path | None = None) -> str:
    """The WordNet to read: ``configured`` (the grader's wordnet_dir), else $RFT_WORDNET_DIR, else
    nltk's downloaded corpus (found through NLTK_DATA), else a system folder such as Debian's.

    Raises ValueError saying what to install when there is none, or what is missing from a folder
    that was named.
    """
    named = configured if configured is not None else os.environ.get(WORDNET_ENV) or None
    if named is not None:
        folder = Path(named)
        where = f"wordnet_dir {str(named)!r}" if configured is not None else f"${WORDNET_ENV} {str(named)!r}"
        missing = [name for name in DATABASE_FILES if not (folder / name).is_file()]
        if not folder.is_dir():
            raise ValueError(f"{where} is not a folder; {INSTALL_ADVICE}")
        if missing:
            raise ValueError(f"{where} is not a WordNet 3.0 dict folder (no {', '.join(missing)}); {INSTALL_ADVICE}")
        return str(folder.resolve())
    downloaded = _nltk_wordnet()
    if downloaded is not None:
        return downloaded
    for folder in SYSTEM_FOLDERS:
        if all((Path(folder) / name).is_file() for name in DATABASE_FILES):
            return folder
    raise ValueError(f"{NEEDED_FOR} needs WordNet, which was not found; {INSTALL_ADVICE}")


def _nltk_wordnet() -> str | None:
    """Where nltk's downloaded wordnet corpus is (a folder, or a folder inside wordnet.zip), if anywhere."""
    try:
        import nltk.data
    except ImportError:
        return None
    for resource in ("corpora/wordnet", "corpora/wordnet.zip/wordnet/"):  # where nltk's loader looks; never downloads
        try:
            found = nltk.data.find(resource)
        except LookupError:
            continue
        if isinstance(found, nltk.data.ZipFilePathPointer):
            return f"{found.zipfile.filename}/{found.entry}"
        return found.path
    return None


@lru_cache(maxsize=None)
def load_wordnet(location: str) -> Any:
    """nltk's WordNet reader for the folder ``location``, loaded once per process."""
    with _LOCK:
        data = _import("nltk.data")
        if os.path.isdir(location) and location not in data.path:
            data.path.append(location)  # nltk reads corpora only under its data path
        reader_class = _with_lexnames(_import("nltk.corpus.reader.wordnet").WordNetCorpusReader)
        with warnings.catch_warnings():  # "multilingual functions are not available": we use English only
            warnings.simplefilter("ignore")
            return reader_class(location, None)


def _with_lexnames(reader_class: type) -> type:
    class Reader(reader_class):  # type: ignore[misc, valid-type]
        """WordNetCorpusReader serving the standard lexnames table when the folder has none, and
        not mapping synsets onto nltk's downloaded WordNet (that map is for other languages' data)."""

        def open(self, file: str) -> Any:
            if file == "lexnames":
                try:
                    self.root.join(file)
                except OSError:  # not in the folder
                    return io.StringIO(LEXNAMES_TABLE)
            return super().open(file)

        def map_wn(self, version: str = "wordnet") -> None:
            return None

    return Reader


def _import(module: str) -> Any:
    return import_for("meteor", module)


class MeteorMetric:
    """``text_similarity``'s meteor metric for one grader: WordNet is found and read when the spec
    loads (a missing one is a spec error); pickles as its location and reloads once per process."""

    def __init__(self, wordnet_dir: str | Path | None = None) -> None:
        self.location = find_wordnet(wordnet_dir)
        load_wordnet(self.location)

    def score(self, text: str, reference: str) -> float:
        """nltk's ``meteor_score([reference_tokens], text_tokens)`` with its defaults (lower-casing,
        Porter stemmer, WordNet synonyms, alpha 0.9, beta 3, gamma 0.5), tokens from
        ``NLTKWordTokenizer`` as for gleu."""
        meteor = _import("nltk.translate.meteor_score")
        return meteor.meteor_score([tokenize(reference)], tokenize(text), wordnet=load_wordnet(self.location))
