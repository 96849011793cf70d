"""What the app remembers between runs (QSettings): pipeline settings, recent files, mode, outputs, layout.

Tests and scripts pass their own INI file (``AppSettings.at(path)``), so they never touch the user's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from app.core.config import PipelineConfig
from app.core.sinks import Outputs

log = logging.getLogger(__name__)

ORGANISATION = "edite-pose"
APPLICATION = "edite-pose"
MAX_RECENT = 8


def config_from_dict(data: Mapping[str, object]) -> PipelineConfig:
    """Rebuild a :class:`PipelineConfig` from ``PipelineConfig.to_dict()`` data; unknown keys are ignored
    (settings saved by another version), invalid values raise ValueError."""
    parts = {}
    for part in fields(PipelineConfig):
        part_class = part.default_factory
        section = data.get(part.name) or {}
        known = {field.name for field in fields(part_class)}
        parts[part.name] = part_class(**{key: value for key, value in dict(section).items() if key in known})
    return PipelineConfig(**parts)


class AppSettings:
    """Typed access to a :class:`QSettings` store."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings(ORGANISATION, APPLICATION)

    @classmethod
    def at(cls, path: str | Path) -> AppSettings:
        """Settings kept in the INI file ``path`` (isolated from the user's)."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    # -- pipeline ------------------------------------------------------------------------------------------
    def pipeline_config(self) -> PipelineConfig:
        """The saved settings, or the defaults when none were saved or they no longer make sense."""
        text = self.store.value("pipeline/config", "")
        if not text:
            return PipelineConfig()
        try:
            return config_from_dict(json.loads(text))
        except (ValueError, TypeError) as error:
            log.warning("ignoring saved pipeline settings (%s); using the defaults", error)
            return PipelineConfig()

    def set_pipeline_config(self, config: PipelineConfig) -> None:
        self.store.setValue("pipeline/config", json.dumps(config.to_dict()))

    # -- sources and outputs ------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.store.value("sources/recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def add_recent(self, path: str) -> list[str]:
        """Put ``path`` first in the recent files (at most :data:`MAX_RECENT`); returns the new list."""
        recent = [path, *(item for item in self.recent_files() if item != path)][:MAX_RECENT]
        self.store.setValue("sources/recent", recent)
        return recent

    def mode(self) -> str:
        return str(self.store.value("playback/mode", "watch"))

    def set_mode(self, mode: str) -> None:
        self.store.setValue("playback/mode", mode)

    def outputs(self) -> Outputs:
        csv, video = self.store.value("outputs/csv", ""), self.store.value("outputs/video", "")
        return Outputs(csv=Path(csv) if csv else None, video=Path(video) if video else None)

    def set_outputs(self, outputs: Outputs) -> None:
        self.store.setValue("outputs/csv", str(outputs.csv or ""))
        self.store.setValue("outputs/video", str(outputs.video or ""))

    # -- window --------------------------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self.store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, geometry: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)

    def sync(self) -> None:
        self.store.sync()
