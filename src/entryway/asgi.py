"""ASGI entry point for uvicorn (`--factory entryway.asgi:create`), used by `entryway serve`."""

from __future__ import annotations

from fastapi import FastAPI

from entryway.app import create_app
from entryway.config import load_settings
from entryway.connectors.saml.metadata_schedule import start_refresher
from entryway.observability import json_logs
from entryway.runtime import Runtime
from entryway.services.auth_log_retention import start_purger


def create() -> FastAPI:
    json_logs.configure("INFO", json_lines=True)
    rt = Runtime.build(load_settings())
    start_purger(rt)
    start_refresher(rt)
    return create_app(rt)
