"""`socialmon detect-language`: label texts on stdin as cy, en, cy+en, other or unknown.

Kept light on imports (no database or settings modules) so that a thousand lines, start-up
included, take well under two seconds.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import IO, Any

import click

_MISSING = object()


class _BadLine(ValueError):
    """An input line that cannot be turned into a text."""


def _parse_line(raw: bytes) -> tuple[Any, str]:
    """(id or _MISSING, text) for one input line: a JSON object with `text`, or the line itself."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadLine(f"invalid UTF-8 at byte {exc.start}") from None
    line = line.rstrip("\r\n")
    if line.lstrip().startswith("{"):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            text = obj.get("text")
            if not isinstance(text, str):
                raise _BadLine("JSON object without a string `text` field")
            return obj.get("id", _MISSING), text
    return _MISSING, line


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    yield from enumerate(stream, start=1)


def _answer(number: int, raw: bytes, as_json: bool, with_segments: bool) -> str:
    from monitor.language import classify

    try:
        item_id, text = _parse_line(raw)
    except _BadLine as exc:
        if as_json:
            return json.dumps({"line": number, "error": str(exc)}, ensure_ascii=False)
        return f"error: line {number}: {exc}"
    detection = classify(text)
    if not as_json:
        return detection.label
    out: dict[str, Any] = {}
    if item_id is not _MISSING:
        out["id"] = item_id
    out["label"] = detection.label
    out["confidence"] = detection.confidence
    if with_segments:
        out["segments"] = [
            {"text": s.text, "label": s.label, "confidence": s.confidence} for s in detection.segments
        ]
    return json.dumps(out, ensure_ascii=False)


@click.command("detect-language")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per input line.")
@click.option("--segments", "with_segments", is_flag=True, help="With --json, include the labelled segments.")
def detect_language(as_json: bool, with_segments: bool) -> None:
    """Label texts on stdin as cy, en, cy+en, other or unknown.

    Input is one text per line, or JSON Lines objects with a `text` field and an optional `id`
    (echoed back). Output is one answer per input line, in order. A bad line gets an error answer
    (`{"line": N, "error": ...}` with --json) and the run goes on.
    """
    from monitor.language import get_detector

    try:
        get_detector()
    except Exception as exc:  # a broken install is the one fatal case
        raise click.ClickException(f"cannot load the language detector: {exc}") from exc
    stdin = sys.stdin.buffer
    out = sys.stdout
    for number, raw in _lines(stdin):
        out.write(_answer(number, raw, as_json, with_segments) + "\n")
    out.flush()
