"""The schema. Every lookup on a login's hot path is by primary key or a unique index."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from entryway.store.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)

environments = Table(
    "environments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("url", String(256), nullable=False),  # the OIDC issuer
    Column("host", String(256), nullable=False, unique=True),  # Host header that routes here
    Column("custom_domain", String(256), nullable=True, unique=True),
    Column("custom_domain_verified", Boolean, nullable=False, default=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
)

clients = Table(
    "clients",
    metadata,
    Column("id", ID, primary_key=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # "app" (the .env client) or "api" (machine-to-machine)
    Column("name", String(200), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
)

client_secrets = Table(
    "client_secrets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("client_id", ID, ForeignKey("clients.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("secret_hash", String(128), nullable=False, unique=True),
    Column("secret_suffix", String(8), nullable=False),
    Column("status", String(16), nullable=False),  # ACTIVE | INACTIVE
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    Column("last_used_time", UTCDateTime, nullable=True),
    Column("expire_time", UTCDateTime, nullable=True),
    Column("created_by", String(64), nullable=True),
)

redirect_uris = Table(
    "redirect_uris",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # callback | initiate_login | post_logout
    Column("uri", String(256), nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("create_time", UTCDateTime, nullable=False),
    UniqueConstraint("environment_id", "kind", "uri"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("id", ID, primary_key=True),  # the JWT kid
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("purpose", String(16), nullable=False),  # oidc | saml_sp | simulator
    Column("algorithm", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # next | active | retired
    Column("private_key", LargeBinary, nullable=False),  # AES-GCM under the master key
    Column("public_jwk", JSON, nullable=True),
    Column("certificate_pem", Text, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("activate_time", UTCDateTime, nullable=True),
    Column("retire_time", UTCDateTime, nullable=True),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("external_id", String(200), nullable=True),
    Column("slug", String(100), nullable=True),
    Column("logo_url", String(512), nullable=True),
    Column("metadata", JSON, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    UniqueConstraint("environment_id", "external_id"),
    UniqueConstraint("environment_id", "slug"),
    Index("ix_organizations_env_id", "environment_id", "id"),
)

domains = Table(
    "domains",
    metadata,
    Column("id", ID, primary_key=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("domain", String(253), nullable=False),
    Column("domain_type", String(32), nullable=False),
    Column("verification_status", String(16), nullable=False),  # PENDING | VERIFIED | FAILED
    Column("verification_token", String(64), nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    # A domain routes logins, so it belongs to one organization per environment.
    UniqueConstraint("environment_id", "domain"),
)

connections = Table(
    "connections",
    metadata,
    Column("id", ID, primary_key=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("type", String(8), nullable=False),  # SAML | OIDC
    Column("provider", String(32), nullable=False),
    Column("enabled", Boolean, nullable=False, default=False),
    Column("saml_config", JSON, nullable=True),
    Column("oidc_config", JSON, nullable=True),
    Column("attribute_mapping", JSON, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    Index("ix_connections_env_id", "environment_id", "id"),
)

auth_requests = Table(
    "auth_requests",
    metadata,
    Column("id", ID, primary_key=True),
    Column("environment_id", ID, nullable=False),
    Column("client_id", ID, nullable=False),
    Column("redirect_uri", String(256), nullable=False),
    Column("scope", String(512), nullable=False),
    Column("state", Text, nullable=True),
    Column("nonce", Text, nullable=True),
    Column("code_challenge", String(128), nullable=True),
    Column("code_challenge_method", String(8), nullable=True),
    Column("connection_id", ID, nullable=False),
    Column("organization_id", ID, nullable=False),
    Column("login_hint", String(320), nullable=True),
    Column("upstream_request_id", String(128), nullable=True, unique=True),  # SAML AuthnRequest ID
    Column("status", String(16), nullable=False),  # pending | completed | failed
    Column("create_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False, index=True),  # the scheduled purge (jobs/login_state.py)
)

auth_codes = Table(
    "auth_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("auth_request_id", ID, nullable=False),
    Column("environment_id", ID, nullable=False),
    Column("client_id", ID, nullable=False),
    Column("redirect_uri", String(256), nullable=False),
    Column("nonce", Text, nullable=True),
    Column("code_challenge", String(128), nullable=True),
    Column("scope", String(512), nullable=False),
    Column("session_id", ID, nullable=False),
    Column("connection_id", ID, nullable=False),
    Column("organization_id", ID, nullable=False),
    Column("profile", JSON, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False, index=True),  # the scheduled purge (jobs/login_state.py)
    Column("used_time", UTCDateTime, nullable=True),
    Column("issued_jti", ID, nullable=True, index=True),
)

revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", ID, primary_key=True),
    Column("expire_time", UTCDateTime, nullable=False, index=True),  # the scheduled purge (jobs/login_state.py)
    Column("reason", String(64), nullable=False),
)

saml_replay = Table(
    "saml_replay",
    metadata,
    Column("assertion_id", String(256), primary_key=True),
    Column("connection_id", ID, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False, index=True),
)

auth_events = Table(
    "auth_events",
    metadata,
    Column("id", ID, primary_key=True),  # err_… for failures, evt_… for successes
    Column("environment_id", ID, nullable=False),
    Column("auth_request_id", ID, nullable=True),
    Column("status", String(16), nullable=False),  # INITIATED | PENDING | SUCCESS | FAILED (services/auth_log.py)
    Column("step", String(32), nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("message", Text, nullable=True),
    Column("diagnosis", JSON, nullable=False),
    Column("organization_id", ID, nullable=True),
    Column("connection_id", ID, nullable=True),
    Column("email", String(320), nullable=True),
    Column("client_ip", String(64), nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Index("ix_auth_events_env_time", "environment_id", "create_time"),
    Index("ix_auth_events_auth_request_id", "auth_request_id"),
)

# Idempotency-Key on management API POSTs (api/idempotency.py): the first successful answer to a key, kept 24 h.
# The answer may carry a secret shown once (a client secret, a webhook's whsec_): it is stored sealed.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of (environment, client, key): one column to lock by
    Column("environment_id", ID, nullable=False),
    Column("client_id", ID, nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),  # None while the first request is still running
    Column("sealed_response", LargeBinary, nullable=True),  # JSON, sealed (keys/sealing.py)
    Column("create_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False, index=True),
)

# Browser sessions of Entryway's own pages (web/sessions.py): the portal and the dashboard. Only the token's hash.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # portal | dashboard
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("subject", String(200), nullable=False),  # org_… for the portal, the developer for the dashboard
    Column("opened_by", ID, nullable=True, index=True),  # lnk_… that opened it
    Column("client_ip", String(64), nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("last_seen_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False, index=True),  # the scheduled purge (jobs/login_state.py)
    Column("idle_seconds", Integer, nullable=False),
    Column("end_time", UTCDateTime, nullable=True),
)

# What was done in those sessions: one row per action (connection saved, enabled, domain verified, …).
web_audit_events = Table(
    "web_audit_events",
    metadata,
    Column("id", ID, primary_key=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", ID, nullable=True),
    Column("kind", String(16), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=True),
    Column("detail", JSON, nullable=False),
    Column("client_ip", String(64), nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Index("ix_web_audit_events_env_time", "environment_id", "create_time"),
)

# Portal links (CONTRACT §5): shareable (7 days, reusable, revocable) or embeddable (one use within a minute).
portal_links = Table(
    "portal_links",
    metadata,
    Column("id", ID, primary_key=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # shareable | embeddable
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False),
    Column("used_time", UTCDateTime, nullable=True),
    Column("revoke_time", UTCDateTime, nullable=True),
    Column("created_by", String(64), nullable=True),
)

# The newest portal test login per connection: the profile it produced (sealed: it holds a person's attributes),
# kept so that the attribute-mapping editor can preview a mapping against it.
portal_test_logins = Table(
    "portal_test_logins",
    metadata,
    Column("connection_id", ID, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("environment_id", ID, nullable=False),
    Column("auth_request_id", ID, nullable=False),
    Column("sealed_claims", LargeBinary, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
)

# --- events and webhooks (events/): the outbox is written in the transaction of the change it reports --------

events = Table(
    "events",
    metadata,
    Column("id", ID, primary_key=True),  # evt_…, time-ordered
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("organization_id", ID, nullable=True),  # no foreign key: organization.deleted outlives its organization
    Column("type", String(64), nullable=False),
    Column("object", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Index("ix_events_env_id", "environment_id", "id"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", ID, primary_key=True),  # wh_…
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("description", String(500), nullable=True),
    Column("event_types", JSON, nullable=False),
    Column("secret", LargeBinary, nullable=False),  # the whsec_ secret, sealed under the master key
    Column("previous_secret", LargeBinary, nullable=True),  # still signs (second signature) until its expiry
    Column("previous_secret_expire_time", UTCDateTime, nullable=True),
    Column("status", String(16), nullable=False),  # ENABLED | DISABLED
    Column("disabled_reason", String(500), nullable=True),
    Column("failing_since", UTCDateTime, nullable=True),  # first failed attempt since the last success
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    UniqueConstraint("environment_id", "url"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", ID, primary_key=True),  # dlv_…
    Column("environment_id", ID, nullable=False),
    Column("endpoint_id", ID, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", ID, ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # PENDING | SUCCEEDED | FAILED
    Column("attempt_count", Integer, nullable=False),
    Column("next_attempt_time", UTCDateTime, nullable=True),  # set while PENDING
    Column("lease_owner", String(64), nullable=True),  # the worker sending it now
    Column("lease_expire_time", UTCDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    UniqueConstraint("endpoint_id", "event_id"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_time"),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", ID, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("trigger", String(16), nullable=False),  # scheduled | replay | test
    Column("outcome", String(16), nullable=False),  # SUCCESS | FAILURE
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("response_excerpt", Text, nullable=True),
    Column("latency_ms", Integer, nullable=False),
    Column("worker", String(64), nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
)

# One row per certificate and stage (expiring / expired) already announced: the primary key makes the scan's
# event happen once, however many instances scan.
certificate_notices = Table(
    "certificate_notices",
    metadata,
    Column("connection_id", ID, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("fingerprint_sha256", String(128), primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("event_id", ID, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
)

# Branding (services/branding.py). Images are content-addressed per environment: id = SHA-256 of the bytes, so
# the URL that serves one never changes meaning and can be cached forever.
brand_images = Table(
    "brand_images",
    metadata,
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("content_type", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
)

environment_branding = Table(
    "environment_branding",
    metadata,
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True),
    Column("display_name", String(100), nullable=True),
    Column("accent_color", String(7), nullable=True),
    Column("logo_image_id", String(64), nullable=True),
    Column("favicon_image_id", String(64), nullable=True),
    Column("update_time", UTCDateTime, nullable=False),
)

organization_branding = Table(
    "organization_branding",
    metadata,
    Column("organization_id", ID, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("display_name", String(100), nullable=True),
    Column("logo_image_id", String(64), nullable=True),
    Column("update_time", UTCDateTime, nullable=False),
)

# The IdP's ID token of each completed OIDC login, sealed with the master key, kept only so that logout can send
# it to the IdP's end_session_endpoint as id_token_hint (Okta requires one). Deleted when used, purged once expired.
upstream_id_tokens = Table(
    "upstream_id_tokens",
    metadata,
    Column("session_id", ID, primary_key=True),  # the sid of the ID token Entryway issued for the login
    Column("environment_id", ID, nullable=False),
    Column("connection_id", ID, nullable=False),
    Column("sealed_id_token", LargeBinary, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False, index=True),
)

# The server's periodic refresh of IdP metadata from each SAML connection's idp_metadata_url
# (connectors/saml/metadata_schedule.py): when it is next due, which worker holds it now (a lease, so that one
# instance at a time refreshes a connection), and how the last attempts went.
metadata_refreshes = Table(
    "metadata_refreshes",
    metadata,
    Column("connection_id", ID, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("environment_id", ID, nullable=False),
    Column("next_time", UTCDateTime, nullable=False, index=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expire_time", UTCDateTime, nullable=True),
    Column("last_attempt_time", UTCDateTime, nullable=True),
    Column("last_success_time", UTCDateTime, nullable=True),
    Column("last_change", JSON, nullable=True),  # the change record of the last refresh that changed something
    Column("last_error", JSON, nullable=True),  # {"time", "message"} of the last failure, cleared by a success
    Column("consecutive_failures", Integer, nullable=False, default=0),
)

# The developers who may sign in to an environment's dashboard (services/owners.py). Only an argon2id hash.
dashboard_owners = Table(
    "dashboard_owners",
    metadata,
    Column("id", ID, primary_key=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
    Column("last_sign_in_time", UTCDateTime, nullable=True),
    UniqueConstraint("environment_id", "email"),
)

# Each dashboard form carries a one-time token; claiming it in the change's own transaction makes a form sent
# twice (a double click, a reload of the answer) change nothing the second time (dashboard/forms.py).
form_submissions = Table(
    "form_submissions",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("environment_id", ID, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("create_time", UTCDateTime, nullable=False, index=True),
)

# SAML single logout. A login through a SAML connection records the NameID and SessionIndex the IdP gave it,
# under the ID token's sid, for a bounded time: SP-initiated logout names them in its LogoutRequest, and an
# IdP-initiated LogoutRequest ends the sessions it names.
saml_sessions = Table(
    "saml_sessions",
    metadata,
    Column("session_id", ID, primary_key=True),  # the sid of the tokens the login issued
    Column("environment_id", ID, nullable=False),
    Column("connection_id", ID, nullable=False),
    Column("name_id", String(512), nullable=False),
    Column("name_id_format", String(256), nullable=True),
    Column("name_qualifier", String(256), nullable=True),
    Column("sp_name_qualifier", String(256), nullable=True),
    Column("session_index", String(256), nullable=True),
    Column("create_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False, index=True),
    Column("ended_time", UTCDateTime, nullable=True),
    Index("ix_saml_sessions_connection_name_id", "connection_id", "name_id"),
)

# SP-initiated logouts waiting for the IdP's LogoutResponse: the LogoutRequest's ID (its InResponseTo) and where
# the browser goes afterwards (a registered post-logout URL, checked before the row was written).
saml_logouts = Table(
    "saml_logouts",
    metadata,
    Column("id", String(64), primary_key=True),  # the LogoutRequest ID, also sent as RelayState
    Column("environment_id", ID, nullable=False),
    Column("connection_id", ID, nullable=False),
    Column("session_id", ID, nullable=False),
    Column("post_logout_redirect_uri", Text, nullable=True),
    Column("state", Text, nullable=True),
    Column("status", String(16), nullable=False),  # pending | completed | failed
    Column("create_time", UTCDateTime, nullable=False),
    Column("expire_time", UTCDateTime, nullable=False, index=True),
)

# Envelope encryption (keys/sealing.py): every sealed value is encrypted under a data key, and each data key is
# stored here wrapped (AES-256-GCM) by a master key, whose id is recorded. Rotating the master re-wraps these
# rows; values sealed under a data key never need the master key themselves.
data_keys = Table(
    "data_keys",
    metadata,
    Column("id", ID, primary_key=True),  # dk_…, named inside every value it seals
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("master_key_id", String(32), nullable=False),  # mk_…: which master key wraps it now
    Column("created_under", String(32), nullable=False),  # the master key current when it was made
    Column("status", String(16), nullable=False),  # active (seals new values) | retired (opens old ones)
    Column("create_time", UTCDateTime, nullable=False),
    Column("update_time", UTCDateTime, nullable=False),
    # Values it has sealed, as the processes have reported them (keys/seal_counts.py); NULL for a key made before
    # they were counted (0018), which the rollover replaces at once. BigInteger: counting goes on past 2^31 if
    # a rollover is held up.
    Column("sealed_count", BigInteger, nullable=True, server_default="0"),
)

# Random secrets of this installation that must outlive master-key rotations (sealed like every other secret).
installation_secrets = Table(
    "installation_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("create_time", UTCDateTime, nullable=False),
)

# One row (id 1) whose value database triggers bump on every write to the configuration the login path caches
# (store/config_cache.py); each process polls it to know when its cache is stale.
config_generation = Table(
    "config_generation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", Integer, nullable=False),
)


# The periodic jobs (jobs/scheduler.py): one row per job, shared by every instance. A run is claimed with one
# conditional UPDATE (due, and no live lease), so with several instances one at a time runs a job; the row also
# says when it ran last and how it went (/metrics).
scheduled_jobs = Table(
    "scheduled_jobs",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_run_time", UTCDateTime, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expire_time", UTCDateTime, nullable=True),
    Column("last_start_time", UTCDateTime, nullable=True),
    Column("last_finish_time", UTCDateTime, nullable=True),
    Column("last_success_time", UTCDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("run_count", Integer, nullable=False, default=0),
    Column("failure_count", Integer, nullable=False, default=0),
    Column("consecutive_failures", Integer, nullable=False, default=0),
)

# Each migration applied to this database and whether the code of the revision before it keeps working on the
# schema it produces (its script's `backward_compatible`), written by the migration run itself
# (store/schema_history.py). An instance whose code is older than the database reads it to know whether it may
# still serve (/readyz "ahead_compatible"): what makes rolling upgrades possible. Rows are found by walking
# previous_revision from the database's revision, so the order is the scripts' chain, not the clock's.
# Older releases read these columns: a later change to this table must only add to it.
schema_history = Table(
    "schema_history",
    metadata,
    Column("revision", String(64), primary_key=True),
    Column("previous_revision", String(255), nullable=True),  # None for the first; a merge's parents space-separated
    Column("backward_compatible", Boolean, nullable=False),
    Column("applied_time", UTCDateTime, nullable=True),  # None: applied before the history was kept (0017)
)
