"""What the pages share in Streamlit: the current spec in the session, the sidebar, tables, the workbook.

The logic lives in ``budget`` (``budget.workbench.current``, ``budget.workbench.workbook``); this
module only keeps those objects in ``st.session_state`` and draws them.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import streamlit as st

from budget.errors import BudgetError
from budget.model import BudgetSpec
from budget.workbench import (
    DEFAULT_LEARNER,
    DEFAULT_SPEC,
    EDITED,
    INVALID,
    MAX_UPLOAD_BYTES,
    SHIPPED,
    CurrentSpec,
    Entry,
    Explanation,
    LearnerWork,
    SavedSpec,
    learner_name,
    no_shortcodes,
    open_work,
    read_spec_text,
    shipped_specs,
)

if TYPE_CHECKING:
    import pandas as pd


PRELOAD_DELAY_S = 2.0  # long enough for the first page to be drawn in the browser before the imports start


def _import_tables_and_charts() -> None:
    time.sleep(PRELOAD_DELAY_S)  # importing holds the interpreter: let the first page reach the browser first
    import altair  # noqa: F401
    import pandas  # noqa: F401


_preloader = threading.Thread(target=_import_tables_and_charts, name="preload-pandas-altair", daemon=True)
_preload_lock = threading.Lock()


def preload() -> None:
    """Import the table and chart libraries (about a second) while the learner reads the first page.

    ``make run`` (scripts/serve.py) has imported them before the server answered; this covers a plain
    ``streamlit run app.py``.

    Called after a page has run, so that the first page's own script does not wait for it; the
    thread waits ``PRELOAD_DELAY_S`` first, so the page is sent to the browser before it competes.
    """
    with _preload_lock:
        if _preloader.ident is None:
            _preloader.start()


STATE_BADGE = {
    SHIPPED: ("green", ":material/verified:"),
    EDITED: ("blue", ":material/edit:"),
    INVALID: ("red", ":material/error:"),
}


def learner() -> str:
    """The learner's name: the page address keeps it (``?learner=``), so a reload finds the same work."""
    ss = st.session_state
    if "learner" not in ss:
        try:
            ss["learner"] = learner_name(st.query_params.get("learner", DEFAULT_LEARNER))
        except BudgetError:
            ss["learner"] = DEFAULT_LEARNER
    name: str = ss["learner"]
    if name != DEFAULT_LEARNER and st.query_params.get("learner") != name:
        st.query_params["learner"] = name  # back in the address after a page switch dropped it
    return name


def work() -> LearnerWork:
    """The learner's workbook and current spec, kept in the workbench database (or in memory, saying why)."""
    ss = st.session_state
    name = learner()
    if "work" not in ss or ss["work"].learner != name:
        ss["work"] = open_work(name)
        ss.pop("current", None)  # another learner: their own current spec
    book: LearnerWork = ss["work"]
    return book


def current() -> CurrentSpec:
    """The one spec every page uses: the learner's kept one, or the textbook's 10M plan to begin with."""
    ss = st.session_state
    kept = work()
    if "current" not in ss:
        saved = kept.spec()
        if saved is not None:
            ss["current"] = CurrentSpec(saved.name, saved.text, saved.origin, saved.original)
        else:
            ss["current"] = CurrentSpec(DEFAULT_SPEC, read_spec_text(DEFAULT_SPEC))
    cur: CurrentSpec = ss["current"]
    # kept whenever a page reads it: a change made by a widget's callback (an edit, a pick) is saved before
    # the page draws; keep_spec writes only when something changed
    kept.keep_spec(SavedSpec(cur.name, cur.origin, cur.original, cur.text))
    return cur


def keep_current() -> None:
    """Keep the current spec as the page left it (a change made while the page ran); called after each page."""
    current()


def _learner_typed() -> None:
    try:
        st.session_state["learner"] = learner_name(st.session_state["w_learner"])
    except BudgetError as exc:
        st.session_state["learner_error"] = str(exc)
        return
    st.session_state.pop("learner_error", None)
    work()  # the new name's workbook and current spec, before any page draws


def load_shipped(name: str) -> None:
    current().load(name, read_spec_text(name), "shipped")


def _picked(key: str) -> None:
    name = st.session_state[key]
    if name in shipped_specs():
        load_shipped(name)


def sidebar() -> None:
    """The current spec, its state, and the one picker that changes it (on every page)."""
    cur = current()
    names = shipped_specs()
    options = names if cur.name in names else [*names, cur.name]
    key = f"w_current_spec_{cur.choice}"
    with st.sidebar:
        learner_box()
        st.selectbox(
            "Current spec (every page uses it)",
            options,
            index=options.index(cur.name),
            key=key,
            on_change=_picked,
            args=(key,),
            format_func=lambda n: n.removesuffix(".yaml"),  # the whole name fits the sidebar (all are .yaml)
            help="Edit it in the Spec editor; the Simulator, Compare, Drill, Calibrate and Note pages read it.",
        )
        colour, icon = STATE_BADGE[cur.state]
        st.badge(cur.state, icon=icon, color=colour)
        spec = cur.spec
        if spec is not None:
            tiers = " / ".join(f"{spec.tier_total(t):,}" for t in spec.tiers)
            st.caption(f"{spec.daily_budget_tokens:,} tokens a day; {' / '.join(spec.tiers)}: {tiers} tokens")
        else:
            error = cur.error or ""
            st.caption((error if len(error) <= 160 else error[:157] + "…") + " Fix it in the Spec editor.")


def learner_box() -> None:
    """Whose work this is (the workbook and current spec are kept per name), and whether it is being saved."""
    ss = st.session_state
    if ss.get("w_learner") is None:
        ss["w_learner"] = learner()
    st.text_input(
        "Learner (your work is kept under this name)",
        key="w_learner",
        on_change=_learner_typed,
        max_chars=40,
        help="The workbook and the current spec are saved in the workbench database under this name.",
    )
    if ss.get("learner_error"):
        st.error(ss["learner_error"], icon=":material/error:")
    kept = work()
    if kept.error:
        st.warning(f"{kept.error}. Working in memory: this session's work is not saved.", icon=":material/warning:")


def need_spec() -> BudgetSpec | None:
    """The current spec, or None after saying in one line why a page cannot use it."""
    cur = current()
    if cur.spec is None:
        st.error(f"The current spec {cur.name} is invalid: {cur.error}", icon=":material/error:")
        st.page_link("pages/1_Spec_editor.py", label="Fix it in the Spec editor", icon=":material/table_edit:")
    return cur.spec


def spec_label(cur: CurrentSpec) -> str:
    """How a command names the current spec: its shipped file, the file Calibrate or an upload gave, or the
    file to save an edited spec as first (the Spec editor's "Save as a new spec")."""
    if cur.path:
        return cur.path
    if cur.text == cur.original:
        return "out/recommended.yaml" if cur.origin == "calibrate" else cur.name
    return f"specs/{cur.name.removesuffix('.yaml')}_edited.yaml"


def read_upload(upload: Any) -> str:
    """An uploaded file's text: bounded and UTF-8, or a one-line BudgetError."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise BudgetError(f"{upload.name}: {upload.size:,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit")
    try:
        return str(upload.getvalue().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BudgetError(f"{upload.name}: not UTF-8 text (byte {exc.start})") from None


def table(
    data: pd.DataFrame | list[dict[str, Any]],
    key: str,
    file_name: str,
    column_config: dict[str, Any] | None = None,
    height: int | None = None,
    csv: str | None = None,
) -> None:
    """A read-only table (its columns in the order given) with its CSV download under it.

    ``csv``: the file to download when it holds more than the table shows (the CLI's own CSV).
    """
    import pandas as pd  # here, not at the top: Home and the sidebar draw without it (a faster first visit)

    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    kwargs: dict[str, Any] = {"height": height} if height else {}
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config, **kwargs)
    st.download_button(
        f"Download {file_name}",
        csv if csv is not None else frame.to_csv(index=False),
        file_name=file_name,
        mime="text/csv",
        key=f"w_dl_{key}",
        icon=":material/download:",
        type="tertiary",
    )


def workbook_download(label: str, key: str, primary: bool = False) -> None:
    """The session's workbook as one Markdown file (the Workbook page's button, and the Budget note's)."""
    st.download_button(
        label,
        workbook().to_markdown(),
        file_name="workbook.md",
        mime="text/markdown",
        key=key,
        type="primary" if primary else "secondary",
    )


def workbook() -> LearnerWork:
    return work()


def _interpreted(entry_id: int) -> None:
    workbook().interpret(entry_id, st.session_state[f"w_wb_{entry_id}"])


def workbook_pair(entry: Entry, on_workbook_page: bool = False) -> None:
    """The chapter's two columns: the command and its output | what this means for my project."""
    left, right = st.columns(2)
    with left:
        st.code(entry.command, language="bash", wrap_lines=True)
        st.code(entry.output, language=None, wrap_lines=True)
    with right:
        key = f"w_wb_{entry.id}"
        if key not in st.session_state:
            st.session_state[key] = entry.interpretation
        st.text_area(
            "What this means for my project",
            key=key,
            height=150,
            on_change=_interpreted,
            args=(entry.id,),
            placeholder="e.g. our flow is 4x the textbook's: the 0.60 guard breaks at 15 minutes, so ...",
        )
        kept = "kept under your name" if work().saved else "kept for this session only"
        where = "" if on_workbook_page else "; downloadable on the Workbook page"
        # the box sends its text when it loses focus: a reload while typing in it loses what it had not sent
        st.caption(f"Workbook entry {entry.id}: {kept} once you click outside the box or press Ctrl+Enter{where}.")


def explanation(why: Explanation, title: str = "Why: what this run says") -> None:
    """A run's explanation (budget.workbench.explain, what ``--explain`` prints), one block per section."""
    st.subheader(title)
    for name, sentences in why.sections:
        if sentences:
            st.markdown(no_shortcodes(f"**{name}**\n\n" + "\n".join(f"- {s}" for s in sentences)))
