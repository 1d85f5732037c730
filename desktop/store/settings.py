"""Clinic settings: one JSON value per key, every change logged."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from desktop.records import ScreeningRule
from desktop.store.base import StoreBase, sql


class SettingsMixin(StoreBase):
    @sql("reading the clinic settings")
    def setting(self, key: str, default=None):
        rows = self._q("SELECT value FROM settings WHERE key = ?", [key])
        return json.loads(rows[0]["value"]) if rows else default

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
