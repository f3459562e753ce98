"""SAML single logout messages (SAML core §3.7): LogoutRequest and LogoutResponse, built with lxml and read
from a tree whose signature the binding already verified (slo_binding.py), with every check that does not need
the database: the message type, version, ID, issuer, destination, validity window and status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from entryway.connectors.saml.authn_request import new_request_id
from entryway.connectors.saml.login_sessions import LoginSession
from entryway.connectors.saml.namespaces import NSMAP, STATUS_SUCCESS, saml, samlp
from entryway.connectors.saml.parsing import format_instant, malformed, parse_instant, text_of
from entryway.connectors.saml.response import MAX_ID_LENGTH, quoted
from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError

# How long a LogoutRequest Entryway sends is good for, and the longest an IdP's LogoutRequest without its own
# NotOnOrAfter is accepted after its IssueInstant (its ID is remembered that long against replay).
REQUEST_LIFETIME = timedelta(minutes=10)
MAX_SESSION_INDEXES = 20


@dataclass(frozen=True)
class OutgoingMessage:
    id: str
    xml: bytes


@dataclass(frozen=True)
class ReceivedLogoutRequest:
    id: str
    name_id: str
    session_indexes: list[str]
    retain_until: datetime  # how long its ID must be remembered against replay


@dataclass(frozen=True)
class ReceivedLogoutResponse:
    id: str
    in_response_to: str
    status_error: LoginError | None  # the IdP's failure status, raised once the response is tied to a request

    def raise_for_status(self) -> None:
        if self.status_error is not None:
            raise self.status_error


def _invalid(message: str, wanted: object, got: object, **extra: object) -> LoginError:
    return LoginError.wanted_got("invalid_saml_response", message, wanted, quoted(got), **extra)


def build_logout_request(
    connection: SsoConnection, session: LoginSession, destination: str, now: datetime
) -> OutgoingMessage:
    """The SP's LogoutRequest for one recorded login: its NameID exactly as the IdP issued it, and its
    SessionIndex, so the IdP ends that session (SAML core §3.7.1)."""
    request_id = new_request_id()
    root = etree.Element(samlp("LogoutRequest"), nsmap=NSMAP)
    root.set("ID", request_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", format_instant(now))
    root.set("Destination", destination)
    root.set("NotOnOrAfter", format_instant(now + REQUEST_LIFETIME))
    etree.SubElement(root, saml("Issuer")).text = str(connection.saml_config["sp_entity_id"])
    name_id = etree.SubElement(root, saml("NameID"))
    for attribute, value in (
        ("NameQualifier", session.name_qualifier),
        ("SPNameQualifier", session.sp_name_qualifier),
        ("Format", session.name_id_format),
    ):
        if value:
            name_id.set(attribute, value)
    name_id.text = session.name_id
    if session.session_index:
        etree.SubElement(root, samlp("SessionIndex")).text = session.session_index
    return OutgoingMessage(request_id, etree.tostring(root, encoding="UTF-8", xml_declaration=False))


def build_logout_response(
    connection: SsoConnection, in_response_to: str, destination: str, now: datetime, status: str = STATUS_SUCCESS
) -> OutgoingMessage:
    response_id = new_request_id()
    root = etree.Element(samlp("LogoutResponse"), nsmap=NSMAP)
    root.set("ID", response_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", format_instant(now))
    root.set("Destination", destination)
    root.set("InResponseTo", in_response_to)
    etree.SubElement(root, saml("Issuer")).text = str(connection.saml_config["sp_entity_id"])
    etree.SubElement(etree.SubElement(root, samlp("Status")), samlp("StatusCode")).set("Value", status)
    return OutgoingMessage(response_id, etree.tostring(root, encoding="UTF-8", xml_declaration=False))


def _common(root: etree._Element, tag: str, connection: SsoConnection, slo_url: str) -> str:
    """Checks every logout message must pass; returns its ID."""
    if root.tag != samlp(tag):
        raise malformed(f"The message is not a SAML {tag}", f"samlp:{tag}", etree.QName(root).localname)
    if root.get("Version") != "2.0":
        raise _invalid(f"The {tag} is not SAML 2.0", "Version 2.0", root.get("Version"))
    message_id = root.get("ID")
    if not message_id or len(message_id) > MAX_ID_LENGTH:
        raise _invalid(f"The {tag} has no usable ID", f"an ID of at most {MAX_ID_LENGTH} characters", "none or longer")
    issuer = text_of(root.find(saml("Issuer")))
    if issuer != connection.saml_config.get("idp_entity_id"):
        raise _invalid(
            f"The {tag} comes from another IdP than the connection's",
            connection.saml_config.get("idp_entity_id"),
            issuer or "no Issuer",
            field=f"{tag}/Issuer",
        )
    destination = root.get("Destination")
    if destination is not None and destination != slo_url:
        raise _invalid(
            f"The {tag} was sent to another SLO URL: check the SP single logout URL at the IdP",
            slo_url,
            destination,
            field=f"{tag}/Destination",
        )
    return message_id


def read_logout_request(
    root: etree._Element, connection: SsoConnection, slo_url: str, now: datetime, skew: timedelta
) -> ReceivedLogoutRequest:
    """An IdP's LogoutRequest (SAML core §3.7.1), from a signature-verified tree."""
    request_id = _common(root, "LogoutRequest", connection, slo_url)
    if root.get("Destination") is None:
        # Required of a signed message (SAML bindings §3.4.5.2, §3.5.5.2): it pins the request to this SP.
        raise _invalid("The LogoutRequest names no Destination", slo_url, "none", field="LogoutRequest/Destination")
    issued = parse_instant(root.get("IssueInstant"))
    if issued is None:
        raise _invalid("The LogoutRequest has no valid IssueInstant", "an xs:dateTime", root.get("IssueInstant"))
    if now + skew < issued:
        raise LoginError.wanted_got(
            "response_expired",
            "The LogoutRequest is not valid yet: check the IdP's and this server's clocks",
            f"issued before {(now + skew).isoformat()}",
            issued.isoformat(),
        )
    ends = issued + REQUEST_LIFETIME
    if root.get("NotOnOrAfter") is not None:
        stated = parse_instant(root.get("NotOnOrAfter"))
        if stated is None:
            raise _invalid("The LogoutRequest's NotOnOrAfter is not a valid time", "an xs:dateTime", "other text")
        ends = min(ends, stated)
    if now - skew >= ends:
        raise LoginError.wanted_got(
            "response_expired",
            "The LogoutRequest has expired",
            f"before {ends.isoformat()} (with {int(skew.total_seconds())} s skew)",
            now.isoformat(),
        )
    if root.find(saml("EncryptedID")) is not None:
        raise _invalid(
            "The LogoutRequest carries an encrypted NameID, which Entryway does not accept: send it in clear",
            "saml:NameID",
            "saml:EncryptedID",
        )
    name_ids = root.findall(saml("NameID"))
    name_id = text_of(name_ids[0]) if len(name_ids) == 1 else None
    if not name_id:
        raise _invalid("The LogoutRequest must name exactly one NameID", "one saml:NameID", f"{len(name_ids)}")
    indexes = [text for e in root.findall(samlp("SessionIndex")) if (text := text_of(e))]
    if len(indexes) > MAX_SESSION_INDEXES:
        raise _invalid("The LogoutRequest names too many sessions", f"at most {MAX_SESSION_INDEXES}", len(indexes))
    return ReceivedLogoutRequest(request_id, name_id, indexes, ends + skew)


def read_logout_response(root: etree._Element, connection: SsoConnection, slo_url: str) -> ReceivedLogoutResponse:
    """The IdP's LogoutResponse to Entryway's LogoutRequest (SAML core §3.7.2), from a verified tree.

    The caller checks InResponseTo against the stored request first, then `raise_for_status()`: a failure
    status is reported only for a response that really answers one of Entryway's requests.
    """
    response_id = _common(root, "LogoutResponse", connection, slo_url)
    in_response_to = root.get("InResponseTo")
    if not in_response_to:
        raise _invalid(
            "The LogoutResponse answers no request", "InResponseTo = the LogoutRequest's ID", "no InResponseTo"
        )
    code = root.find(f"{samlp('Status')}/{samlp('StatusCode')}")
    if code is None:
        raise malformed("The LogoutResponse has no Status", "samlp:Status/samlp:StatusCode", "none")
    status_error = None
    if code.get("Value") != STATUS_SUCCESS:
        second = code.find(samlp("StatusCode"))
        status_error = LoginError(
            "invalid_status",
            "The IdP could not end its session: it answered the logout with an error status",
            {
                "wanted": STATUS_SUCCESS,
                "got": quoted(code.get("Value")),
                "status_code": quoted(code.get("Value")),
                "sub_status_code": quoted(second.get("Value")) if second is not None else None,
                "status_message": quoted(text_of(root.find(f"{samlp('Status')}/{samlp('StatusMessage')}"))),
            },
        )
    return ReceivedLogoutResponse(response_id, in_response_to, status_error)
