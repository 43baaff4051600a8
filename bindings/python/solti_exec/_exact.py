"""What goes to the C API must arrive exactly as given, or be refused.

C strings end at the first NUL, so a NUL inside a text the library takes
whole (a runner name, a JSON document) would silently cut it. The wire
format is UTF-8 JSON: a lone surrogate (what ``os.fsdecode`` makes of bytes
that are not UTF-8, as in ``b"\\xff"``) has no UTF-8 form, and the library
would replace it with U+FFFD. Both are refused here, naming the input and,
inside a document, the variable or argument.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import SpecError

__all__ = ["c_text", "check_document", "parse_document"]


def _spec_error(message: str) -> SpecError:
    return SpecError(SpecError.CODE, "invalid task spec or runner configuration", message)  # type: ignore[arg-type]


def _lone_surrogate(text: str) -> int:
    """The index of the first lone surrogate in text, or -1."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return e.start
    return -1


def c_text(text: str, what: str) -> bytes:
    """text as the NUL-terminated UTF-8 a C call takes whole.

    Raises:
        ValueError: text holds a NUL (C would cut it there).
        SpecError: text holds a lone surrogate (it has no UTF-8 form).
    """
    nul = text.find("\0")
    if nul >= 0:
        raise ValueError(f"{what} contains a NUL character at index {nul}; C would cut it there")
    at = _lone_surrogate(text)
    if at >= 0:
        raise _spec_error(
            f"{what}: {text[at]!r} at index {at} is a lone surrogate (undecodable bytes?), "
            "which UTF-8 cannot carry"
        )
    return text.encode("utf-8")


def _where(path: str) -> str:
    return path or "the document"


def check_document(value: Any, what: str, path: str = "") -> None:
    """Refuses a lone surrogate anywhere in a wire document (keys included),
    naming where: ``env variable "K"``, ``kind.subprocess.mode.command.args[1]``.

    Raises:
        SpecError: the place and the index of the first one.
    """
    if isinstance(value, str):
        at = _lone_surrogate(value)
        if at >= 0:
            raise _spec_error(
                f"{what}: {_where(path)}: {value[at]!r} at index {at} is a lone surrogate "
                "(undecodable bytes?), which the UTF-8 wire format cannot carry exactly"
            )
    elif isinstance(value, dict):
        if set(value) == {"key", "value"} and isinstance(value["key"], str):
            where = path.rsplit("[", 1)[0]  # env[3] -> env: the variable's name says which
            check_document(value["key"], what, f"{where} variable name {value['key']!r}")
            check_document(value["value"], what, f"{where} variable {value['key']!r}")
            return
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                check_document(key, what, f"{sub} (the key)")
            check_document(item, what, sub)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_document(item, what, f"{path}[{i}]")


def parse_document(text: str, what: str, prefix: str) -> Any:
    """A JSON document given as text, parsed, for checks before the C call.
    prefix starts the message as the library's own would
    ("invalid runner configuration").

    Raises:
        ValueError: the text holds a NUL.
        SpecError: not valid JSON (the message names what and where), or a
            lone surrogate in it.
    """
    c_text(text, what)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise _spec_error(
            f"{prefix}: {what} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
        ) from None
    check_document(doc, what)
    return doc
