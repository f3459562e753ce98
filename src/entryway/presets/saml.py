"""SAML presets: the attribute names each IdP product sends, and how its admin sets up the application.

Sources are listed in /work/shared/IDP-FACTS.md §2-3 (vendor docs and captured responses). Where a vendor
sends nothing by default (Okta, Google, JumpCloud, OneLogin, PingOne), the names are the ones the setup steps
tell the admin to create: email, firstName, lastName, groups. Entra ID, AD FS and Shibboleth send their own
claim URIs or OIDs, which the mapping names. NameIDPolicy stays "unspecified" for every vendor: Entra ID and
AD FS answer a requested emailAddress format with a pairwise ID or InvalidNameIDPolicy.
"""

from __future__ import annotations

from entryway.model.connections import ConnectionType, Provider
from entryway.presets import Preset

UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
WS_CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
MS_CLAIMS = "http://schemas.microsoft.com/identity/claims"

COMMON_MAPPING = {
    "email": "email",
    "given_name": "firstName",
    "family_name": "lastName",
    "name": "name",
    "groups": "groups",
}
COMMON_STEPS_END = "Assign the users or groups who may sign in, then run a test login from the admin portal."


def _saml(key: str, display_name: str, provider: Provider, mapping: dict[str, str], **facts: object) -> Preset:
    return Preset(
        key=key,
        display_name=display_name,
        type=ConnectionType.SAML,
        provider=provider,
        attribute_mapping=mapping,
        saml_name_id_format=UNSPECIFIED,
        **facts,  # type: ignore[arg-type]
    )


OKTA = _saml(
    "okta",
    "Okta",
    Provider.OKTA,
    {**COMMON_MAPPING, "idp_user_id": "id"},
    copy_to_idp={
        "sp_assertion_url": "Single sign-on URL (keep 'Use this for Recipient URL and Destination URL' ticked)",
        "sp_entity_id": "Audience URI (SP Entity ID)",
    },
    idp_values_from=("metadata_url", "Metadata URL on the application's Sign On tab"),
    setup_steps=(
        "Admin Console → Applications → Applications → Create App Integration → SAML 2.0 → Next.",
        "Name the app → Next.",
        "Paste the ACS URL into Single sign-on URL and the SP entity ID into Audience URI (SP Entity ID). "
        "Name ID format: EmailAddress; Application username: Email.",
        "Attribute Statements: email = user.email, firstName = user.firstName, lastName = user.lastName, "
        "id = user.id. Group Attribute Statements: groups, Matches regex .* (or a narrower filter).",
        "Finish, then copy the Metadata URL from the Sign On tab into Entryway.",
        COMMON_STEPS_END,
    ),
    notes=(
        "Okta signs the Response and the Assertion by default (RSA-SHA256).",
        "Without attribute statements Okta sends only the NameID (the Okta username).",
        "The issuer is http://www.okta.com/<app key>: per application, with an http scheme.",
    ),
)

ENTRA_ID = _saml(
    "entra-id",
    "Microsoft Entra ID",
    Provider.MICROSOFT_AD,
    {
        "email": f"{WS_CLAIMS}/emailaddress",
        "given_name": f"{WS_CLAIMS}/givenname",
        "family_name": f"{WS_CLAIMS}/surname",
        "name": f"{MS_CLAIMS}/displayname",
        "groups": "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
        "object_id": f"{MS_CLAIMS}/objectidentifier",
        "tenant_id": f"{MS_CLAIMS}/tenantid",
        "upn": f"{WS_CLAIMS}/name",
    },
    copy_to_idp={
        "sp_entity_id": "Identifier (Entity ID)",
        "sp_assertion_url": "Reply URL (Assertion Consumer Service URL)",
    },
    idp_values_from=("metadata_url", "App Federation Metadata Url (SAML Certificates section)"),
    setup_steps=(
        "entra.microsoft.com → Enterprise applications → New application → Create your own application → "
        "Integrate any other application you don't find in the gallery (Non-gallery) → Create.",
        "Single sign-on → SAML.",
        "Basic SAML Configuration → Edit: Add identifier (the SP entity ID), Add reply URL (the ACS URL) → Save. "
        "Or use 'Upload metadata file' with Entryway's SP metadata.",
        "Attributes & Claims: keep the defaults; optionally Add a group claim.",
        "SAML Certificates: copy the App Federation Metadata Url into Entryway.",
        COMMON_STEPS_END,
    ),
    notes=(
        "Entra signs the Assertion only (SHA-256 by default).",
        "The emailaddress claim (user.mail) is empty for accounts without a mailbox: map another claim to "
        "email for those tenants.",
        "Groups are object ID GUIDs unless the group claim says otherwise; above 150 groups none are sent.",
        "object_id (objectidentifier) is the stable user key; the UPN can change.",
    ),
)

GOOGLE = _saml(
    "google",
    "Google Workspace",
    Provider.GOOGLE,
    dict(COMMON_MAPPING),
    copy_to_idp={"sp_assertion_url": "ACS URL", "sp_entity_id": "Entity ID"},
    idp_values_from=("metadata_file", "DOWNLOAD METADATA (GoogleIDPMetadata.xml); Google has no metadata URL"),
    setup_steps=(
        "admin.google.com → Apps → Web and mobile apps → Add app → Add custom SAML app → name it → Continue.",
        "DOWNLOAD METADATA and upload the file to Entryway → Continue.",
        "Service provider details: paste the ACS URL and Entity ID. Name ID format UNSPECIFIED (or EMAIL), "
        "Name ID = Basic Information > Primary email → Continue.",
        "Attribute mapping: Primary email → email, First name → firstName, Last name → lastName; optionally "
        "Group membership → groups → Finish.",
        "User access: turn the app ON for everyone or for chosen organizational units or groups.",
        "Run a test login from the admin portal.",
    ),
    notes=(
        "Google signs the Assertion only; 'Signed response' signs the whole response.",
        "Every SAML app of one Google organization shares the same IdP entity ID.",
        "Certificate rotation means uploading a new metadata file: Google publishes no metadata URL.",
    ),
)

JUMPCLOUD = _saml(
    "jumpcloud",
    "JumpCloud",
    Provider.JUMPCLOUD,
    dict(COMMON_MAPPING),
    copy_to_idp={
        "sp_entity_id": "SP Entity ID",
        "sp_assertion_url": "ACS URLs → Default URL",
        "idp_entity_id": "IdP Entity ID (type a unique value, e.g. the SP entity ID followed by /jumpcloud)",
    },
    idp_values_from=("metadata_file", "Export Metadata (or Copy Metadata URL)"),
    setup_steps=(
        "Admin Portal → User Authentication → SSO Applications → Add New Application → Custom SAML App → "
        "name it → Save → Configure Application.",
        "SSO tab: IdP Entity ID (a unique value), SP Entity ID, ACS URLs → Default URL.",
        "Keep SAMLSubject NameID = email and Signature Algorithm RSA-SHA256; tick Declare Redirect Endpoint.",
        "Attributes: email ← email, firstName ← firstname, lastName ← lastname; optionally include the group "
        "attribute as groups.",
        "Save, then Export Metadata (or Copy Metadata URL) into Entryway.",
        "User Groups tab: tick the groups that may sign in → Save, then run a test login.",
    ),
    notes=(
        "JumpCloud signs the Assertion only; its NameID format is the SAML 1.0 unspecified URN.",
        "Without 'Declare Redirect Endpoint' the metadata offers only HTTP-POST (Entryway then posts the request).",
    ),
)

ONELOGIN = _saml(
    "onelogin",
    "OneLogin",
    Provider.ONELOGIN,
    {**COMMON_MAPPING, "idp_user_id": "id"},
    copy_to_idp={
        "sp_entity_id": "Audience (EntityID)",
        "sp_assertion_url": "Recipient, ACS (Consumer) URL, and ACS (Consumer) URL Validator (a regular "
        "expression: escape the dots)",
    },
    idp_values_from=("metadata_url", "Issuer URL on the SSO tab (it is also the metadata URL)"),
    setup_steps=(
        "Administration → Applications → Add App → SAML Custom Connector (Advanced) → name it → Save.",
        "Configuration tab: Audience (EntityID), Recipient, ACS (Consumer) URL and its Validator; SAML "
        "signature element: Both; SAML nameID format: Email → Save.",
        "Parameters tab: add email (Email), firstName (First Name), lastName (Last Name), id (UUID), each with "
        "'Include in SAML assertion'; for groups add groups with 'Multi-value parameter' ticked.",
        "SSO tab: SAML Signature Algorithm SHA-256; copy the Issuer URL into Entryway.",
        COMMON_STEPS_END,
    ),
    notes=(
        "Older OneLogin apps sign with SHA-1: switch them to SHA-256 rather than allowing SHA-1.",
        "Without 'Multi-value parameter' groups arrive as one semicolon-separated string.",
    ),
)

PING = _saml(
    "pingidentity",
    "PingOne / PingFederate",
    Provider.PING_IDENTITY,
    dict(COMMON_MAPPING),
    copy_to_idp={"sp_assertion_url": "ACS URLs", "sp_entity_id": "Entity ID"},
    idp_values_from=("metadata_file", "Download Metadata on the application's Configuration tab"),
    setup_steps=(
        "PingOne admin console → Applications → Applications → + → name it → SAML Application → Configure.",
        "Import Entryway's SP metadata (file or URL), or enter the ACS URL and Entity ID by hand → Save.",
        "Attribute Mappings: map saml_subject to Email Address; add email ← Email Address, firstName ← Given "
        "Name, lastName ← Family Name, optionally groups ← Group Names → Save.",
        "Configuration tab: Download Metadata (or copy the IdP metadata URL) into Entryway.",
        "Turn the application's enable toggle on, then run a test login.",
    ),
    notes=(
        "PingOne signs the Assertion only by default and offers no SHA-1; EC keys (ECDSA) are supported.",
        "Without a saml_subject change the NameID is the user's UUID, with no Format attribute.",
        "PingFederate: build the attribute contract with the same names; it signs the Response as required.",
    ),
)

ADFS = _saml(
    "adfs",
    "Microsoft AD FS",
    Provider.ADFS,
    {
        "email": f"{WS_CLAIMS}/emailaddress",
        "given_name": f"{WS_CLAIMS}/givenname",
        "family_name": f"{WS_CLAIMS}/surname",
        "name": f"{WS_CLAIMS}/name",
        "groups": "http://schemas.xmlsoap.org/claims/Group",
        "upn": f"{WS_CLAIMS}/upn",
    },
    copy_to_idp={
        "sp_metadata_url": "Import data about the relying party published online (Federation metadata address)",
        "sp_entity_id": "Relying party trust identifier (when entering data by hand)",
        "sp_assertion_url": "Relying party SAML 2.0 SSO service URL (when entering data by hand)",
    },
    idp_values_from=("metadata_url", "https://<federation service>/FederationMetadata/2007-06/FederationMetadata.xml"),
    setup_steps=(
        "AD FS Management → Relying Party Trusts → Add Relying Party Trust → Claims aware → Start.",
        "Import data about the relying party published online: paste Entryway's SP metadata URL (or import the "
        "downloaded file).",
        "Name the trust, choose an access control policy → Finish (leave 'Configure claims issuance policy' ticked).",
        "Add Rule → Send LDAP Attributes as Claims (Active Directory): E-Mail-Addresses → E-Mail Address, "
        "Given-Name → Given Name, Surname → Surname, User-Principal-Name → UPN; optionally Token-Groups - "
        "Unqualified Names → Group.",
        "Add Rule → Transform an Incoming Claim: E-Mail Address → Name ID, format Email.",
        "Give Entryway the federation metadata URL (or upload FederationMetadata.xml), then run a test login.",
    ),
    notes=(
        "AD FS signs the Assertion only by default; `Set-AdfsRelyingPartyTrust -SamlResponseSignature "
        "MessageAndAssertion` signs both.",
        "No claims at all are sent until issuance rules exist.",
        "AD FS sets NotBefore to the issue time with no skew: keep server clocks in sync.",
        "Existing trusts may sign with SHA-1: switch the trust to SHA-256 (-SignatureAlgorithm).",
    ),
)

SHIBBOLETH = _saml(
    "shibboleth",
    "Shibboleth IdP",
    Provider.CUSTOM,
    {
        "email": "urn:oid:0.9.2342.19200300.100.1.3",
        "given_name": "urn:oid:2.5.4.42",
        "family_name": "urn:oid:2.5.4.4",
        "name": "urn:oid:2.16.840.1.113730.3.1.241",
        "groups": "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
        "eppn": "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
    },
    copy_to_idp={"sp_metadata_url": "a MetadataProvider in conf/metadata-providers.xml (metadataURL)"},
    idp_values_from=("metadata_url", "the IdP's metadata, conventionally published at its entity ID URL"),
    setup_steps=(
        "Add a FileBackedHTTPMetadataProvider for Entryway's SP metadata URL in conf/metadata-providers.xml.",
        "In conf/attribute-filter.xml release mail, givenName, sn, displayName, isMemberOf and "
        "eduPersonPrincipalName to Entryway's SP entity ID.",
        "Shibboleth encrypts assertions by default: create the connection with saml_config.assertion_encrypted "
        "= true so Entryway's SP metadata publishes its encryption key (or add a RelyingPartyOverride with "
        'SAML2.SSO p:encryptAssertions="false").',
        "Reload the services, then give Entryway the IdP metadata (URL or idp-metadata.xml) and run a test login.",
    ),
    notes=(
        "Shibboleth signs the Response (not the Assertion) by default; Entryway accepts either.",
        "The default NameID is transient (a new value each login): user identity comes from the attributes.",
        "Nothing is released until attribute-filter.xml allows it.",
        "The provider value is CUSTOM: give this preset's attribute mapping when creating the connection.",
    ),
    applies_by_default=False,
)

GENERIC = _saml(
    "generic",
    "Generic SAML 2.0 IdP",
    Provider.CUSTOM,
    dict(COMMON_MAPPING),
    copy_to_idp={
        "sp_entity_id": "SP entity ID / Audience",
        "sp_assertion_url": "ACS URL (HTTP-POST binding)",
        "sp_metadata_url": "SP metadata URL, when the IdP can import it",
    },
    idp_values_from=("metadata_url", "the IdP's SAML metadata (URL or file)"),
    setup_steps=(
        "Create a SAML 2.0 application (service provider) at the IdP with Entryway's SP entity ID and ACS URL, "
        "or import Entryway's SP metadata.",
        "Sign the Assertion or the Response (or both) with RSA-SHA256 or stronger.",
        "Release the attributes email, firstName, lastName and, if wanted, groups (one value per group).",
        "Give Entryway the IdP metadata (URL or file).",
        COMMON_STEPS_END,
    ),
)

PRESETS: tuple[Preset, ...] = (OKTA, ENTRA_ID, GOOGLE, JUMPCLOUD, ONELOGIN, PING, ADFS, SHIBBOLETH, GENERIC)
