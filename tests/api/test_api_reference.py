"""docs/api-reference.md is generated from the OpenAPI document the server serves, and is up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed

TOOL = Path(__file__).parents[2] / "tools" / "api_reference.py"


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("entryway_tools_api_reference", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_reference_matches_the_served_document(rt: Runtime, seed: DevSeed) -> None:
    tool = load_tool()
    with TestClient(create_app(rt), base_url=seed.environment.url) as http:
        served = http.get("/api/v1/openapi.json").json()
    expected = tool.render(served)
    assert tool.TARGET.read_text() == expected, (
        "docs/api-reference.md is stale: run .venv/bin/python tools/api_reference.py"
    )
    assert tool.main(["--check"]) == 0


def test_every_call_is_in_the_reference(rt: Runtime, seed: DevSeed) -> None:
    tool = load_tool()
    text = tool.TARGET.read_text()
    document = tool.served_document()
    calls = [(method, path) for path, item in document["paths"].items() for method in item]
    assert len(calls) >= 30
    for method, path in calls:
        assert f"## `{method.upper()} {path}`" in text
    assert "`display_name` | string | yes" in text  # a request body field
    assert "`Idempotency-Key` | header" in text
