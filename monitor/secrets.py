"""Secret values: reading `${file:...}` safely, refusing multi-line values, and every form a secret
can take in text (so the redactor masks all of them).

A secret leaks in more shapes than its raw value: a two-line token leaks its second line on its
own, a log line renders it JSON-escaped (`\\n`), a URL carries it percent-encoded, an exception
message shows its repr. `secret_forms` lists them all; `monitor.logs.redact` and the config's error
lines mask every one.
"""

from __future__ import annotations

import json
import os
import stat
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, quote_plus

MAX_SECRET_FILE = 64 * 1024
MIN_MASKED = 4  # shorter fragments would mask ordinary words (and are no secret on their own)


class SecretFileError(Exception):
    """A `${file:...}` reference that cannot be used; the message says why."""


@lru_cache(maxsize=1024)
def secret_forms(secret: str) -> tuple[str, ...]:
    """Every text form of `secret` worth masking, longest first."""
    pieces = {secret, *secret.splitlines(), *secret.split("\r"), *secret.split("\n")}
    forms: set[str] = set()
    for piece in pieces:
        piece_forms = {
            piece,
            piece.strip(),
            json.dumps(piece)[1:-1],
            json.dumps(piece, ensure_ascii=False)[1:-1],
            repr(piece)[1:-1],
            quote(piece, safe=""),
            quote(piece),
            quote_plus(piece),
        }
        forms.update(f for f in piece_forms if len(f) >= MIN_MASKED)
    return tuple(sorted(forms, key=len, reverse=True))


def mask_secrets(text: str, secrets: set[str] | frozenset[str], replacement: str = "[REDACTED]") -> str:
    """`text` with every form of every secret replaced."""
    if not text:
        return text
    for form in _all_forms(frozenset(secrets)):
        if form in text:
            text = text.replace(form, replacement)
    return text


@lru_cache(maxsize=64)
def _all_forms(secrets: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted({form for secret in secrets for form in secret_forms(secret)}, key=len, reverse=True))


def line_break_problem(value: str) -> str | None:
    """Why a secret value cannot be used, if it still holds a line break."""
    if "\r" in value or "\n" in value:
        return "contains a line break (CR or LF); a secret is one line"
    return None


def read_secret_file(path: Path) -> tuple[str, str | None]:
    """A `${file:...}` secret: (value without one trailing newline, a warning or None).

    Only a regular file of at most 64 KB is read (never a device, a FIFO or a directory), opened
    non-blocking so that a FIFO swapped in after the check cannot hang the loader.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SecretFileError(exc.strerror or type(exc).__name__) from None
    _check_regular(info)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise SecretFileError(exc.strerror or type(exc).__name__) from None
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        _check_regular(opened)
        raw = handle.read(MAX_SECRET_FILE + 1)
    if len(raw) > MAX_SECRET_FILE:
        raise SecretFileError(f"larger than {MAX_SECRET_FILE // 1024} KB; not a secret file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretFileError("not UTF-8 text") from None
    value = text.removesuffix("\n").removesuffix("\r")
    warning = None
    if opened.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        warning = (
            f"is readable by {_who(opened.st_mode)} (mode {stat.S_IMODE(opened.st_mode):04o}); chmod 600 it"
        )
    return value, warning


def _check_regular(info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise SecretFileError("not a regular file")
    if info.st_size > MAX_SECRET_FILE:
        raise SecretFileError(f"larger than {MAX_SECRET_FILE // 1024} KB; not a secret file")


def _who(mode: int) -> str:
    readers = [name for bit, name in ((stat.S_IRGRP, "its group"), (stat.S_IROTH, "others")) if mode & bit]
    return " and ".join(readers)
