"""Corpus rows: loading, validating, and importing a user's CSV or JSONL.

A row is ``{"text", "content_type", "language"}`` plus the optional prompt
fields of :class:`generator.prompt.GenerationSpec` (channel, tone, persona,
brand, product, facts, keywords). Other keys or columns are ignored, so a
spreadsheet with extra columns imports as is.

In CSV, list fields (tone, facts, keywords) are either a JSON array or
values separated by ``;``; persona is a JSON object. Every problem is
reported with the file and line it is on, e.g.
``corpus.csv:14: content_type must be one of ad_headline, ...``, so a person
can fix the file; nothing is written unless every row is valid.

This module imports neither torch nor tokenizers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from generator.prompt import LENGTH_LIMITS, GenerationSpec, copy_length

SPEC_FIELDS = tuple(
    f for f in GenerationSpec.__dataclass_fields__ if f != "content_type"
)
LIST_FIELDS = ("tone", "facts", "keywords")
MAX_ERRORS = 20


class CorpusError(ValueError):
    """A corpus file or row is malformed; ``errors`` has one line per problem."""

    def __init__(self, errors: list[str], more: int = 0) -> None:
        self.errors = errors
        suffix = (
            f" (and {len(errors) - 1 + more} more)" if len(errors) + more > 1 else ""
        )
        super().__init__(errors[0] + suffix)


def validate_row(row: Any) -> dict[str, Any]:
    """The row normalized to the corpus schema; ValueError saying what is wrong."""
    if not isinstance(row, dict):
        raise ValueError(f"row must be a JSON object, got {type(row).__name__}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text is required and must be a non-empty string")
    for key in ("content_type", "language"):
        if key not in row or row[key] in (None, ""):
            raise ValueError(f"{key} is required")
    spec = GenerationSpec.from_dict(
        {k: row[k] for k in ("content_type", *SPEC_FIELDS) if k in row}, strict=False
    )
    low, high = LENGTH_LIMITS[spec.content_type]
    length = copy_length(text)
    if length > high:
        raise ValueError(
            f"text is {length} characters long, over the {high} allowed for "
            f"{spec.content_type} (wide characters count 2)"
        )
    return {"text": text, **spec.to_dict()}


def _csv_value(key: str, value: str) -> Any:
    value = value.strip()
    if key in LIST_FIELDS:
        if value.startswith("["):
            return _json_cell(key, value)
        return [v.strip() for v in value.split(";") if v.strip()]
    if key == "persona":
        return _json_cell(key, value) if value else {}
    return value


def _json_cell(key: str, value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{key} is not valid JSON ({exc.msg})") from exc


def _read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                yield number, ValueError(f"line is not UTF-8 ({exc.reason})")
                continue
            if not line:
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, ValueError(f"bad JSON: {exc.msg} at column {exc.colno}")


def _read_csv(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        data = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        yield line, ValueError(f"file is not UTF-8 ({exc.reason})")
        return
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    missing = [c for c in ("text", "content_type", "language") if c not in header]
    if missing:
        yield 1, ValueError(f"header lacks column(s): {', '.join(missing)}")
        return
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, ValueError(f"bad CSV: {exc}")
            return
        number, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield (
                number,
                ValueError(f"row has {len(cells)} cells, the header has {len(header)}"),
            )
            continue
        row: dict[str, Any] = {}
        try:
            for key, cell in zip(header, cells, strict=True):
                if key == "text":
                    row[key] = cell
                elif key in ("content_type", "language", *SPEC_FIELDS):
                    row[key] = _csv_value(key, cell)
        except ValueError as exc:
            yield number, exc
            continue
        yield number, row


def read_corpus(path: str | Path) -> list[dict[str, Any]]:
    """Validated rows of a .jsonl or .csv file; CorpusError naming each bad line."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError([f"{path}: no such corpus file"])
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise CorpusError([f"{path}: corpus must be a .jsonl or .csv file"])
    reader = _read_csv if suffix == ".csv" else _read_jsonl
    return _validated(((f"{path}:{n}", r) for n, r in reader(path)), str(path))


def validate_rows(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Validated in-memory rows; errors name the row by its 1-based position."""
    return _validated(((f"row {i}", r) for i, r in enumerate(rows, start=1)), "rows")


def _validated(items: Iterable[tuple[str, Any]], name: str) -> list[dict[str, Any]]:
    rows, errors, more = [], [], 0
    for where, row in items:
        try:
            if isinstance(row, Exception):
                raise row
            rows.append(validate_row(row))
        except ValueError as exc:
            if len(errors) < MAX_ERRORS:
                errors.append(f"{where}: {exc}")
            else:
                more += 1
    if errors:
        raise CorpusError(errors, more)
    if not rows:
        raise CorpusError([f"{name}: no rows"])
    return rows


def load_rows(sources: str | Path | Iterable[Any]) -> list[dict[str, Any]]:
    """Rows from a path, a list of paths, or in-memory row dicts, validated."""
    if isinstance(sources, str | Path):
        return read_corpus(sources)
    sources = list(sources)
    if sources and all(isinstance(s, str | Path) for s in sources):
        return [row for s in sources for row in read_corpus(s)]
    return validate_rows(sources)


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> str:
    """Write rows as canonical JSONL (atomic rename); returns the sha256."""
    path = Path(path)
    data = "".join(
        json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(data, encoding="utf-8")
    tmp.replace(path)
    return hashlib.sha256(data.encode()).hexdigest()


def rows_hash(rows: Iterable[dict[str, Any]]) -> str:
    """sha256 of the canonical JSON of rows: the data hash in checkpoint metadata."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def import_corpus(source: str | Path, destination: str | Path) -> int:
    """Validate a CSV/JSONL corpus and write it as JSONL; returns the row count."""
    rows = read_corpus(source)
    write_jsonl(destination, rows)
    return len(rows)
