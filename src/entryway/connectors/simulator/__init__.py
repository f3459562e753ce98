"""The development IdP simulator: a real SAML IdP with its own key, for development environments only."""
