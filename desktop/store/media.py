"""Photos of a client's treatment sessions: the stored pictures and their thumbnails.

The pictures were stripped of every metadata field before they reach the store (``desktop.photos``);
they live in the database file, so they are backed up (and, later, encrypted) with it. Lists read the
thumbnails only; a full picture is read one at a time, by id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from desktop.store.base import StoreBase, now_iso, sql
from desktop.store.errors import NotFoundError

ANGLE_KEYS = ("front", "left45", "left90", "right45", "right90", "closeup")
STAGE_KEYS = ("before", "after")


@dataclass(frozen=True)
class PhotoRow:
    id: int
    session_id: int
    client_id: int
    session_started_at: str  # the date a comparison shows
    angle: str
    stage: str
    area: str  # for a close-up: which area
    width: int
    height: int
    imported_at: str
    imported_by: str


_ROW = (
    "SELECT p.id, p.session_id, s.client_id, s.started_at AS session_started_at, p.angle, p.stage, "
    "p.area, p.width, p.height, p.imported_at, p.imported_by FROM photos p "
    "JOIN treatment_sessions s ON s.id = p.session_id"
)


class MediaMixin(StoreBase):
    @sql("storing a photo")
    def add_photos(self, session_id: int, photos: list[dict], who: str = "") -> list[int]:
        """Store pictures of one session, all or nothing. Each dict: jpeg, thumb, width, height,
        source_sha256, angle, stage and optionally area."""
        if not self._q("SELECT id FROM treatment_sessions WHERE id = ?", [session_id]):
            raise NotFoundError(f"session {session_id} does not exist")
        ids = []
        with self._write():
            for p in photos:
                if p["angle"] not in ANGLE_KEYS or p.get("stage", "before") not in STAGE_KEYS:
                    raise ValueError(f"unknown angle or stage: {p['angle']!r}, {p.get('stage')!r}")
                row = {
                    "session_id": session_id,
                    "angle": p["angle"],
                    "stage": p.get("stage", "before"),
                    "area": p.get("area") or "",
                    "width": p["width"],
                    "height": p["height"],
                    "image": p["jpeg"],
                    "thumb": p["thumb"],
                    "source_sha256": p["source_sha256"],
                    "imported_at": now_iso(),
                    "imported_by": who or "",
                }
                pid = self.db["photos"].insert(row).last_pk
                ids.append(pid)
                self._log(
                    who,
                    "session",
                    session_id,
                    "add photo",
                    {"photo_id": pid, "angle": row["angle"], "stage": row["stage"], "area": row["area"]},
                )
        return ids

    @sql("reading the photos")
    def photos_for_client(self, client_id: int) -> list[PhotoRow]:
        """Every photo of the client, oldest session first (no picture data)."""
        rows = self._q(
            f"{_ROW} WHERE s.client_id = ? ORDER BY s.started_at, p.session_id, p.angle, p.stage, p.id",
            [client_id],
        )
        return [PhotoRow(**r) for r in rows]

    @sql("reading the photos")
    def photos_for_session(self, session_id: int) -> list[PhotoRow]:
        rows = self._q(f"{_ROW} WHERE p.session_id = ? ORDER BY p.angle, p.stage, p.id", [session_id])
        return [PhotoRow(**r) for r in rows]

    @sql("reading the photos")
    def photo_thumbnails(self, client_id: int) -> dict[int, bytes]:
        return {
            r["id"]: r["thumb"]
            for r in self._q(
                "SELECT p.id, p.thumb FROM photos p JOIN treatment_sessions s ON s.id = p.session_id "
                "WHERE s.client_id = ?",
                [client_id],
            )
        }

    @sql("reading a photo")
    def photo_image(self, photo_id: int) -> bytes:
        rows = self._q("SELECT image FROM photos WHERE id = ?", [photo_id])
        if not rows:
            raise NotFoundError(f"photo {photo_id} does not exist")
        return rows[0]["image"]

    @sql("reading the photos")
    def photo_known(self, client_id: int, source_sha256: str) -> bool:
        """This exact file was imported for this client before."""
        return bool(
            self._q(
                "SELECT 1 FROM photos p JOIN treatment_sessions s ON s.id = p.session_id "
                "WHERE s.client_id = ? AND p.source_sha256 = ? LIMIT 1",
                [client_id, source_sha256],
            )
        )

    @sql("deleting a photo")
    def delete_photo(self, photo_id: int, who: str = "") -> None:
        rows = self._q("SELECT session_id, angle, stage FROM photos WHERE id = ?", [photo_id])
        if not rows:
            raise NotFoundError(f"photo {photo_id} does not exist")
        with self._write():
            self.conn.execute("DELETE FROM photos WHERE id = ?", [photo_id])
            details = {"photo_id": photo_id, **rows[0]}
            self._log(who, "session", rows[0]["session_id"], "delete photo", details)

    @sql("recording an export")
    def log_disclosure(
        self, record_type: str, record_id: int, action: str, details: dict, who: str = ""
    ) -> None:
        """A record left Abrasio (exported, printed, saved as PDF or CSV): who, what, where, when."""
        with self._write():
            self._log(who, record_type, record_id, action, details)

    # -- what a printed record or an export needs beyond the session row ---------------------------
    @sql("reading the session")
    def session_start_record(self, session_id: int) -> dict:
        """The screening as it stood at the start and whether consent was acknowledged then."""
        rows = self._q(
            "SELECT screening, consent_acknowledged FROM treatment_sessions WHERE id = ?", [session_id]
        )
        if not rows:
            raise NotFoundError(f"session {session_id} does not exist")
        return {
            "screening": json.loads(rows[0]["screening"] or "[]"),
            "consent_acknowledged": bool(rows[0]["consent_acknowledged"]),
        }
