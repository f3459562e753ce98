"""Settings, read once from the process environment (and an optional `.env` in the working directory)."""

from __future__ import annotations

import base64
import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


# The server's periodic jobs (jobs/catalog.py) and their default intervals in seconds, each overridable with
# ENTRYWAY_JOB_<NAME>_SECONDS (0 turns the job off).
JOB_INTERVALS: dict[str, float] = {
    "login_state_purge": 300.0,
    "auth_log_purge": 3600.0,
    "event_retention": 3600.0,
    "certificate_scan": 3600.0,
    "data_key_rollover": 86400.0,
    "metadata_schedule": 600.0,
    "metadata_refresh": 60.0,
}

# Configuration cache entries per process (ENTRYWAY_CONFIG_CACHE_ENTRIES). An organization's login uses two (its
# route and its connection: about 3.2 KB together for a SAML connection with one certificate measured alone, about
# twice that in a busy worker), so 1,000 entries are about 500 organizations and 3 MB per worker; a miss costs
# one indexed query. With more organizations than that logging in at random, a bigger cache mostly holds
# organizations that do not come back before they are dropped (bench/README.md, "Memory per worker (session
# 4)"); an operator whose hot set is larger can raise it.
DEFAULT_CONFIG_CACHE_ENTRIES = 1_000


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    # repr=False on what may hold a password or key: a Settings printed in a traceback or a debug line must not
    # carry them into a log.
    database_url: str = field(repr=False)
    public_url: str
    master_key: bytes = field(repr=False)
    # Master keys that still unwrap data keys while `entryway keys rotate-master` moves them to master_key.
    previous_master_keys: tuple[bytes, ...] = field(default_factory=tuple, repr=False)
    redis_url: str | None = field(default=None, repr=False)
    dev_callback_url: str = "http://localhost:3000/callback"
    clock_skew_seconds: int = 120
    max_saml_response_bytes: int = 256 * 1024
    auth_request_ttl_seconds: int = 600
    code_ttl_seconds: int = 300
    id_token_ttl_seconds: int = 3600
    access_token_ttl_seconds: int = 86399
    # How often the server refreshes IdP metadata from each SAML connection's metadata URL (0: never by itself).
    metadata_refresh_seconds: int = 86400
    # How long the IdP's ID token of an OIDC login is kept (sealed) for id_token_hint at upstream logout.
    upstream_id_token_ttl_seconds: int = 12 * 3600
    # Addresses or CIDR ranges of the reverse proxies whose X-Forwarded-For/-Host/-Proto are believed.
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    # The host name customers point their custom domain's CNAME at; None = the environment's own host.
    custom_domain_target: str | None = None
    # "host:port" (or "[v6]:port") of the DNS server that domain verification asks; None = the system resolver
    dns_nameserver: str | None = None
    # Outbound fetches (IdP metadata URLs) refuse private, loopback and link-local addresses unless this is set.
    allow_private_fetch: bool = False
    # Auth log events older than this are deleted by `entryway logs purge` and by the server's hourly purge.
    auth_log_retention_days: int = 90
    # Where the master key was read from when ENTRYWAY_MASTER_KEY was not set (the production checklist asks).
    master_key_file: Path | None = None
    # ... or unless the address is in one of these networks (ENTRYWAY_ALLOW_PRIVATE_FETCH=10.1.0.0/16,…)
    private_fetch_networks: tuple[str, ...] = field(default_factory=tuple)
    # "host:port" of the DNS server outbound fetches resolve IdP host names with; None = the system resolver
    fetch_nameserver: str | None = None
    # Webhook delivery (events/delivery.py): run the worker inside `serve`/`dev`, how long a receiver may take,
    # how long a claimed delivery stays reserved to its worker, and after how many days of failing only an
    # endpoint is disabled.
    webhook_worker: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_lease_seconds: int = 60
    webhook_disable_after_days: float = 5.0
    # Events (and their deliveries and attempts) are kept this long (events/retention.py).
    event_retention_days: float = 30.0
    # How stale another instance's configuration change may be seen here (store/config_cache.py).
    config_cache_seconds: float = 1.0
    # How many lookups the configuration cache keeps (least recently used dropped first).
    config_cache_entries: int = DEFAULT_CONFIG_CACHE_ENTRIES
    # Run the periodic jobs' scheduler inside `serve`/`dev` (jobs/scheduler.py), and each job's interval.
    scheduler: bool = False
    # Run the login steps' blocking work on the worker's event loop instead of in the thread pool
    # (web/step_runner.py): less CPU a login, but a step that waits on the database stalls its whole worker.
    login_steps_in_place: bool = False
    job_intervals: tuple[tuple[str, float], ...] = tuple(JOB_INTERVALS.items())  # a tuple: Settings is hashable

    @property
    def job_seconds(self) -> dict[str, float]:
        return dict(self.job_intervals)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which variable to set."""


def decode_master_key(text: str, variable: str = "ENTRYWAY_MASTER_KEY") -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{variable} must be 32 bytes, base64-encoded") from exc
    if len(key) != 32:
        raise ConfigError(f"{variable} must decode to 32 bytes, got {len(key)}")
    return key


def new_master_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _private_fetch(value: str) -> tuple[bool, tuple[str, ...]]:
    """ENTRYWAY_ALLOW_PRIVATE_FETCH: 1/true/yes allows every address; a comma-separated list of networks only those."""
    value = value.strip()
    if value.lower() in ("1", "true", "yes"):
        return True, ()
    if value.lower() in ("", "0", "false", "no"):
        return False, ()
    networks = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise ConfigError(
                f"ENTRYWAY_ALLOW_PRIVATE_FETCH must be 1, or a comma-separated list of networks (got {part!r})"
            ) from exc
    return False, tuple(networks)


def load_settings(*, generate_master_key: bool = False, env: dict[str, str] | None = None) -> Settings:
    """Build Settings from the environment.

    `generate_master_key` is for `entryway dev`: a key is created in the data directory on first run, so a
    newcomer never has to make one. Production (`entryway serve`) must be given ENTRYWAY_MASTER_KEY or a key
    file that already exists.
    """
    source = {**read_dotenv(Path(".env")), **(env if env is not None else os.environ)}
    data_dir = Path(source.get("ENTRYWAY_DATA_DIR", "data")).resolve()
    database_url = source.get("ENTRYWAY_DATABASE_URL") or f"sqlite:///{data_dir / 'entryway.db'}"
    key_text = source.get("ENTRYWAY_MASTER_KEY")
    key_file = data_dir / "master.key"
    key_from_file = not key_text
    if not key_text:
        if key_file.is_file():
            key_text = key_file.read_text().strip()
        elif generate_master_key:
            data_dir.mkdir(parents=True, exist_ok=True)
            key_text = new_master_key_text()
            key_file.write_text(key_text + "\n")
            key_file.chmod(0o600)
        else:
            raise ConfigError(
                "ENTRYWAY_MASTER_KEY is not set and there is no data/master.key: "
                "set it to 32 random bytes in base64 (`entryway keys new-master`)"
            )
    previous = tuple(
        decode_master_key(k, "ENTRYWAY_PREVIOUS_MASTER_KEYS")
        for k in source.get("ENTRYWAY_PREVIOUS_MASTER_KEYS", "").split(",")
        if k.strip()
    )
    retention_text = source.get("ENTRYWAY_AUTH_LOG_RETENTION_DAYS", "90").strip()
    if not retention_text.isdigit() or not 1 <= int(retention_text) <= 3650:
        raise ConfigError(
            f"ENTRYWAY_AUTH_LOG_RETENTION_DAYS must be a whole number of days from 1 to 3650, got {retention_text!r}"
        )
    allow_private, private_networks = _private_fetch(source.get("ENTRYWAY_ALLOW_PRIVATE_FETCH", ""))
    proxies = tuple(p.strip() for p in source.get("ENTRYWAY_TRUSTED_PROXIES", "").split(",") if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as exc:
            raise ConfigError(
                f"ENTRYWAY_TRUSTED_PROXIES: {proxy!r} is not an IP address or CIDR range (e.g. 10.0.0.5 or 10.0.0.0/24)"
            ) from exc
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        public_url=source.get("ENTRYWAY_PUBLIC_URL", "http://localhost:8000").rstrip("/"),
        master_key=decode_master_key(key_text),
        previous_master_keys=previous,
        redis_url=_redis_url(source.get("ENTRYWAY_REDIS_URL", "").strip()),
        dev_callback_url=source.get("ENTRYWAY_DEV_CALLBACK_URL", "http://localhost:3000/callback"),
        clock_skew_seconds=_whole(source, "ENTRYWAY_CLOCK_SKEW_SECONDS", 120, 0, 3600),
        metadata_refresh_seconds=_whole(source, "ENTRYWAY_METADATA_REFRESH_SECONDS", 86400, 0, 30 * 86400),
        upstream_id_token_ttl_seconds=_whole(
            source, "ENTRYWAY_UPSTREAM_ID_TOKEN_TTL_SECONDS", 12 * 3600, 60, 30 * 86400
        ),
        trusted_proxies=proxies,
        custom_domain_target=(source.get("ENTRYWAY_CUSTOM_DOMAIN_TARGET") or "").strip().lower().rstrip(".") or None,
        dns_nameserver=source.get("ENTRYWAY_DNS_NAMESERVER") or None,
        allow_private_fetch=allow_private,
        private_fetch_networks=private_networks,
        fetch_nameserver=source.get("ENTRYWAY_FETCH_NAMESERVER") or None,
        auth_log_retention_days=int(retention_text),
        master_key_file=key_file if key_from_file else None,
        webhook_worker=source.get("ENTRYWAY_WEBHOOK_WORKER", "1").lower() in ("1", "true", "yes"),
        webhook_timeout_seconds=_number(source, "ENTRYWAY_WEBHOOK_TIMEOUT_SECONDS", 10.0, 1.0, 60.0),
        webhook_lease_seconds=int(_number(source, "ENTRYWAY_WEBHOOK_LEASE_SECONDS", 60, 2, 3600)),
        webhook_disable_after_days=_number(source, "ENTRYWAY_WEBHOOK_DISABLE_AFTER_DAYS", 5.0, 1.0, 60.0),
        event_retention_days=_number(source, "ENTRYWAY_EVENT_RETENTION_DAYS", 30.0, 2.0, 3650.0),
        config_cache_seconds=_number(source, "ENTRYWAY_CONFIG_CACHE_SECONDS", 1.0, 0.0, 3600.0),
        config_cache_entries=int(
            _number(source, "ENTRYWAY_CONFIG_CACHE_ENTRIES", DEFAULT_CONFIG_CACHE_ENTRIES, 100, 10_000_000)
        ),
        scheduler=source.get("ENTRYWAY_SCHEDULER", "1").lower() in ("1", "true", "yes"),
        login_steps_in_place=_flag(source, "ENTRYWAY_LOGIN_STEPS_IN_PLACE"),
        job_intervals=_job_intervals(source),
    )


def _job_intervals(source: dict[str, str]) -> tuple[tuple[str, float], ...]:
    intervals = dict(JOB_INTERVALS)
    for name in source:
        if not (name.startswith("ENTRYWAY_JOB_") and name.endswith("_SECONDS")):
            continue
        job = name.removeprefix("ENTRYWAY_JOB_").removesuffix("_SECONDS").lower()
        if job not in intervals:
            known = ", ".join(f"ENTRYWAY_JOB_{j.upper()}_SECONDS" for j in JOB_INTERVALS)
            raise ConfigError(f"{name} names no periodic job; the jobs are: {known}")
        value = _number(source, name, intervals[job], 0.0, 30 * 86400.0)
        if 0 < value < 1:
            raise ConfigError(f"{name} must be 0 (off) or at least 1 second, got {value:g}")
        intervals[job] = value
    return tuple(intervals.items())


def _number(source: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    text = source.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {text!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return value


def _whole(source: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number of seconds; a typo is refused at start-up rather than raised as a traceback."""
    value = _number(source, name, default, low, high)
    if value != int(value):
        raise ConfigError(f"{name} must be a whole number, got {source[name]!r}")
    return int(value)


def _redis_url(text: str) -> str | None:
    """Checked with redis-py's own parser: a URL it cannot read would pass start-up and then fail every shared
    limit check (the token endpoint's among them) with a 500."""
    if not text:
        return None
    from redis.connection import parse_url  # only when Redis is configured

    try:
        parse_url(text)
    except ValueError:
        # redis-py's own message may quote part of the URL, and a password with an unescaped "/" or "@" is read
        # as the port: say nothing of the value. `from None`, so a traceback does not carry it either.
        raise ConfigError(
            "ENTRYWAY_REDIS_URL is not a URL Redis can use: it must start with redis://, rediss:// or unix:// "
            "(e.g. redis://:password@127.0.0.1:6379/0), with a port that is a number and any /, #, ? or @ in the "
            "password percent-encoded (%2F, %23, %3F, %40)"
        ) from None
    return text


def _flag(source: dict[str, str], name: str) -> bool:
    """An on/off setting, off when unset; anything but these words is refused rather than read as off."""
    text = source.get(name, "").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {source[name]!r}")
