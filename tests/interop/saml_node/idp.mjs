// A real SAML IdP for Entryway's interop tests: samlify's IdentityProvider behind node:http on a loopback port.
//
//   node idp.mjs <sp-metadata.xml> <key.pem> <cert.pem> <user-email> [<data encryption algorithm URI>]
//
// With an encryption algorithm the assertion is signed, then encrypted (RSA-OAEP) for the SP's encryption
// certificate from its metadata.
// Prints "listening <base URL>" once ready. Routes:
//   GET /metadata             the IdP's metadata (samlify's own)
//   GET /sso?SAMLRequest=…    parse Entryway's AuthnRequest (HTTP-Redirect binding), answer with a signed Response
//   GET /idp-initiated        an unsolicited signed Response
//   GET /slo?SAMLRequest=…    verify Entryway's signed LogoutRequest (HTTP-Redirect), redirect with a signed
//                             LogoutResponse
//   GET /slo?SAMLResponse=…   verify Entryway's signed LogoutResponse to /idp-logout; {"verified": true}
//   GET /idp-logout           a signed LogoutRequest of samlify's own: {"url": …} (HTTP-Redirect)
// Login answers are JSON {acs_url, SAMLResponse, RelayState}: what the HTTP-POST binding would post for a browser.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import * as validator from "@authenio/samlify-node-xmllint";
import samlify from "samlify";

const [spMetadataPath, keyPath, certPath, email, encryption] = process.argv.slice(2);
samlify.setSchemaValidator(validator);

const BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
const attributes = [
  { name: "email", valueTag: "email", nameFormat: BASIC, valueXsiType: "xs:string" },
  { name: "firstName", valueTag: "firstName", nameFormat: BASIC, valueXsiType: "xs:string" },
  { name: "lastName", valueTag: "lastName", nameFormat: BASIC, valueXsiType: "xs:string" },
  // Two elements with one Name, as Keycloak sends roles: the SP must merge them.
  { name: "groups", valueTag: "group1", nameFormat: BASIC, valueXsiType: "xs:string" },
  { name: "groups", valueTag: "group2", nameFormat: BASIC, valueXsiType: "xs:string" },
];
const user = { email, firstName: "Ada", lastName: "Lovelace", group1: "engineering", group2: "admins" };

const server = createServer();
server.listen(0, "127.0.0.1", () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const idp = samlify.IdentityProvider({
    entityID: `${base}/metadata`,
    privateKey: readFileSync(keyPath),
    signingCert: readFileSync(certPath),
    nameIDFormat: ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
    singleSignOnService: [
      { Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: `${base}/sso` },
    ],
    singleLogoutService: [
      { Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: `${base}/slo` },
    ],
    wantAuthnRequestsSigned: false,
    // Logout messages from Entryway must be signed by the key its SP metadata publishes.
    wantLogoutRequestSigned: true,
    wantLogoutResponseSigned: true,
    isAssertionEncrypted: Boolean(encryption),
    ...(encryption ? { dataEncryptionAlgorithm: encryption } : {}),
  });
  // Entryway wants signed logout messages, so samlify signs the ones it sends.
  const sp = samlify.ServiceProvider({
    metadata: readFileSync(spMetadataPath),
    wantLogoutRequestSigned: true,
    wantLogoutResponseSigned: true,
  });
  // The redirect binding's signature covers the query octets as sent, Signature excluded.
  const octets = (url) =>
    url.search
      .slice(1)
      .split("&")
      .filter((part) => !part.startsWith("Signature="))
      .join("&");

  const respond = async (requestId) => {
    const replace = (template) => {
      const now = new Date();
      const later = new Date(now.getTime() + 5 * 60 * 1000).toISOString();
      const acs = sp.entityMeta.getAssertionConsumerService("post");
      const id = idp.entitySetting.generateID();
      const withAttributes = template.replace(
        "{AttributeStatement}",
        samlify.SamlLib.attributeStatementBuilder(attributes),
      );
      const values = {
        ID: id,
        AssertionID: idp.entitySetting.generateID(),
        Destination: acs,
        Audience: sp.entityMeta.getEntityID(),
        SubjectRecipient: acs,
        Issuer: idp.entityMeta.getEntityID(),
        IssueInstant: now.toISOString(),
        StatusCode: "urn:oasis:names:tc:SAML:2.0:status:Success",
        ConditionsNotBefore: now.toISOString(),
        ConditionsNotOnOrAfter: later,
        SubjectConfirmationDataNotOnOrAfter: later,
        NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        NameID: user.email,
        InResponseTo: requestId, // null: the attribute is left out (an unsolicited response)
        AuthnStatement: "",
        attrEmail: user.email,
        attrFirstName: user.firstName,
        attrLastName: user.lastName,
        attrGroup1: user.group1,
        attrGroup2: user.group2,
      };
      return { id, context: samlify.SamlLib.replaceTagsByValue(withAttributes, values) };
    };
    const requestInfo = requestId ? { extract: { request: { id: requestId } } } : {};
    const answer = await idp.createLoginResponse(sp, requestInfo, "post", user, { customTagReplacement: replace });
    return { acs_url: answer.entityEndpoint, SAMLResponse: answer.context };
  };

  server.on("request", async (req, res) => {
    const url = new URL(req.url, base);
    try {
      if (url.pathname === "/metadata") {
        res.writeHead(200, { "content-type": "application/samlmetadata+xml" });
        res.end(idp.getMetadata());
        return;
      }
      let body;
      if (url.pathname === "/sso") {
        const query = Object.fromEntries(url.searchParams);
        const parsed = await idp.parseLoginRequest(sp, "redirect", { query, octetString: "" });
        body = { ...(await respond(parsed.extract.request.id)), RelayState: query.RelayState ?? "" };
      } else if (url.pathname === "/slo" && url.searchParams.has("SAMLRequest")) {
        const query = Object.fromEntries(url.searchParams);
        const parsed = await idp.parseLogoutRequest(sp, "redirect", { query, octetString: octets(url) });
        const answer = idp.createLogoutResponse(sp, parsed, "redirect", { relayState: query.RelayState ?? "" });
        res.writeHead(302, { location: answer.context });
        res.end();
        return;
      } else if (url.pathname === "/slo" && url.searchParams.has("SAMLResponse")) {
        const query = Object.fromEntries(url.searchParams);
        const parsed = await idp.parseLogoutResponse(sp, "redirect", { query, octetString: octets(url) });
        body = { verified: true, in_response_to: parsed.extract.response?.inResponseTo ?? null };
      } else if (url.pathname === "/idp-logout") {
        const request = idp.createLogoutRequest(
          sp,
          "redirect",
          { logoutNameID: user.email, sessionIndex: "" },
          { relayState: "samlify-rs" },
        );
        body = { url: request.context, id: request.id };
      } else if (url.pathname === "/idp-initiated") {
        body = { ...(await respond(null)), RelayState: "" };
      } else {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    } catch (error) {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end(String(error && error.stack ? error.stack : error));
    }
  });
  console.log(`listening ${base}`);
});
