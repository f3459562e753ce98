"""Test support: databases, a live server on a loopback port, and helpers to drive a login."""
