"""The developer dashboard: server-rendered pages behind an owner's sign-in (docs/dashboard.md)."""
