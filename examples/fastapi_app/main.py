"""A small FastAPI app that signs users in through Entryway, shows their profile, and signs them out.

Run it next to `make dev` (see README.md):  ../../.venv/bin/python main.py   → http://localhost:3000
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from html import escape
from pathlib import Path

from entryway_sdk import EntrywayClient, User
from entryway_sdk.frameworks.fastapi import EntrywayAuth
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

HERE = Path(__file__).parent
DEFAULT_APP_URL = "http://localhost:3000"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (the three lines `make dev` prints); blank lines and # comments are skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def settings(env_file: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The .env file's values, overridden by the process environment."""
    return {**read_env_file(env_file or HERE / ".env"), **(os.environ if environ is None else environ)}


def _page(body: str) -> HTMLResponse:
    style = "font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5"
    return HTMLResponse(f'<!doctype html><title>Entryway example</title><main style="{style}">{body}</main>')


def _profile(user: User) -> str:
    rows = {
        "email": user.email,
        "name": user.name,
        "given name": user.given_name,
        "family name": user.family_name,
        "user ID (sub)": user.id,
        "organization": user.identities[0].organization_id if user.identities else None,
        "connection": user.identities[0].connection_id if user.identities else None,
        "groups": ", ".join(user.groups) or None,
    }
    cells = "".join(
        f"<tr><th align=left>{escape(k)}</th><td>{escape(str(v or '—'))}</td></tr>" for k, v in rows.items()
    )
    return f"<table>{cells}</table>"


def create_app(env_file: Path | None = None, environ: Mapping[str, str] | None = None) -> FastAPI:
    config = settings(env_file, environ)
    client = EntrywayClient.from_env(config)
    app_url = config.get("APP_URL", DEFAULT_APP_URL).rstrip("/")
    auth = EntrywayAuth(
        client,
        # a fixed APP_SECRET_KEY keeps users signed in across restarts; a random one signs them out
        secret_key=config.get("APP_SECRET_KEY") or secrets.token_urlsafe(32),
        callback_url=f"{app_url}/callback",
        post_logout_redirect_uri=config.get("APP_POST_LOGOUT_URL") or None,
    )
    app = FastAPI(title="Entryway example")
    app.include_router(auth.router)

    @app.get("/", response_class=HTMLResponse)
    def home(user: User | None = Depends(auth.optional_user)) -> HTMLResponse:
        if user is None:
            return _page(
                "<h1>Entryway example</h1>"
                '<form action="/login"><label>Work email <input name="login_hint" type="email" '
                'value="jane@example.com" required></label> <button>Sign in with SSO</button></form>'
                "<p>In development, any address at example.com goes through the IdP simulator.</p>"
            )
        return _page(f"<h1>Signed in</h1>{_profile(user)}<p><a href='/logout'>Sign out</a></p>")

    return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=3000)
