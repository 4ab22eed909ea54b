"""Shared fixtures: the real notes, the real model, one index built per test session."""

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The embedding cache (retrieval/vectorcache.py) of the session's fixtures: never the student's data/.
os.environ["RETRIEVAL_CACHE"] = tempfile.mkdtemp(prefix="retrieval-cache-")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
NOTES = CORPUS / "other-services.md"


@pytest.fixture(autouse=True)
def revision_db(tmp_path, monkeypatch):
    """Every test studies in its own database: the student's data/revision.sqlite3 is never touched."""
    path = tmp_path / "revision-data" / "revision.sqlite3"
    monkeypatch.setenv("REVISION_DB", str(path))
    return path


@pytest.fixture
def notes(tmp_path):
    """A copy of the shipped notes that a test may edit (a test file may define its own `notes`)."""
    folder = tmp_path / "notes"
    folder.mkdir()
    shutil.copy(NOTES, folder / NOTES.name)
    return folder


@pytest.fixture(scope="session")
def built_index(tmp_path_factory):
    """Index of the shipped notes, built once with the default model."""
    from retrieval import Retriever

    index_dir = tmp_path_factory.mktemp("index")
    Retriever.build(CORPUS, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def retriever(built_index):
    from retrieval import Retriever

    return Retriever.load(built_index)


@pytest.fixture(autouse=True)
def embedding_cache(tmp_path_factory, monkeypatch):
    """Every test embeds into its own empty cache: what one test embedded never spares another its work."""
    path = tmp_path_factory.mktemp("embeddings")
    monkeypatch.setenv("RETRIEVAL_CACHE", str(path))
    return path


@pytest.fixture(autouse=True)
def private_settings(tmp_path_factory, monkeypatch):
    """Every test gets its own settings file: none ever reads or writes the real data/settings.json."""
    monkeypatch.setenv("RETRIEVAL_SETTINGS", str(tmp_path_factory.mktemp("settings") / "settings.json"))


@pytest.fixture
def fresh_streamlit_cache():
    """Streamlit's shared resources (the loaded index) cleared before and after an app test."""
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def app(monkeypatch, built_index, fresh_streamlit_cache):
    """The app on the shipped notes, with the session's prebuilt index, after its first run."""
    from streamlit.testing.v1 import AppTest

    from retrieval import config

    monkeypatch.setenv(config.INDEX_ENV, str(built_index))
    monkeypatch.delenv(config.CORPUS_ENV, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    return at
