from django.db import models


class PlanStatus(models.TextChoices):
    """The specification's fixed set of plan states."""

    NOT_STARTED = "Not Started", "Not Started"
    IN_PROGRESS = "In Progress", "In Progress"
    COMPLETED = "Completed", "Completed"
    PAUSED = "Paused", "Paused"
    ABORTED = "Aborted", "Aborted"


#: A plan in one of these states still occupies its contact's place in the strategy.
ACTIVE_STATUSES = (PlanStatus.NOT_STARTED, PlanStatus.IN_PROGRESS, PlanStatus.PAUSED)
#: A plan in one of these states has steps coming due.
RUNNING_STATUSES = (PlanStatus.NOT_STARTED, PlanStatus.IN_PROGRESS)
FINISHED_STATUSES = (PlanStatus.COMPLETED, PlanStatus.ABORTED)


class StepResult(models.TextChoices):
    COMPLETED = "completed", "Completed"
    SKIPPED = "skipped", "Skipped"


class ExitReason(models.TextChoices):
    """Why a plan ended."""

    FINISHED = "finished", "Finished"
    REPLIED = "replied", "Replied"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    BOUNCED = "bounced", "Bounced"
    OPTED_OUT = "opted_out", "Opted out"
    MANUAL = "manual", "Ended manually"


#: The reasons a person may give for aborting a plan by hand; the others are the exit rules'.
ABORT_REASONS = (ExitReason.MANUAL, ExitReason.REPLIED, ExitReason.MEETING_BOOKED)
