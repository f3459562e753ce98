"""docs/saml-security.md names the test proving each check: those tests must exist, so the page stays true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "saml-security.md"


def test_every_test_the_security_page_cites_exists() -> None:
    brackets = re.findall(r"\[(tests?[^\]]*)\]", DOC.read_text())
    cited = [part.partition(":")[::2] for b in brackets for part in re.split(r",\s*(?=tests?[/_])", b)]
    assert len(cited) >= 20
    for name, detail in cited:
        path = ROOT / name if name.startswith("tests/") else ROOT / "tests/connectors/saml" / f"{name}.py"
        assert path.exists(), name
        source = "".join(p.read_text() for p in ([path] if path.is_file() else sorted(path.glob("test_*.py"))))
        for test in re.findall(r"`([a-z0-9_]+)(?:…)?`", detail):
            assert f"def test_{test}" in source, (name, test)
