"""Validation of a SAML Response at the ACS (DESIGN §4 SAML 1-5): everything the SP needs, read from the
signature-verified node only, or a LoginError saying what was wanted and what came.

What is read from the unsigned envelope (Status, Destination, the envelope Issuer) is only ever checked, never
used for identity; the identity, its conditions and the request it answers come from the verified node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from lxml import etree

from entryway.connectors.saml.namespaces import CM_BEARER, STATUS_SUCCESS, XSI, ds, saml, samlp
from entryway.connectors.saml.parsing import has_comment_or_pi, malformed, parse_instant, text_of
from entryway.connectors.saml.signature import verify_enveloped
from entryway.model.connections import SsoConnection
from entryway.model.errors import LoginError


@dataclass(frozen=True)
class Envelope:
    """What the unsigned Response says about itself: enough to route a failure, never to trust a login."""

    in_response_to: str | None


@dataclass(frozen=True)
class VerifiedAssertion:
    assertion_id: str
    in_response_to: str | None  # from signed content only; None means an unsolicited response
    retain_until: datetime  # how long the assertion ID must be remembered against replay
    name_id: str
    name_id_format: str | None
    session_index: str | None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    friendly_names: dict[str, str] = field(default_factory=dict)  # FriendlyName -> Name
    # What single logout must repeat to the IdP (SAML core §3.7.1): the NameID's qualifiers, and how long the
    # IdP says its session lasts (AuthnStatement/@SessionNotOnOrAfter).
    name_qualifier: str | None = None
    sp_name_qualifier: str | None = None
    session_not_on_or_after: datetime | None = None


# Limits on what the response may make us store: IDs go into indexed columns, and a diagnosis quotes values.
MAX_ID_LENGTH = 256
MAX_QUOTED = 200


def quoted(value: object) -> object:
    """A value from the response, shortened for the auth log (it is attacker-controlled until verified)."""
    if isinstance(value, str) and len(value) > MAX_QUOTED:
        return value[:MAX_QUOTED] + "…"
    if isinstance(value, list):
        return [quoted(v) for v in value[:10]]
    return value


def _invalid(message: str, wanted: object, got: object, **extra: object) -> LoginError:
    return LoginError.wanted_got("invalid_saml_response", message, wanted, quoted(got), **extra)


def envelope(root: etree._Element) -> Envelope:
    return Envelope(root.get("InResponseTo") if root.tag == samlp("Response") else None)


def validate_response(
    root: etree._Element,
    connection: SsoConnection,
    certificates: list[x509.Certificate],
    *,
    now: datetime,
    skew_seconds: int,
    decrypt: Callable[[etree._Element], etree._Element] | None = None,
) -> VerifiedAssertion:
    """`decrypt` turns a saml:EncryptedAssertion into its Assertion (None: encrypted assertions are refused)."""
    config = connection.saml_config
    if root.tag != samlp("Response"):
        raise malformed("The SAMLResponse is not a SAML 2.0 Response", "samlp:Response", str(quoted(_name(root))))
    if root.get("Version") != "2.0":
        raise _invalid("The response is not SAML 2.0", "Version 2.0", root.get("Version"))
    _check_status(root)
    issuer = root.find(saml("Issuer"))
    if issuer is not None and text_of(issuer) != config.get("idp_entity_id"):
        raise _invalid(
            "The response comes from another IdP than the connection's",
            config.get("idp_entity_id"),
            text_of(issuer),
            field="Response/Issuer",
        )
    destination = root.get("Destination")
    if destination is not None and destination != config.get("sp_assertion_url"):
        raise _invalid(
            "The response was sent to another ACS URL",
            config.get("sp_assertion_url"),
            destination,
            field="Response/Destination",
        )
    assertion = _single_assertion(root, decrypt is not None)
    _check_signature_places(root, assertion)
    encrypted = assertion.tag == saml("EncryptedAssertion")
    if not encrypted and has_comment_or_pi(assertion):
        # Comments and PIs have no business inside an assertion; inside a NameID they are always an attack
        # (a value signed as one string, read as a shorter one by a careless parser).
        raise _invalid(
            "The assertion contains a comment or processing instruction",
            "an assertion without comments or processing instructions",
            "a comment or processing instruction",
        )
    signed_response = root.find(ds("Signature")) is not None
    allow_sha1 = config.get("allow_sha1") is True
    if encrypted and decrypt is not None:
        verified_assertion, signed_in_response_to = _decrypted(
            root, assertion, decrypt, certificates, allow_sha1=allow_sha1, now=now
        )
    elif signed_response:
        verified_response = verify_enveloped(root, certificates, allow_sha1=allow_sha1, now=now)
        verified = verified_response.findall(saml("Assertion"))
        if len(verified) != 1:
            raise _invalid("The signed response must hold exactly one assertion", 1, len(verified))
        verified_assertion = verified[0]
        signed_in_response_to = verified_response.get("InResponseTo")
    else:
        if assertion.find(ds("Signature")) is None:
            raise LoginError.wanted_got(
                "signature_validation_failed",
                "The SAML response is not signed: sign the assertion or the response at the IdP",
                "a signed Response or Assertion",
                "no signature",
            )
        verified_assertion = verify_enveloped(assertion, certificates, allow_sha1=allow_sha1, now=now)
        signed_in_response_to = None
    return _read_assertion(
        verified_assertion,
        connection,
        envelope_in_response_to=root.get("InResponseTo"),
        signed_in_response_to=signed_in_response_to,
        now=now,
        skew=timedelta(seconds=skew_seconds),
    )


def _name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else "a non-element node"


def _check_status(root: etree._Element) -> None:
    code = root.find(f"{samlp('Status')}/{samlp('StatusCode')}")
    if code is None:
        raise malformed("The response has no Status", "samlp:Status/samlp:StatusCode", "none")
    value = code.get("Value")
    if value != STATUS_SUCCESS:
        second = code.find(samlp("StatusCode"))
        raise LoginError(
            "invalid_status",
            "The IdP did not sign the user in: it answered with an error status",
            {
                "wanted": STATUS_SUCCESS,
                "got": quoted(value),
                "status_code": quoted(value),
                "sub_status_code": quoted(second.get("Value")) if second is not None else None,
            },
        )


def _single_assertion(root: etree._Element, encrypted_allowed: bool) -> etree._Element:
    # Counted over the whole document, wherever they hide (Extensions, ds:Object, …): signature wrapping needs
    # a second assertion somewhere, and a response carries exactly one, plain or encrypted.
    assertions = list(root.iter(saml("Assertion")))
    encrypted = list(root.iter(saml("EncryptedAssertion")))
    if encrypted and not encrypted_allowed:
        raise _invalid(
            "Encrypted assertions cannot be decrypted here: turn assertion encryption off at the IdP",
            "a plain Assertion",
            "an EncryptedAssertion",
        )
    found = assertions + encrypted
    if len(found) != 1:
        raise _invalid("A response must hold exactly one assertion", 1, len(found))
    if found[0].getparent() is not root:
        raise _invalid("The assertion is not a child of the response", "Response/Assertion", "a nested assertion")
    return found[0]


def _decrypted(
    root: etree._Element,
    encrypted: etree._Element,
    decrypt: Callable[[etree._Element], etree._Element],
    certificates: list[x509.Certificate],
    *,
    allow_sha1: bool,
    now: datetime,
) -> tuple[etree._Element, str | None]:
    """The verified Assertion of an encrypted response, and the InResponseTo a Response signature covers.

    A signed Response is verified over the ciphertext first (what the IdP signed), then decrypted from the
    verified copy; an unsigned Response needs a signature inside the decrypted Assertion.
    """
    signed_in_response_to = None
    signed_response = root.find(ds("Signature")) is not None
    if signed_response:
        verified_response = verify_enveloped(root, certificates, allow_sha1=allow_sha1, now=now)
        found = verified_response.findall(saml("EncryptedAssertion"))
        if len(found) != 1 or verified_response.find(saml("Assertion")) is not None:
            raise _invalid("The signed response must hold exactly one assertion", 1, len(found))
        encrypted = found[0]
        signed_in_response_to = verified_response.get("InResponseTo")
    plain = decrypt(encrypted)
    inner = len(list(plain.iter(saml("Assertion")))) + len(list(plain.iter(saml("EncryptedAssertion"))))
    if inner != 1:
        raise _invalid("The encrypted assertion must hold exactly one assertion", 1, inner)
    if has_comment_or_pi(plain):
        raise _invalid(
            "The assertion contains a comment or processing instruction",
            "an assertion without comments or processing instructions",
            "a comment or processing instruction",
        )
    if any(s.getparent() is not plain for s in plain.iter(ds("Signature"))):
        raise _invalid(
            "The assertion carries a signature inside its content",
            "a signature enveloped in the Assertion",
            "a signature elsewhere",
        )
    if plain.find(ds("Signature")) is not None:
        return verify_enveloped(plain, certificates, allow_sha1=allow_sha1, now=now), signed_in_response_to
    if not signed_response:
        raise LoginError.wanted_got(
            "signature_validation_failed",
            "The SAML response is not signed: sign the assertion or the response at the IdP",
            "a signed Response or Assertion",
            "no signature",
        )
    return plain, signed_in_response_to


def _check_signature_places(root: etree._Element, assertion: etree._Element) -> None:
    for signature in root.iter(ds("Signature")):
        if signature.getparent() not in (root, assertion):
            raise _invalid(
                "The response carries a signature outside the Response and the Assertion",
                "signatures enveloped in Response or Assertion only",
                "a signature elsewhere",
            )


def _read_assertion(
    assertion: etree._Element,
    connection: SsoConnection,
    *,
    envelope_in_response_to: str | None,
    signed_in_response_to: str | None,
    now: datetime,
    skew: timedelta,
) -> VerifiedAssertion:
    config = connection.saml_config
    assertion_id = assertion.get("ID")
    if not assertion_id or len(assertion_id) > MAX_ID_LENGTH:
        raise _invalid(
            "The assertion has no usable ID", f"an ID of at most {MAX_ID_LENGTH} characters", "none or longer"
        )
    issuer = text_of(assertion.find(saml("Issuer")))
    if issuer != config.get("idp_entity_id"):
        raise _invalid(
            "The assertion comes from another IdP than the connection's",
            config.get("idp_entity_id"),
            issuer,
            field="Assertion/Issuer",
        )
    _check_conditions(assertion, config.get("sp_entity_id"), now, skew)
    subject = assertion.find(saml("Subject"))
    if subject is None:
        raise _invalid("The assertion has no Subject", "saml:Subject", "none")
    confirmation = _bearer_confirmation(subject, config.get("sp_assertion_url"), now, skew)
    in_response_to = confirmation.get("InResponseTo") or signed_in_response_to
    if envelope_in_response_to and envelope_in_response_to != in_response_to:
        raise _invalid(
            "The response's InResponseTo is not the one its signed assertion answers",
            "InResponseTo covered by the signature",
            "a different or unsigned InResponseTo",
        )
    name_id_element = subject.find(saml("NameID"))
    name_id = text_of(name_id_element)
    if not name_id or name_id_element is None:
        raise _invalid("The assertion has no NameID", "saml:Subject/saml:NameID", "none")
    conditions = assertion.find(saml("Conditions"))
    ends = [
        parse_instant(confirmation.get("NotOnOrAfter")),
        parse_instant(conditions.get("NotOnOrAfter")) if conditions is not None else None,
    ]
    authn = assertion.find(saml("AuthnStatement"))
    attributes, friendly = _attributes(assertion)
    return VerifiedAssertion(
        assertion_id=assertion_id,
        in_response_to=in_response_to,
        retain_until=max(e for e in ends if e is not None) + skew,
        name_id=name_id,
        name_id_format=name_id_element.get("Format"),
        session_index=authn.get("SessionIndex") if authn is not None else None,
        attributes=attributes,
        friendly_names=friendly,
        name_qualifier=name_id_element.get("NameQualifier"),
        sp_name_qualifier=name_id_element.get("SPNameQualifier"),
        session_not_on_or_after=parse_instant(authn.get("SessionNotOnOrAfter")) if authn is not None else None,
    )


def _expired(message: str, wanted: str, now: datetime, code: str = "assertion_expired") -> LoginError:
    return LoginError.wanted_got(code, message, wanted, f"now is {now.isoformat()}")


def _check_conditions(assertion: etree._Element, audience: object, now: datetime, skew: timedelta) -> None:
    conditions = assertion.find(saml("Conditions"))
    if conditions is None:
        raise _invalid("The assertion has no Conditions", "saml:Conditions with an AudienceRestriction", "none")
    for name in ("NotBefore", "NotOnOrAfter"):
        if conditions.get(name) is not None and parse_instant(conditions.get(name)) is None:
            raise _invalid(f"The assertion's {name} is not a valid time", "an xs:dateTime", conditions.get(name))
    not_before = parse_instant(conditions.get("NotBefore"))
    not_on_or_after = parse_instant(conditions.get("NotOnOrAfter"))
    if not_before is not None and now + skew < not_before:
        raise _expired(
            "The assertion is not valid yet: check the IdP's and this server's clocks",
            f"not before {not_before.isoformat()} (with {int(skew.total_seconds())} s skew)",
            now,
        )
    if not_on_or_after is not None and now - skew >= not_on_or_after:
        raise _expired(
            "The assertion has expired: sign in again",
            f"before {not_on_or_after.isoformat()} (with {int(skew.total_seconds())} s skew)",
            now,
        )
    restrictions = conditions.findall(saml("AudienceRestriction"))
    if not restrictions:
        raise _invalid("The assertion names no audience", audience, "no AudienceRestriction")
    for restriction in restrictions:
        audiences = [text_of(a) for a in restriction.findall(saml("Audience"))]
        if audience not in audiences:
            raise _invalid(
                "The assertion is meant for another service provider: check the SP entity ID at the IdP",
                audience,
                audiences,
                field="Conditions/AudienceRestriction/Audience",
            )


def _bearer_confirmation(subject: etree._Element, recipient: object, now: datetime, skew: timedelta) -> etree._Element:
    """The bearer SubjectConfirmationData that holds for this ACS now (SAML profiles §4.1.4.2)."""
    problem: LoginError | None = None
    for confirmation in subject.findall(saml("SubjectConfirmation")):
        if confirmation.get("Method") != CM_BEARER:
            continue
        data = confirmation.find(saml("SubjectConfirmationData"))
        if data is None:
            problem = problem or _invalid("The bearer confirmation has no data", "SubjectConfirmationData", "none")
            continue
        if data.get("Recipient") != recipient:
            problem = problem or _invalid(
                "The assertion was issued for another ACS URL",
                recipient,
                data.get("Recipient"),
                field="SubjectConfirmationData/Recipient",
            )
            continue
        ends = parse_instant(data.get("NotOnOrAfter"))
        if ends is None:
            problem = problem or _invalid(
                "The bearer confirmation has no valid NotOnOrAfter", "an xs:dateTime", data.get("NotOnOrAfter")
            )
            continue
        if now - skew >= ends:
            problem = problem or _expired(
                "The response has expired: sign in again",
                f"before {ends.isoformat()} (with {int(skew.total_seconds())} s skew)",
                now,
                code="response_expired",
            )
            continue
        starts = parse_instant(data.get("NotBefore"))
        if starts is not None and now + skew < starts:
            problem = problem or _expired(
                "The response is not valid yet: check the IdP's and this server's clocks",
                f"not before {starts.isoformat()}",
                now,
                code="response_expired",
            )
            continue
        return data
    raise problem or _invalid("The assertion has no bearer subject confirmation", CM_BEARER, "none")


def _attributes(assertion: etree._Element) -> tuple[dict[str, list[str]], dict[str, str]]:
    values: dict[str, list[str]] = {}
    friendly: dict[str, str] = {}
    nil = f"{{{XSI}}}nil"
    for attribute in assertion.iter(saml("Attribute")):
        name = attribute.get("Name")
        if not name:
            continue
        if attribute.get("FriendlyName"):
            friendly.setdefault(attribute.get("FriendlyName", ""), name)
        bucket = values.setdefault(name, [])  # repeated Attribute elements with one Name are merged (Keycloak)
        for value in attribute.findall(saml("AttributeValue")):
            if value.get(nil) in ("true", "1"):
                continue
            bucket.append(text_of(value) or "")
    return values, friendly
