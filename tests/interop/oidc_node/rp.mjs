// A real relying party (npm openid-client) logging in to Entryway from its discovery document alone.
// Step 1: node rp.mjs start <issuer> <client_id> <client_secret> <redirect_uri> <login_hint>
//   prints one JSON line: {"url", "state", "nonce", "verifier"}
// Step 2: node rp.mjs finish <issuer> <client_id> <client_secret> <callback_url> <state> <nonce> <verifier>
//   prints one JSON line: {"claims", "userinfo"}
import * as client from "openid-client";

const [step, issuer, clientId, clientSecret, ...rest] = process.argv.slice(2);
const options = { execute: [client.allowInsecureRequests] }; // Entryway's test server is plain http on loopback
const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, options);

if (step === "start") {
  const [redirectUri, loginHint] = rest;
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid profile email",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    login_hint: loginHint,
  });
  console.log(JSON.stringify({ url: url.href, state, nonce, verifier }));
} else {
  const [callbackUrl, state, nonce, verifier] = rest;
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  console.log(JSON.stringify({ claims, userinfo }));
}
