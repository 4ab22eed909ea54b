"""Entry point: `streamlit run app.py`. Only the page list lives here; each page is a file of ui/.

Every passage shown is a verbatim quote of the notes; nothing is generated.
"""

import streamlit as st

st.set_page_config(page_title="Révision AWS : mes notes", page_icon="📚", layout="centered")

pages = [
    st.Page("ui/chat.py", title="Chat", icon=":material/forum:", default=True),
    st.Page("ui/notes.py", title="Mes notes", icon=":material/folder_open:", url_path="notes"),
    st.Page("ui/revision.py", title="Réviser", icon=":material/school:", url_path="reviser"),
]
st.navigation(pages).run()
