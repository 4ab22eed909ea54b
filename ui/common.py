"""What every page shares: loading the index with visible progress, and the index panel of the sidebar."""

from pathlib import Path

import streamlit as st

from retrieval.notes import settings
from retrieval.presentation import app_support as sup
from retrieval.presentation.formatting import escape_markdown

APP_DIR = Path(__file__).resolve().parents[1]


def progress_ui(bar):
    def cb(stage, done, total):
        frac, text = sup.progress_text(stage, done, total)
        bar.progress(frac, text=text)

    return cb


def load():
    """(shared, retriever, info) of the notes; on failure one French sentence, the sidebar, and the page stops."""
    shared = None
    try:
        shared = sup.shared_for(APP_DIR)
        if shared.retriever is None:
            with st.status(sup.loading_label(shared.index_dir), expanded=True) as status:
                bar = st.progress(0.0, text="Chargement du modèle…")
                r = shared.ensure(progress_ui(bar))
                info = r.info()
                status.update(
                    label=f"Index prêt : {info['chunks']} passages, {info['files']} fichier(s).",
                    state="complete",
                    expanded=False,
                )
        r = shared.ensure()
        info = r.info()
    except Exception as e:  # one French sentence, never a traceback
        st.error(sup.friendly_error(e))
        with st.sidebar:
            folder_chooser()  # a remembered folder that vanished is fixed from here
            if shared is not None:
                rebuild_button(shared)
        st.stop()
    return shared, r, info


def folder_chooser() -> None:
    """The notes folder: a path checked before use, remembered across restarts (call inside `with st.sidebar`).

    On a bad path: one French sentence, and the previous folder stays in use.
    """
    current, origin = settings.notes_dir(APP_DIR)
    st.subheader("Dossier de notes", anchor=False)
    changed = st.session_state.pop("folder_changed", None)
    if changed:
        st.success(changed, icon=":material/check_circle:")
    if origin == "env":
        st.caption(escape_markdown(str(current)))
        st.caption(f"Fixé par la variable {settings.CORPUS_ENV} : le changer ici n'aurait pas d'effet.")
        return
    with st.form("notes-folder", border=False):
        typed = st.text_input(
            "Chemin du dossier",
            value=str(current),
            help="Un dossier qui contient tes notes .md (un coffre Obsidian, un dossier de cours…). "
            "Il est retenu pour les prochains lancements.",
        )
        if st.form_submit_button("Utiliser ce dossier", icon=":material/folder_open:", width="stretch"):
            folder, error = settings.check_notes_dir(typed)
            if folder is None:
                st.error(escape_markdown(error))
            elif folder == current:
                st.info("C'est déjà le dossier utilisé.")
            else:
                try:
                    settings.save_notes_dir(APP_DIR, folder)
                except OSError as e:
                    st.error(escape_markdown(sup.friendly_error(e)))
                else:
                    st.session_state["folder_changed"] = escape_markdown(f"Dossier de notes : {folder}")
                    st.rerun()


def index_panel(shared, r, info) -> None:
    """Notes folder, index state, build report and the rebuild button (call inside `with st.sidebar`)."""
    folder_chooser()
    st.subheader("État de l'index", anchor=False)
    for line in sup.index_summary(info):
        st.caption(escape_markdown(line))
    for line in info.get("report", []):
        st.caption("⚠️ " + escape_markdown(line))
    if shared.notice:
        st.caption(escape_markdown(shared.notice))
    dense_progress(r)
    if not r.corpus_dir.is_dir():
        st.warning("Le dossier de notes est introuvable : l'index existant est utilisé tel quel.")
    rebuild_button(shared)


def dense_progress(r) -> None:
    """While the notes' meaning is embedded in the background: a bar, redrawn every 2 s, until it is full."""
    if r.dense_progress()[0] >= r.dense_progress()[1]:
        return

    @st.fragment(run_every=2)
    def bar():
        done, total = r.dense_progress()
        if done >= total:
            st.rerun()  # the whole page: the bar goes, and the answers now use every passage
        frac, text = sup.dense_progress_text(done, total)
        st.progress(frac, text=text)
        st.caption("Les réponses s'améliorent à mesure : la recherche par mots marche déjà.")

    bar()


def rebuild_button(shared) -> None:
    rebuilt = st.session_state.pop("rebuilt", None)
    if rebuilt:
        st.success(rebuilt, icon=":material/check_circle:")
    if st.button("Reconstruire l'index", icon=":material/refresh:", width="stretch"):
        try:
            with st.status("Reconstruction de l'index…", expanded=True) as status:
                bar = st.progress(0.0, text="Démarrage…")
                r = shared.rebuild(progress_ui(bar))
                info = r.info()
                status.update(label=f"Index reconstruit : {info['chunks']} passages.", state="complete", expanded=False)
        except Exception as e:
            st.error(sup.friendly_error(e))
        else:
            # Lists drawn from the old index (services, filters) are drawn again.
            st.session_state["rebuilt"] = f"Index reconstruit : {info['chunks']} passages."
            st.rerun()
