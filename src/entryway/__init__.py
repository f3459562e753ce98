"""Entryway: a self-hosted enterprise SSO broker."""

__version__ = "0.1.0"
