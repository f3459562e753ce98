// SAML Jackson behind node:http, so bench/login_flow.py drives it through the same SP-initiated login as
// Entryway, over HTTP, step for step:
//
//   node server.mjs <engine: mem | sqlite | postgres> [<database URL or file>] [<organizations, default 1>]
//
//   GET  /api/oauth/authorize?…      Jackson's oauthController.authorize → 302 to the IdP (HTTP-Redirect)
//   GET  /idp/org<N>/sso?SAMLRequest=…      samlify's IdentityProvider signs a Response (the IdP: not SP cost)
//   POST /api/oauth/saml             Jackson's oauthController.samlResponse (the ACS) → 302 with a code
//   POST /api/oauth/token            Jackson's oauthController.token (PKCE; tenant/product client)
//
// One SAML connection per organization (tenant org<N>, product bench), all trusting the same IdP key. Prints
// "listening <base URL> <seconds from process start to Jackson ready, seeding excluded>" once ready; the client_id of organization N is
// "tenant=org<N>&product=bench" (Jackson's own form), the client secret "dummy".
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jacksonModule from "@boxyhq/saml-jackson";

const jackson = jacksonModule.default ?? jacksonModule;
import samlify from "samlify";

const started = performance.now();
const [engine = "mem", dbUrl = "", orgCount = "1"] = process.argv.slice(2);
// samlify plays the IdP here and only parses Jackson's AuthnRequest; its wasm xmllint validator costs seconds
// per call on this machine and is not what is measured (Jackson validates responses with its own code).
samlify.setSchemaValidator({ validate: async () => "not validated: the benchmark IdP trusts its SP" });

// The IdP's key and a self-signed certificate (openssl, as an operator would make one).
const dir = mkdtempSync(join(tmpdir(), "jackson-bench-"));
execFileSync("openssl", [
  "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=bench-idp",
  "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
], { stdio: "ignore" });
const idpKey = readFileSync(join(dir, "key.pem"));
const idpCert = readFileSync(join(dir, "cert.pem"));

// Jackson signs ID tokens (scope openid) with this pair, as Entryway signs its ID token: the same work.
const jwt = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});
const jwtSigningKeys = {
  private: Buffer.from(jwt.privateKey).toString("base64"),
  public: Buffer.from(jwt.publicKey).toString("base64"),
};

const db =
  engine === "mem" ? { engine: "mem" }
  : engine === "sqlite" ? { engine: "sql", type: "sqlite", url: dbUrl }
  : engine === "postgres" ? { engine: "sql", type: "postgres", url: dbUrl }
  : null;
if (!db) throw new Error(`unknown engine ${engine}`);

const server = createServer();
server.listen(0, "127.0.0.1", async () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const { oauthController, connectionAPIController } = await jackson({
    externalUrl: base,
    samlPath: "/api/oauth/saml",
    samlAudience: "https://saml.boxyhq.com",
    db: { ...db, ttl: 300, cleanupLimit: 1000, manualMigration: false },
    openid: { jwsAlg: "RS256", jwtSigningKeys },
    logger: { info() {}, warn() {}, error: console.error.bind(console) },
  });

  const ready = (performance.now() - started) / 1000;
  const BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
  const idp = samlify.IdentityProvider({
    entityID: `${base}/idp`,
    privateKey: idpKey,
    signingCert: idpCert,
    nameIDFormat: ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
    singleSignOnService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: `${base}/idp/sso` }],
    wantAuthnRequestsSigned: false,
  });
  const sp = samlify.ServiceProvider({
    entityID: "https://saml.boxyhq.com",
    assertionConsumerService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", Location: `${base}/api/oauth/saml` }],
  });
  const rawMetadata = idp.getMetadata();

  const count = Number(orgCount);
  for (let n = 0; n < count; n++) {
    // Jackson wants one IdP entity ID per tenant: each organization's IdP is /idp/org<N>.
    await connectionAPIController.createSAMLConnection({
      rawMetadata: rawMetadata.replaceAll(`${base}/idp`, `${base}/idp/org${n}`),
      tenant: `org${n}`,
      product: "bench",
      defaultRedirectUrl: "http://127.0.0.1:9/callback",
      redirectUrl: '["http://127.0.0.1:9/*"]',
    });
    if (count > 100 && (n + 1) % 1000 === 0) process.stderr.write(`seeded ${n + 1}/${count} organizations\n`);
  }

  const attributes = [
    { name: "email", valueTag: "email", nameFormat: BASIC, valueXsiType: "xs:string" },
    { name: "firstName", valueTag: "firstName", nameFormat: BASIC, valueXsiType: "xs:string" },
    { name: "lastName", valueTag: "lastName", nameFormat: BASIC, valueXsiType: "xs:string" },
  ];
  const respond = async (requestId, email, issuer) => {
    const user = { email, firstName: "Bench", lastName: "User" };
    const replace = (template) => {
      const now = new Date();
      const later = new Date(now.getTime() + 5 * 60 * 1000).toISOString();
      const acs = sp.entityMeta.getAssertionConsumerService("post");
      const id = idp.entitySetting.generateID();
      const context = samlify.SamlLib.replaceTagsByValue(
        template.replace("{AttributeStatement}", samlify.SamlLib.attributeStatementBuilder(attributes)),
        {
          ID: id, AssertionID: idp.entitySetting.generateID(), Destination: acs, Audience: sp.entityMeta.getEntityID(),
          SubjectRecipient: acs, Issuer: issuer, IssueInstant: now.toISOString(),
          StatusCode: "urn:oasis:names:tc:SAML:2.0:status:Success", ConditionsNotBefore: now.toISOString(),
          ConditionsNotOnOrAfter: later, SubjectConfirmationDataNotOnOrAfter: later,
          NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress", NameID: email,
          InResponseTo: requestId, AuthnStatement: "", attrEmail: email, attrFirstName: "Bench", attrLastName: "User",
        },
      );
      return { id, context };
    };
    const answer = await idp.createLoginResponse(
      sp, { extract: { request: { id: requestId } } }, "post", user, { customTagReplacement: replace },
    );
    return { acs_url: answer.entityEndpoint, SAMLResponse: answer.context };
  };

  const readForm = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => resolve(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()))));
      req.on("error", reject);
    });
  const redirect = (res, location) => res.writeHead(302, { location, "cache-control": "no-store" }).end();
  const json = (res, status, body) =>
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));

  server.on("request", async (req, res) => {
    const url = new URL(req.url, base);
    try {
      if (req.method === "GET" && url.pathname === "/api/oauth/authorize") {
        const { redirect_url } = await oauthController.authorize(Object.fromEntries(url.searchParams));
        return redirect(res, redirect_url);
      }
      const sso = req.method === "GET" && url.pathname.match(/^\/idp\/(org[0-9]+)\/sso$/);
      if (sso) {
        const query = Object.fromEntries(url.searchParams);
        const parsed = await idp.parseLoginRequest(sp, "redirect", { query, octetString: "" });
        const answer = await respond(parsed.extract.request.id, query.email || "user@example.com", `${base}/idp/${sso[1]}`);
        return json(res, 200, { ...answer, RelayState: query.RelayState ?? "" });
      }
      if (req.method === "POST" && url.pathname === "/api/oauth/saml") {
        const { redirect_url } = await oauthController.samlResponse(await readForm(req));
        return redirect(res, redirect_url);
      }
      if (req.method === "POST" && url.pathname === "/api/oauth/token") {
        return json(res, 200, await oauthController.token(await readForm(req)));
      }
      if (url.pathname === "/healthz") return json(res, 200, { ok: true });
      res.writeHead(404).end("not found");
    } catch (error) {
      if (process.env.BENCH_DEBUG) console.error(error);
      json(res, error.statusCode || 500, { error: String(error && error.message ? error.message : error) });
    }
  });
  console.log(`listening ${base} ${ready.toFixed(2)}`);
});
