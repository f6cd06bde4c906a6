"""graders.ranked_list.ranked_list (and graders.ranked_list._ranking): reading ranked lists, normalising, scheduling, guards."""

from __future__ import annotations

import importlib.util
import json
import pickle
from pathlib import Path

import pytest

from graders.ranked_list._aliases import Normaliser, load_alias_file, parse_alias_text
from graders.ranked_list._ranking import gain, items_from_text
from graders.ranked_list.ranked_list import RankedList
from rft_core import SpecError, Status, load_spec
from rft_core.run.data import read_tasks
from rft_core.report.summary import Summary
from rft_core.run.runner import run

GENE = {"gene": "TP53"}


@pytest.fixture
def build(registry):
    def build(**fields):
        return load_spec({"type": "ranked_list", "reference": "{{ item.gene }}", **fields}, registry=registry)

    return build


# --- reading the list ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items"),
    [
        # a JSON array alone
        ('["BRCA1", "TP53"]', ["BRCA1", "TP53"]),
        # a JSON array inside prose and a code fence
        ('Here is my ranking:\n```json\n["BRCA1", "TP53"]\n```\nHope it helps.', ["BRCA1", "TP53"]),
        # numbered lines with markdown and annotations, prose before and after
        (
            "Given the history, the likely genes are:\n1. **TP53** - because of the sarcoma\n"
            "2) BRCA1 (most likely not)\n3. CHEK2: DNA damage\nLet me know if you need more.",
            ["TP53", "BRCA1", "CHEK2"],
        ),
        # sub-bullets with explanations are skipped: only the outermost level is the list
        ("1. TP53\n   - explains the sarcoma\n   - and the young onset\n2. BRCA1", ["TP53", "BRCA1"]),
        # numbered lines win over bullets elsewhere in the text
        ("- reasoning: sarcoma at 30\n1. TP53\n2. BRCA1", ["TP53", "BRCA1"]),
        # numbered reasoning steps, then the ranking: the numbering starts again, the last run is the list
        ("Findings:\n1. Salty sweat\n2. Lung infections\n\nRanking:\n1. CFTR\n2. SCNN1B", ["CFTR", "SCNN1B"]),
        # a misnumbered list is one list, in text order
        ("1. TP53\n3. BRCA1\n2. ATM", ["TP53", "BRCA1", "ATM"]),
        # markdown's "1." on every line
        ("1. TP53\n1. BRCA1", ["TP53", "BRCA1"]),
        # a markdown table: header skipped, the first cell that is not a rank number
        ("| Rank | Gene | Why |\n|---|---|---|\n| 1 | **TP53** | sarcoma |\n| 2 | BRCA1 (maybe) | breast |", ["TP53", "BRCA1"]),
        # bulleted lines, several bullet characters
        ("* TP53\n• BRCA1\n+ ATM", ["TP53", "BRCA1", "ATM"]),
        # "(1)", "#2", "Rank 3:" markers
        ("(1) TP53\n#2 BRCA1\nRank 3: ATM", ["TP53", "BRCA1", "ATM"]),
        # comma and semicolon separated, with a label and an annotation holding a comma
        ("Genes: TP53 (most likely, given age); BRCA1, ATM", ["TP53", "BRCA1", "ATM"]),
        # newline separated, an introducing line ending with ':' skipped
        ("The most likely genes are:\nTP53\nBRCA1", ["TP53", "BRCA1"]),
        # a long prose line is not an item, the short list line is
        ("I looked at the family history carefully.\nTP53, BRCA1\nThese explain the cancers seen.", ["TP53", "BRCA1"]),
        # "or"/"and" before the last item are dropped
        ("TP53, BRCA1, or ATM", ["TP53", "BRCA1", "ATM"]),
        # brackets without quotes: not JSON, still a list
        ("[TP53, BRCA1]", ["TP53", "BRCA1"]),
        # "A > B > C"
        ("TP53 > BRCA1 > ATM", ["TP53", "BRCA1", "ATM"]),
        # hyphens inside a symbol are kept; a spaced dash starts an annotation
        ("1. HLA-B - drug reaction\n2. NKX2-5", ["HLA-B", "NKX2-5"]),
        # a decimal number at the start of a line is not a numbered marker
        ("3.14, 2.71", ["3.14", "2.71"]),
        # empty text and an empty JSON array are an empty list
        ("   \n ", []),
        ("[]", []),
    ],
    ids=[
        "json",
        "json-in-prose",
        "numbered-annotated",
        "sub-bullets",
        "numbered-over-bullets",
        "restarted-numbering",
        "misnumbered",
        "all-ones",
        "markdown-table",
        "bullets",
        "other-markers",
        "separated-with-label",
        "newlines",
        "prose-around",
        "conjunction",
        "unquoted-brackets",
        "arrows",
        "hyphens",
        "decimal",
        "blank",
        "empty-json",
    ],
)
def test_items_from_text(text, items):
    assert items_from_text(text) == items


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # a sentence is not a list
        (
            "I believe the causal gene is most likely TP53.",
            "found no list in the input (numbered or bulleted lines, comma-separated items or a JSON array); "
            "`extract` can pick the items out with a regex",
        ),
        # a JSON object is not a list: point input at the list
        (
            '{"genes": ["TP53"], "confidence": 0.9}',
            "the input is a JSON object (keys: genes, confidence), not a list; point `input` at the list, "
            "e.g. {{ sample.output_json.genes }}",
        ),
        # nested lists
        ('[["TP53", 0.9], ["BRCA1", 0.1]]', "list item 1 is a list, not a string"),
        # objects in a list without item_field
        ('[{"symbol": "TP53"}]', "list item 1 is an object, not a string; set `item_field` to the field holding each answer"),
        # a boolean in a list
        ('["TP53", true]', "list item 2 is true, not a string"),
    ],
    ids=["sentence", "object", "nested", "objects", "bool"],
)
def test_unreadable_lists_are_parse_errors(build, text, reason):
    result = build().grade(text, GENE)
    assert (result.reward, result.status, result.reason) == (0.0, Status.PARSE_ERROR, reason)
    assert result.error_codes() == {".": "sample_parse_error"}


# --- rewards -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "text", "reward", "rank"),
    [
        # the demo's rule: first 1.0, second 0.7, absent 0
        ({}, "TP53, BRCA1", 1.0, 1),
        ({}, "BRCA1, TP53", 0.7, 2),
        ({}, "BRCA1, ATM", 0.0, None),
        # third: 0.7^2
        ({}, "BRCA1, ATM, TP53", 0.49, 3),
        # another decay
        ({"decay": 0.5}, "BRCA1, ATM, TP53", 0.25, 3),
        # linear over k=4: (4 - 2 + 1) / 4
        ({"schedule": "linear", "k": 4}, "BRCA1, TP53", 0.75, 2),
        # reciprocal: 1/3
        ({"schedule": "reciprocal"}, "BRCA1, ATM, TP53", 0.333333333333, 3),
        # log (NDCG discount): 1/log2(4) = 0.5
        ({"schedule": "log"}, "BRCA1, ATM, TP53", 0.5, 3),
        # table: explicit rewards, 0 past its end
        ({"schedule": "table", "table": [1.0, 0.7]}, "BRCA1, TP53", 0.7, 2),
        ({"schedule": "table", "table": [1.0, 0.7]}, "BRCA1, ATM, TP53", 0.0, 3),
        # cut-off k: rank 3 is past k=2 (the rank is still reported)
        ({"k": 2}, "BRCA1, ATM, TP53", 0.0, 3),
        # case, punctuation, spaces and markup do not matter
        ({}, "1. **tp-53**", 1.0, 1),
        # with ignore_punctuation off, "tp-53" is another answer
        ({"ignore_punctuation": False}, "tp-53, TP53", 0.7, 2),
        # with casefold off, "tp53" is another answer
        ({"casefold": False}, "tp53, TP53", 0.7, 2),
        # an inline alias counts as the canonical symbol
        ({"aliases": {"TP53": ["p53", "LFS1"]}}, "BRCA1, p53", 0.7, 2),
        # a duplicate counts at its first position and costs 0.1
        ({}, "BRCA1, TP53, BRCA1", 0.6, 2),
        # an alias of an earlier item is a duplicate too
        ({"aliases": {"TP53": "p53"}}, "TP53, p53", 0.9, 1),
        # duplicate_penalty 0: duplicates are free
        ({"duplicate_penalty": 0}, "TP53, TP53, TP53", 1.0, 1),
        # duplicates never push a wrong answer below 0
        ({}, "BRCA1, BRCA1, BRCA1", 0.0, None),
        # full-width forms (NFKC)
        ({}, "ＴＰ５３", 1.0, 1),
        # Cyrillic Т and Р fold to Latin by default
        ({}, "ТР53", 1.0, 1),
        # zero-width space inside the symbol
        ({}, "TP\u200b53", 1.0, 1),
        # lookalikes kept: Cyrillic ТР53 is not TP53
        ({"lookalikes": "keep"}, "ТР53", 0.0, None),
        # ignore_words: "the TP53 gene" is TP53
        ({"ignore_words": ["the", "gene"]}, "1. the BRCA1 gene\n2. The TP53 gene", 0.7, 2),
        # Greek alpha folds: HNF1α is HNF1A
        ({}, "HNF1α", 0.0, None),
    ],
    ids=[
        "first",
        "second",
        "absent",
        "third",
        "decay",
        "linear",
        "reciprocal",
        "log",
        "table",
        "table-end",
        "cut-off",
        "markup-case-punctuation",
        "punctuation-kept",
        "case-kept",
        "alias",
        "duplicate",
        "alias-duplicate",
        "free-duplicates",
        "duplicates-floor",
        "fullwidth",
        "cyrillic-folded",
        "zero-width",
        "cyrillic-kept",
        "ignore-words",
        "greek-not-tp53",
    ],
)
def test_rewards(build, fields, text, reward, rank):
    result = build(**fields).grade(text, GENE)
    assert (result.status, result.reward, result.metadata["rank"]) == (Status.OK, reward, rank)


def test_reason_and_metadata(build):
    result = build().grade("1. BRCA1\n2. TP53\n3. BRCA1", GENE)
    assert result.reason == "TP53 at rank 2 of 2; 1 duplicate(s): -0.1"
    assert result.metadata == {"rank": 2, "list_length": 2, "duplicates": 1}


def test_lookalikes_rejected(build):
    grader = build(lookalikes="reject")
    result = grader.grade("ТР53, TP53", GENE)  # the Cyrillic one holds rank 1 but matches nothing
    assert (result.reward, result.metadata["rank"], result.metadata["lookalikes_rejected"]) == (0.7, 2, 1)
    assert result.reason == "TP53 at rank 2 of 2; 1 item(s) with lookalike letters rejected"
    # a purely Greek answer is not a lookalike
    assert grader.grade("αβγ", {"gene": "αβγ"}).reward == 1.0


def test_greek_letters_fold_to_their_latin_names_of_genes(build):
    assert build().grade("HNF1α, HNF1β", {"gene": "HNF1B"}).reward == 0.7


# --- several references --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("match", "text", "reward", "ranks"),
    [
        # any: the best rank of either reference
        ("any", "ATM, BRCA2, BRCA1", 0.7, None),
        # all, both found at ranks 1 and 3: (1 + 0.49) / (1 + 0.7)
        ("all", "BRCA1, ATM, BRCA2", 0.876470588235, [1, 3]),
        # all, both at the top: 1.0 whatever the order
        ("all", "BRCA2, BRCA1", 1.0, [2, 1]),
        # all, one missing: 1 / 1.7
        ("all", "BRCA1, ATM", 0.588235294118, [1, None]),
        # all, none found
        ("all", "ATM", 0.0, [None, None]),
    ],
    ids=["any", "all-1-3", "all-top", "all-one-missing", "all-none"],
)
def test_several_references(registry, match, text, reward, ranks):
    grader = load_spec({"type": "ranked_list", "reference": "{{ item.genes }}", "match": match}, registry=registry)
    result = grader.grade(text, {"genes": ["BRCA1", "BRCA2"]})
    assert result.reward == reward
    assert result.metadata.get("ranks") == ranks


def test_reference_as_json_text_and_number(registry):
    grader = load_spec({"type": "ranked_list", "reference": "genes: {{ item.genes }}"}, registry=registry)
    # a template with text around the variable renders to a string, which is not a JSON list: one reference
    assert grader.grade("BRCA1", {"genes": ["BRCA1"]}).reward == 0.0
    grader = load_spec({"type": "ranked_list", "reference": "{{ item.genes }}"}, registry=registry)
    assert grader.grade("ATM, BRCA1", {"genes": '["BRCA1"]'}).reward == 0.7  # a string holding a JSON list
    assert grader.grade("7, 42", {"genes": 42}).reward == 0.7  # numbers compare as text


@pytest.mark.parametrize(
    ("reference", "status", "reason"),
    [
        # nothing to look for: not applicable (TRL skips the row)
        ("", Status.NOT_APPLICABLE, "no reference answer for this row"),
        ([], Status.NOT_APPLICABLE, "no reference answer for this row"),
        (["  ", "—"], Status.NOT_APPLICABLE, "no reference answer for this row"),
        # a reference of the wrong shape is a broken row
        ({"gene": "TP53"}, Status.ERROR, "reference must be a string or a list of strings, not a dict"),
        ([{"gene": "TP53"}], Status.ERROR, "reference must be a string or a list of strings, not a list"),
    ],
    ids=["empty-string", "empty-list", "blank-entries", "object", "list-of-objects"],
)
def test_bad_references(build, reference, status, reason):
    result = build().grade("TP53", {"gene": reference})
    assert (result.reward, result.status, result.reason) == (0.0, status, reason)


def test_missing_reference_variable_is_an_error(build):
    result = build().grade("TP53", {})
    assert result.status is Status.ERROR
    assert result.error_codes() == {".": "invalid_variable_error"}


# --- input from JSON ------------------------------------------------------------------------------


def test_default_input_falls_back_to_output_json(build):
    # a row that gives output_json and no output_text
    assert build().grade({"output_json": ["BRCA1", "TP53"]}, GENE).reward == 0.7
    # output_text wins when it has text
    assert build().grade({"output_text": "TP53", "output_json": ["BRCA1", "TP53"]}, GENE).reward == 1.0


def test_input_from_a_json_field(registry):
    grader = load_spec(
        {"type": "ranked_list", "input": "{{ sample.output_json.genes }}", "reference": "{{ item.gene }}"},
        registry=registry,
    )
    result = grader.grade('{"genes": ["BRCA1", "TP53 (likely)"], "notes": "..."}', GENE)
    assert (result.reward, result.metadata["rank"]) == (0.7, 2)
    # the field holds text: read as text
    assert grader.grade('{"genes": "1. TP53\\n2. BRCA1"}', GENE).reward == 1.0
    # the field holds an object
    result = grader.grade('{"genes": {"first": "TP53"}}', GENE)
    assert (result.status, result.reason) == (
        Status.PARSE_ERROR,
        "the input is a JSON object (keys: first), not a list; point `input` at the list, e.g. {{ sample.output_json.genes }}",
    )
    # the field holds null
    assert grader.grade('{"genes": null}', GENE).reason == "the input is null, not a list"


def test_item_field(build):
    grader = build(item_field="symbol")
    result = grader.grade('[{"symbol": "BRCA1", "p": 0.6}, {"symbol": "TP53", "p": 0.3}]', GENE)
    assert result.reward == 0.7
    result = grader.grade('[{"gene": "TP53"}]', GENE)
    assert (result.status, result.reason) == (Status.PARSE_ERROR, "list item 1 has no field 'symbol' (keys: gene)")


def test_extract(build):
    grader = build(extract=r"\b([A-Z][A-Z0-9]{1,9})\b")
    result = grader.grade("I would test BRCA1 first, then TP53, then ATM.", GENE)
    assert (result.reward, result.metadata["list_length"]) == (0.7, 3)
    # extract that finds nothing: an empty list
    assert build(extract=r"GENE=(\w+)").grade("nothing here", GENE).reason == "the list is empty"


def test_extract_timeout(build):
    result = build(extract=r"(a+)+$", regex_timeout=0.05).grade("a" * 5000 + "!", GENE)
    assert (result.status, result.error_codes()) == (Status.TIMEOUT, {".": "timeout_error"})


def test_empty_list_is_ok_and_zero(build):
    for text in ("", "[]", "   "):
        result = build().grade(text, GENE)
        assert (result.reward, result.status, result.reason) == (0.0, Status.OK, "the list is empty")
        assert result.metadata == {"rank": None, "list_length": 0, "duplicates": 0}


# --- guards against reward hacking --------------------------------------------------------------------

STUFFED = ", ".join(["TP53"] + [f"GENE{n}" for n in range(300)])


@pytest.mark.parametrize(
    ("fields", "text", "reward"),
    [
        # hundreds of genes with the right one first: 0 by default
        ({}, STUFFED, 0.0),
        # a penalty of 0.5 halves it
        ({"too_long_penalty": 0.5}, STUFFED, 0.5),
        # exactly max_items is allowed
        ({"max_items": 3}, "TP53, A, B", 1.0),
        # one more is not
        ({"max_items": 3}, "TP53, A, B, C", 0.0),
        # duplicates do not count towards max_items (they have their own penalty)
        ({"max_items": 2}, "TP53, A, A, TP53", 0.8),
        # no limit
        ({"max_items": None}, STUFFED, 1.0),
    ],
    ids=["stuffed", "half-penalty", "at-limit", "over-limit", "duplicates-not-length", "no-limit"],
)
def test_max_items(build, fields, text, reward):
    assert build(**fields).grade(text, GENE).reward == reward


def test_stuffed_list_reason(build):
    result = build().grade(STUFFED, GENE)
    assert result.reason == "TP53 at rank 1 of 301; 301 items, over max_items=20: reward x0"
    # a rejected list ranks nothing (so top@k does not count it), but says where the answer was
    assert result.metadata == {"rank": None, "list_length": 301, "duplicates": 0, "rank_before_guard": 1}
    # with a partial penalty the list is graded, and ranked
    assert build(too_long_penalty=0.5).grade(STUFFED, GENE).metadata["rank"] == 1


def test_stuffing_never_beats_a_short_right_answer(build):
    grader = build()
    honest = grader.grade("TP53, BRCA1", GENE).reward
    stuffed = [grader.grade(", ".join(order), GENE).reward for order in (
        ["TP53"] + [f"G{n}" for n in range(25)],
        [f"G{n}" for n in range(25)] + ["TP53"],
        ["TP53"] * 30,
    )]
    assert honest == 1.0 and max(stuffed) < 0.5


# --- hostile input: statuses, never a crash or a hang -----------------------------------------------


@pytest.mark.parametrize(
    ("sample", "status", "reward"),
    [
        # 10,000 items as text, the answer last: over max_items
        (", ".join(f"G{n}" for n in range(9_999)) + ", TP53", Status.OK, 0.0),
        # 10,000 numbered lines
        ("\n".join(f"{n}. G{n}" for n in range(1, 10_001)), Status.OK, 0.0),
        # 10,000 items as a JSON array
        (json.dumps([f"G{n}" for n in range(10_000)]), Status.OK, 0.0),
        # one item of a megabyte
        ("TP53, " + "A" * 1_000_000, Status.PARSE_ERROR, 0.0),
        ({"output_json": ["TP53", "B" * 1_000_000]}, Status.PARSE_ERROR, 0.0),
        # deeply nested JSON: not parsed as JSON, and no list in it
        ("[" * 100_000 + "]" * 100_000, Status.PARSE_ERROR, 0.0),
        # a JSON string is one item; a number too
        ('"TP53"', Status.OK, 1.0),
        ("53", Status.OK, 0.0),
        # brackets and quotes everywhere
        ('[" ' * 50_000, Status.PARSE_ERROR, 0.0),
        # many colons, dashes and parentheses on one line
        ("TP53" + " - (" * 100_000, Status.OK, 1.0),
        # a long run of spaces between two items (a separator pattern once backtracked over it: n^2)
        ("TP53" + " " * 300_000 + "then BRCA1", Status.OK, 1.0),
        # a markdown-table-like line of 300,000 cells
        ("| " * 300_000, Status.PARSE_ERROR, 0.0),
    ],
    ids=[
        "10k-text",
        "10k-lines",
        "10k-json",
        "1mb-item",
        "1mb-json-item",
        "deep-json",
        "json-string",
        "number",
        "unclosed-brackets",
        "annotation-soup",
        "space-run",
        "pipes",
    ],
)
def test_hostile_input(build, sample, status, reward):
    result = build().grade(sample, GENE)
    assert (result.status, result.reward) == (status, reward)


def test_a_megabyte_reference(build):
    result = build().grade("TP53", {"gene": "X" * 1_000_000})
    assert (result.status, result.reward) == (Status.OK, 0.0)
    # found, it is named in the reason, shortened
    result = build(input="{{ item.gene }}").grade("", {"gene": "X" * 500_000})
    assert (result.reward, result.reason) == (1.0, "X" * 77 + "... at rank 1 of 1")


@pytest.mark.parametrize(
    "lookalike",
    [
        "ТР53",  # Cyrillic Te and Er
        "TΡ53",  # Greek Rho
        "ＴＰ５３",  # full-width
        "T\u200dP53",  # zero-width joiner
        "TP５3",  # one full-width digit
    ],
    ids=["cyrillic", "greek", "fullwidth", "zwj", "mixed-digit"],
)
def test_lookalikes_of_a_gene_symbol(build, lookalike):
    # folded by default, never matched when rejected, never a crash
    assert build().grade(lookalike, GENE).reward == 1.0
    rejected = build(lookalikes="reject").grade(lookalike, GENE)
    assert rejected.status is Status.OK
    expected = 0.0 if lookalike in ("ТР53", "TΡ53") else 1.0  # NFKC and invisible characters are not lookalikes
    assert rejected.reward == expected


# --- aliases -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "table"),
    [
        # HGNC-style TSV with a header; pipes and commas within cells
        ("tsv", "Approved symbol\tAlias symbols\tPrevious symbols\nTP53\tp53, LFS1\t\nCFTR\tABCC7|CF\tMRP7\n",
         {"TP53": ["p53", "LFS1"], "CFTR": ["ABCC7", "CF", "MRP7"]}),
        # HGNC's complete set: hgnc_id first, symbol later, quoted pipe-separated alias and previous symbols
        ("tsv", 'hgnc_id\tsymbol\tname\talias_symbol\tprev_symbol\n'
         'HGNC:11998\tTP53\ttumor protein p53\t"p53|LFS1"\t\n'
         'HGNC:1884\tCFTR\tCF transmembrane conductance regulator\t"ABCC7|MRP7"\tCF\n',
         {"TP53": ["p53", "LFS1"], "CFTR": ["ABCC7", "MRP7", "CF"]}),
        # CSV without a header, comments and blank lines skipped
        ("csv", "# genes\nTP53,p53\n\nFBN1,MFS1;WMS\n", {"TP53": ["p53"], "FBN1": ["MFS1", "WMS"]}),
        # JSON: a string or a list of aliases
        ("json", '{"TP53": "p53", "FBN1": ["MFS1"]}', {"TP53": ["p53"], "FBN1": ["MFS1"]}),
    ],
    ids=["hgnc-tsv", "hgnc-complete-set", "csv", "json"],
)
def test_parse_alias_text(kind, text, table):
    assert parse_alias_text(text, kind) == table


def test_alias_conflicts():
    normaliser = Normaliser(casefold=True, ignore_punctuation=True, lookalikes="fold")
    # "A" is a canonical name and an alias of B: it stays A; "X" is claimed by A and B: ambiguous
    normaliser.add_aliases({"A": ["X", "a1"], "B": ["A", "X"]})
    assert [normaliser.canonical(name) for name in ("A", "a-1", "X", "B")] == ["a", "a", "x", "b"]


def test_aliases_file(tmp_path, monkeypatch, registry):
    (tmp_path / "aliases.tsv").write_text("symbol\taliases\nTP53\tp53|LFS1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    grader = load_spec(
        {"type": "ranked_list", "reference": "{{ item.gene }}", "aliases_file": "aliases.tsv"}, registry=registry
    )
    assert grader.grade("BRCA1, LFS1", GENE).reward == 0.7
    assert grader.config.model_dump()["aliases_file"] == "aliases.tsv"
    assert pickle.loads(pickle.dumps(grader)).grade("lfs-1", GENE).reward == 1.0


def test_aliases_file_errors(tmp_path):
    with pytest.raises(ValueError, match=r"alias file '.*nope.tsv' not found; relative paths start from the spec file's folder"):
        load_alias_file(str(tmp_path / "nope.tsv"), None)
    (tmp_path / "a.yaml").write_text("x")
    with pytest.raises(ValueError, match=r"the name must end in .csv, .tsv, .tab, .txt \(tab-separated\) or .json"):
        load_alias_file(str(tmp_path / "a.yaml"), None)
    (tmp_path / "a.json").write_text("[1]")
    with pytest.raises(ValueError, match=r"an alias table maps canonical names to aliases, not a list"):
        load_alias_file(str(tmp_path / "a.json"), None)


# --- spec errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"schedule": "table"}, "schedule: schedule table needs `table`: the rewards for rank 1, 2, ... (e.g. [1.0, 0.7])"),
        ({"table": [1.0]}, "table: `table` is only used with schedule table (schedule is exponential)"),
        ({"schedule": "table", "table": [1.0, 1.5]}, "table: table values must be in [0, 1], got 1.5"),
        ({"schedule": "table", "table": []}, "table: table is empty: give the reward for rank 1, 2, ..."),
        ({"schedule": "linear"}, "schedule: schedule linear needs `k`: the rank that still earns 1/k"),
        ({"decay": 1.0}, "decay: Input should be less than 1"),
        ({"max_items": 0}, "max_items: Input should be greater than 0"),
        ({"extract": "("}, "extract: invalid regex '(': missing ) at position 1"),
        ({"aliases": {"TP53": [1]}}, "aliases: aliases of 'TP53' must be a string or a list of strings"),
        ({"match": "some"}, "match: Input should be 'any' or 'all'"),
    ],
    ids=["table-missing", "table-unused", "table-range", "table-empty", "linear-without-k", "decay", "max-items",
         "extract", "aliases", "match"],
)
def test_spec_errors(build, fields, message):
    with pytest.raises(SpecError) as caught:
        build(**fields)
    assert [str(issue) for issue in caught.value.issues] == [message]


def test_gain_schedules():
    assert [round(gain(rank, "exponential", 0.7, None, None), 12) for rank in (1, 2, 3)] == [1.0, 0.7, 0.49]
    assert [gain(rank, "linear", 0.7, 4, None) for rank in (1, 4, 5)] == [1.0, 0.25, 0.0]
    assert [gain(rank, "reciprocal", 0.7, None, None) for rank in (1, 2, 4)] == [1.0, 0.5, 0.25]


def test_pickles_and_batches(build):
    grader = pickle.loads(pickle.dumps(build(aliases={"TP53": ["p53"]})))
    results = grader.grade_batch(["p53", "BRCA1, TP53", "I have no idea at all really."], [GENE] * 3)
    assert [(r.reward, r.status) for r in results] == [(1.0, Status.OK), (0.7, Status.OK), (0.0, Status.PARSE_ERROR)]


def test_docstring_example():
    assert RankedList(reference="{{ item.gene }}").grade("1. BRCA2\n2. TP53 (p53)", GENE).reward == 0.7


# --- the gene-ranking example (the default demo) ------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "gene_ranking"


def test_gene_ranking_example(registry, monkeypatch):
    monkeypatch.chdir(EXAMPLE.parent.parent)  # the spec's alias file path is relative to the repository root
    grader = load_spec(EXAMPLE / "spec.yaml", registry=registry)
    summary = Summary()
    by_kind: dict[int, list] = {}
    for scored in run(grader, read_tasks(EXAMPLE / "data.jsonl")):
        summary.add(scored.task.index, scored.result)
        by_kind.setdefault(scored.task.sample_index, []).append(scored.result)
    # 0: the causal gene first, as a numbered list: full marks in every case
    assert {result.reward for result in by_kind[0]} == {1.0}
    # 1: second: 0.7
    assert {result.reward for result in by_kind[1]} == {0.7}
    # 2: absent: 0, and ranked nothing
    assert {(result.reward, result.sub_rewards["genes"].metadata["rank"]) for result in by_kind[2]} == {(0.0, None)}
    # 3: 82 genes with the causal one first: 0, and not a top@1 hit
    stuffed = {(result.reward, result.sub_rewards["genes"].metadata["rank"]) for result in by_kind[3]}
    assert stuffed == {(0.0, None)}
    numbers = summary.to_dict()
    assert (numbers["rows"], numbers["samples"], numbers["statuses"]) == (22, 110, {"ok": 110})
    assert numbers["mean_reward"] == pytest.approx(0.4725, abs=1e-4)
    assert numbers["components"]["genes"] == {"mean_reward": pytest.approx(0.4879, abs=1e-4), "failures": {"parse_error": 3}}
    assert numbers["rankings"] == {
        "genes": {
            "samples": 110,
            "top@1": pytest.approx(35 / 110),  # 22 right-first + 13 of the rotating extras
            "top@5": pytest.approx(63 / 110),
            "top@max": pytest.approx(63 / 110),
            "mrr": pytest.approx(0.4409, abs=1e-4),
        }
    }


def test_gene_ranking_data_is_what_make_data_writes():
    spec = importlib.util.spec_from_file_location("make_data", EXAMPLE / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (EXAMPLE / "data.jsonl").read_text(encoding="utf-8").splitlines() == module.lines()


def test_gene_ranking_aliases_cover_every_causal_gene():
    table = load_alias_file(str(EXAMPLE / "aliases.tsv"), None).table
    genes = {gene for line in (EXAMPLE / "data.jsonl").read_text().splitlines() for gene in json.loads(line)["genes"]}
    assert genes <= set(table)


def test_the_docs_page_example(registry, monkeypatch):
    monkeypatch.chdir(EXAMPLE.parent.parent)
    grader = load_spec(
        {
            "type": "ranked_list",
            "name": "genes",
            "reference": "{{ item.gene }}",
            "schedule": "exponential",
            "decay": 0.7,
            "max_items": 10,
            "aliases_file": "examples/gene_ranking/aliases.tsv",
        },
        registry=registry,
    )
    stuffed = "\n".join(["TP53"] + [f"GENE{n}" for n in range(299)])
    expected = [
        ("1. TP53\n2. BRCA1", 1.0, {"rank": 1, "list_length": 2, "duplicates": 0}),
        ("Most likely: BRCA1 (family history), p53", 0.7, {"rank": 2, "list_length": 2, "duplicates": 0}),
        ('["BRCA1", "ATM"]', 0.0, {"rank": None, "list_length": 2, "duplicates": 0}),
        (stuffed, 0.0, {"rank": None, "rank_before_guard": 1, "list_length": 300, "duplicates": 0}),
        ("", 0.0, {"rank": None, "list_length": 0, "duplicates": 0}),
    ]
    for text, reward, metadata in expected:
        result = grader.grade(text, GENE)
        assert (result.status, result.reward, result.metadata) == (Status.OK, reward, metadata), text[:40]
    assert grader.grade(stuffed, GENE).reason == "TP53 at rank 1 of 300; 300 items, over max_items=10: reward x0"
