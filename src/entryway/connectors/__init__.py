"""The IdP-facing side: one package per protocol behind the small Connector interface in base.py."""
