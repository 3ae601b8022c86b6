"""Celery tasks of the suggestions app."""

from celery import shared_task

from cadence.suggestions.analysis import history_analyze


@shared_task(name="suggestions.analyze_history", ignore_result=True)
def analyze_history_task() -> str:
    """Run the history analysis with its default parameters (meant for a nightly beat entry);
    the newest finished run is the one suggestions use. Returns the run's summary."""
    return history_analyze().summary
