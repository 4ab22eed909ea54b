"""The chat page: ask in French, read the passages of the notes that answer, quoted verbatim."""

import streamlit as st

from retrieval import app_support as sup
from retrieval.formatting import context_markdown, escape_markdown, quote_markdown
from ui.common import index_panel, load

st.title(":material/menu_book: Révision AWS", anchor=False)

shared, r, info = load()
headings = info["headings"]

with st.sidebar:
    st.header("Réglages", anchor=False)
    services = st.multiselect("Filtrer par service", headings, placeholder="Tous les services")
    k = st.slider("Nombre de passages", min_value=1, max_value=15, value=5)
    exam_only = st.toggle("Conseils d'examen uniquement")
    st.divider()
    index_panel(shared, r, info)


# ----- rendering of one answer -----------------------------------------------------------------
def show_hit(hit, query, contexts):
    with st.container(border=True):
        crumbs = " › ".join(hit.breadcrumb)
        top = escape_markdown(crumbs) if crumbs else ""
        if hit.exam:
            top = ":orange-badge[:material/school: Examen] " + top
        if top:
            st.caption(top)
        st.markdown(quote_markdown(hit.text, query))
        st.caption(escape_markdown(f"{hit.source}:{hit.line}"))
        with st.expander("Voir le contexte"):
            # Read when the answer was made: this body runs on every rerun even when collapsed.
            block = contexts.get(sup.context_key(hit), "")
            start = hit.block_start or hit.line
            if block:
                st.caption(escape_markdown(f"{hit.source}, lignes {start}–{hit.block_end or hit.line}"))
                as_list = context_markdown(block, start, hit.line)
                if as_list:
                    st.markdown(as_list)
                else:  # a table or paragraph block: the raw lines, inert
                    st.code(block, language="markdown", wrap_lines=True)
            else:
                st.caption("Contexte indisponible : le fichier a changé ou n'existe plus (reconstruis l'index).")


def show_group(heading, hits, query, contexts):
    st.subheader(escape_markdown(heading), anchor=False)
    for hit in hits:
        show_hit(hit, query, contexts)


def show_answer(answer, error, contexts):
    if error:
        st.error(error)
        return
    if answer.notice:
        st.info(escape_markdown(answer.notice))
    if not answer.hits:
        st.markdown(sup.NOTHING_FOUND)
        return
    if answer.intent == "compare" and len(answer.groups) > 1:
        # Side by side on a laptop; Streamlit stacks the columns on a phone.
        for col, (heading, hits) in zip(st.columns(len(answer.groups)), answer.groups):
            with col:
                show_group(heading, hits, answer.query, contexts)
    else:
        for heading, hits in answer.groups:
            show_group(heading, hits, answer.query, contexts)


# ----- chat --------------------------------------------------------------------------------------
history = st.session_state.setdefault("history", [])
asked = None

with st.chat_message("assistant"):
    st.markdown(
        "Bonjour ! Pose une question sur tes notes : je te montre **les passages exacts**, "
        "avec leur service et `fichier:ligne`. Rien n'est inventé."
    )
    if headings:
        st.caption("Services dans tes notes : " + escape_markdown(", ".join(headings)))
        st.markdown("Par exemple :")
        examples = sup.examples_for(headings)
        for row in range(0, len(examples), 2):  # one row per pair: a phone stacks them in order
            for col, (i, q) in zip(st.columns(2), list(enumerate(examples))[row : row + 2]):
                if col.button(escape_markdown(q), key=f"example-{i}", width="stretch"):
                    asked = q
    else:
        st.warning("Aucune note trouvée : ajoute des fichiers .md dans le dossier de notes, puis reconstruis l'index.")

for msg in history:
    with st.chat_message(msg["role"]):
        if msg["role"] == "user":
            st.markdown(escape_markdown(msg["text"]))
        else:
            show_answer(msg["answer"], msg["error"], msg.get("contexts", {}))

typed = st.chat_input("Ta question sur tes notes…", max_chars=500)
question = (typed or asked or "").strip()
if question:
    answer, error = sup.ask(r, question, k, services, exam_only)
    contexts = sup.contexts(r, answer)
    history.append({"role": "user", "text": question})
    history.append({"role": "assistant", "answer": answer, "error": error, "contexts": contexts})
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    with st.chat_message("assistant"):
        show_answer(answer, error, contexts)
