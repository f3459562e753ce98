"""Flask routes for Entryway logins.

auth = EntrywayAuth(EntrywayClient.from_env(), secret_key=..., callback_url="http://localhost:3000/callback")
app.register_blueprint(auth.blueprint)     # GET /login, /callback, /logout

@app.get("/")
def home():
    user = auth.user()                      # None when signed out
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response, abort, redirect, request

from entryway_sdk.client import EntrywayClient
from entryway_sdk.errors import EntrywayError
from entryway_sdk.frameworks.flow import LOGIN_COOKIE, LOGIN_MAX_AGE, SESSION_COOKIE, LoginFailed, LoginFlow, Redirect
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
        name: str = "entryway",
        url_prefix: str = "",
    ) -> None:
        self.flow = LoginFlow(
            client,
            secret_key=secret_key,
            callback_url=callback_url,
            after_login_path=after_login_path,
            post_logout_redirect_uri=post_logout_redirect_uri,
        )
        self.blueprint = Blueprint(name, __name__, url_prefix=url_prefix or None)
        self.blueprint.add_url_rule("/login", "login", self._login, methods=["GET"])
        self.blueprint.add_url_rule("/callback", "callback", self._callback, methods=["GET"])
        self.blueprint.add_url_rule("/logout", "logout", self._logout, methods=["GET", "POST"])

    def _respond(self, target: Redirect) -> Response:
        response = redirect(target.location, code=302)
        for name in target.clear_cookies:
            response.delete_cookie(name, path="/")
        for name, value in target.set_cookies.items():
            max_age = LOGIN_MAX_AGE if name == LOGIN_COOKIE else self.flow.session_max_age
            response.set_cookie(
                name, value, max_age=max_age, path="/", httponly=True, samesite="Lax", secure=self.flow.secure_cookies
            )
        response.headers["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _failure(exc: LoginFailed) -> Response:
        page = f"<h1>Sign-in failed</h1><p><code>{escape(exc.error)}</code>: {escape(exc.description)}</p>"
        return Response(page + '<p><a href="/">Back</a></p>', status=400, mimetype="text/html")

    def _login(self) -> Response:
        try:
            return self._respond(self.flow.start(request.args))
        except LoginFailed as exc:
            return self._failure(exc)
        except EntrywayError as exc:
            return self._failure(LoginFailed("invalid_request", str(exc)))

    def _callback(self) -> Response:
        try:
            return self._respond(self.flow.finish(request.args, request.cookies.get(LOGIN_COOKIE)))
        except LoginFailed as exc:
            return self._failure(exc)
        except EntrywayError as exc:
            return self._failure(LoginFailed("invalid_request", str(exc)))

    def _logout(self) -> Response:
        return self._respond(self.flow.logout(request.cookies.get(SESSION_COOKIE)))

    def user(self) -> User | None:
        """The signed-in user of the current request, or None."""
        return self.flow.user(request.cookies.get(SESSION_COOKIE))

    def require_user(self) -> User:
        """The signed-in user of the current request; 401 otherwise."""
        user = self.user()
        if user is None:
            abort(401)
        return user
