"""The process-wide objects every service needs, built once at start-up and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from entryway.clock import Clock
from entryway.config import Settings
from entryway.keys.keyring import KeyRing
from entryway.keys.sealing import MasterKeys, Sealer
from entryway.observability.metrics import Metrics
from entryway.store.config_cache import ConfigCache
from entryway.store.db import make_engine


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    sealer: Sealer
    keyring: KeyRing
    config: ConfigCache
    caches: dict[str, object] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None, engine: Engine | None = None) -> Runtime:
        engine = engine or make_engine(settings.database_url)
        sealer = Sealer(MasterKeys(settings.master_key, settings.previous_master_keys), engine)
        config = ConfigCache(
            engine, check_seconds=settings.config_cache_seconds, max_entries=settings.config_cache_entries
        )
        return cls(settings, engine, clock or Clock(), sealer, KeyRing(engine, sealer), config)
