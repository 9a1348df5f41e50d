"""One connector per platform, behind one explicit registry imported lazily.

`get_connector("x", config)` imports `connectors.x` only when an X account is polled, so the
CLI starts fast and an installation without one platform's library still polls the others.
"""

from __future__ import annotations

import importlib
from typing import Any

from connectors.base import Connector
from monitor.config import Config

# platform -> "module:Class"
REGISTRY: dict[str, str] = {
    "x": "connectors.x:XConnector",
    "facebook": "connectors.facebook:FacebookConnector",
    "instagram": "connectors.instagram:InstagramConnector",
    "youtube": "connectors.youtube:YouTubeConnector",
}


def get_connector(platform: str, config: Config, *, session: Any = None, **options: Any) -> Connector:
    """The connector for `platform`, configured from `config`.

    `session` replaces the transport: a `requests.Session` whose adapters X, Facebook and Instagram
    use (e.g. a test transport), or an httplib2.Http-like object for YouTube. `options` go to the
    connector (e.g. `sleep=` for retries in tests).
    """
    try:
        target = REGISTRY[platform]
    except KeyError:
        raise ValueError(f"no connector for platform {platform!r} (known: {', '.join(REGISTRY)})") from None
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    connector: Connector = cls(config, session=session, **options)
    return connector
