"""Piccolo's configuration module (``PICCOLO_CONF=registry.piccolo_conf``).

Piccolo's own command line (``piccolo migrations new registry --auto``) reads the engine from
here; the service binds its engine explicitly through :func:`registry.db.bind_engine`, which
replaces ``DB`` so migrations run against the engine the service was configured with.
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from registry.config import load_settings
from registry.db import create_engine

DB: Engine[Any] = create_engine(load_settings())

APP_REGISTRY = AppRegistry(apps=["registry.piccolo_app"])
