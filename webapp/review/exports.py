"""Approved copy as CSV or JSON, for the API and the browser download."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from django.http import HttpResponse

EXPORT_FIELDS = (
    "id",
    "campaign_id",
    "campaign",
    "content_type",
    "language",
    "persona",
    "text",
    "original_text",
    "edited",
    "score",
    "avg_stars",
    "rating_count",
    "approved_by",
    "approved_at",
    "model_version",
    "job_id",
    "seed",
)
# Spreadsheets run cells that start with these as formulas; a leading quote
# keeps marketing copy such as "=50% off" (or a hostile one) as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_rows(candidates: Iterable) -> list[dict]:
    """Rows of approved copy; ``candidates`` come from ``approved_copy()``."""
    rows = []
    for c in candidates:
        rows.append(
            {
                "id": c.pk,
                "campaign_id": c.campaign_id,
                "campaign": c.campaign.name,
                "content_type": c.content_type,
                "language": c.campaign.language,
                "persona": c.persona.name if c.persona else "",
                "text": c.current_text,
                "original_text": c.text,
                "edited": c.revision_count > 0,
                "score": round(c.score, 4),
                "avg_stars": round(c.avg_stars, 2) if c.avg_stars is not None else None,
                "rating_count": c.rating_count,
                "approved_by": c.status_changed_by.get_username()
                if c.status_changed_by
                else "",
                "approved_at": c.status_changed_at.isoformat()
                if c.status_changed_at
                else "",
                "model_version": c.model_version.name,
                "job_id": c.job_id,
                "seed": c.seed,
            }
        )
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_response(rows: list[dict], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    # A BOM so spreadsheet programs read UTF-8 (Chinese copy) correctly.
    response = HttpResponse(
        "\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def json_response(rows: list[dict], filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps({"count": len(rows), "results": rows}, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    return response
