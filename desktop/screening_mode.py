"""The client answers the screening on the practitioner's screen: large text, plain words, one question
at a time. Then the practitioner reviews the answers beside the record, adjusts and confirms; both the
client's answers (with the questions as they were shown) and what was confirmed are kept."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.client_form import ScreeningEditor
from desktop.questionnaire import (
    DETAIL_MAX,
    NO,
    UNSURE,
    YES,
    ClientAnswer,
    Difference,
    Question,
    propose,
    questions,
    validate_answer,
)
from desktop.store import Store, StoreError, now_iso
from desktop.ui import ask, error_box, field_error, plain
from desktop.widgets import OptionalDateEdit

CLIENT_STYLE = """
QLabel#Big { font-size: 24pt; color: #12343b; }
QLabel#Medium { font-size: 17pt; color: #12343b; }
QLabel#Progress { font-size: 13pt; color: #5b6b70; }
QLabel#ClientError { font-size: 15pt; color: #b00020; font-weight: 600; }
QPushButton#Answer { font-size: 19pt; padding: 14px 28px; min-width: 170px; }
QPushButton#Answer:checked { background: #0f5c6e; color: white; border-color: #0f5c6e; }
QPushButton#Nav { font-size: 16pt; padding: 10px 26px; }
QLineEdit#ClientText, QDateEdit { font-size: 17pt; padding: 8px; }
"""


def _answer_buttons(labels: list[tuple[str, object]]) -> tuple[QButtonGroup, QHBoxLayout]:
    group = QButtonGroup()
    group.setExclusive(True)
    row = QHBoxLayout()
    for text, value in labels:
        b = QPushButton(text)
        b.setObjectName("Answer")
        b.setCheckable(True)
        b.setProperty("value", value)
        group.addButton(b)
        row.addWidget(b)
    row.addStretch(1)
    return group, row


def _checked(group: QButtonGroup):
    b = group.checkedButton()
    return b.property("value") if b else None


def _check(group: QButtonGroup, value) -> None:
    group.setExclusive(False)
    for b in group.buttons():
        b.setChecked(value is not None and b.property("value") == value)
    group.setExclusive(True)


class ClientScreeningDialog(QDialog):
    """Welcome → one page per question → "hand the screen back" → the practitioner's review."""

    saved = Signal(int)

    def __init__(self, store: Store, client_id: int, who_fn, parent=None, today: dt.date | None = None):
        super().__init__(parent)
        self.store, self.client_id, self.who = store, client_id, who_fn
        self.today = today or dt.date.today()
        self.client = store.client(client_id)
        self.rules = store.screening_rules()
        self.questions: list[Question] = questions(self.rules)
        self.answers: dict[str, ClientAnswer] = {}
        self.index = 0
        self.answered_at = ""
        self.setWindowTitle("Screening questions")
        self.resize(1100, 760)
        self.pages = QStackedWidget()
        for page in (self._welcome_page(), self._question_page(), self._handback_page()):
            page.setStyleSheet(CLIENT_STYLE)  # the client's pages only: large text
            self.pages.addWidget(page)
        self.pages.addWidget(self._review_page())
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Practitioner: leave the questions without saving")
        self.stop_button.clicked.connect(self.stop)
        corner = QHBoxLayout()
        corner.addStretch(1)
        corner.addWidget(self.stop_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.pages, 1)
        lay.addLayout(corner)

    # -- pages -----------------------------------------------------------------------------------
    def _welcome_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addStretch(1)
        self.greeting = plain(f"Hello {self.client.first_name or self.client.name}", "Big")
        lay.addWidget(self.greeting)
        lay.addWidget(
            plain(
                "A few questions about your skin and your health. They help us treat you safely. "
                "Answer each one with Yes, No or Not sure. Your practitioner will go through your "
                "answers with you afterwards.",
                "Medium",
            )
        )
        self.begin_button = QPushButton("Start")
        self.begin_button.setObjectName("Nav")
        self.begin_button.clicked.connect(lambda: self.show_question(0))
        row = QHBoxLayout()
        row.addWidget(self.begin_button)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(2)
        return page

    def _question_page(self) -> QWidget:
        page = QWidget()
        self.progress = plain("", "Progress")
        self.question = plain("", "Big")
        self.answer_group, answer_row = _answer_buttons([("Yes", YES), ("No", NO), ("Not sure", UNSURE)])
        self.answer_group.buttonClicked.connect(lambda _b: self._update_follow_up())
        self.still_label = plain("", "Medium")
        self.still_group, still_row = _answer_buttons([("Yes, still", True), ("No, it has stopped", False)])
        self.still_group.buttonClicked.connect(lambda _b: self._update_follow_up())
        self.when_label = plain("", "Medium")
        self.when = OptionalDateEdit()
        self.when.setObjectName("ClientText")  # large text like the rest of the client's page
        self.when.setMinimumWidth(320)
        self.when.setMaximumDate(QDate(self.today.year, self.today.month, self.today.day))
        self.detail_label = plain("Please tell us in a few words:", "Medium")
        self.detail = QLineEdit()
        self.detail.setObjectName("ClientText")
        self.detail.setMaxLength(DETAIL_MAX)
        self.error = plain("", "ClientError")
        self.back_button = QPushButton("Back")
        self.next_button = QPushButton("Next")
        for b in (self.back_button, self.next_button):
            b.setObjectName("Nav")
        self.next_button.setDefault(True)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)

        self.follow = QWidget()
        fl = QVBoxLayout(self.follow)
        fl.setContentsMargins(0, 12, 0, 0)
        fl.addWidget(self.still_label)
        fl.addLayout(still_row)
        fl.addWidget(self.when_label)
        row = QHBoxLayout()
        row.addWidget(self.when)
        row.addStretch(1)
        fl.addLayout(row)
        fl.addWidget(self.detail_label)
        fl.addWidget(self.detail)
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.next_button)
        lay = QVBoxLayout(page)
        lay.addWidget(self.progress)
        lay.addSpacing(16)
        lay.addWidget(self.question)
        lay.addSpacing(16)
        lay.addLayout(answer_row)
        lay.addWidget(self.follow)
        lay.addWidget(self.error)
        lay.addStretch(1)
        lay.addLayout(nav)
        return page

    def _handback_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.addStretch(1)
        lay.addWidget(plain("Thank you, that is all.", "Big"))
        lay.addWidget(plain("Please hand the screen back to your practitioner.", "Medium"))
        self.review_button = QPushButton("Practitioner: review the answers")
        self.review_button.setObjectName("Nav")
        self.review_button.clicked.connect(self.show_review)
        self.change_button = QPushButton("Back to the questions")
        self.change_button.setObjectName("Nav")
        self.change_button.clicked.connect(lambda: self.show_question(len(self.questions) - 1))
        row = QHBoxLayout()
        row.addWidget(self.change_button)
        row.addStretch(1)
        row.addWidget(self.review_button)
        lay.addLayout(row)
        lay.addStretch(2)
        return page

    def _review_page(self) -> QWidget:
        page = QWidget()
        self.review_head = plain("", "SectionTitle")
        self.differences = plain()
        self.client_said = plain()
        self.editor = ScreeningEditor(self.rules)
        self.review_error = field_error()
        self.confirm_button = QPushButton("Confirm and save")
        self.confirm_button.setObjectName("Primary")
        self.confirm_button.clicked.connect(self.confirm)
        said = QGroupBox("What the client answered")
        QVBoxLayout(said).addWidget(self.client_said)
        record = QGroupBox("What will be recorded (adjust, then confirm)")
        QVBoxLayout(record).addWidget(self.editor)
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.addWidget(self.review_head)
        bl.addWidget(self.differences)
        bl.addWidget(said)
        bl.addWidget(record)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        row = QHBoxLayout()
        row.addWidget(self.review_error, 1)
        row.addWidget(self.confirm_button)
        lay = QVBoxLayout(page)
        lay.addWidget(scroll, 1)
        lay.addLayout(row)
        return page

    # -- the client's part -------------------------------------------------------------------------
    def show_question(self, i: int) -> None:
        self.index = i
        q = self.questions[i]
        self.pages.setCurrentIndex(1)
        self.progress.setText(f"Question {i + 1} of {len(self.questions)}")
        self.question.setText(q.text)
        self.still_label.setText(q.still)
        self.when_label.setText(q.when)
        a = self.answers.get(q.code)
        _check(self.answer_group, a.answer if a else None)
        _check(self.still_group, a.ongoing if a else None)
        self.when.set_value(a.ended if a else None)
        self.detail.setText(a.detail if a else "")
        self.error.setText("")
        self.back_button.setEnabled(i > 0)
        self.next_button.setText("Finish" if i == len(self.questions) - 1 else "Next")
        self._update_follow_up()

    def _update_follow_up(self) -> None:
        q = self.questions[self.index]
        yes = _checked(self.answer_group) == YES
        still = _checked(self.still_group)
        for w in (self.still_label, *self.still_group.buttons()):
            w.setVisible(yes and q.timed)
        for w in (self.when_label, self.when):
            w.setVisible(yes and q.timed and still is False)
        for w in (self.detail_label, self.detail):
            w.setVisible((yes and q.asks_detail) or (_checked(self.answer_group) == UNSURE and q.asks_detail))

    def current_answer(self) -> ClientAnswer:
        q = self.questions[self.index]
        answer = _checked(self.answer_group)
        yes = answer == YES
        ongoing = _checked(self.still_group) if yes and q.timed else None
        return ClientAnswer(
            q.code,
            q.text,
            answer or "",
            ongoing,
            self.when.value() if yes and q.timed and ongoing is False else None,
            self.detail.text().strip() if q.asks_detail and answer in (YES, UNSURE) else "",
        )

    def next(self) -> None:
        a = self.current_answer()
        problem = validate_answer(a, self.questions[self.index], self.today)
        if self.when.isVisibleTo(self) and self.when.error():  # typed, but not a date (or a future one)
            problem = self.when.error()
        if problem:
            self.error.setText(problem)
            return
        self.answers[a.code] = a
        if self.index + 1 < len(self.questions):
            self.show_question(self.index + 1)
        else:
            self.answered_at = now_iso()
            self.pages.setCurrentIndex(2)

    def back(self) -> None:
        a = self.current_answer()
        if a.answer:
            self.answers[a.code] = a  # kept as it stands; checked again on the way forward
        if self.index > 0:
            self.show_question(self.index - 1)

    # -- the practitioner's part -------------------------------------------------------------------
    def client_answers(self) -> list[ClientAnswer]:
        return [self.answers[q.code] for q in self.questions if q.code in self.answers]

    def show_review(self) -> None:
        existing = self.store.screening(self.client_id)
        self.proposed, self.diffs = propose(existing, self.client_answers(), self.rules)
        self.review_head.setText(f"{self.client.name}: the client's answers against the record")
        self.differences.setText(self._differences_text(self.diffs))
        self.differences.setStyleSheet("color:#8a6500; font-weight:600;" if self.diffs else "")
        self.client_said.setText("\n".join(f"{a.question}  →  {a.text()}" for a in self.client_answers()))
        self.editor.set_answers(self.proposed)
        self.pages.setCurrentIndex(3)
        self.stop_button.setText("Cancel")

    @staticmethod
    def _differences_text(diffs: list[Difference]) -> str:
        if not diffs:
            return "The client's answers agree with the record."
        lines = ["Where the client's answers differ from the record (the form below starts from them):"]
        for d in diffs:
            mark = "  ** " if d.attention else "  • "
            lines.append(f"{mark}{d.label}: the record says {d.recorded}; the client said {d.client}.")
        return "\n".join(lines)

    def confirm(self) -> None:
        who = self.who().strip()
        if not who:
            self.review_error.setText(
                "No one is logged in: the screening is confirmed by the logged-in person. Log in first."
            )
            self.review_error.setVisible(True)
            return
        try:
            qid = self.store.save_reviewed_screening(
                self.client_id,
                self.answered_at,
                self.client_answers(),
                self.editor.answers(),
                self.diffs,
                who,
            )
        except StoreError as exc:
            self.error = error_box(
                self, "Not saved", f"The screening was not saved:\n{exc}\n\nThe answers are still here."
            )
            return
        self.saved.emit(qid)
        self.accept()

    # -- leaving -----------------------------------------------------------------------------------
    def keyPressEvent(self, e) -> None:
        if e.key() == Qt.Key.Key_Escape:  # a client's stray Esc must not throw the answers away
            e.accept()
            return
        super().keyPressEvent(e)

    def stop(self) -> QMessageBox | None:
        if not self.answers:
            self.reject()
            return None
        return ask(
            self,
            "Stop the questions",
            "Leave without saving the client's answers?",
            QMessageBox.StandardButton.Discard,
            self.reject,
        )
