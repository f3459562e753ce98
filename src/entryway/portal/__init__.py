"""The customer admin portal: where an organization's IT admin sets up SSO from a portal link."""
