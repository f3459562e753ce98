"""The app-facing OpenID Provider: discovery, keys, authorize, token, userinfo, logout."""
