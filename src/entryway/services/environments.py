"""Environments: creation (with their client and keys), lookup by Host, and their redirect-URI allow-lists."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, func, insert, select, update

from entryway.ids import new_id
from entryway.keys.material import (
    certificate_pem,
    generate_rsa_key,
    private_key_pem,
    public_jwk,
    self_signed_certificate,
)
from entryway.model.environments import MAX_CALLBACK_URIS, MAX_POST_LOGOUT_URIS, EnvironmentType, RedirectKind
from entryway.model.errors import ApiError, FieldViolation, conflict, invalid, not_found
from entryway.model.redirect_uris import check_redirect_uri, matches
from entryway.runtime import Runtime
from entryway.store.tables import clients, environments, redirect_uris, signing_keys


@dataclass(frozen=True)
class Environment:
    """`url` is the environment URL as the current request reached it: the OIDC issuer of this request.

    It is `base_url` (the URL the environment was created with) or, on a verified custom domain, that domain's
    https URL. Both routes serve the same environment, so an app keeps working on either `.env` value while it
    moves to the custom domain (services/custom_domains.py); `public_url` is the one Entryway now recommends.
    """

    id: str
    type: EnvironmentType
    display_name: str
    url: str
    host: str
    create_time: datetime
    base_url: str = ""
    custom_domain: str | None = None
    custom_domain_verified: bool = False

    @property
    def is_development(self) -> bool:
        return self.type is EnvironmentType.DEVELOPMENT

    @property
    def custom_url(self) -> str | None:
        """The custom domain's URL once verified (production environments only: always https)."""
        if self.custom_domain and self.custom_domain_verified:
            return f"https://{self.custom_domain}"
        return None

    @property
    def public_url(self) -> str:
        """The environment URL to give apps, portal links and new connections."""
        return self.custom_url or self.base_url or self.url

    @property
    def issuers(self) -> list[str]:
        """Every issuer this environment signs as: tokens from either route are its own."""
        return [u for u in (self.base_url or self.url, self.custom_url) if u]


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.lower()


def _from_row(row: object) -> Environment:
    r = row._mapping  # type: ignore[attr-defined]
    return Environment(
        r["id"],
        EnvironmentType(r["type"]),
        r["display_name"],
        r["url"],
        r["host"],
        r["create_time"],
        base_url=r["url"],
        custom_domain=r["custom_domain"],
        custom_domain_verified=bool(r["custom_domain_verified"]),
    )


def check_environment_url(url: str, env_type: EnvironmentType) -> list[str]:
    parts = urlsplit(url)
    problems = []
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append("the environment URL must be an absolute http(s) URL")
    if env_type is EnvironmentType.PRODUCTION and parts.scheme != "https":
        problems.append("a production environment URL must use https")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        problems.append("the environment URL must be an origin, without path, query or fragment")
    return problems


def create_environment(
    rt: Runtime, conn: Connection, *, env_type: EnvironmentType, url: str, display_name: str
) -> tuple[Environment, str]:
    """Create an environment with its app client and signing keys. Returns (environment, app client id)."""
    url = url.rstrip("/")
    problems = check_environment_url(url, env_type)
    if problems:
        raise invalid([FieldViolation("url", p) for p in problems])
    host = host_of(url)
    # Another environment's custom domain counts too: two environments on one name would split its requests.
    taken = (environments.c.host == host) | (environments.c.custom_domain == host.removesuffix(":443"))
    if conn.execute(select(environments.c.id).where(taken)).first():
        raise conflict(f"an environment already serves {host}", "url")
    now = rt.clock.now()
    env_id = new_id("env")
    conn.execute(
        insert(environments).values(
            id=env_id,
            type=env_type.value,
            display_name=display_name,
            url=url,
            host=host,
            custom_domain=None,
            custom_domain_verified=False,
            create_time=now,
            update_time=now,
        )
    )
    client_id = new_id("skc")
    conn.execute(
        insert(clients).values(
            id=client_id, environment_id=env_id, kind="app", name="App client", scopes=["*"], create_time=now
        )
    )
    add_signing_key(rt, conn, env_id, "oidc", status="active")
    add_signing_key(rt, conn, env_id, "saml_sp", status="active", common_name=f"Entryway SP {url}")
    env = get_environment(conn, env_id)
    return env, client_id


def add_signing_key(
    rt: Runtime, conn: Connection, env_id: str, purpose: str, *, status: str, common_name: str | None = None
) -> str:
    key = generate_rsa_key()
    kid = new_id("key")
    cert = certificate_pem(self_signed_certificate(key, common_name)) if common_name else None
    now = rt.clock.now()
    conn.execute(
        insert(signing_keys).values(
            id=kid,
            environment_id=env_id,
            purpose=purpose,
            algorithm="RS256",
            status=status,
            private_key=rt.sealer.seal(private_key_pem(key), context=f"signing_key:{kid}", conn=conn),
            public_jwk=public_jwk(key.public_key(), kid) if purpose == "oidc" else None,
            certificate_pem=cert,
            create_time=now,
            activate_time=now if status == "active" else None,
        )
    )
    rt.keyring.invalidate(env_id)
    return kid


def get_environment(conn: Connection, env_id: str) -> Environment:
    row = conn.execute(select(environments).where(environments.c.id == env_id)).first()
    if row is None:
        raise not_found("environment", env_id)
    return _from_row(row)


def list_environments(conn: Connection) -> list[Environment]:
    return [_from_row(r) for r in conn.execute(select(environments).order_by(environments.c.create_time))]


def environment_for_host(rt: Runtime, host: str) -> Environment | None:
    """The environment a request's Host header routes to (from the configuration cache)."""
    host = host.lower()
    return rt.config.get(("env_by_host", host), lambda: _load_for_host(rt, host))


def cached_environment_for_host(rt: Runtime, host: str) -> tuple[bool, Environment | None]:
    """(True, environment or None) when the configuration cache knows the host's answer now, without any I/O;
    (False, None) when only `environment_for_host` (which may read the database) can say."""
    found: tuple[bool, Environment | None] = rt.config.peek(("env_by_host", host.lower()))
    return found


def _load_for_host(rt: Runtime, host: str) -> Environment | None:
    # A proxy may pass the default port along; a custom domain is stored as a bare name.
    bare = host.removesuffix(":443").removesuffix(":80")
    with rt.engine.connect() as conn:
        row = conn.execute(
            select(environments).where(
                (environments.c.host == host)
                | ((environments.c.custom_domain == bare) & environments.c.custom_domain_verified.is_(True))
            )
        ).first()
    env = _from_row(row) if row is not None else None
    if env is not None and env.custom_url is not None and bare == env.custom_domain:
        env = replace(env, url=env.custom_url)  # reached on the custom domain: its URL is this request's issuer
    return env


MAX_ENVIRONMENT_NAME = 200


def find_environment(conn: Connection, env_id: str) -> Environment | None:
    row = conn.execute(select(environments).where(environments.c.id == env_id)).first()
    return _from_row(row) if row is not None else None


def update_environment(rt: Runtime, conn: Connection, env_id: str, *, display_name: str) -> Environment:
    name = display_name.strip() if isinstance(display_name, str) else ""
    if not name:
        raise invalid([FieldViolation("display_name", "a display name is required")])
    if len(name) > MAX_ENVIRONMENT_NAME:
        raise invalid([FieldViolation("display_name", f"at most {MAX_ENVIRONMENT_NAME} characters")])
    get_environment(conn, env_id)
    conn.execute(
        update(environments).where(environments.c.id == env_id).values(display_name=name, update_time=rt.clock.now())
    )
    return get_environment(conn, env_id)


def environment_update_time(conn: Connection, env_id: str) -> datetime:
    return conn.execute(select(environments.c.update_time).where(environments.c.id == env_id)).scalar_one()


def app_client_id(conn: Connection, env_id: str) -> str:
    row = conn.execute(select(clients.c.id).where(clients.c.environment_id == env_id, clients.c.kind == "app")).first()
    if row is None:
        raise not_found("app client of environment", env_id)
    return str(row.id)


# --- redirect URIs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedirectUri:
    kind: RedirectKind
    uri: str
    is_default: bool
    create_time: datetime


def list_redirect_uris(conn: Connection, env_id: str, kind: RedirectKind | None = None) -> list[RedirectUri]:
    query = select(redirect_uris).where(redirect_uris.c.environment_id == env_id)
    if kind is not None:
        query = query.where(redirect_uris.c.kind == kind.value)
    rows = conn.execute(query.order_by(redirect_uris.c.id)).all()
    return [RedirectUri(RedirectKind(r.kind), r.uri, r.is_default, r.create_time) for r in rows]


def add_redirect_uri(rt: Runtime, conn: Connection, env: Environment, kind: RedirectKind, uri: str) -> RedirectUri:
    problems = check_redirect_uri(uri, env.type)
    if problems:
        raise invalid([FieldViolation("uri", p) for p in problems], f"{uri!r} cannot be registered")
    existing = list_redirect_uris(conn, env.id, kind)
    if any(r.uri == uri for r in existing):
        raise conflict(f"{uri} is already registered", "uri")
    if kind is RedirectKind.CALLBACK and len(existing) >= MAX_CALLBACK_URIS:
        raise invalid([FieldViolation("uri", f"at most {MAX_CALLBACK_URIS} callback URLs may be registered")])
    if kind is RedirectKind.POST_LOGOUT and len(existing) >= MAX_POST_LOGOUT_URIS:
        raise invalid([FieldViolation("uri", f"at most {MAX_POST_LOGOUT_URIS} post-logout URLs may be registered")])
    if kind is RedirectKind.INITIATE_LOGIN:
        conn.execute(
            delete(redirect_uris).where(redirect_uris.c.environment_id == env.id, redirect_uris.c.kind == kind.value)
        )
        existing = []
    now = rt.clock.now()
    conn.execute(
        insert(redirect_uris).values(
            environment_id=env.id, kind=kind.value, uri=uri, is_default=not existing, create_time=now
        )
    )
    return RedirectUri(kind, uri, not existing, now)


def remove_redirect_uri(rt: Runtime, conn: Connection, env: Environment, kind: RedirectKind, uri: str) -> None:
    existing = list_redirect_uris(conn, env.id, kind)
    target = next((r for r in existing if r.uri == uri), None)
    if target is None:
        raise not_found(f"{kind.value} URI", uri)
    if kind is RedirectKind.CALLBACK and len(existing) == 1:
        raise ApiError(
            400,
            "the last callback URL cannot be removed: add another first",
            [FieldViolation("uri", "the environment must keep at least one callback URL")],
        )
    conn.execute(
        delete(redirect_uris).where(
            redirect_uris.c.environment_id == env.id, redirect_uris.c.kind == kind.value, redirect_uris.c.uri == uri
        )
    )
    if target.is_default:
        first = conn.execute(
            select(func.min(redirect_uris.c.id)).where(
                redirect_uris.c.environment_id == env.id, redirect_uris.c.kind == kind.value
            )
        ).scalar()
        if first is not None:
            conn.execute(update(redirect_uris).where(redirect_uris.c.id == first).values(is_default=True))


def set_initiate_login_uri(rt: Runtime, conn: Connection, env: Environment, uri: str) -> RedirectUri:
    """Set the one initiate-login URL (a PUT: setting the current value again changes nothing)."""
    current = list_redirect_uris(conn, env.id, RedirectKind.INITIATE_LOGIN)
    if current and current[0].uri == uri:
        return current[0]
    return add_redirect_uri(rt, conn, env, RedirectKind.INITIATE_LOGIN, uri)


def redirect_allowed(rt: Runtime, env_id: str, kind: RedirectKind, uri: str) -> bool:
    """Is `uri` on the allow-list? Exact match (development wildcards aside). Cached per environment."""
    return any(matches(r.uri, uri) for r in cached_redirect_uris(rt, env_id, kind))


def default_redirect_uri(rt: Runtime, env_id: str, kind: RedirectKind) -> str | None:
    for r in cached_redirect_uris(rt, env_id, kind):
        if r.is_default:
            return r.uri
    return None


def cached_redirect_uris(rt: Runtime, env_id: str, kind: RedirectKind) -> list[RedirectUri]:
    return rt.config.fetch(("redirect_uris", env_id, kind), list_redirect_uris, env_id, kind)
