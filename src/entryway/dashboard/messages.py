"""What a dashboard page says when a service refuses a form: the contract error's message, then each invalid
field's reason (unless the message already says it), so the person sees what to change where."""

from __future__ import annotations

from entryway.model.errors import ApiError


def refusal_text(exc: ApiError) -> str:
    details = "; ".join(f"{v.field}: {v.description}" for v in exc.violations if v.description not in exc.message)
    return exc.message + (f" — {details}" if details else "")
