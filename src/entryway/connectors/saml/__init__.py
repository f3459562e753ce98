"""SAML 2.0 service provider: AuthnRequests, response validation, SP metadata, bindings."""
