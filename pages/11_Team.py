"""Team (admins only, with login): the people, spend per person, day and model, the team's and each person's
spending limits, and whether the server has a team key (never the key itself)."""

import streamlit as st

from components import connection, people, untrusted
from components.frame import Sidebar, show_page
from imagelab.costs import format_dollars
from imagelab.runs import budgets
from imagelab.store import Store

LIMIT_SCOPES = ("day", "month")


def _save_team_limit(store: Store, scope: str) -> None:
    if people.admin():  # asked again at the change, on the server
        store.set_limit(scope, st.session_state.get(f"team_limit_{scope}") or None)


def _save_person_limit(store: Store, subject: str, scope: str) -> None:
    if people.admin():
        store.set_person_limit(subject, scope, st.session_state.get(f"team_person_limit_{subject}_{scope}") or None)


def render(bar: Sidebar) -> None:
    store = connection.require_history()
    st.title("Team")
    if people.current() is None:
        st.info("ImageLab is used by one person here: the Team page comes with login ([auth] in the secrets).",
                icon=":material/group:")
        return
    if not people.admin():
        st.warning("The Team page is for admins (IMAGELAB_ADMINS).", icon=":material/lock:")
        return

    # --- the team key -------------------------------------------------------------------------
    st.subheader("Team key", anchor=False)
    st.caption(connection.team_key_status())

    # --- limits -------------------------------------------------------------------------------
    st.subheader("Spending limits", anchor=False)
    st.caption("A request must fit the team's limit (everyone's spend together) and the person's own. 0 = none. "
               "Runs on the offline backend never count.")
    limits = store.limits()
    columns = st.columns(4)
    for column, scope in zip(columns, LIMIT_SCOPES, strict=False):
        key = f"team_limit_{scope}"
        st.session_state.setdefault(key, float(limits.get(scope, 0.0)))
        column.number_input(f"Team, {budgets.SCOPE_WORDS[scope]} ($)", 0.0, 1_000_000.0, step=1.0, key=key,
                            on_change=_save_team_limit, args=(store, scope))

    everyone = store.people()
    own_limits = store.person_limits()
    st.subheader("People", anchor=False)
    if not everyone:
        st.caption("Nobody has asked for anything yet.")
    for subject, email in everyone:
        name, day, month, spent = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
        name.markdown(untrusted.theirs(email) + (" · admin" if people.is_admin_email(email) else ""))
        for column, scope in ((day, "day"), (month, "month")):
            key = f"team_person_limit_{subject}_{scope}"
            st.session_state.setdefault(key, float(own_limits.get((subject, scope), 0.0)))
            column.number_input(f"Own {budgets.SCOPE_WORDS[scope]} limit ($)", 0.0, 1_000_000.0, step=0.5, key=key,
                                format="%.3f", on_change=_save_person_limit, args=(store, subject, scope))
        spent.caption(f"Spent in all: {format_dollars(store.spent_dollars(owner=subject))}")

    # --- spend --------------------------------------------------------------------------------
    st.subheader("Spend per person, day and model", anchor=False)
    rows = store.spend_by_day_and_model(by_person=True)
    if rows:
        st.dataframe([{"person": r["person"] or "(before login)", "day": r["day"], "model": r["model"],
                       "runs": r["runs"], "spent ($)": round(r["dollars"], 4),
                       "offline, would cost on OpenAI ($)": round(r["would_cost"], 4)} for r in rows],
                     hide_index=True, width="stretch")
    else:
        st.caption("Nothing has been spent yet.")


show_page("Team", render)
