"""Placeholder: the Streamlit chat arrives with its own issue."""
import streamlit as st

st.title("Assistant de révision")
