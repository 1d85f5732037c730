"""The practitioners who use this clinic file (names offered at the top of the main window)."""

from __future__ import annotations

from desktop.store.base import StoreBase, now_iso, reads, sql


class PractitionersMixin(StoreBase):
    @reads("reading the practitioners")
    def practitioners(self) -> list[str]:
        return [r["name"] for r in self._q("SELECT name FROM practitioners WHERE active = 1 ORDER BY name")]

    @sql("saving the practitioner")
    def add_practitioner(self, name: str) -> int:
        with self._write():
            return self.db["practitioners"].insert({"name": name.strip(), "created_at": now_iso()}).last_pk
