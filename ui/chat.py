"""The chat page: ask in French, read the passages of the notes that answer, quoted verbatim.

Each passage is drawn by retrieval/presentation/rendering.py as HTML (`st.html`, sanitized by DOMPurify; no
Markdown with HTML allowed anywhere): the note's own lists, code blocks, tables and callouts,
every character escaped. Streamlit's Markdown would turn `:material/x:` into icons, " -> " into arrows and
`www.` into links, so nothing that comes from the notes or the question goes through it: only
our own sentences and labels do (and labels that `rendering.markdown_label` finds safe).
"""

import streamlit as st

import revision
from retrieval.presentation import app_support as sup
from retrieval.presentation import chat_log
from retrieval.presentation import rendering as rd
from retrieval.presentation.answer_view import copy_text, layout, why_html
from retrieval.presentation.formatting import escape_markdown, line_ranges, missing_sentence
from ui.common import index_panel, load

REVISION_PAGE = "ui/revision.py"

st.title(":material/menu_book: Révision AWS", anchor=False)
st.html(rd.STYLE)  # style only: Streamlit puts it out of the page flow

shared, r, info = load()
headings = info["headings"]
history = st.session_state.setdefault("history", [])


def new_conversation() -> None:
    """« Nouvelle conversation » : the history goes, and with it the subject the next question would keep."""
    st.session_state["history"] = []


def ask_without_subject(question: str) -> None:
    """« Sans ce sujet » : the same question again, searched alone (run before the page, by the button)."""
    st.session_state["redo"] = question


with st.sidebar:
    st.header("Réglages", anchor=False)
    services = st.multiselect("Filtrer par service", headings, placeholder="Tous les services")
    k = st.slider("Nombre de passages", min_value=1, max_value=15, value=5)
    exam_only = st.toggle("Conseils d'examen uniquement")
    st.button(
        "Nouvelle conversation",
        icon=":material/add_comment:",
        on_click=new_conversation,
        help="Efface les questions et réponses : la question suivante ne reprend plus le sujet d'avant.",
    )
    st.divider()
    index_panel(shared, r, info)


# ----- safe text outside the passages ---------------------------------------------------------------
def alert(kind: str, text: str) -> None:
    """st.info / st.error with a sentence that may hold a user's or a note's words: as Markdown when
    Streamlit would show it as written, else as HTML in a box of the same place."""
    md = rd.markdown_label(text, cap=2000)
    if md is not None:
        getattr(st, kind)(md)
    else:
        st.html(rd.text_block(text, "rv-box"))


def start_revision(request: dict) -> None:
    st.session_state["revision_request"] = request
    st.switch_page(REVISION_PAGE)


# ----- one passage ----------------------------------------------------------------------------------
def show_passage(p, query: str, context: list[str] | None, cards: int, key: str, heading: bool = True) -> None:
    with st.container(border=True, key=f"card-{key}"):  # the page's CSS class st-key-card-…
        st.html(rd.passage_card(p, query, context, heading))
        with st.container(horizontal=True, gap="small"):
            with st.popover("Pourquoi ce passage ?", type="tertiary", icon=":material/help:"):
                st.html(why_html(p, query))
            with st.popover("Copier", type="tertiary", icon=":material/content_copy:"):
                text = copy_text(p)
                if len(text) <= rd.PASSAGE_CAP:
                    st.caption(
                        "Le passage tel qu'il est écrit dans ta note, avec sa source : le bouton du cadre le copie."
                    )
                    st.code(text, language="markdown", wrap_lines=True)
                else:  # a 2 MiB line would freeze the page here too: the exact text as a file instead
                    st.caption("Passage trop long pour être affiché ici : télécharge-le, mot pour mot.")
                    st.download_button(
                        "Télécharger le passage (.md)",
                        data=text,
                        file_name=f"passage-{p.lines[0]}-{p.lines[-1]}.md",
                        mime="text/markdown",
                        on_click="ignore",
                        key=f"dl-{key}",
                    )
            if cards and st.button(
                "Réviser ce passage",
                key=f"rev-{key}",
                type="tertiary",
                icon=":material/school:",
                help=f"{cards} carte(s) tirée(s) de ces lignes, à réviser en premier.",
            ):
                start_revision({"service": None, "source": p.source, "lines": list(p.lines)})
        # Drawn only when opened (a rerun then), from the lines read when the answer was made.
        box = st.expander("Voir le contexte", key=f"ctx-{key}", on_change="rerun")
        with box:
            if box.open:
                if context is None:
                    st.caption("Contexte indisponible : le fichier a changé ou n'existe plus (reconstruis l'index).")
                else:
                    _, first, last = sup.passage_key(p)
                    st.caption(f"Tout le bloc, lignes {line_ranges(list(range(first, last + 1)))} :")
                    st.html(rd.render_context(context, first, [h.line for h in p.hits], query))


# ----- one answer -----------------------------------------------------------------------------------
def show_answer(msg: dict, mi: int) -> None:
    answer, error = msg["answer"], msg["error"]
    if error:
        alert("error", error)
        return
    if answer is None:
        return
    if answer.subject is not None:  # carried over from the question before: said, and undoable
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            st.html(chat_log.subject_html(answer))
            st.button(
                "Demander sans ce sujet",
                key=f"nosubject-{mi}",
                type="tertiary",
                icon=":material/undo:",
                on_click=ask_without_subject,
                args=(answer.query,),
                help="La même question, cherchée seule dans tes notes.",
            )
    if answer.notice:
        alert("info", answer.notice)
    if answer.indexing:
        st.caption(escape_markdown(answer.indexing))
    quiz = msg.get("quiz")
    if quiz:
        st.html(rd.text_block(f"Pour t'interroger sur « {quiz} », passe à la page Réviser :", "rv-echo"))
        label = rd.markdown_label(f"Réviser {quiz}") or "Réviser ce service"
        if st.button(label, key=f"quiz-{mi}", type="primary", icon=":material/school:"):
            start_revision({"service": quiz, "source": None, "lines": []})
    if answer.missing:
        alert("info", missing_sentence(answer.missing))
    if not answer.passages:
        if not quiz:
            st.markdown(sup.NOTHING_FOUND)
        return
    contexts, cards = msg.get("contexts", {}), msg.get("cards", {})

    def show(i: int, p, heading: bool = True) -> None:
        key = sup.passage_key(p)
        show_passage(p, answer.query, contexts.get(key), cards.get(key, 0), f"{mi}-{i}", heading)

    view = layout(answer)
    for i, p in view.first:
        show(i, p)
    if view.columns:
        # Side by side on a laptop; Streamlit stacks the columns on a phone.
        for col, (heading, ps) in zip(st.columns(len(view.columns)), view.columns):
            with col:
                st.html(f'<div class="rv-colhead">{rd.label_html(heading)}</div>')
                for i, p in ps:
                    show(i, p, heading=p.heading != heading)  # the column says it already


def passage_cards(answer) -> dict:
    """Per passage, how many study cards its lines give (read with the answer, like the contexts)."""
    if answer is None or not answer.passages:
        return {}
    try:
        cards = revision.load_cards(r.corpus_dir).cards
    except Exception:  # no cards is no button, never an error in the chat
        return {}
    return {sup.passage_key(p): len(revision.cards_for_lines(cards, p.source, p.lines)) for p in answer.passages}


def make_answer(question: str, previous) -> dict:
    answer, error = sup.ask(r, question, k, services, exam_only, previous)
    return {
        "role": "assistant",
        "answer": answer,
        "error": error,
        "contexts": sup.passage_contexts(r, answer),
        "cards": passage_cards(answer),
        "quiz": revision.quiz_target(question, headings),
    }


# ----- chat --------------------------------------------------------------------------------------
asked = None

with st.chat_message("assistant"):
    st.markdown(
        "Bonjour ! Pose une question sur tes notes : je te montre **les passages exacts**, "
        "avec leur service et `fichier:lignes`. Rien n'est inventé."
    )
    if headings:
        named, examples = shared.welcome(r, headings)  # `services` is the sidebar's filter
        st.html(f'<div class="rv-cap">Services dans tes notes : {rd.label_html(", ".join(named), 2000)}</div>')
        examples = [q for q in examples if rd.markdown_label(q) is not None]
        if examples:
            st.markdown("Par exemple :")
        for row in range(0, len(examples), 2):  # one row per pair: a phone stacks them in order
            for col, (i, q) in zip(st.columns(2), list(enumerate(examples))[row : row + 2]):
                if col.button(escape_markdown(q), key=f"example-{i}", width="stretch"):
                    asked = q
    else:
        st.warning("Aucune note trouvée : ajoute des fichiers .md dans le dossier de notes, puis reconstruis l'index.")

# Older exchanges are folded, drawn only when opened and from HTML made once (chat_log): the 120th
# question costs what the first one does.
folded, shown = chat_log.split(history)
if folded:
    box = st.expander(f"Questions précédentes ({len(folded) // 2})", key="folded-history", on_change="rerun")
    with box:
        if box.open:
            st.html("".join(chat_log.folded_html(history[i]) for i in folded))
for mi in shown:
    msg = history[mi]
    with st.chat_message(msg["role"]):
        if msg["role"] == "user":
            st.html(rd.text_block(msg["text"]))
        else:
            show_answer(msg, mi)

typed = st.chat_input("Ta question sur tes notes…", max_chars=500)
redo = st.session_state.pop("redo", None)  # « Demander sans ce sujet »
question = (typed or asked or redo or "").strip()
if question:
    previous = None if redo and not (typed or asked) else chat_log.previous_answer(history)
    history.append({"role": "user", "text": question})
    history.append(make_answer(question, previous))
    with st.chat_message("user"):
        st.html(rd.text_block(question))
    with st.chat_message("assistant"):
        show_answer(history[-1], len(history) - 1)
