"""Consent forms and signed consents; the screening as the client answered it.

Part of the ``Store`` facade (``desktop/store/__init__.py``). A signed consent is never changed: the
table refuses updates (a trigger), so what the client signed is what is kept.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from desktop.consent import (
    DEFAULT_VALIDITY_MONTHS,
    SIGNED,
    Consent,
    ConsentStatus,
    ConsentTemplate,
    consent_status,
    signature_problem,
    strokes_from_json,
    strokes_to_json,
    validate_template,
)
from desktop.questionnaire import ClientAnswer, Difference, answers_from_json, answers_to_json
from desktop.records import ScreeningAnswer
from desktop.store.base import StoreBase, iso_date, now_iso, parse_date, sql
from desktop.store.errors import NotFoundError


@dataclass(frozen=True)
class QuestionnaireRecord:
    """The screening as the client answered it, and what the practitioner confirmed from it."""

    id: int
    client_id: int
    answered_at: str
    answers: list[ClientAnswer]
    reviewed_at: str
    reviewed_by: str
    confirmed: list[ScreeningAnswer]
    differences: list[Difference]


_LISTED = (
    "id, client_id, kind, template_code, template_version, title, signed_on, signed_at, signer_name, "
    "witnessed_by, recorded_at"
)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.casefold()).strip("_")[:40] or "form"


class ConsentMixin(StoreBase):
    """Uses ``setting`` and ``save_screening`` from the other parts of ``Store``."""

    # -- forms -----------------------------------------------------------------------------------
    @staticmethod
    def _template(r: dict) -> ConsentTemplate:
        return ConsentTemplate(
            code=r["code"],
            version=r["version"],
            title=r["title"],
            body=r["body"],
            created_at=r["created_at"] or "",
            created_by=r["created_by"] or "",
            active=bool(r["active"]),
            id=r["id"],
        )

    @sql("reading the consent forms")
    def consent_templates(self, include_retired: bool = False) -> list[ConsentTemplate]:
        """The latest version of each consent form, by title."""
        rows = self._q(
            "SELECT t.* FROM consent_templates t WHERE t.version = "
            "(SELECT max(version) FROM consent_templates WHERE code = t.code) "
            + ("" if include_retired else "AND t.active = 1 ")
            + "ORDER BY t.title COLLATE NOCASE, t.code"
        )
        return [self._template(r) for r in rows]

    @sql("reading the consent form's versions")
    def consent_template_versions(self, code: str) -> list[ConsentTemplate]:
        rows = self._q("SELECT * FROM consent_templates WHERE code = ? ORDER BY version DESC", [code])
        return [self._template(r) for r in rows]

    @sql("saving the consent form")
    def save_consent_template(
        self, code: str | None, title: str, body: str, who: str = ""
    ) -> ConsentTemplate:
        """A new version of form ``code`` (a new form when ``code`` is None); the same text as the latest
        version adds nothing. Raises ValueError with the form's problems."""
        errors = validate_template(title, body)
        if errors:
            raise ValueError(" ".join(errors.values()))
        title, body = title.strip(), body.strip() + "\n"
        with self._write():
            if code is None:
                base = code = _slug(title)
                n = 1
                while self._q("SELECT 1 FROM consent_templates WHERE code = ?", [code]):
                    n += 1
                    code = f"{base}_{n}"
                latest = None
            else:
                versions = self.consent_template_versions(code)
                if not versions:
                    raise NotFoundError(f"there is no consent form {code!r}")
                latest = versions[0]
                if latest.title == title and latest.body == body:
                    return latest
            version = latest.version + 1 if latest else 1
            active = int(latest.active) if latest else 1
            tid = (
                self.db["consent_templates"]
                .insert(
                    {
                        "code": code,
                        "version": version,
                        "title": title,
                        "body": body,
                        "active": active,
                        "created_at": now_iso(),
                        "created_by": who,
                    }
                )
                .last_pk
            )
            self._log(
                who, "consent_template", tid, "version", {"code": code, "version": version, "title": title}
            )
        return self._template(self._q("SELECT * FROM consent_templates WHERE id = ?", [tid])[0])

    @sql("saving the consent form")
    def set_consent_template_active(self, code: str, active: bool, who: str = "") -> None:
        with self._write():
            cur = self.conn.execute(
                "UPDATE consent_templates SET active = ? WHERE code = ?", [int(active), code]
            )
            if not cur.rowcount:
                raise NotFoundError(f"there is no consent form {code!r}")
            self._log(who, "consent_template", 0, "offer" if active else "retire", {"code": code})

    # -- consents --------------------------------------------------------------------------------
    @staticmethod
    def _consent(r: dict) -> Consent:
        return Consent(
            client_id=r["client_id"],
            kind=r["kind"],
            signed_on=dt.date.fromisoformat(r["signed_on"]),
            witnessed_by=r["witnessed_by"] or "",
            title=r["title"] or "",
            text=r.get("text") or "",
            template_code=r["template_code"],
            template_version=r["template_version"],
            signed_at=r["signed_at"] or "",
            signer_name=r["signer_name"] or "",
            signature_png=r.get("signature_png"),
            strokes=strokes_from_json(r.get("strokes")),
            pad_size=(r["pad_width"], r["pad_height"]) if r.get("pad_width") else None,
            recorded_at=r["recorded_at"] or "",
            id=r["id"],
        )

    @sql("saving the signed consent")
    def add_consent(self, c: Consent, who: str = "") -> int:
        """Keep a signed consent. Raises ValueError when it is not one (no text, no signature, no witness)."""
        if c.kind != SIGNED:
            raise ValueError("only signed consents are added; legacy records come from the migration")
        problem = signature_problem(c.strokes or [])
        if problem or not c.signature_png:
            raise ValueError(problem or "the signature image is missing")
        if not c.text.strip() or not c.witnessed_by.strip():
            raise ValueError("a signed consent keeps the text the client read and who witnessed it")
        row = {
            "client_id": c.client_id,
            "kind": SIGNED,
            "template_code": c.template_code,
            "template_version": c.template_version,
            "title": c.title,
            "text": c.text,
            "signed_on": c.signed_on.isoformat(),
            "signed_at": c.signed_at or now_iso(),
            "signer_name": c.signer_name,
            "witnessed_by": c.witnessed_by.strip(),
            "signature_png": c.signature_png,
            "strokes": strokes_to_json(c.strokes),
            "pad_width": c.pad_size[0] if c.pad_size else None,
            "pad_height": c.pad_size[1] if c.pad_size else None,
            "recorded_at": now_iso(),
        }
        with self._write():
            cid = self.db["consents"].insert(row).last_pk
            self._log(
                who,
                "client",
                c.client_id,
                "consent",
                {
                    "consent_id": cid,
                    "form": c.template_code,
                    "version": c.template_version,
                    "witnessed_by": row["witnessed_by"],
                },
            )
        return cid

    @sql("reading the client's consents")
    def consents(self, client_id: int) -> list[Consent]:
        """Every consent the client gave, newest first: who, when, which form; without the text and the
        signature (``consent(id)`` has them), so a list costs a few hundred bytes a consent."""
        rows = self._q(
            f"SELECT {_LISTED} FROM consents WHERE client_id = ? ORDER BY signed_on DESC, id DESC",
            [client_id],
        )
        return [self._consent(r) for r in rows]

    @sql("reading the consent")
    def consent(self, consent_id: int) -> Consent:
        rows = self._q("SELECT * FROM consents WHERE id = ?", [consent_id])
        if not rows:
            raise NotFoundError(f"consent {consent_id} does not exist")
        return self._consent(rows[0])

    def consent_validity_months(self) -> int:
        return int(self.setting("consent_validity_months", DEFAULT_VALIDITY_MONTHS))

    @sql("reading the client's consents")
    def consent_status(self, client_id: int, today: dt.date) -> ConsentStatus:
        return consent_status(self.consents(client_id), today, self.consent_validity_months())

    # -- the client answers the screening --------------------------------------------------------
    @sql("saving the screening")
    def save_reviewed_screening(
        self,
        client_id: int,
        answered_at: str,
        client_answers: list[ClientAnswer],
        confirmed: Iterable[ScreeningAnswer],
        differences: list[Difference],
        who: str = "",
    ) -> int:
        """Keep what the client answered, word for word, and what the practitioner confirmed; the
        confirmed answers become the client's screening. All or nothing."""
        confirmed = list(confirmed)
        with self._write():
            qid = (
                self.db["screening_questionnaires"]
                .insert(
                    {
                        "client_id": client_id,
                        "answered_at": answered_at,
                        "answers": json.dumps(answers_to_json(client_answers)),
                        "reviewed_at": now_iso(),
                        "reviewed_by": who,
                        "confirmed": json.dumps(
                            [
                                {
                                    "code": a.code,
                                    "since": iso_date(a.since),
                                    "ended": iso_date(a.ended),
                                    "note": a.note,
                                }
                                for a in confirmed
                            ]
                        ),
                        "differences": json.dumps([d.__dict__ for d in differences]),
                    }
                )
                .last_pk
            )
            self.save_screening(client_id, confirmed, who)
            self._log(who, "client", client_id, "client screening reviewed", {"questionnaire_id": qid})
        return qid

    @sql("reading the client's screening answers")
    def questionnaires(self, client_id: int) -> list[QuestionnaireRecord]:
        """The client's own screening answers, newest first."""
        return [
            QuestionnaireRecord(
                id=r["id"],
                client_id=r["client_id"],
                answered_at=r["answered_at"],
                answers=answers_from_json(json.loads(r["answers"])),
                reviewed_at=r["reviewed_at"] or "",
                reviewed_by=r["reviewed_by"] or "",
                confirmed=[
                    ScreeningAnswer(a["code"], parse_date(a["since"]), parse_date(a["ended"]), a["note"])
                    for a in json.loads(r["confirmed"] or "[]")
                ],
                differences=[Difference(**d) for d in json.loads(r["differences"] or "[]")],
            )
            for r in self._q(
                "SELECT * FROM screening_questionnaires WHERE client_id = ? "
                "ORDER BY answered_at DESC, id DESC",
                [client_id],
            )
        ]
