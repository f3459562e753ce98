// A real OpenID Provider (npm oidc-provider) on a loopback port, for Entryway's upstream interop tests.
// Usage: node op.mjs <port> <client_id> <client_secret> <redirect_uri> [token_auth_method] [post_logout_redirect_uri]
// Prints "READY <issuer>" once listening. Users sign in through oidc-provider's own development
// interactions (any login name; the name becomes the subject and the email's local part).
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri, authMethod = "client_secret_post", postLogoutUri] =
  process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: postLogoutUri ? [postLogoutUri] : [],
      token_endpoint_auth_method: authMethod,
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["given_name", "family_name", "name"],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${id}@acme.test`,
          email_verified: true,
          given_name: "Jane",
          family_name: "Doe",
          name: "Jane Doe",
        };
      },
    };
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;
provider.listen(Number(port), "127.0.0.1", () => console.log(`READY ${issuer}`));
