"""The Réviser page: cards cut from the notes, reviewed with FSRS, progress per service, Anki export.

Flow: a prompt, "Montrer", the reveal (the note's own words with `fichier:ligne`), then a grade
whose button says when the card comes back. The cards follow the notes (synced when the page
opens and whenever a note changed); the state lives in SQLite (`REVISION_DB`, default
data/revision.sqlite3), never in the index folder.

From the chat: set, then switch page,

    st.session_state["revision_request"] = {"service": str | None, "source": str | None, "lines": list[int] | None}
    st.switch_page("ui/revision.py")

- "service" (a heading, e.g. from `revision.quiz_target(question, headings)`): the page filters on it;
- "source" + "lines" (a passage's `fichier` and lines): that passage's cards come first in the queue
  (`revision.cards_for_lines(cards, source, lines)` says which), whatever the filters.
The page reads the request once and removes it.
"""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import streamlit as st

from retrieval.notes import settings
from retrieval.presentation import app_support as sup
from retrieval.presentation.formatting import escape_markdown
from revision import app_support as rsup
from revision.cards import Card, count_kinds, filter_cards, headings_of
from revision.progress import counts, per_service, reviews_per_day
from revision.scheduler import GRADES, interval_label, new_state, preview
from revision.store import StoreError
from revision.study import Filters, Request, build_queue, local_day, new_seen_today, next_due
from revision.sync import sync_notes
from revision.view import STYLE as CARD_STYLE
from revision.view import context_markdown, prompt_html, ref_markdown, reveal_html
from ui import revision_charts as charts

APP_DIR = Path(__file__).resolve().parents[1]
ss = st.session_state

st.html(CARD_STYLE)  # style only: Streamlit puts it out of the page flow
st.title(":material/school: Réviser", anchor=False)
st.caption(
    "Des cartes tirées mot pour mot de tes notes : un passage en gras masqué, une liste sous son titre, "
    "une case de tableau. Réponds de tête, clique sur « Montrer », puis dis si tu savais."
)
now = datetime.now(timezone.utc)

# ----- the database and the cards ----------------------------------------------------------------
corpus_dir, index_dir = sup.paths(APP_DIR)
try:
    store, notice = rsup.open_store(rsup.db_path(APP_DIR, index_dir), now)
except StoreError as e:
    st.error(str(e))
    st.stop()
if notice:
    ss["rev_notice"] = notice  # said on every rerun of this session, not only once
if ss.get("rev_notice"):
    st.error(ss["rev_notice"], icon=":material/warning:")

try:
    notes, _ = sync_notes(store, corpus_dir, now, force=not ss.get("rev_synced"))
    ss["rev_synced"] = True
except FileNotFoundError as e:
    st.warning(f"{e} {settings.folder_hint(APP_DIR)} Tes cartes et leur historique sont intacts.")
    st.stop()
except StoreError as e:
    st.error(str(e))
    st.stop()
cards: list[Card] = notes.cards
if not cards:
    st.info("Aucune carte : tes notes n'ont ni passage en **gras**, ni liste sous un titre, ni tableau.")
    st.stop()
headings = headings_of(cards)

request = Request.from_state(ss.pop("revision_request", None))
if request is not None:
    if request.service in headings:
        ss["rev_services"] = [request.service]
    if request.source:
        ss["rev_priority"] = request.priority(cards)
        ss["rev_current"] = None
        if not ss["rev_priority"]:
            st.info("Ce passage ne donne aucune carte (ni gras, ni liste sous un titre, ni tableau).")

# ----- settings ------------------------------------------------------------------------------------
ss["rev_services"] = [s for s in ss.get("rev_services", []) if s in headings]  # a heading may have left the notes
if "rev_cap" not in ss:
    ss["rev_cap"] = store.new_per_day()


def save_cap() -> None:
    try:
        store.set_setting("new_per_day", str(int(ss["rev_cap"])))
    except StoreError as e:
        ss["rev_error"] = str(e)


with st.sidebar:
    st.header("Réglages", anchor=False)
    services = st.multiselect("Filtrer par service", headings, key="rev_services", placeholder="Tous les services")
    exam_only = st.toggle("Conseils d'examen uniquement", key="rev_exam")
    due_only = st.toggle(
        "Cartes dues seulement", value=True, key="rev_due_only", help="Désactivé : réviser aussi en avance."
    )
    # Saved when changed here only: a tab left open must not write its old value over another tab's.
    cap = int(
        st.number_input(
            "Nouvelles cartes par jour",
            min_value=0,
            max_value=1000,
            step=5,
            key="rev_cap",
            on_change=save_cap,
        )
    )
    st.divider()
    chosen = filter_cards(cards, services, exam_only)
    kinds = count_kinds(chosen)
    st.caption(f"{len(chosen)} cartes : {kinds['cloze']} à trous, {kinds['list']} listes, {kinds['table']} tableaux.")
    st.download_button(
        "Exporter pour Anki (.apkg)",
        data=lambda: rsup.apkg_bytes(chosen),
        file_name=rsup.apkg_name(chosen),
        mime="application/octet-stream",
        icon=":material/download:",
        width="stretch",
        on_click="ignore",
    )
    retired = store.retired_count()
    if retired:
        st.caption(
            f"{retired} carte(s) retirée(s) : leur puce a changé ou disparu des notes ; leur historique est gardé."
        )
    for line in notes.report:
        st.caption("⚠️ " + escape_markdown(line))

filters = Filters(services, exam_only, due_only)
states = store.states()
today = datetime.combine(local_day(now), datetime.min.time()).astimezone()
new_left = cap - new_seen_today(store.reviews(since=today), now)
cnt = counts(cards, states, now, filters, new_left)

# Two pairs: one row of four on a laptop, two rows of two on a phone (not 3 + 1, nor cut labels).
with st.container(horizontal=True, key="rev-counts"):
    for pair in (
        (("À réviser", cnt.due), ("Nouvelles", cnt.new)),
        (("En cours", cnt.learning), ("Connues", cnt.known)),
    ):
        with st.container(horizontal=True, wrap=False, width=340):
            for label, value in pair:
                st.metric(label, value, border=True)


# ----- the session -------------------------------------------------------------------------------
def show_answer(card_id: str) -> None:
    if ss.get("rev_current") == card_id:
        ss["rev_shown"] = True


def grade(card_id: str, label: str) -> None:
    # A second click on a button the next card has not replaced yet (double click, slow rerun)
    # would grade the previous card again: only the card on screen, once revealed, is graded.
    if ss.get("rev_current") != card_id or not ss.get("rev_shown"):
        return
    started = ss.get("rev_started")
    when = datetime.now(timezone.utc)
    duration = int((when - started).total_seconds() * 1000) if started else None
    try:
        state = store.review(card_id, label, when, duration)
    except StoreError as e:
        ss["rev_error"] = str(e)
        return
    ss["rev_priority"] = [i for i in ss.get("rev_priority", []) if i != card_id]
    ss["rev_current"], ss["rev_shown"] = None, False
    ss["rev_done"] = ss.get("rev_done", 0) + 1
    if state.fsrs is not None:
        ss["rev_last"] = f"« {label} » : revient dans {interval_label(state.fsrs.due - when)}."


if ss.get("rev_error"):
    st.error(ss.pop("rev_error"))
if ss.get("rev_last"):
    st.toast(ss.pop("rev_last"), icon=":material/check:")

queue = build_queue(cards, states, now, filters, new_left, ss.get("rev_priority", []))
ids = [c.id for c in queue]
if ss.get("rev_current") not in ids:
    ss["rev_current"] = ids[0] if ids else None
    ss["rev_shown"] = False
    ss["rev_started"] = now

if ss.get("rev_current"):
    card = queue[ids.index(ss["rev_current"])]
    st.caption(
        f"{len(queue)} carte{'s' if len(queue) > 1 else ''} dans la session · {ss.get('rev_done', 0)} révisée(s)"
        f" · {cnt.new_total} nouvelles en tout, {cap} par jour"
    )
    with st.container(border=True, key="rev-card"):
        st.caption(context_markdown(card))
        st.html(prompt_html(card))
        if not ss.get("rev_shown"):
            st.button("Montrer", type="primary", on_click=show_answer, args=(card.id,), width="stretch", key="rev-show")
        else:
            st.divider()
            st.html(reveal_html(card))
            st.caption(ref_markdown(card))
            state = states.get(card.id)
            fsrs_state = state.fsrs if state is not None and state.fsrs is not None else new_state(0, now)
            nexts = preview(fsrs_state, now)
            with st.container(horizontal=True, key="rev-grades"):
                for i, g in enumerate(GRADES):
                    st.button(
                        f"{g.label} · {interval_label(nexts[g.label])}",
                        key=f"rev-grade-{i}",
                        on_click=grade,
                        args=(card.id, g.label),
                        type="primary" if g.label == "Bien" else "secondary",
                        width="stretch",
                    )
else:
    with st.container(border=True, key="rev-empty"):
        st.markdown("**Rien à réviser pour l'instant.**")
        soon = next_due(cards, states, now, filters)
        if soon is not None:
            st.caption(f"Prochaine carte dans {interval_label(soon - now)}.")
        if cnt.new_total and not cnt.new:
            st.caption(
                "Le quota de nouvelles cartes du jour est atteint : augmente-le dans les réglages pour continuer."
            )
        elif due_only and soon is not None:
            st.caption("Désactive « Cartes dues seulement » pour réviser en avance.")

# ----- progress ------------------------------------------------------------------------------------
st.subheader("Progression", anchor=False)
# The legend is drawn as badges: Vega's own overflowed a phone's width.
st.markdown("**Cartes par service** :gray-badge[Nouvelles] :orange-badge[En cours] :green-badge[Connues]")
st.altair_chart(charts.by_service(per_service(cards, states), headings), width="stretch")
days = reviews_per_day(store.reviews(since=now - timedelta(days=15)), now)
st.markdown("**Révisions par jour** (14 derniers jours)")
if any(d["révisions"] for d in days):
    st.altair_chart(charts.per_day(days), width="stretch")
else:
    st.caption("Aucune révision ces 14 derniers jours.")
