"""Environment types and the rules that depend on them."""

from __future__ import annotations

from enum import StrEnum


class EnvironmentType(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class RedirectKind(StrEnum):
    CALLBACK = "callback"
    INITIATE_LOGIN = "initiate_login"
    POST_LOGOUT = "post_logout"


MAX_CALLBACK_URIS = 5
MAX_POST_LOGOUT_URIS = 10
MAX_APP_SECRETS = 2
MAX_API_CLIENT_SECRETS = 5
