"""The OpenID Connect relying party: discovery, the authorize redirect, the code exchange, ID-token checks."""
