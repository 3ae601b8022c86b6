from celery import shared_task

from cadence.ops.scheduler import scheduler_pass


@shared_task(name="ops.scheduler_pass", ignore_result=True)
def scheduler_pass_task() -> str:
    """The beat-driven scheduler pass (every minute, see CELERY_BEAT_SCHEDULE)."""
    return str(scheduler_pass())
