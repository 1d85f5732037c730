"""Clinic settings: one JSON value per key, every change logged."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from desktop.records import ScreeningRule
from desktop.store.base import StoreBase, reads, sql


class SettingsMixin(StoreBase):
    @reads("reading the clinic settings")
    def setting(self, key: str, default=None):
        """The setting's value; a stored value of another kind than ``default`` means damage."""
        rows = self._q("SELECT value FROM settings WHERE key = ?", [key])
        if not rows:
            return default
        value = json.loads(rows[0]["value"])
        if default is not None and value is not None and not _same_kind(value, default):
            raise TypeError(f"setting {key}")
        return value

    @sql("saving the clinic settings")
    def set_setting(self, key: str, value, who: str = "") -> None:
        with self._write():
            self.db["settings"].upsert({"key": key, "value": json.dumps(value)}, pk="key")
            self._log(who, "setting", 0, "set", {"key": key, "value": value})

    @sql("saving the clinic settings")
    def save_settings(
        self, values: Mapping[str, object], rules: Iterable[ScreeningRule] = (), who: str = ""
    ) -> None:
        """Several settings and changed screening rules, all or nothing (the settings dialog's Save)."""
        with self._write():
            for key, value in values.items():
                self.set_setting(key, value, who)
            for rule in rules:
                self.save_screening_rule(rule, who)


def _same_kind(value, default) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))
