"""The Réviser page's progress charts (Altair, which ships with Streamlit), from revision.progress's plain rows."""

import altair as alt

from revision.progress import STATUSES

# Streamlit's gray, orange and green: the badges above the chart serve as its legend.
COLORS = alt.Scale(domain=list(STATUSES), range=["#a3a8b8", "#ffa421", "#21c354"])


def by_service(rows: list[dict], headings: list[str]) -> alt.Chart:
    """Stacked bars: new, learning and known cards of each service, services in note order."""
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("service:N", sort=headings, title=None, axis=alt.Axis(labelLimit=130)),
            x=alt.X("cartes:Q", stack="zero", title="Cartes"),
            color=alt.Color("statut:N", scale=COLORS, sort=list(STATUSES), legend=None),
            order=alt.Order("ordre:Q"),
            tooltip=[alt.Tooltip("service:N"), alt.Tooltip("statut:N"), alt.Tooltip("cartes:Q")],
        )
        .properties(height=alt.Step(22))
    )


def per_day(rows: list[dict]) -> alt.Chart:
    """Reviews per day, one bar per day of the window (zeros included)."""
    top = max([3] + [r["révisions"] for r in rows])
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar(color="#1c83e1")
        .encode(
            x=alt.X("jour:O", title=None, sort=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y(
                "révisions:Q", title=None, scale=alt.Scale(domain=[0, top]), axis=alt.Axis(format="d", tickMinStep=1)
            ),
            tooltip=[alt.Tooltip("date:N", title="jour"), alt.Tooltip("révisions:Q")],
        )
        .properties(height=180)
    )
