"""FastAPI routes for Entryway logins.

    auth = EntrywayAuth(EntrywayClient.from_env(), secret_key=..., callback_url="http://localhost:3000/callback")
    app.include_router(auth.router)            # GET /login, /callback, /logout

    @app.get("/")
    def home(user: User | None = Depends(auth.optional_user)): ...

`/login` takes a selector (`?login_hint=`, `?domain=`, `?organization_id=`, `?connection_id=`) and an optional
local `?return_to=`; registered as the environment's initiate-login URL it also answers IdP-initiated logins.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from entryway_sdk.client import EntrywayClient
from entryway_sdk.errors import EntrywayError
from entryway_sdk.frameworks.flow import (
    LOGIN_COOKIE,
    LOGIN_MAX_AGE,
    SESSION_COOKIE,
    LoginFailed,
    LoginFlow,
    Redirect,
)
from entryway_sdk.models import User


class EntrywayAuth:
    def __init__(
        self,
        client: EntrywayClient,
        *,
        secret_key: str | bytes,
        callback_url: str,
        after_login_path: str = "/",
        post_logout_redirect_uri: str | None = None,
        prefix: str = "",
    ) -> None:
        self.flow = LoginFlow(
            client,
            secret_key=secret_key,
            callback_url=callback_url,
            after_login_path=after_login_path,
            post_logout_redirect_uri=post_logout_redirect_uri,
        )
        self.router = APIRouter(prefix=prefix)
        self.router.add_api_route("/login", self.login, methods=["GET"], include_in_schema=False)
        self.router.add_api_route("/callback", self.callback, methods=["GET"], include_in_schema=False)
        self.router.add_api_route("/logout", self.logout, methods=["GET", "POST"], include_in_schema=False)

    def _respond(self, redirect: Redirect) -> Response:
        response = RedirectResponse(redirect.location, status_code=302)
        for name in redirect.clear_cookies:
            response.delete_cookie(name, path="/")
        for name, value in redirect.set_cookies.items():
            max_age = LOGIN_MAX_AGE if name == LOGIN_COOKIE else self.flow.session_max_age
            response.set_cookie(
                name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=self.flow.secure_cookies
            )
        response.headers["cache-control"] = "no-store"
        return response

    @staticmethod
    def _failure(exc: LoginFailed) -> Response:
        page = f"<h1>Sign-in failed</h1><p><code>{escape(exc.error)}</code>: {escape(exc.description)}</p>"
        return HTMLResponse(page + '<p><a href="/">Back</a></p>', status_code=400)

    def login(self, request: Request) -> Response:
        try:
            return self._respond(self.flow.start(request.query_params))
        except LoginFailed as exc:
            return self._failure(exc)
        except EntrywayError as exc:  # a bad selector or an invalid IdP-initiated token
            return self._failure(LoginFailed("invalid_request", str(exc)))

    def callback(self, request: Request) -> Response:
        try:
            return self._respond(self.flow.finish(request.query_params, request.cookies.get(LOGIN_COOKIE)))
        except LoginFailed as exc:
            return self._failure(exc)
        except EntrywayError as exc:
            return self._failure(LoginFailed("invalid_request", str(exc)))

    def logout(self, request: Request) -> Response:
        return self._respond(self.flow.logout(request.cookies.get(SESSION_COOKIE)))

    def optional_user(self, request: Request) -> User | None:
        """A dependency: the signed-in user, or None."""
        return self.flow.user(request.cookies.get(SESSION_COOKIE))

    def current_user(self, request: Request) -> User:
        """A dependency: the signed-in user, or 401."""
        user = self.optional_user(request)
        if user is None:
            raise HTTPException(401, "Sign in first: /login")
        return user
