"""Is an input file JSON Lines? When it is not, say what it looks like and how to convert it.

A file is taken as JSON Lines when one of its first ``SNIFF_LINES`` non-blank lines is a JSON
object; a bad line among good ones is the reader's business (an error row), not a format error.
Otherwise the error names what the file looks like (compressed, binary, a JSON array, a
pretty-printed JSON document, CSV or TSV) in one line, with the file and what to do.
"""

from __future__ import annotations

from pathlib import Path

from ..kernel.errors import RftError
from .jsonl import BadLine, parse_line, read_lines

__all__ = ["SNIFF_LINES", "check_json_lines"]

SNIFF_LINES = 20
"""How many non-blank lines are read to decide that a file is JSON Lines."""

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


def check_json_lines(
    path: str | Path, what: str = "data file", *, allow_empty: bool = False, empty_option: str | None = None
) -> None:
    """Raise RftError unless ``path`` holds JSON Lines (one JSON object per line).

    ``what`` names the file in messages ("data file", "scores file"). An empty file (no
    non-blank line) is an error too unless ``allow_empty``; ``empty_option`` names the command's
    option that accepts one (e.g. ``"--allow-empty"``) in that error.
    """
    first_problem = None
    for count, (number, raw) in enumerate(read_lines(path, what), start=1):
        try:
            if isinstance(parse_line(raw), dict):
                return
            problem = f"line {number} is JSON but not an object"
        except BadLine as exc:
            problem = f"line {number}: {exc}"
        first_problem = first_problem or problem
        if count == SNIFF_LINES:
            break
    if first_problem is None:
        if allow_empty:
            return
        accept = f", or pass {empty_option} to accept it" if empty_option else ""
        raise RftError(f"{path}: the {what} is empty (no rows): give it one JSON object per line{accept}")
    kind, advice = _looks_like(path)
    if kind is None:
        raise RftError(
            f"{path}: the {what} is not JSON Lines (one JSON object per line): none of its first lines is an object "
            f"({first_problem})"
        )
    out = Path(path).with_suffix(".jsonl")
    out = out if out != Path(path) else Path(f"{path}.jsonl")
    advice = advice.format(file=str(path), out=str(out), sep="")
    raise RftError(f"{path}: the {what} is {kind}, not JSON Lines (one JSON object per line): {advice}")


def _looks_like(path: str | Path) -> tuple[str | None, str]:
    """What a file that is not JSON Lines seems to be, and how to convert it; (None, "") if unknown."""
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
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
