"""The floor: what one SP-initiated SAML login costs this machine before any application logic runs.

    .venv/bin/python bench/floor.py [--logins 2000] [--postgres-url URL]

Issue 8 asks for 400 full logins/s on a two-core machine, with the load generator, the built-in IdP and the
database on the same two cores: 5 ms of CPU per login, all of it included. This script measures the parts of
a login that no implementation of the contract can skip, each with the cheapest tool available in this venv,
and prints their sum and the ceiling it puts on logins/s. Nothing here is Entryway's code:

- **crypto**: the IdP's XML signature over a 4.5 kB response (python-xmlsec, libxmlsec1 in C), the SP's
  XML-DSig verification of it (python-xmlsec), and the two RS256 JWTs the contract requires (ID token and
  access token, PyJWT over `cryptography`);
- **database**: the rows a login must write and read (the auth request; at the ACS the request read and
  claimed, the replay cache, the code, the session, an auth-log row and a webhook event; at the token the code
  read and redeemed, an auth-log row), issued through the raw driver as Entryway issues them: on SQLite as 12
  statements in 3 transactions, on PostgreSQL as 5 prepared statements, each step's writes one statement of
  data-modifying CTEs, the ACS's and the token's in BEGIN ... COMMIT (9 round trips, as
  `src/entryway/store/write_batch.py` sends them since session 11); on tables without foreign keys and with
  primary keys only, so cheaper than any real schema. On PostgreSQL the backend's CPU (from /proc) is added;
- **http**: the four requests of a login (sizes as in the benchmark) from `http_client.Client` over a
  connection of the login's own, as in the benchmark, to a bare ASGI app under uvicorn (uvloop, httptools,
  one worker) that answers each with fixed bytes: the server's CPU (from /proc) and the client's.

Every part is a lower bound, measured one login at a time, so the sum is too: the real product also parses,
checks, routes, logs and renders, and under load pays for context switches. Compare the ceiling with the
issue's targets and with `login_flow.py`'s measured CPU per login (server + client + db).
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import http_client
import jwt
import psycopg
import servers
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from lxml import etree

from entryway.keys import material

CORES = 2
TARGET = 400  # full logins/s, issue 8

# --- crypto ------------------------------------------------------------------------------------------------


def _key_and_certificate() -> tuple[RSAPrivateKey, bytes, bytes]:
    key = material.generate_rsa_key()
    cert = material.self_signed_certificate(key, "floor idp", years=1)
    return key, material.private_key_pem(key), material.certificate_pem(cert).encode()


SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


def _response(n: int) -> bytes:
    """A SAML Response of about 4.5 kB once signed: an assertion with a subject, conditions and ten attributes."""
    attributes = "".join(
        f'<saml:Attribute Name="attribute{i}"><saml:AttributeValue>value {i} of login {n}</saml:AttributeValue>'
        "</saml:Attribute>"
        for i in range(10)
    )
    return (
        f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_r{n}" Version="2.0" '
        f'IssueInstant="2026-11-27T00:00:00Z" InResponseTo="_q{n}" Destination="https://sp.example/acs">'
        "<saml:Issuer>https://idp.example</saml:Issuer>"
        '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
        f'<saml:Assertion ID="_a{n}" Version="2.0" IssueInstant="2026-11-27T00:00:00Z">'
        "<saml:Issuer>https://idp.example</saml:Issuer>"
        f'<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">user{n}'
        '@org.example</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData InResponseTo="_q{n}" NotOnOrAfter="2026-11-27T00:05:00Z" '
        'Recipient="https://sp.example/acs"/></saml:SubjectConfirmation></saml:Subject>'
        '<saml:Conditions NotBefore="2026-11-27T00:00:00Z" NotOnOrAfter="2026-11-27T00:05:00Z">'
        "<saml:AudienceRestriction><saml:Audience>https://sp.example</saml:Audience></saml:AudienceRestriction>"
        "</saml:Conditions>"
        '<saml:AuthnStatement AuthnInstant="2026-11-27T00:00:00Z" SessionIndex="_s1"><saml:AuthnContext>'
        "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
        f"<saml:AttributeStatement>{attributes}</saml:AttributeStatement></saml:Assertion></samlp:Response>"
    ).encode()


class Crypto:
    """The IdP's signature and the SP's verification of it (python-xmlsec), and the two RS256 JWTs."""

    def __init__(self) -> None:
        import xmlsec

        self.xmlsec = xmlsec
        self.jwt_key, pem_key, pem_cert = _key_and_certificate()
        self.sign_key = xmlsec.Key.from_memory(pem_key, xmlsec.constants.KeyDataFormatPem)
        self.verify_key = xmlsec.Key.from_memory(pem_cert, xmlsec.constants.KeyDataFormatCertPem)

    def idp_sign(self, n: int) -> bytes:
        xmlsec = self.xmlsec
        root = etree.fromstring(_response(n))
        assertion = root.find(f"{{{SAML}}}Assertion")
        signature = xmlsec.template.create(assertion, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256)
        assertion.insert(1, signature)
        reference = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri=f"#_a{n}")
        xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
        xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
        xmlsec.tree.add_ids(assertion, ["ID"])
        context = xmlsec.SignatureContext()
        context.key = self.sign_key
        context.sign(signature)
        return etree.tostring(root)

    def sp_verify(self, document: bytes) -> None:
        xmlsec = self.xmlsec
        root = etree.fromstring(document)
        assertion = root.find(f"{{{SAML}}}Assertion")
        xmlsec.tree.add_ids(assertion, ["ID"])
        context = xmlsec.SignatureContext()
        context.key = self.verify_key
        context.verify(xmlsec.tree.find_node(assertion, xmlsec.constants.NodeSignature))

    def tokens(self, n: int) -> None:
        claims = {"iss": "https://sso.example", "sub": f"user_{n}", "aud": "client", "iat": 0, "exp": 300}
        jwt.encode({**claims, "email": f"user{n}@org.example", "nonce": "n"}, self.jwt_key, "RS256", {"kid": "k"})
        jwt.encode({**claims, "scope": "openid"}, self.jwt_key, "RS256", {"kid": "k"})


def crypto_cost(logins: int) -> tuple[float, float, float]:
    """CPU ms per login: the IdP's signature, the SP's verification, the two JWTs."""
    crypto = Crypto()
    signed = [crypto.idp_sign(n) for n in range(20)]  # warm-up
    started = time.process_time()
    signed = [crypto.idp_sign(n) for n in range(logins)]
    idp = time.process_time() - started
    started = time.process_time()
    for document in signed:
        crypto.sp_verify(document)
    verify = time.process_time() - started
    started = time.process_time()
    for n in range(logins):
        crypto.tokens(n)
    tokens = time.process_time() - started
    return tuple(1000 * t / logins for t in (idp, verify, tokens))  # type: ignore[return-value]


# --- database ----------------------------------------------------------------------------------------------

TABLES = {
    "auth_requests": ["id", "environment_id", "client_id", "redirect_uri", "scope", "state", "nonce",
                      "code_challenge", "connection_id", "organization_id", "status", "created_at"],
    "auth_events": ["id", "environment_id", "auth_request_id", "status", "step", "organization_id",
                    "connection_id", "email", "client_id", "created_at"],
    "saml_replay": ["assertion_id", "connection_id", "expire_time"],
    "auth_codes": ["code_hash", "auth_request_id", "environment_id", "client_id", "redirect_uri", "nonce",
                   "code_challenge", "scope", "session_id", "connection_id", "profile", "used_time", "created_at"],
    "events": ["id", "environment_id", "organization_id", "type", "object", "data", "occurred_at"],
    "saml_sessions": ["session_id", "environment_id", "connection_id", "name_id", "name_id_format",
                      "session_index", "created_at"],
}  # fmt: skip


def _insert(table: str, marker: Callable[[int], str]) -> str:
    columns = TABLES[table]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marker(i) for i in range(len(columns)))})"


def _row(table: str, key: str) -> tuple[str, ...]:
    columns = TABLES[table]
    return (key, *tuple(f"{column} of {key}"[:60] for column in columns[1:]))


class Statements:
    """The 12 statements of a login, sent one by one in 3 transactions (SQLite; `?` marks the parameters)."""

    def __init__(self, marker: Callable[[int], str]) -> None:
        self.insert = {table: _insert(table, marker) for table in TABLES}
        m = marker
        self.read_request = f"SELECT * FROM auth_requests WHERE id = {m(0)}"
        self.claim_request = f"UPDATE auth_requests SET status = {m(0)} WHERE id = {m(1)} AND status = {m(2)}"
        self.read_code = f"SELECT * FROM auth_codes WHERE code_hash = {m(0)}"
        self.redeem_code = f"UPDATE auth_codes SET used_time = {m(0)} WHERE code_hash = {m(1)} AND used_time = {m(2)}"


def one_login(execute: Callable[[str, tuple[Any, ...]], Any], commit: Callable[[], None], s: Statements) -> None:
    key = uuid.uuid4().hex
    execute(s.insert["auth_requests"], (*_row("auth_requests", key)[:-2], "pending", "now"))
    execute(s.insert["auth_events"], _row("auth_events", "a" + key))
    commit()
    execute(s.read_request, (key,))
    execute(s.insert["saml_replay"], _row("saml_replay", key))
    execute(s.claim_request, ("answered", key, "pending"))
    execute(s.insert["auth_codes"], (*_row("auth_codes", key)[:-2], "-", "now"))
    execute(s.insert["auth_events"], _row("auth_events", "b" + key))
    execute(s.insert["events"], _row("events", key))
    execute(s.insert["saml_sessions"], _row("saml_sessions", key))
    commit()
    execute(s.read_code, (key,))
    execute(s.redeem_code, ("now", key, "-"))
    execute(s.insert["auth_events"], _row("auth_events", "c" + key))
    commit()


def _create(execute: Callable[[str], Any]) -> None:
    for table, columns in TABLES.items():
        execute(f"CREATE TABLE {table} ({columns[0]} TEXT PRIMARY KEY, {', '.join(f'{c} TEXT' for c in columns[1:])})")


def sqlite_cost(logins: int, workdir: Path) -> float:
    """Client CPU ms per login (the database is in process)."""
    conn = sqlite3.connect(workdir / "floor.db", isolation_level="DEFERRED")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    _create(conn.execute)
    statements = Statements(lambda _: "?")
    for _ in range(20):
        one_login(conn.execute, conn.commit, statements)
    started = time.process_time()
    for _ in range(logins):
        one_login(conn.execute, conn.commit, statements)
    conn.close()
    return 1000 * (time.process_time() - started) / logins


def _pg(_: int) -> str:
    return "%s"


def _columns(table: str) -> str:
    return ", ".join(TABLES[table])


def _values(table: str) -> str:
    return ", ".join("%s" for _ in TABLES[table])


class BatchedStatements:
    """A login's statements on PostgreSQL: each step's writes one statement, the guarded ones FROM the guard."""

    def __init__(self) -> None:
        def guarded(table: str, name: str) -> str:
            return f"{name} AS (INSERT INTO {table} ({_columns(table)}) SELECT {_values(table)} FROM guard)"

        self.authorize = f"WITH r AS ({_insert('auth_requests', _pg)}) {_insert('auth_events', _pg)}"
        self.read_request = "SELECT * FROM auth_requests WHERE id = %s"
        self.acs = (
            f"WITH replay AS ({_insert('saml_replay', _pg)}), "
            "guard AS (UPDATE auth_requests SET status = %s WHERE id = %s AND status = %s RETURNING 1), "
            + ", ".join(
                guarded(t, f"w{n}") for n, t in enumerate(("auth_codes", "auth_events", "events", "saml_sessions"))
            )
            + " SELECT count(*) FROM guard"
        )
        self.read_code = "SELECT * FROM auth_codes WHERE code_hash = %s"
        self.token = (
            "WITH guard AS (UPDATE auth_codes SET used_time = %s WHERE code_hash = %s AND used_time = %s RETURNING 1), "
            + guarded("auth_events", "w0")
            + " SELECT count(*) FROM guard"
        )


def batched_login(
    execute: Callable[[str, tuple[Any, ...]], Any],
    transaction: Callable[[], AbstractContextManager[Any]],
    s: BatchedStatements,
) -> None:
    """As Entryway sends them: authorize's batch commits with its statement; the ACS reads and sends its batch in
    one transaction; the token endpoint reads, then sends its batch in a transaction (9 round trips)."""
    key = uuid.uuid4().hex
    execute(s.authorize, (*_row("auth_requests", key)[:-2], "pending", "now", *_row("auth_events", "a" + key)))
    code = (*_row("auth_codes", key)[:-2], "-", "now")
    after = (*code, *_row("auth_events", "b" + key), *_row("events", key), *_row("saml_sessions", key))
    with transaction():
        execute(s.read_request, (key,)).fetchone()
        if execute(s.acs, (*_row("saml_replay", key), "answered", key, "pending", *after)).fetchone()[0] != 1:
            raise RuntimeError("the ACS batch's guard matched no row")
    execute(s.read_code, (key,)).fetchone()
    with transaction():
        if execute(s.token, ("now", key, "-", *_row("auth_events", "c" + key))).fetchone()[0] != 1:
            raise RuntimeError("the token batch's guard matched no row")


def postgres_cost(logins: int, admin_url: str) -> tuple[float, float]:
    """CPU ms per login: this process (the driver) and the PostgreSQL backend serving it."""
    with servers.postgres_database(admin_url, "floor") as url, psycopg.connect(url, autocommit=True) as conn:
        _create(conn.execute)
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        statements = BatchedStatements()

        def execute(sql: str, params: tuple[Any, ...]) -> Any:
            return conn.execute(sql, params, prepare=True)

        for _ in range(20):
            batched_login(execute, conn.transaction, statements)
        started, backend_started = time.process_time(), servers.cpu_seconds([backend])
        for _ in range(logins):
            batched_login(execute, conn.transaction, statements)
        client = time.process_time() - started
        db = servers.cpu_seconds([backend]) - backend_started
    return 1000 * client / logins, 1000 * db / logins


# --- http --------------------------------------------------------------------------------------------------

_REDIRECT = b"https://sp.example/callback?code=" + b"c" * 43 + b"&state=" + b"s" * 32
_IDP_JSON = b'{"SAMLResponse":"' + b"P" * 6000 + b'","RelayState":"' + b"r" * 32 + b'"}'
_TOKEN_JSON = b'{"access_token":"' + b"a" * 700 + b'","id_token":"' + b"i" * 900 + b'","token_type":"Bearer"}'


async def app(scope: dict[str, Any], receive: Callable[[], Any], send: Callable[[dict[str, Any]], Any]) -> None:
    """The bare ASGI app the http part measures: reads the request, answers fixed bytes."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    path = scope["path"]
    if path.endswith("/authorize") or path.endswith("/callback"):
        status, headers, body = 302, [(b"location", _REDIRECT)], b""
    elif path.endswith("/login"):
        status, headers, body = 200, [(b"content-type", b"application/json")], _IDP_JSON
    else:
        status, headers, body = 200, [(b"content-type", b"application/json")], _TOKEN_JSON
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def bare_server() -> Iterator[tuple[str, int]]:
    port = servers.free_port()
    command = [
        sys.executable, "-m", "uvicorn", "floor:app", "--app-dir", str(Path(__file__).parent), "--host",
        "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                http_client.Client(f"http://127.0.0.1:{port}").get("/token")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(10)


def http_cost(logins: int) -> tuple[float, float]:
    """CPU ms per login's four requests: the bare server's and the client's."""
    saml_response = "P" * 6000  # base64 of the signed response, as the browser posts it to the ACS
    with bare_server() as (base, pid):

        def login(n: int) -> None:
            with http_client.Client(base) as client:  # a connection per login, as the benchmark opens
                _four_requests(client, n)

        def _four_requests(client: http_client.Client, n: int) -> None:
            client.get(
                "/oauth/authorize",
                {
                    "client_id": "c" * 30,
                    "redirect_uri": "https://sp.example/callback",
                    "response_type": "code",
                    "scope": "openid email profile",
                    "state": "s" * 32,
                    "nonce": "n" * 32,
                    "code_challenge": "x" * 43,
                    "code_challenge_method": "S256",
                    "login_hint": f"user{n}@org.example",
                },
            )
            client.post(
                "/sso/v1/simulator/conn/login",
                {"SAMLRequest": "Q" * 600, "RelayState": "r" * 32, "email": f"user{n}@org.example"},
            )
            client.post("/sso/v1/saml/conn/callback", {"SAMLResponse": saml_response, "RelayState": "r" * 32})
            client.post("/oauth/token", {"grant_type": "authorization_code", "code": "c" * 43,
                                         "redirect_uri": "https://sp.example/callback", "client_id": "c" * 30,
                                         "client_secret": "s" * 60, "code_verifier": "v" * 43})  # fmt: skip

        for n in range(50):
            login(n)
        server_started = servers.cpu_seconds([pid])
        usage = resource.getrusage(resource.RUSAGE_SELF)
        for n in range(logins):
            login(n)
        after = resource.getrusage(resource.RUSAGE_SELF)
        server = servers.cpu_seconds([pid]) - server_started
    mine = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
    return 1000 * server / logins, 1000 * mine / logins


# --- report ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=2000)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ENTRYWAY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    n = args.logins
    print(f"the floor of one login, CPU ms, {n} logins one at a time ({time.strftime('%H:%M')})", flush=True)
    idp, verify, tokens = crypto_cost(n)
    print(f"  crypto    IdP XML signature {idp:.3f}   SP XML-DSig verify {verify:.3f}   two RS256 JWTs {tokens:.3f}")
    with tempfile.TemporaryDirectory(prefix="entryway-floor-") as tmp:
        lite = sqlite_cost(n, Path(tmp))
    pg_client, pg_backend = postgres_cost(n, args.postgres_url)
    print(f"  database  sqlite3 {lite:.3f}   psycopg {pg_client:.3f} + PostgreSQL backend {pg_backend:.3f}")
    server, client = http_cost(n)
    print(f"  http      bare uvicorn server {server:.3f}   load generator {client:.3f}  (four requests)")
    crypto = idp + verify + tokens
    budget = 1000 * CORES / TARGET
    print()
    for label, db in (("sqlite", lite), ("postgresql", pg_client + pg_backend)):
        floor = crypto + db + server + client
        print(
            f"  {label:<11} floor {floor:5.2f} ms/login -> ceiling {1000 * CORES / floor:4.0f} logins/s"
            f" on {CORES} cores;"
            f" at {TARGET}/s ({budget:.1f} ms/login) {budget - floor:5.2f} ms would be left for all application"
            f" logic of a login's four requests"
        )


if __name__ == "__main__":
    main()
