"""What an input file that is not JSON Lines looks like (compressed, binary, a JSON array, a
pretty-printed JSON document, CSV or TSV), and how to convert it; ``rows.check_json_lines`` says it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["looks_like"]

_HEAD_BYTES = 8192
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed", "decompress it first, e.g. gunzip -k {file}"),
    (b"BZh", "bzip2-compressed", "decompress it first, e.g. bunzip2 -k {file}"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it first, e.g. unxz -k {file}"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first, e.g. unzstd {file}"),
    (b"PK\x03\x04", "a zip archive", "extract the JSON Lines file from it"),
    (b"PAR1", "a Parquet file",
     "convert it, e.g. pandas.read_parquet({file!r}).to_json({out!r}, orient='records', lines=True)"),
)
_TABLE_ADVICE = "convert it, e.g. pandas.read_csv({file!r}{sep}).to_json({out!r}, orient='records', lines=True)"


def looks_like(path: str | Path) -> tuple[str | None, str]:
    """What a file that is not JSON Lines seems to be, and how to convert it; (None, "") if unknown."""
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    kind, advice = _kind(head)
    out = Path(path).with_suffix(".jsonl")
    out = out if out != Path(path) else Path(f"{path}.jsonl")
    return kind, advice.format(file=str(path), out=str(out), sep="")


def _kind(head: bytes) -> tuple[str | None, str]:
    """What the first bytes of a file say it is, and the advice (with ``{file}``, ``{out}`` to fill in)."""
    for magic, kind, advice in _MAGIC:
        if head.startswith(magic):
            return kind, advice
    text = head.removeprefix(b"\xef\xbb\xbf")
    if b"\x00" in text or not _is_utf8(text):
        return "a binary file", "give the rows as UTF-8 text, one JSON object per line"
    header = text.lstrip().split(b"\n", 1)[0]
    if header.startswith(b"["):
        return "a JSON array", "write one object per line, e.g. jq -c '.[]' {file} > {out}"
    if header.strip() == b"{":  # how a pretty-printer opens an object
        return (
            "one JSON document over several lines (pretty-printed?)",
            "write each object on one line, e.g. jq -c . {file} > {out}",
        )
    if b"\t" in header:
        return "tab-separated (TSV)", _TABLE_ADVICE.replace("{sep}", ", sep='\\t'")
    if b"," in header or b";" in header:
        return "comma-separated (CSV)", _TABLE_ADVICE
    return None, ""


def _is_utf8(head: bytes) -> bool:
    """True when ``head`` decodes as UTF-8, allowing a character cut at the end of the chunk."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True
