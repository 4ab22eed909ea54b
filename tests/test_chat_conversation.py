"""The chat page as a conversation (AppTest, real notes and model): the carried-subject line and its
« Demander sans ce sujet » control, « Nouvelle conversation », the filter winning over the subject, and
a long conversation drawn at the cost of a short one (older exchanges folded)."""

import pytest
from conftest import CORPUS

from retrieval.presentation import chat_log

APP = str(CORPUS.parent / "app.py")
LABEL = "À propos de : Amazon SES (question précédente)"
WITHOUT = "Demander sans ce sujet"


pytestmark = pytest.mark.usefixtures("fresh_streamlit_cache")


def ask(at, question):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def htmls(node) -> list[str]:
    return [e.value for e in node if getattr(e, "type", None) == "html"]


def subject_lines(node) -> list[str]:
    return [h for h in htmls(node) if "rv-subject" in h]


def buttons(node, label: str) -> list:
    return [e for e in node if getattr(e, "type", None) == "button" and e.label == label]


def test_three_turns_show_the_carried_subject(app):
    for q in ("c'est quoi Amazon SES ?", "et ses statistiques ?", "et pour l'examen ?"):
        ask(app, q)
    answers = [m for m in app.main.chat_message][1:][1::2]  # after the welcome: user, assistant, ...
    assert len(answers) == 3
    assert not subject_lines(answers[0]) and not buttons(answers[0], WITHOUT)
    for a in answers[1:]:
        (line,) = subject_lines(a)
        assert LABEL in line
        assert len(buttons(a, WITHOUT)) == 1
    history = app.session_state["history"]
    assert history[-1]["answer"].subject.names == ["Amazon SES"]
    assert history[-1]["answer"].passages[0].lines[0] == 69


def test_ask_again_without_the_subject(app):
    ask(app, "c'est quoi Amazon SES ?")
    ask(app, "et pour l'examen ?")
    buttons(app.main.chat_message[-1], WITHOUT)[0].click().run()
    assert not app.exception
    history = app.session_state["history"]
    assert [m["text"] for m in history if m["role"] == "user"][-2:] == ["et pour l'examen ?"] * 2
    assert history[-1]["answer"].subject is None
    assert not subject_lines(app.main.chat_message[-1])
    assert history[-1]["answer"].passages[0].lines[0] != 69  # searched alone: another service's tips


def test_new_conversation_forgets_the_subject(app):
    ask(app, "c'est quoi Amazon SES ?")
    new = next(b for b in app.sidebar.button if b.label == "Nouvelle conversation")
    new.click().run()
    assert app.session_state["history"] == []
    ask(app, "et pour l'examen ?")
    assert app.session_state["history"][-1]["answer"].subject is None


def test_the_service_filter_wins(app):
    ask(app, "c'est quoi Amazon SES ?")
    app.sidebar.multiselect[0].set_value(["Amazon Pinpoint"]).run()
    ask(app, "et pour l'examen ?")
    answer = app.session_state["history"][-1]["answer"]
    assert answer.subject is None and {p.heading for p in answer.passages} == {"Amazon Pinpoint"}
    assert not subject_lines(app.main.chat_message[-1])


def test_a_long_conversation_costs_what_a_short_one_does(app):
    """Defect 15 of issue 23: every rerun redrew the whole history (question 120: 2.06 s at the server,
    against 0.24 s for question 1). Past RECENT exchanges, what a rerun draws no longer grows."""
    ask(app, "c'est quoi Amazon SES ?")
    ask(app, "et pour l'examen ?")
    one = app.session_state["history"][-4:]
    app.session_state["history"] = one * (chat_log.RECENT // 2 + 1)  # RECENT + 1 exchanges
    app.run()
    short = sum(1 for _ in app.main)
    app.session_state["history"] = one * 60  # 120 exchanges
    app.run()
    assert not app.exception
    assert sum(1 for _ in app.main) == short  # the same elements: the recent exchanges and one folded box
    box = next(e for e in app.main.expander if e.label.startswith("Questions précédentes"))
    assert box.label == f"Questions précédentes ({120 - chat_log.RECENT})"
    # opened, the folded exchanges are one block of HTML, made once per message and kept
    app.session_state["folded-history"] = True
    app.run()
    assert not app.exception
    box = next(e for e in app.main.expander if e.label.startswith("Questions précédentes"))
    (folded,) = htmls(box)
    history = app.session_state["history"]
    older, _ = chat_log.split(history)
    cards = sum(len(history[i]["answer"].passages) for i in older if history[i]["role"] == "assistant")
    assert folded.count('<div class="rv-card">') == cards and folded.count("Ta question") == 117
    assert LABEL in folded
