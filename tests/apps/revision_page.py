"""The Réviser page alone, as app.py registers it, for AppTest: no index or model is loaded.

(Run as a script, ui/revision.py would put ui/ first on sys.path, where "revision" is the page itself.)
"""

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[2]
st.navigation([st.Page(str(ROOT / "ui" / "revision.py"), title="Réviser", url_path="reviser")]).run()
