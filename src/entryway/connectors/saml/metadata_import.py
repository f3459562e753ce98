"""From IdP metadata (pasted XML or a fetched URL) to a connection's saml_config, recording what changed.

The values read from the metadata go through the same field checks as values typed by hand (the service
validates them); fields given by hand in the same request win over the metadata's. The document itself is
not stored, only its SHA-256, the URL it came from, and a short history of what each import changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from entryway.connectors.saml.idp_metadata import IdpMetadata, MetadataProblem, parse_idp_metadata
from entryway.connectors.saml.metadata_fetch import fetch_metadata
from entryway.keys.material import certificate_fingerprint, load_certificate
from entryway.model.errors import FieldViolation, invalid
from entryway.model.timestamps import rfc3339
from entryway.outbound import policy_for
from entryway.runtime import Runtime

IMPORTED_FIELDS = (
    "idp_entity_id",
    "idp_sso_url",
    "idp_sso_request_binding",
    "idp_slo_url",
    "idp_slo_request_binding",
    "idp_certificates",
)
METADATA_INPUTS = ("idp_metadata_url", "idp_metadata_xml")
MAX_HISTORY = 10


@dataclass(frozen=True)
class ImportedMetadata:
    fields: dict[str, Any]  # saml_config fields the service validates like hand-typed ones
    facts: dict[str, Any]  # what Entryway records about the import, stored as they are


def problem_violation(field: str, problem: MetadataProblem) -> FieldViolation:
    return FieldViolation(f"saml_config.{field}", f"invalid_saml_metadata: {problem}")


def prefetch(rt: Runtime, *, allow_http: bool, saml_config: Mapping[str, Any] | None) -> bytes | None:
    """Fetch idp_metadata_url before the write transaction opens (a slow IdP must not hold the database)."""
    url = (saml_config or {}).get("idp_metadata_url")
    if not isinstance(url, str) or not url:
        return None
    try:
        return fetch_metadata(url, allow_http=allow_http, policy=policy_for(rt.settings))
    except MetadataProblem as problem:
        raise invalid([problem_violation("idp_metadata_url", problem)], "The IdP metadata cannot be used") from None


def _fingerprints(pems: object) -> set[str]:
    found: set[str] = set()
    for pem in pems if isinstance(pems, list) else []:
        try:
            found.add(certificate_fingerprint(load_certificate(str(pem))))
        except (ValueError, TypeError):
            continue
    return found


def _fields(metadata: IdpMetadata) -> dict[str, Any]:
    return {
        "idp_entity_id": metadata.entity_id,
        "idp_sso_url": metadata.sso_urls[metadata.sso_binding],
        "idp_sso_request_binding": metadata.sso_binding,
        "idp_slo_url": metadata.slo_url,
        "idp_slo_request_binding": metadata.slo_binding,
        "idp_certificates": metadata.signing_certificates,
    }


def _change_record(old: Mapping[str, Any], new: Mapping[str, Any], source: str, now: datetime) -> dict[str, Any]:
    before, after = _fingerprints(old.get("idp_certificates")), _fingerprints(new.get("idp_certificates"))
    return {
        "time": rfc3339(now),
        "source": source,
        "changed_fields": [name for name in IMPORTED_FIELDS if old.get(name) != new.get(name)],
        "certificates_added": sorted(after - before),
        "certificates_removed": sorted(before - after),
    }


def import_metadata(
    given: Mapping[str, Any],
    fetched: bytes | None,
    current: Mapping[str, Any] | None,
    now: datetime,
    violations: list[FieldViolation],
) -> ImportedMetadata | None:
    """Read the metadata a create or PATCH carries (None when it carries none); problems go to `violations`."""
    xml, url = given.get("idp_metadata_xml"), given.get("idp_metadata_url")
    if xml is not None and url is not None:
        violations.append(FieldViolation("saml_config.idp_metadata_xml", "give idp_metadata_xml or idp_metadata_url"))
        return None
    if xml is None and url is None:
        return ImportedMetadata({}, {"idp_metadata_url": None}) if "idp_metadata_url" in given else None
    source = "idp_metadata_xml" if xml is not None else "idp_metadata_url"
    if xml is not None:
        document = xml.encode("utf-8") if isinstance(xml, str) else None
        if document is None:
            violations.append(FieldViolation("saml_config.idp_metadata_xml", "must be the metadata XML as a string"))
            return None
    elif fetched is None:
        violations.append(FieldViolation("saml_config.idp_metadata_url", "must be an absolute https URL"))
        return None
    else:
        document = fetched
    try:
        metadata = parse_idp_metadata(document)
    except MetadataProblem as problem:
        violations.append(problem_violation(source, problem))
        return None
    fields = _fields(metadata)
    history = list((current or {}).get("idp_metadata_changes") or [])
    facts: dict[str, Any] = {
        "idp_metadata_url": url if isinstance(url, str) else None,
        "idp_metadata_sha256": hashlib.sha256(document).hexdigest(),
        "idp_metadata_import_time": rfc3339(now),
        "idp_metadata_valid_until": rfc3339(metadata.valid_until),
        "idp_name_id_formats": metadata.name_id_formats,
        "idp_want_authn_requests_signed": metadata.want_authn_requests_signed,
        "idp_metadata_changes": ([*history, _change_record(current or {}, fields, source, now)])[-MAX_HISTORY:],
    }
    return ImportedMetadata(fields, facts)
