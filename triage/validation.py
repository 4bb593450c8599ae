"""Turn Pydantic validation errors into messages that name the field and the allowed values."""

from __future__ import annotations

import typing

from pydantic import ValidationError

from triage.models import Case


def _allowed(field: str) -> str:
    info = Case.model_fields.get(field)
    if info is None:
        return ""
    ann = info.annotation
    values: list[str] = []

    def walk(t) -> None:
        origin = typing.get_origin(t)
        if origin is typing.Literal:
            values.extend(str(a) for a in typing.get_args(t))
        else:
            for a in typing.get_args(t):
                walk(a)

    walk(ann)
    if values:
        return "allowed values: " + ", ".join(values)
    if info.metadata:
        bounds = {type(m).__name__: m for m in info.metadata}
        lo = getattr(bounds.get("Ge"), "ge", None)
        hi = getattr(bounds.get("Le"), "le", None)
        if lo is not None and hi is not None:
            return f"allowed values: whole years from {lo} to {hi}"
    return ""


def _shown(value, limit: int = 60) -> str:
    """The value as the person wrote it, cut short when it is long."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return text[: limit - 4] + ("...'" if isinstance(value, str) else "...")


MAX_LINE = 500  # a field name or value pasted by mistake can be a megabyte long


def describe(exc: ValidationError, prefix: str = "") -> str:
    """One line per problem: ``field: what is wrong (allowed values: …)``."""
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"]]
        path = ""
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        field = str(loc[0]) if loc else ""
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = f"{path}: unknown field; allowed fields: {', '.join(Case.model_fields)}"
        elif kind == "missing":
            msg = f"{path}: required field is missing"
        elif kind == "literal_error" and field == "version":
            msg = f"version: {_shown(err.get('input'))} is not supported; allowed values: 1"
        elif kind == "value_error" and not path:
            msg = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        elif kind == "string_unicode":  # a lone surrogate escape such as "\\ud800"
            msg = f"{path or 'a field name'}: contains a broken character (a lone \\u escape), not text"
        elif kind == "model_type":
            msg = f"{path or 'case'}: expected a JSON object with the case fields"
        else:
            got = err.get("input")
            allowed = _allowed(field)
            text = err["msg"]
            if kind == "literal_error":
                text = f"{_shown(got)} is not a known value"
            msg = f"{path}: {text}" + (f" ({allowed})" if allowed else "")
        if len(msg) > MAX_LINE:
            msg = msg[: MAX_LINE - 3] + "..."
        lines.append(prefix + msg)
    return "\n".join(lines)
