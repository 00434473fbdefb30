"""Import of episode files (shared/formats/episode-v1.md): all-or-nothing, idempotent."""

from __future__ import annotations

from monitor.services.base import ServiceBase


class ImportingMixin(ServiceBase):
    pass
