"""Streamlit pages and the widgets they share. Logic lives in retrieval/ (and revision/): pages only wire widgets."""
