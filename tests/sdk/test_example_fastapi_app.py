"""examples/fastapi_app, run as a real server next to a real Entryway server, with a login through the simulator."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import uvicorn

from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.services.bootstrap import seed_development
from tests.sdk.simulated_browser import sign_in
from tests.support.server import free_port, running_server

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).parents[2] / "examples" / "fastapi_app" / "main.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("entryway_example_fastapi_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def serve(app: object, port: int) -> Iterator[str]:
    # log_config=None: uvicorn's own logging set-up would stop its loggers reaching the run-wide log scan.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the example app did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_example_logs_in_shows_the_profile_and_logs_out(rt: Runtime, tmp_path: Path) -> None:
    entryway_port, app_port = free_port(), free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    seed = seed_development(rt, f"http://127.0.0.1:{entryway_port}", f"{app_url}/callback")
    with rt.engine.begin() as conn:
        environments.add_redirect_uri(rt, conn, seed.environment, RedirectKind.POST_LOGOUT, f"{app_url}/")
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# as printed by make dev\n"
        f"ENTRYWAY_ENV_URL={seed.environment.url}\nENTRYWAY_CLIENT_ID={seed.client_id}\n"
        f"ENTRYWAY_CLIENT_SECRET={seed.plain_secret}\n\nAPP_URL={app_url}\nAPP_POST_LOGOUT_URL={app_url}/\n"
    )
    app = load_example().create_app(env_file, environ={})
    with (
        running_server(rt, entryway_port),
        serve(app, app_port),
        httpx.Client(follow_redirects=False, timeout=10) as browser,
    ):
        home = browser.get(f"{app_url}/")
        assert home.status_code == 200 and "Sign in with SSO" in home.text
        login = browser.get(f"{app_url}/login", params={"login_hint": "jane@example.com"})
        assert login.status_code == 302
        landed = sign_in(browser, login.headers["location"], "jane@example.com", first_name="Jane", last_name="Doe")
        assert landed.startswith(f"{app_url}/callback?")
        back = browser.get(landed)
        assert (back.status_code, back.headers["location"]) == (302, "/")
        profile = browser.get(f"{app_url}/")
        assert "Signed in" in profile.text and "jane@example.com" in profile.text and "Jane Doe" in profile.text
        assert seed.organization_id in profile.text
        out = browser.get(f"{app_url}/logout")
        signed_out = browser.get(out.headers["location"])
        assert (signed_out.status_code, signed_out.headers["location"]) == (302, f"{app_url}/")
        assert "Sign in with SSO" in browser.get(f"{app_url}/").text


def test_the_example_names_missing_settings(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ENTRYWAY_ENV_URL=http://localhost:8000\n")
    with pytest.raises(ValueError, match="ENTRYWAY_CLIENT_ID, ENTRYWAY_CLIENT_SECRET"):
        load_example().create_app(tmp_path / ".env", environ={})
