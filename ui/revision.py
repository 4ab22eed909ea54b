"""Placeholder page, replaced by its issue's work."""

import streamlit as st

st.info("Bientôt disponible.")
