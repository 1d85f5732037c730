"""Clients, their contraindication screening, the screening rules, and the change log."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from desktop.records import (
    CONCERNS,
    FITZPATRICK,
    SENSITIVITIES,
    Client,
    ScreeningAnswer,
    ScreeningRule,
    phone_digits,
)
from desktop.store.base import (
    StoreBase,
    iso_date,
    now_iso,
    number,
    one_of,
    parse_date,
    reads,
    sql,
    text,
    whole,
)
from desktop.store.errors import NotFoundError, StoreBugError
from desktop.store.migrations import SEARCH_KEY_ARCHIVED, SEARCH_KEY_ID_BITS

MAX_QUERY = 100  # characters of a search that count (the search box holds as many)
_PHONE_QUERY = re.compile(r"[+(]?\d[\d\s()\-./]*")


@dataclass(frozen=True)
class ClientSummary:
    """One line of the client list."""

    id: int
    first_name: str
    last_name: str
    date_of_birth: dt.date | None
    phone: str
    email: str
    last_visit: dt.date | None
    sensitivity: str
    vacuum_ceiling_kpa: float

    @property
    def list_name(self) -> str:
        """ "Last, First" (or the last name alone)."""
        return f"{self.last_name}, {self.first_name}" if self.first_name else self.last_name


@dataclass(frozen=True)
class ChangeEntry:
    """Who changed what, when: one line of a record's history."""

    at: str
    who: str
    action: str
    details: dict


class ClientsMixin(StoreBase):
    @staticmethod
    def _client_row(c: Client) -> dict:
        return {
            "first_name": c.first_name.strip(),
            "last_name": c.last_name.strip(),
            "date_of_birth": iso_date(c.date_of_birth),
            "phone": c.phone.strip(),
            "phone_digits": phone_digits(c.phone),
            "email": c.email.strip(),
            "fitzpatrick": c.fitzpatrick,
            "sensitivity": c.sensitivity,
            "concerns": json.dumps(sorted(c.concerns)),
            "vacuum_ceiling_kpa": c.vacuum_ceiling_kpa,
            "notes": c.notes,
            "archived": int(c.archived),
        }

    @staticmethod
    def _client(row: dict) -> Client:
        """A stored client, checked: a field that cannot be what the form saved means damage."""
        concerns = json.loads(text(row["concerns"]) or "[]")
        if not isinstance(concerns, list) or any(c not in CONCERNS for c in concerns):
            raise ValueError("unknown concerns")
        fitzpatrick = whole(row["fitzpatrick"])
        if fitzpatrick is not None:
            one_of(fitzpatrick, FITZPATRICK)
        return Client(
            first_name=text(row["first_name"]),
            last_name=text(row["last_name"]),
            date_of_birth=parse_date(text(row["date_of_birth"])),
            phone=text(row["phone"]),
            email=text(row["email"]),
            fitzpatrick=fitzpatrick,
            sensitivity=one_of(row["sensitivity"], SENSITIVITIES),
            concerns=concerns,
            vacuum_ceiling_kpa=number(row["vacuum_ceiling_kpa"], allow_none=False),
            notes=text(row["notes"]),
            archived=bool(whole(row["archived"], allow_none=False)),
            id=row["id"],
            last_visit=parse_date(text(row["last_visit"])),
        )

    @sql("saving the new client")
    def add_client(self, c: Client, who: str = "") -> int:
        row = self._client_row(c) | {"created_at": now_iso(), "updated_at": now_iso()}
        with self._write():
            cid = self.db["clients"].insert(row).last_pk
            self._log(who, "client", cid, "create", {k: v for k, v in row.items() if v not in (None, "")})
        return cid

    @sql("importing clients")
    def import_clients(self, clients: Iterable[Client], who: str = "") -> int:
        """Insert many clients in one transaction (demo data, imports); one change-log entry."""
        stamp = now_iso()
        rows = [
            self._client_row(c)
            | {"created_at": stamp, "updated_at": stamp, "last_visit": iso_date(c.last_visit)}
            for c in clients
        ]
        with self._write():
            self.db["clients"].insert_all(rows, batch_size=1000)
            self._log(who, "client", 0, "import", {"count": len(rows)})
        return len(rows)

    @sql("saving the client")
    def save_client_record(self, c: Client, answers: Iterable[ScreeningAnswer], who: str = "") -> int:
        """Create or update a client together with their screening, all or nothing."""
        with self._write():
            if c.id is None:
                c.id = self.add_client(c, who)
            else:
                self.update_client(c, who)
            self.save_screening(c.id, answers, who)
        return c.id

    @sql("saving the client")
    def update_client(self, c: Client, who: str = "") -> None:
        if c.id is None:
            raise StoreBugError("update_client needs a client id")
        old = self._q("SELECT * FROM clients WHERE id = ?", [c.id])
        if not old:
            raise NotFoundError(f"client {c.id} does not exist")
        new = self._client_row(c)
        changed = {k: [old[0][k], v] for k, v in new.items() if old[0][k] != v}
        if not changed:
            return
        with self._write():
            self.db["clients"].update(c.id, new | {"updated_at": now_iso()})
            self._log(who, "client", c.id, "update", changed)

    @sql("archiving the client")
    def set_archived(self, client_id: int, archived: bool, who: str = "") -> None:
        with self._write():
            self.db["clients"].update(client_id, {"archived": int(archived), "updated_at": now_iso()})
            self._log(who, "client", client_id, "archive" if archived else "unarchive", {})

    @reads("reading the client's record")
    def client(self, client_id: int) -> Client:
        rows = self._q("SELECT * FROM clients WHERE id = ?", [client_id])
        if not rows:
            raise NotFoundError(f"client {client_id} does not exist")
        return self._client(rows[0])

    @reads("reading the client list")
    def client_ids(self) -> list[int]:
        """Every client's id, archived ones included, oldest first."""
        return [r[0] for r in self.conn.execute("SELECT id FROM clients ORDER BY id")]

    @staticmethod
    def _search_terms(query: str) -> list[tuple[str, str]]:
        """(index table, FTS5 query) pairs that must all match: 3+ characters anywhere (trigram
        index), 1–2 characters at the start of a word (prefix index). A query of digits and phone
        punctuation is one phone number."""
        query = query[:MAX_QUERY]  # a pasted page of text is not a search
        query = "".join(ch if ch.isprintable() else " " for ch in query)  # pasted NULs, tabs…
        substrings, prefixes = [], []
        words = query.split()
        if _PHONE_QUERY.fullmatch(query.strip() or "x"):
            words = [phone_digits(query)]  # "7700 900 12" is one number, however it is spaced
        for word in words:
            digits = phone_digits(word)
            term = digits if digits and len(digits) >= len(word.strip("+()-.")) else word
            quoted = '"' + term.replace('"', '""') + '"'
            (substrings if len(term) >= 3 else prefixes).append(quoted)
        terms = []
        if substrings:
            terms.append(("clients_fts", " ".join(substrings)))
        if prefixes:
            terms.append(("clients_words", " ".join(f"{p}*" for p in prefixes)))
        return terms

    def _matching_keys(self, terms, archived: bool, wanted: int | None):
        """Search keys of the matching clients in list order (see migrations.SEARCH_KEY_*), the
        first ``wanted`` of them (all when None). Each index yields its matches in that order, so a
        keystroke reads about as many entries as it shows, however many clients match."""
        low = SEARCH_KEY_ARCHIVED if archived else 0
        high = low + SEARCH_KEY_ARCHIVED - 1

        def keys(table: str, match: str):
            cur = self.conn.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ? "
                f"ORDER BY rowid DESC",
                [match, low, high],
            )
            while rows := cur.fetchmany(256):
                for (key,) in rows:
                    yield key

        if len(terms) == 1:
            stream = keys(*terms[0])
        else:  # both indexes: merge their descending streams, keeping the keys in both
            stream = _intersect_descending(keys(*terms[0]), keys(*terms[1]))
        out = []
        for key in stream:
            out.append(key)
            if wanted is not None and len(out) >= wanted:
                break
        return out

    _SUMMARY_COLUMNS = (
        "c.id, c.first_name, c.last_name, c.date_of_birth, c.phone, c.email, "
        "c.last_visit, c.sensitivity, c.vacuum_ceiling_kpa"
    )

    @reads("searching the client list")
    def search_clients(
        self, query: str = "", archived: bool = False, limit: int = 100, offset: int = 0
    ) -> list[ClientSummary]:
        """Clients matching every word of ``query`` (any part of name, phone, email), last visit first."""
        terms = self._search_terms(query)
        if not terms:
            rows = self._q(
                f"SELECT {self._SUMMARY_COLUMNS} FROM clients c WHERE c.archived = ? "
                f"ORDER BY c.last_visit DESC, c.id DESC LIMIT ? OFFSET ?",
                [int(archived), limit, offset],
            )
        else:
            keys = self._matching_keys(terms, archived, offset + limit)[offset:]
            ids = [key & ((1 << SEARCH_KEY_ID_BITS) - 1) for key in keys]
            found = {
                r["id"]: r
                for r in self._q(
                    f"SELECT {self._SUMMARY_COLUMNS} FROM clients c "
                    f"WHERE c.id IN (SELECT value FROM json_each(?))",
                    [json.dumps(ids)],
                )
            }
            rows = [found[i] for i in ids if i in found]
        return [
            ClientSummary(
                id=r["id"],
                first_name=text(r["first_name"]),
                last_name=text(r["last_name"]),
                date_of_birth=parse_date(text(r["date_of_birth"])),
                phone=text(r["phone"]),
                email=text(r["email"]),
                last_visit=parse_date(text(r["last_visit"])),
                sensitivity=text(r["sensitivity"]),
                vacuum_ceiling_kpa=r["vacuum_ceiling_kpa"],
            )
            for r in rows
        ]

    @reads("looking for the same client")
    def find_duplicates(self, c: Client) -> list[ClientSummary]:
        """Other clients with the same name and date of birth, the same phone number or the same
        email address (case and spacing ignored), archived ones included."""
        where, params = [], []
        if c.date_of_birth and c.last_name.strip():
            where.append(
                "(lower(trim(first_name)) = lower(?) AND lower(trim(last_name)) = lower(?) "
                "AND date_of_birth = ?)"
            )
            params += [c.first_name.strip(), c.last_name.strip(), iso_date(c.date_of_birth)]
        digits = phone_digits(c.phone)
        if len(digits) >= 6:
            where.append("phone_digits = ?")
            params.append(digits)
        if c.email.strip():
            where.append("lower(trim(email)) = lower(?)")
            params.append(c.email.strip())
        if not where:
            return []
        sql_text = f"SELECT id FROM clients WHERE ({' OR '.join(where)})"
        if c.id is not None:
            sql_text += " AND id != ?"
            params.append(c.id)
        ids = [r[0] for r in self.conn.execute(sql_text + " ORDER BY id LIMIT 50", params)]
        rows = self._q(f"SELECT * FROM clients WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id", ids)
        return [self._summary(self._client(r)) for r in rows] if ids else []

    @staticmethod
    def _summary(c: Client) -> ClientSummary:
        return ClientSummary(
            c.id,
            c.first_name,
            c.last_name,
            c.date_of_birth,
            c.phone,
            c.email,
            c.last_visit,
            c.sensitivity,
            c.vacuum_ceiling_kpa,
        )

    @reads("counting clients")
    def count_clients(self, query: str = "", archived: bool = False) -> int:
        terms = self._search_terms(query)
        if not terms:
            return self.conn.execute(
                "SELECT count(*) FROM clients WHERE archived = ?", [int(archived)]
            ).fetchone()[0]
        return len(self._matching_keys(terms, archived, None))

    @reads("reading the change log")
    def change_log(self, record_type: str, record_id: int) -> list[ChangeEntry]:
        return [
            ChangeEntry(r["at"], r["who"] or "", r["action"], json.loads(r["details"] or "{}"))
            for r in self._q(
                "SELECT at, who, action, details FROM change_log WHERE record_type = ? AND record_id = ? "
                "ORDER BY id",
                [record_type, record_id],
            )
        ]

    # -- screening -------------------------------------------------------------------------------
    @reads("reading the screening rules")
    def screening_rules(self) -> list[ScreeningRule]:
        return [
            ScreeningRule(
                code=text(r["code"]),
                label=text(r["label"]),
                months=whole(r["months"], allow_none=False),
                days=whole(r["days"], allow_none=False),
                effect=one_of(r["effect"], ("block", "warn")),
                sort=whole(r["sort"]) or 0,
            )
            for r in self._q("SELECT * FROM screening_rules ORDER BY sort, code")
        ]

    @sql("saving a screening rule")
    def save_screening_rule(self, rule: ScreeningRule, who: str = "") -> None:
        if rule.effect not in ("block", "warn") or rule.months < 0 or rule.days < 0:
            raise ValueError("a rule blocks or warns, for zero or more months and days")
        with self._write():
            self.db["screening_rules"].upsert(rule.__dict__, pk="code")
            self._log(who, "screening_rule", 0, "set", rule.__dict__)

    @staticmethod
    def _screening_answer(r: dict) -> ScreeningAnswer:
        return ScreeningAnswer(
            text(r["code"]), parse_date(text(r["since"])), parse_date(text(r["ended"])), text(r["note"])
        )

    @reads("reading the client's screening")
    def screening(self, client_id: int) -> list[ScreeningAnswer]:
        return [
            self._screening_answer(r)
            for r in self._q("SELECT * FROM screening_answers WHERE client_id = ? ORDER BY id", [client_id])
        ]

    @sql("saving the client's screening")
    def save_screening(self, client_id: int, answers: Iterable[ScreeningAnswer], who: str = "") -> None:
        """Replace the client's screening answers with ``answers`` (one per item), logged."""
        answers = list(answers)
        before = {a.code: a for a in self.screening(client_id)}
        after = {a.code: a for a in answers}
        if before == after:
            return
        with self._write():
            self.conn.execute("DELETE FROM screening_answers WHERE client_id = ?", [client_id])
            self.db["screening_answers"].insert_all(
                {
                    "client_id": client_id,
                    "code": a.code,
                    "since": iso_date(a.since),
                    "ended": iso_date(a.ended),
                    "note": a.note,
                    "recorded_at": now_iso(),
                    "recorded_by": who,
                }
                for a in answers
            )
            self._log(
                who,
                "client",
                client_id,
                "screening",
                {
                    "before": [a.__dict__ for a in before.values()],
                    "after": [a.__dict__ for a in after.values()],
                },
            )


def _intersect_descending(a, b):
    """The values in both of two descending streams, in descending order."""
    x, y = next(a, None), next(b, None)
    while x is not None and y is not None:
        if x == y:
            yield x
            x, y = next(a, None), next(b, None)
        elif x > y:
            x = next(a, None)
        else:
            y = next(b, None)
