"""Scheduling and the study database: real fsrs, real SQLite, real notes; only the clock is controlled."""

import os
import shutil
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from revision import app_support as rsup
from revision.cards import cards_of
from revision.migrations import MIGRATIONS
from revision.progress import counts, per_service, reviews_per_day
from revision.scheduler import GRADES, interval_label, new_state, preview, review
from revision.store import Store, StoreCorrupt, StoreUnreadable, quarantine
from revision.study import Filters, build_queue, new_seen_today
from revision.sync import sync_notes

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "corpus" / "other-services.md"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
SSM_EXAM_LINE = "\t  - Tu dois avoir un **IAM Role**, **VPC Endpoint** si en privé, et **SSM Agent actif**"


@pytest.fixture(scope="module")
def cards():
    return cards_of(ROOT / "corpus")


@pytest.fixture
def store(tmp_path, cards):
    s = Store.open(tmp_path / "data" / "revision.sqlite3")
    s.sync(cards, T0)
    return s


def card_at(cards, line, answer=None):
    return next(c for c in cards if c.line == line and (answer is None or c.answer == answer))


# ----- FSRS ---------------------------------------------------------------------------------------
def test_bien_pushes_the_due_date_out_and_a_revoir_brings_it_back(store, cards):
    cid = card_at(cards, 139, "IAM Role").id
    s = store.review(cid, "Bien", T0)  # new → learning step
    assert s.due is not None and s.due - T0 == timedelta(minutes=10)
    t1 = T0 + timedelta(minutes=10)
    s = store.review(cid, "Bien", t1)  # graduates
    first_interval = s.due - t1
    assert first_interval >= timedelta(days=1)
    t2 = s.due
    s = store.review(cid, "Bien", t2)
    assert s.due - t2 > first_interval  # each "Bien" pushes it further out
    t3 = s.due
    s = store.review(cid, "À revoir", t3)
    assert s.due - t3 <= timedelta(minutes=10)  # forgotten: back within minutes
    assert s.lapses == 1 and s.reps == 4
    assert [r.rating for r in store.reviews(card_id=cid)] == [3, 3, 3, 1]


def test_button_labels_are_the_intervals_applied():
    state = new_state(1, T0)
    for step in range(4):
        now = T0 + timedelta(days=step * 3)
        shown = preview(state, now)
        for g in GRADES:
            assert review(state, g.label, now)[0].due - now == shown[g.label]  # no fuzz: what you see is what you get
        state = review(state, "Bien", now)[0]
    labels = [interval_label(preview(new_state(1, T0), T0)[g.label]) for g in GRADES]
    assert labels == ["1 min", "6 min", "10 min", "8 j"]


@pytest.mark.parametrize(
    "delta, label",
    [
        (timedelta(seconds=20), "1 min"),
        (timedelta(minutes=10), "10 min"),
        (timedelta(hours=5), "5 h"),
        (timedelta(days=2), "2 j"),
        (timedelta(days=95), "3 mois"),
        (timedelta(days=550), "1,5 an"),
        (timedelta(days=800), "2,2 ans"),
    ],
)
def test_interval_labels(delta, label):
    assert interval_label(delta) == label


# ----- persistence and concurrency ---------------------------------------------------------------
def test_state_survives_a_restart(tmp_path, cards):
    path = tmp_path / "revision.sqlite3"
    first = Store.open(path)
    first.sync(cards, T0)
    for c in cards[:10]:
        first.review(c.id, "Bien", T0)
    first.set_setting("new_per_day", "7")
    before = first.states()
    del first
    again = Store.open(path)  # a new process would do exactly this
    after = again.states()
    assert {k: (v.due, v.reps) for k, v in after.items()} == {k: (v.due, v.reps) for k, v in before.items()}
    assert again.new_per_day() == 7
    now = T0 + timedelta(minutes=30)
    assert counts(cards, after, now, Filters(), 10) == counts(cards, before, now, Filters(), 10)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_sessions_reviewing_at_once_keep_every_review(tmp_path, cards):
    path = tmp_path / "revision.sqlite3"
    Store.open(path).sync(cards, T0)
    shared = [c.id for c in cards[:5]]  # both tabs grade these same cards
    start = threading.Barrier(2)
    errors = []

    def tab(n: int) -> None:
        s = Store.open(path)  # each tab has its own connections
        start.wait()
        try:
            for i in range(40):
                s.review(shared[i % 5], GRADES[(i + n) % 4].label, T0 + timedelta(seconds=i))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=tab, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store = Store.open(path)
    assert len(store.reviews()) == 80
    states = store.states()
    assert sum(states[i].reps for i in shared) == 80  # no review overwritten by the other tab's
    assert all(states[i].reps == 16 for i in shared)


# ----- damaged or misplaced databases ----------------------------------------------------------------
def test_a_corrupt_database_is_kept_aside_and_a_new_one_starts(tmp_path):
    path = tmp_path / "revision.sqlite3"
    path.write_bytes(b"ceci n'est pas une base SQLite" * 100)
    (tmp_path / "revision.sqlite3-wal").write_bytes(b"journal")
    with pytest.raises(StoreCorrupt):
        Store.open(path)
    store, notice = rsup.open_store(path, T0)
    assert notice.startswith("Ta base de révision était illisible") and notice.endswith(".") and "\n" not in notice
    aside = sorted(tmp_path.glob("revision.sqlite3.corrompu-*"))
    assert [p.name for p in aside] == [aside[0].name, aside[0].name + "-wal"]
    assert aside[0].read_bytes() == b"ceci n'est pas une base SQLite" * 100  # kept as it was
    assert aside[0].name in notice
    assert store.states() == {} and store.version() == len(MIGRATIONS)


def test_damaged_pages_are_detected(tmp_path, cards):
    path = tmp_path / "revision.sqlite3"
    s = Store.open(path)
    s.sync(cards, T0)
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[4096 * 2 : 4096 * 4] = b"\xff" * 8192  # pages of the cards table
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupt):
        Store.open(path)
    assert quarantine(path) is not None and not path.exists()
    assert quarantine(path) is None  # another tab already moved it: nothing to do


def test_a_foreign_sqlite_file_is_not_taken_for_ours(tmp_path):
    path = tmp_path / "revision.sqlite3"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE photos (id INTEGER)")
    with pytest.raises(StoreCorrupt, match="pas une base de révision"):
        Store.open(path)


def test_a_newer_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "revision.sqlite3"
    Store.open(path)
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA user_version = 99")
    size = path.stat().st_size
    with pytest.raises(StoreUnreadable, match="version plus récente"):
        Store.open(path)
    assert path.stat().st_size == size


def test_an_unopenable_path_is_one_french_sentence(tmp_path):
    folder = tmp_path / "revision.sqlite3"
    folder.mkdir()  # a folder where the file should be
    with pytest.raises(StoreUnreadable) as e:
        rsup.open_store(folder, T0)
    assert str(e.value).startswith("La base de révision") and folder.is_dir()


def test_migrations_upgrade_an_old_database(tmp_path, cards):
    path = tmp_path / "revision.sqlite3"
    old = Store(path)
    assert old.migrate(upto=1) == ["m001_initial"]
    old.sync(cards[:3], T0)
    old.review(cards[0].id, "Bien", T0)
    assert old.version() == 1
    store = Store.open(path)
    assert store.version() == len(MIGRATIONS) == 2
    assert store.states()[cards[0].id].reps == 1 and len(store.states()) == 3
    with sqlite3.connect(path) as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"review_log_card", "review_log_time", "cards_due"} <= names
    assert store.migrate() == []  # nothing left to apply


def test_database_path_is_user_data_never_the_index(tmp_path, monkeypatch):
    monkeypatch.delenv("REVISION_DB", raising=False)
    assert rsup.db_path(ROOT, ROOT / "index") == ROOT / "data" / "revision.sqlite3"
    monkeypatch.setenv("REVISION_DB", str(tmp_path / "x.sqlite3"))
    assert rsup.db_path(ROOT, ROOT / "index") == tmp_path / "x.sqlite3"
    monkeypatch.setenv("REVISION_DB", str(tmp_path / "index" / "revision.sqlite3"))
    with pytest.raises(StoreUnreadable, match="dossier de l'index"):
        rsup.db_path(ROOT, tmp_path / "index")
    assert "/data/" in (ROOT / ".gitignore").read_text().split()  # the app's data/ (not tests/data)


# ----- the notes change -----------------------------------------------------------------------------
def test_moved_lines_keep_history_and_deleted_bullets_retire_their_cards(tmp_path, notes):
    store = Store.open(tmp_path / "revision.sqlite3")
    got, report = sync_notes(store, notes, T0)
    assert report is not None and report.added == len(got.cards) == 240
    ssm = [c for c in got.cards if c.line == 139]
    for c in ssm:
        store.review(c.id, "Bien", T0)

    path = notes / NOTES.name
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("# Other Services\n", "# Other Services\n\nIntro ajoutée.\n\n"), encoding="utf-8")
    moved, report = sync_notes(store, notes, T0 + timedelta(minutes=1))
    assert report is not None and (report.added, report.retired) == (0, 0)
    after = {c.id: c for c in moved.cards}
    assert all(after[c.id].line == 139 + 3 for c in ssm)  # same cards, three lines further down
    assert all(store.states()[c.id].reps == 1 for c in ssm)  # history kept

    path.write_text(text.replace(SSM_EXAM_LINE + "\n", ""), encoding="utf-8")
    gone, report = sync_notes(store, notes, T0 + timedelta(minutes=2))
    assert report is not None and report.retired == 3
    assert not {c.id for c in ssm} & set(store.states())  # out of the study queue
    kept = store.states(include_retired=True)
    assert all(kept[c.id].retired and kept[c.id].reps == 1 for c in ssm)  # retired, not erased
    assert len(store.reviews()) == 3 and store.card_row(ssm[0].id)["answer"] == "IAM Role"
    assert store.retired_count() == 3

    path.write_text(text, encoding="utf-8")  # the bullet comes back: so does its history
    _, report = sync_notes(store, notes, T0 + timedelta(minutes=3))
    assert report is not None and report.revived == 3
    assert all(store.states()[c.id].reps == 1 for c in ssm)


def test_unchanged_notes_are_not_synced_again(tmp_path, notes):
    store = Store.open(tmp_path / "revision.sqlite3")
    assert sync_notes(store, notes, T0)[1] is not None
    assert sync_notes(store, notes, T0)[1] is None
    assert sync_notes(store, notes, T0, force=True)[1] is not None


def test_a_missing_notes_folder_retires_nothing(tmp_path, notes):
    store = Store.open(tmp_path / "revision.sqlite3")
    sync_notes(store, notes, T0)
    shutil.rmtree(notes)
    with pytest.raises(FileNotFoundError, match="introuvable"):
        sync_notes(store, notes, T0)
    assert len(store.states()) == 240


# ----- session and progress -------------------------------------------------------------------------
def test_queue_due_first_then_new_under_the_daily_cap(store, cards):
    ssm = [c for c in cards if c.heading == "SSM Session Manager"]
    f = Filters(services=["SSM Session Manager"])
    queue = build_queue(cards, store.states(), T0, f, new_left=5)
    assert [c.id for c in queue] == [c.id for c in ssm[:5]]  # new cards, in note order, capped
    store.review(ssm[0].id, "Bien", T0)
    now = T0 + timedelta(minutes=11)
    states = store.states()
    assert new_seen_today(store.reviews(), now) == 1
    queue = build_queue(cards, states, now, f, new_left=4)
    assert queue[0].id == ssm[0].id and len(queue) == 5  # due again (learning step): first
    exam = build_queue(cards, states, now, Filters(["SSM Session Manager"], exam_only=True), new_left=50)
    assert exam and all(c.exam for c in exam)
    asked = [c.id for c in cards if c.line == 222]
    assert [c.id for c in build_queue(cards, states, now, f, 0, priority=asked)] == asked + [ssm[0].id]


def test_learning_cards_come_back_early_when_nothing_else_is_left(store, cards):
    c = cards[0]
    store.review(c.id, "À revoir", T0)  # due in 1 min
    f = Filters(services=[c.heading])
    assert [x.id for x in build_queue(cards, store.states(), T0, f, new_left=0)] == [c.id]
    store.review(c.id, "Facile", T0)
    assert build_queue(cards, store.states(), T0, f, new_left=0) == []
    ahead = build_queue(cards, store.states(), T0, Filters([c.heading], due_only=False), new_left=0)
    assert [x.id for x in ahead] == [c.id]  # studying ahead


def test_progress_moves_with_reviews(store, cards):
    before = {(r["service"], r["statut"]): r["cartes"] for r in per_service(cards, store.states())}
    assert before[("SSM Session Manager", "Nouvelles")] == 35
    ssm = [c for c in cards if c.heading == "SSM Session Manager"]
    for c in ssm[:10]:
        store.review(c.id, "Facile", T0)
    for c in ssm[10:12]:
        store.review(c.id, "Bien", T0)
    after = {(r["service"], r["statut"]): r["cartes"] for r in per_service(cards, store.states())}
    assert after[("SSM Session Manager", "Connues")] == 10
    assert after[("SSM Session Manager", "En cours")] == 2
    assert after[("SSM Session Manager", "Nouvelles")] == 23
    days = reviews_per_day(store.reviews(), T0 + timedelta(days=1))
    assert len(days) == 14 and sum(d["révisions"] for d in days) == 12
    assert days[-2]["révisions"] == 12 and days[-1]["révisions"] == 0
    n = counts(cards, store.states(), T0, Filters(["SSM Session Manager"]), new_left=20 - 12)
    assert (n.due, n.new, n.new_total, n.learning, n.known) == (0, 8, 23, 2, 10)


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_database_file_is_created_in_its_own_folder(tmp_path):
    path = tmp_path / "a" / "b" / "revision.sqlite3"
    Store.open(path)
    assert path.is_file()
