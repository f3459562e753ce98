"""with_query: the parameters land in the query string the endpoint's server reads, whatever the URL holds."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from entryway.web.urls import with_query


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://idp.example/sso", "https://idp.example/sso?a=1&b=2"),
        ("https://idp.example/sso?tenant=x", "https://idp.example/sso?tenant=x&a=1&b=2"),
        ("https://idp.example/sso?", "https://idp.example/sso?a=1&b=2"),
        ("https://idp.example/sso?tenant=x&", "https://idp.example/sso?tenant=x&a=1&b=2"),
        ("https://idp.example/sso#top", "https://idp.example/sso?a=1&b=2#top"),
        ("https://idp.example/sso?tenant=x#top?no", "https://idp.example/sso?tenant=x&a=1&b=2#top?no"),
    ],
)
def test_the_parameters_join_the_query(url: str, expected: str) -> None:
    assert with_query(url, {"a": "1", "b": "2"}) == expected


def test_values_are_form_encoded_and_read_back_unchanged() -> None:
    params = {"SAMLRequest": "fZJBb+Iw/A==", "RelayState": "a b&c=d#e", "name": "Zoë"}
    built = with_query("https://idp.example/sso?tenant=x", params)
    assert "#" not in built and " " not in built
    assert dict(parse_qsl(urlsplit(built).query)) == {"tenant": "x", **params}
