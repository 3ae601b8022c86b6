"""Celery tasks of the analytics app."""

from celery import shared_task

from cadence.analytics.rollups import rollups_refresh


@shared_task(name="analytics.refresh_rollups", ignore_result=True)
def refresh_rollups_task(rebuild: bool = False) -> str:
    """Bring the report rollups up to date (beat: a refresh every few minutes, a rebuild each
    night). Returns what each rollup did."""
    return " ".join(str(summary) for summary in rollups_refresh(rebuild=rebuild))
