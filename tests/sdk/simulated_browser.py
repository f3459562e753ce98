"""A scripted browser for logins through the IdP simulator (docs/simulator.md): follow the login URL to the
simulator, answer its form as JSON, post the signed response to the ACS, and read where the browser lands."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def _simulator_answer(http: httpx.Client, url: str, form: dict[str, Any]) -> dict[str, Any]:
    response = http.post(url, data=form, headers={"accept": "application/json"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _post_to_acs(http: httpx.Client, answer: dict[str, Any]) -> str:
    form = {"SAMLResponse": answer["SAMLResponse"]}
    if answer.get("RelayState"):
        form["RelayState"] = answer["RelayState"]
    response = http.post(answer["acs_url"], data=form)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def sign_in(
    http: httpx.Client,
    login_url: str,
    email: str = "jane@example.com",
    *,
    first_name: str = "Jane",
    last_name: str = "Doe",
    outcome: str = "login",
) -> str:
    """Where the browser lands after signing in at the simulator: the app's callback URL with code and state."""
    response = http.get(login_url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert "/sso/v1/simulator/" in location, location
    sso = query(location)
    login_path = urlsplit(location).path.rsplit("/", 1)[0] + "/login"
    answer = _simulator_answer(
        http,
        f"{urlsplit(location).scheme}://{urlsplit(location).netloc}{login_path}",
        {
            "SAMLRequest": sso["SAMLRequest"],
            "RelayState": sso["RelayState"],
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "outcome": outcome,
        },
    )
    return _post_to_acs(http, answer)


def idp_initiated(http: httpx.Client, base: str, connection_id: str, email: str = "jane@example.com") -> str:
    """Where the browser lands after an IdP-initiated login: the app's URL with ?idp_initiated_login=<JWT>."""
    answer = _simulator_answer(
        http,
        f"{base}/sso/v1/simulator/{connection_id}/login",
        {"email": email, "first_name": "Jane", "last_name": "Doe", "outcome": "idp_initiated"},
    )
    return _post_to_acs(http, answer)
