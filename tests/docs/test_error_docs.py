"""Every contract error code is documented, so no user meets a code the docs do not explain."""

from __future__ import annotations

from pathlib import Path

import pytest

from entryway.model.errors import ALL_LOGIN_ERRORS, PAGE_ERRORS

ERRORS_DOC = Path(__file__).parents[2] / "docs" / "errors.md"


@pytest.mark.parametrize("code", sorted({*ALL_LOGIN_ERRORS, *PAGE_ERRORS}))
def test_error_code_is_documented(code: str) -> None:
    assert f"| `{code}` |" in ERRORS_DOC.read_text()
