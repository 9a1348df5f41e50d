"""One connector per platform, found through the platform specs (`connectors.specs.SPECS`).

`get_connector("x", config)` imports `connectors.x` only when an X account is polled, so the
CLI starts fast and an installation without one platform's library still polls the others.
This package's import is kept free of the connectors themselves: the config schema reads
`connectors.specs` while `connectors.base` reads the config.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.specs import SPECS, platform_spec

if TYPE_CHECKING:
    from connectors.base import Connector
    from monitor.config import Config

# platform -> "module:Class" (derived from the specs)
REGISTRY: Mapping[str, str] = {name: spec.connector for name, spec in SPECS.items()}


def connector_class(platform: str) -> Any:
    """The connector class for `platform`, imported on first use."""
    module_name, class_name = platform_spec(platform).connector.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def get_connector(platform: str, config: Config, *, session: Any = None, **options: Any) -> Connector:
    """The connector for `platform`, configured from `config`.

    `session` replaces the transport: a `requests.Session` whose adapters X, Facebook and Instagram
    use (e.g. a test transport), or an httplib2.Http-like object for YouTube. `options` go to the
    connector (e.g. `sleep=` for retries in tests).
    """
    connector: Connector = connector_class(platform)(config, session=session, **options)
    return connector
