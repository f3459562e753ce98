"""The management REST API (/api/v1): thin handlers over the services."""
