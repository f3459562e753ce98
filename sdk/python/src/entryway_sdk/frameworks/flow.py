"""The web login flow, independent of any framework: start a login (or answer an IdP-initiated one), finish
it on the callback, read the session, and log out. Framework adapters only move cookies and redirects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from entryway_sdk import arguments
from entryway_sdk.client import EntrywayClient
from entryway_sdk.errors import EntrywayError
from entryway_sdk.frameworks.cookies import CookieSigner
from entryway_sdk.models import User

LOGIN_COOKIE = "entryway_login"
SESSION_COOKIE = "entryway_session"
LOGIN_MAX_AGE = 600  # Entryway's logins live 10 minutes
SESSION_MAX_AGE = 8 * 3600
_SELECTORS = ("connection_id", "organization_id", "domain", "domain_hint", "login_hint")


class LoginFailed(EntrywayError):
    """The callback did not end in a session: Entryway's error, a state mismatch, or a refused code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Redirect:
    location: str
    set_cookies: dict[str, str]  # name -> signed value
    clear_cookies: tuple[str, ...] = ()


def safe_return_path(value: Any, default: str) -> str:
    """Only a local path: never an open redirect to another site."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


class LoginFlow:
    def __init__(
        self,
        client: EntrywayClient,
        *,
        secret_key: str | bytes,
        callback_url: str,
        after_login_path: str = "/",
        post_logout_redirect_uri: str | None = None,
        session_max_age: int = SESSION_MAX_AGE,
    ) -> None:
        self.client = client
        self.callback_url = arguments.url("callback_url", callback_url, schemes=None)
        if post_logout_redirect_uri is not None:
            arguments.url("post_logout_redirect_uri", post_logout_redirect_uri, schemes=None)
        self.after_login_path = safe_return_path(after_login_path, "/")
        self.post_logout_redirect_uri = post_logout_redirect_uri
        self.session_max_age = session_max_age
        self.secure_cookies = callback_url.startswith("https://")
        self._login = CookieSigner(secret_key, "entryway-login")
        self._session = CookieSigner(secret_key, "entryway-session")

    def start(self, query: Mapping[str, str]) -> Redirect:
        """/login: selectors from the query (or from an `idp_initiated_login` token), then to Entryway."""
        selectors = {name: query[name] for name in _SELECTORS if query.get(name)}
        return_to = safe_return_path(query.get("return_to"), self.after_login_path)
        if query.get("idp_initiated_login"):
            claims = self.client.get_idp_initiated_login_claims(query["idp_initiated_login"])
            selectors = {"connection_id": claims.connection_id}
            if claims.login_hint:
                selectors["login_hint"] = claims.login_hint
            return_to = safe_return_path(claims.relay_state, return_to)
        if not selectors:
            raise LoginFailed(
                "invalid_connection_selector",
                "say whom to sign in: ?login_hint=<email>, ?domain=, ?organization_id= or ?connection_id=",
            )
        login = self.client.create_authorization_request(self.callback_url, **selectors)
        cookie = self._login.dumps(
            {"state": login.state, "nonce": login.nonce, "verifier": login.code_verifier, "return_to": return_to}
        )
        return Redirect(login.url, {LOGIN_COOKIE: cookie})

    def finish(self, query: Mapping[str, str], login_cookie: str | None) -> Redirect:
        """/callback: check state, exchange the code, and open the session."""
        if query.get("idp_initiated_login"):  # sent here when no initiate-login URL is registered
            return self.start(query)
        if query.get("error"):
            raise LoginFailed(query["error"], query.get("error_description", ""))
        pending = self._login.loads(login_cookie, LOGIN_MAX_AGE)
        if not isinstance(pending, dict):
            raise LoginFailed("login_expired", "the login was not started here or took too long; sign in again")
        if not query.get("state") or query.get("state") != pending.get("state"):
            raise LoginFailed("state_mismatch", "the callback does not belong to the login started in this browser")
        if not query.get("code"):
            raise LoginFailed("invalid_request", "the callback carries no code")
        try:
            result = self.client.authenticate_with_code(
                query["code"], self.callback_url, code_verifier=pending["verifier"], nonce=pending["nonce"]
            )
        except EntrywayError as exc:
            raise LoginFailed(getattr(exc, "error", "login_failed"), str(exc)) from exc
        session = self._session.dumps({"id_token": result.id_token})
        return Redirect(
            safe_return_path(pending.get("return_to"), self.after_login_path),
            {SESSION_COOKIE: session},
            (LOGIN_COOKIE,),
        )

    def id_token(self, session_cookie: str | None) -> str | None:
        session = self._session.loads(session_cookie, self.session_max_age)
        token = session.get("id_token") if isinstance(session, dict) else None
        return token if isinstance(token, str) else None

    def user(self, session_cookie: str | None) -> User | None:
        """The signed-in user. The ID token was verified at login and the cookie is signed, so it is read as is."""
        token = self.id_token(session_cookie)
        if token is None:
            return None
        return User.from_claims(jwt.decode(token, options={"verify_signature": False}))

    def logout(self, session_cookie: str | None) -> Redirect:
        url = self.client.get_logout_url(
            id_token_hint=self.id_token(session_cookie), post_logout_redirect_uri=self.post_logout_redirect_uri
        )
        return Redirect(url, {}, (SESSION_COOKIE, LOGIN_COOKIE))
