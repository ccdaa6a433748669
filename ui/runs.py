"""A visitor's long run on a page: its place in line, its progress, a way to stop it or leave the line."""

from __future__ import annotations

import time

import streamlit as st

from core.i18n import Text, _
from core.runs.job import Job
from ui.text import VisitorError, as_text, error_boundary


def waiting_words(job: Job) -> str:
    """What a waiting run waits for (its own other run, memory, or a slot), its place, and when it should start."""
    seconds = job.starts_in
    if seconds is None:
        when = _("when a run ends")
    elif seconds >= 90:
        when = _("in about {minutes:.0f} min").format(minutes=seconds / 60)
    else:
        when = _("in about {seconds:.0f} s").format(seconds=max(seconds, 5))
    if job.behind_own_run:
        words = _(
            "You have another run going: each visitor runs one at a time, so this one waits for it to end, "
            "behind other visitors' first runs. It is number {position} in line and should start {when}."
        )
    elif job.waits_for_memory:
        words = _(
            "Number {position} in line, waiting for memory: the server keeps every run within its host's "
            "limit, and other visitors' runs use it now. It should start {when}."
        )
    else:
        words = _(
            "The server is busy with other visitors' runs. Yours is number {position} in line and should start {when}."
        )
    return words.format(position=job.position, when=when)


def in_line(job: Job) -> bool:
    """While a run waits for a free slot: its place in line, when it should start, a way out. True if waiting."""
    if not job.waiting:
        return False
    st.info(waiting_words(job), icon=":material/hourglass_top:")
    if st.button(_("Leave the line"), icon=":material/logout:", key=f"leave_line_{id(job)}"):
        job.stop()
    return True


def computed(job: Job, message: str, *, every: float = 0.5):
    """Wait for a page's heavy view (a Call) here, showing its place in line, then what it is doing: its result.

    A VisitorError with the reason if it failed. If the page's run is stopped meanwhile (the visitor left or
    clicked elsewhere), the call leaves the line or is stopped."""
    shown = st.empty()
    try:
        while job.running:
            if job.waiting:
                shown.info(waiting_words(job), icon=":material/hourglass_top:")
            else:
                shown.info(f"{message} ({time.monotonic() - job.began:.0f} s)", icon=":material/hourglass_top:")  # noqa: RUF001
            time.sleep(every)
    finally:
        if job.running:
            job.stop()
        shown.empty()
    if job.error:
        raise VisitorError(as_text(job.error))
    return job.result


def follow_run(job: Job, *, key: str) -> bool:
    """A run this visitor started, while it waits or goes: its place in line, or its progress and Stop. True until
    it has ended."""
    if in_line(job):
        return True
    if not job.running:
        return False
    share, message = job.status()
    st.progress(share, str(message))  # a Text, translated here for this visitor
    if st.button(_("Stop"), icon=":material/stop:", key=f"{key}_stop"):
        job.stop()
    return True


def training_button(key: str, label: str, config, *, icon: str, disabled: bool = False, **job_options) -> None:
    """A button that trains `config` through the runner (a TrainingJob in st.session_state[key]; `job_options` such
    as corrections go to it), a plain reason if it may not start, then the run as `training_run` shows it."""
    from core.runs.line import ServerBusyError
    from core.training.job import TrainingJob
    from ui.models import mnist
    from ui.session import job_owner

    job = st.session_state.get(key)
    if st.button(label, type="primary", icon=icon, disabled=disabled or bool(job and job.running)):
        try:
            job = TrainingJob(config, mnist(), **job_options, **job_owner())
            job.start()
            st.session_state[key] = job
        except (ValueError, ServerBusyError) as error:
            st.error(as_text(error))
    training_run(key)


def training_run(key: str) -> None:
    """The training a page started (a TrainingJob in st.session_state[key]): its progress and curves, refreshed every
    second while it goes; once it ends, its model filed among this visitor's and its result kept in `{key}_result`,
    and the page run again so that the sidebar and the page show it."""
    job = st.session_state.get(key)
    st.fragment(run_every=1.0 if job is not None and job.running else None)(_training_run)(key)


@error_boundary("training progress")  # a fragment's rerun is outside the page's boundary
def _training_run(key: str) -> None:
    from core.figures.curves import training_curves
    from ui.models import registry  # ui.models draws the sidebar: imported where a run is filed

    job = st.session_state.get(key)
    if job is None:
        return
    going = follow_run(job, key=key)
    progress = None if job.waiting else job.progress
    if progress is not None:
        st.markdown(training_curves(progress.history), unsafe_allow_html=True)  # st.html drops SVG
    if going:
        return
    if job.error:
        st.error(job.error)
    elif job.result is not None and st.session_state.get(f"{key}_result") is not job.result:
        evicted = registry().add(job.config, job.result)
        st.session_state[f"{key}_result"] = job.result
        if evicted is not None:
            st.toast(_("Removed your oldest model, {name}, to make room.").format(name=as_text(evicted.name)))
        st.rerun()
    elif job.abandoned:
        st.warning(_("This run was stopped while you were away; the model so far is kept."))
    elif job.timed_out:
        st.warning(_("Training reached this server's time limit and was stopped."))


def line_panel() -> None:
    """The presenter's view of the server's runs: who waits, for what, for how long, and a way to end any of them."""
    from core.runs.line import LINE

    going, waiting = LINE.snapshot()
    if not going and not waiting:
        st.caption(_("No run is going or waiting on this server."))
        return
    st.markdown(
        _("**The server's runs**: {going} going, {waiting} waiting").format(going=len(going), waiting=len(waiting))
    )
    for job in going + waiting:
        whose = _("yours") if job.priority else _("a visitor's")
        what = _(job.what)
        what = what[:1].upper() + what[1:]
        if job.waiting:
            seconds = job.starts_in
            if job.behind_own_run:
                state = _("waits for its visitor's other run")
            else:
                state = _("waits for memory") if job.waits_for_memory else _("waits for a slot")
            when = "" if seconds is None else _(", starts in about {seconds:.0f} s").format(seconds=seconds)
            words = f"{what} ({whose}): {state}{when}"
        else:
            words = _("{what} ({whose}): going for {seconds:.0f} s, about {left:.0f} s left").format(
                what=what, whose=whose, seconds=time.monotonic() - job.began, left=job.remaining()
            )
        row, end = st.columns([4, 1], vertical_alignment="center")
        row.write(words)
        if end.button(_("End it"), key=f"end_run_{id(job)}", icon=":material/stop_circle:"):
            job.stop(Text("The presenter ended this run before it started, to make room for the talk."))
            st.rerun()
