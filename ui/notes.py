"""The "Mes notes" page: what the index holds per file and per heading, and the notes managed from here
(add .md files or a .zip, remove to the trash, restore). Same code path as `python -m retrieval notes`.

Every name shown comes from the notes folder and may be hostile (<script>, :red[x], $x$): text goes
through escape_markdown, tables through st.dataframe (plain cells).
"""

from collections import Counter

import streamlit as st

import revision
from retrieval.notes import importing, inventory, trash
from retrieval.notes.paths import NotesError
from retrieval.presentation import app_support as sup
from retrieval.presentation.formatting import escape_markdown
from ui.common import index_panel, load, progress_ui

MAX_NAMES = 12  # names listed in one message; the rest are counted
# Narrow number columns leave the file name room on a laptop; on a phone the table scrolls sideways.
COLUMNS = {
    "Fichier": st.column_config.TextColumn(width=220),
    "Rubrique": st.column_config.TextColumn(width=260),
    "Dans la corbeille": st.column_config.TextColumn(width=220),
    "Passages": st.column_config.NumberColumn(width=80),
    "Rubriques": st.column_config.NumberColumn(width=85),
    "Conseils d'examen": st.column_config.NumberColumn("Conseils", help="Conseils d'examen", width=80),
    "Modifié le": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm", width=130),
    "Retiré le": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm", width=130),
}

st.title(":material/folder_open: Mes notes", anchor=False)

shared, r, info = load()
notes_dir = shared.corpus_dir


# ----- helpers -----------------------------------------------------------------------------------
def refresh_index() -> tuple[bool, str]:
    """Bring the index up to date, with a progress bar: (done, one French sentence saying how it went)."""
    with st.status("Mise à jour de l'index…", expanded=True) as status:
        bar = st.progress(0.0, text="Lecture des notes…")
        try:
            current = shared.ensure()
            current.refresh(progress_ui(bar))
        except Exception as e:  # one sentence, never a traceback
            status.update(label="Mise à jour de l'index impossible.", state="error")
            return False, sup.friendly_error(e)
        if current.refresh_notice:
            status.update(label="Mise à jour de l'index impossible.", state="error")
            return False, current.refresh_notice
        done = current.info()
        label = f"Index à jour : {done['chunks']} passages, {done['files']} fichier(s)."
        status.update(label=label, state="complete", expanded=False)
    return True, label


def names(sources: list[str]) -> str:
    shown = ", ".join(f"« {s} »" for s in sources[:MAX_NAMES])
    more = len(sources) - MAX_NAMES
    return shown + (f" et {more} autre(s)" if more > 0 else "")


def report_messages(rep: importing.ImportReport) -> list[tuple[str, str]]:
    """(alert kind, escaped Markdown) per kind of outcome: one message per group, not one per file."""
    by: dict[str, list[importing.ImportItem]] = {}
    for item in rep.items:
        by.setdefault(item.status, []).append(item)
    out = []
    if importing.ADDED in by:
        out.append(("success", f"Ajouté dans tes notes : {names([i.source for i in by[importing.ADDED]])}."))
    if importing.REPLACED in by:
        replaced = names([i.source for i in by[importing.REPLACED]])
        out.append(("success", f"Remplacé : {replaced} (l'ancienne version est dans la corbeille)."))
    if importing.UNCHANGED in by:
        same = names([i.source for i in by[importing.UNCHANGED]])
        out.append(("info", f"Déjà dans tes notes, à l'identique : {same}."))
    for item in by.get(importing.SKIPPED, []):
        out.append(("warning", f"Ignoré : « {item.source} » ({item.reason})."))
    n = sum(rep.ignored.values())
    if n:
        kinds = ", ".join(rep.ignored)
        what = (
            f"{n} fichiers qui ne sont pas du Markdown laissés"
            if n > 1
            else "1 fichier qui n'est pas du Markdown laissé"
        )
        out.append(("info", f"{what} de côté ({kinds})."))
    if rep.empty:
        out.append(("warning", f"Aucune note Markdown (.md, .markdown) dans « {rep.archive} » : rien n'a été ajouté."))
    return [(kind, escape_markdown(text)) for kind, text in out]


def finish(messages: list[tuple[str, str]], changed: bool) -> None:
    """Refresh the index when the folder changed, keep the messages for the next run, and redraw."""
    if changed:
        ok, said = refresh_index()
        messages.append(("caption" if ok else "warning", escape_markdown(said)))
    st.session_state["notes_flash"] = messages
    st.rerun()


def add_files(files: list[tuple[str, bytes]], confirmed: bool = False) -> None:
    messages: list[tuple[str, str]] = []
    changed = False
    pending = st.session_state.setdefault("pending_replace", [])
    for name, data in files:
        try:
            estimate = importing.preview(name, data)
        except NotesError as e:
            messages.append(("error", escape_markdown(str(e))))
            continue
        if estimate.big and not confirmed:  # asked first, with the time it will take
            st.session_state["pending_id"] = st.session_state.get("pending_id", 0) + 1
            st.session_state.setdefault("pending_big", []).append(
                {"id": st.session_state["pending_id"], "name": name, "data": data, "warning": estimate.warning()}
            )
            continue
        try:
            rep = importing.add_upload(notes_dir, name, data)
        except NotesError as e:
            messages.append(("error", escape_markdown(str(e))))
            continue
        except OSError as e:
            messages.append(("error", escape_markdown(sup.friendly_error(e))))
            continue
        changed |= rep.changed
        messages += report_messages(rep)
        if rep.conflicts:
            st.session_state["pending_id"] = st.session_state.get("pending_id", 0) + 1
            pending.append(
                {
                    "id": st.session_state["pending_id"],
                    "notes_dir": notes_dir,  # the folder it was dropped into, even if another is chosen meanwhile
                    "name": name,
                    "data": data,
                    "sources": rep.conflicts,
                }
            )
    st.session_state["upload_round"] += 1  # a new, empty drop zone: these files are in the notes now
    finish(messages, changed)


def confirm_big(p: dict) -> None:
    """An upload that gives many passages: its embedding time is said, and it is imported only if asked."""
    with st.container(border=True):
        st.warning(escape_markdown(f"« {p['name']} » : {p['warning']} L'ajouter ?"), icon=":material/schedule:")
        go, cancel = st.columns(2)
        if go.button("Ajouter", key=f"big-{p['id']}", type="primary", width="stretch"):
            st.session_state["pending_big"].remove(p)
            add_files([(p["name"], p["data"])], confirmed=True)
        if cancel.button("Annuler", key=f"big-cancel-{p['id']}", width="stretch"):
            st.session_state["pending_big"].remove(p)
            finish([("info", escape_markdown(f"Rien n'a été ajouté de « {p['name']} »."))], False)


def confirm_replace(p: dict) -> None:
    """Files of an upload that differ from notes of the same name: replace them, or keep ours."""
    with st.container(border=True):
        n = len(p["sources"])
        what = (
            f"{n} notes existent déjà avec un autre contenu : {names(p['sources'])}. Les remplacer ?"
            if n > 1
            else f"{names(p['sources'])} existe déjà avec un autre contenu. La remplacer ?"
        )
        st.warning(
            escape_markdown(f"« {p['name']} » : {what} L'ancienne version ira à la corbeille, restaurable."),
            icon=":material/difference:",
        )
        replace, keep = st.columns(2)
        if replace.button("Remplacer", key=f"replace-{p['id']}", type="primary", width="stretch"):
            st.session_state["pending_replace"].remove(p)
            try:
                rep = importing.add_upload(p["notes_dir"], p["name"], p["data"], replace=set(p["sources"]))
            except (NotesError, OSError) as e:
                msg = str(e) if isinstance(e, NotesError) else sup.friendly_error(e)
                finish([("error", escape_markdown(msg))], False)
            else:
                finish(report_messages(rep), rep.changed)
        if keep.button("Garder mes versions", key=f"keep-{p['id']}", width="stretch"):
            st.session_state["pending_replace"].remove(p)
            finish([("info", escape_markdown(f"Gardé tel quel : {names(p['sources'])}."))], False)


def move(op, source: str, done: str) -> None:
    """Remove or restore one note, then refresh the index at once."""
    try:
        moved = op(notes_dir, source)
    except (NotesError, OSError) as e:
        msg = str(e) if isinstance(e, NotesError) else sup.friendly_error(e)
        finish([("error", escape_markdown(msg))], False)
        return
    text = done.format(source=moved.source, target=moved.target)
    if moved.renamed and op is trash.restore:
        text += " Une note de ce nom était revenue entre-temps : les deux sont gardées."
    finish([("success", escape_markdown(text))], True)


def cards_per_heading() -> dict[str, int] | None:
    """Study cards per heading (Card.heading, the parser's nearest heading → count), from the Réviser
    page's own extraction (memoized until a note changes); None when the cards cannot be read."""
    try:
        cards = revision.load_cards(notes_dir).cards
    except Exception:  # the table stays, without its "Cartes" column
        return None
    return dict(Counter(c.heading for c in cards))


# ----- page ----------------------------------------------------------------------------------------
# Notes edited elsewhere (an editor, Obsidian) since the last refresh: the counts below must be current.
if r.is_stale():
    ok, said = refresh_index()
    if not ok:
        st.warning(escape_markdown(said))
    info = r.info()

with st.sidebar:
    index_panel(shared, r, info)

inv = inventory.of_retriever(r)
st.caption("Dossier de notes : " + escape_markdown(str(notes_dir)))
# A row that wraps, not columns: a phone keeps the three counts side by side instead of stacking them.
with st.container(horizontal=True, gap="large"):
    st.metric("Fichiers", len(inv.files), width="content")
    st.metric("Passages", inv.passages, width="content")
    st.metric("Conseils d'examen", inv.exam_tips, width="content")

for kind, text in st.session_state.pop("notes_flash", []):
    getattr(st, kind)(text)
for p in list(st.session_state.get("pending_big", [])):
    confirm_big(p)
for p in list(st.session_state.get("pending_replace", [])):
    confirm_replace(p)

st.subheader("Ajouter des notes", anchor=False)
upload_round = st.session_state.setdefault("upload_round", 0)
uploads = st.file_uploader(
    "Dépose des fichiers .md, ou une archive .zip de ton dossier de notes (un coffre Obsidian par exemple)",
    type=["md", "markdown", "zip"],
    accept_multiple_files=True,
    key=f"upload-{upload_round}",
    help="Les sous-dossiers sont gardés. Une note existante n'est jamais remplacée sans ton accord.",
)
if uploads and st.button("Ajouter à mes notes", type="primary", icon=":material/upload_file:"):
    add_files([(f.name, f.getvalue()) for f in uploads])

st.subheader("Fichiers indexés", anchor=False)
if inv.files:
    remarks = any(f.notes for f in inv.files)  # the column only when a file has something to say
    st.dataframe(
        [
            {
                "Fichier": f.source,
                "Passages": f.passages,
                "Rubriques": f.headings,
                "Conseils d'examen": f.exam_tips,
                "Modifié le": f.modified,
                **({"Remarques": " ; ".join(f.notes)} if remarks else {}),
            }
            for f in inv.files
        ],
        hide_index=True,
        width="stretch",
        column_config=COLUMNS,
    )
else:
    st.info("Aucune note indexée : ajoute des fichiers .md ci-dessus.")
if inv.skipped:
    st.markdown("**Fichiers ignorés à la lecture**")
    st.dataframe([{"Fichier": s.source, "Raison": s.reason} for s in inv.skipped], hide_index=True, width="stretch")

st.subheader("Par rubrique", anchor=False)
rows = inventory.heading_rows(r.chunks, cards_per_heading())
sources = [f.source for f in inv.files]
only = st.selectbox("Fichier", sources, index=None, placeholder="Tous les fichiers") if len(sources) > 1 else None
table = []
for row in rows:
    if only is None or row.source == only:
        # the heading first: on a phone it is what shows before the table scrolls sideways
        line: dict[str, object] = {"Rubrique": row.heading, "Passages": row.passages}
        line["Conseils d'examen"] = row.exam_tips
        if row.cards is not None:
            line["Cartes"] = row.cards
        if only is None:
            line["Fichier"] = row.source
        table.append(line)
if table:
    st.dataframe(table, hide_index=True, width="stretch", column_config=COLUMNS)

st.subheader("Retirer ou restaurer", anchor=False)
removable = sources + [s.source for s in inv.skipped if s.source.lower().endswith((".md", ".markdown"))]
gone = st.selectbox("Note à retirer", removable, index=None, placeholder="Choisis une note")
if st.button("Mettre à la corbeille", icon=":material/delete:", disabled=gone is None) and gone is not None:
    move(trash.remove, gone, "« {source} » est dans la corbeille : ses passages ne sortent plus dans les réponses.")
held = trash.items(notes_dir)
if held:
    st.dataframe(
        [{"Dans la corbeille": t.source, "Retiré le": t.removed} for t in held],
        hide_index=True,
        width="stretch",
        column_config=COLUMNS,
    )
    back = st.selectbox("Note à restaurer", [t.source for t in held], index=None, placeholder="Choisis une note")
    if st.button("Restaurer", icon=":material/restore_from_trash:", disabled=back is None) and back is not None:
        move(trash.restore, back, "« {target} » est de retour dans tes notes et dans les réponses.")
else:
    st.caption("La corbeille est vide. Une note retirée y reste, restaurable, jamais effacée.")
