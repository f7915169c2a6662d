"""Piccolo's configuration module (``PICCOLO_CONF=registry.piccolo_conf``).

Piccolo's own command line (``piccolo migrations new registry --auto``) reads the engine ``DB``
from here. The service binds its engine explicitly through :func:`registry.db.bind_engine`,
which sets ``DB``; only when nothing has been bound is an engine made from the environment's
settings, on first use, so importing this module creates no files and opens nothing.
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["registry.piccolo_app"])


def __getattr__(name: str) -> Any:
    if name != "DB":
        raise AttributeError(name)
    from registry.config import load_settings
    from registry.db import bind_engine, create_engine

    engine = create_engine(load_settings())
    bind_engine(engine)  # sets DB, so this runs once
    return engine
