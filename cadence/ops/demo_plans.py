"""Demo plans and their history, placed in time by the plan engine's own rules.

Each plan is built as if the engine (``cadence.plans.progress`` and the services) had moved it:

- A step falls due ``delay_days`` after the previous step was done or skipped (after
  ``plan_start_date`` for the first), by ``cadence.scheduling.due.next_due_at`` in the owner's time
  zone and, for a strategy counting business days, around the holidays of the owner's country.
  The current step's due date is ``progress.due_date_for`` itself, so it also moves later by the
  time the plan spent paused since its previous step (``paused_duration``).
- Every done or skipped step has its ``PlanStepResult`` with the due date it had then; a done step
  links the activity that did it. Some steps were done ahead of time, most late, a few skipped.
- A running plan owes a reminder ``reminder_lead_time()`` before its due date. Where that moment
  has passed, the scheduler made it (one ``Reminder`` for the plan, step and due date) and the
  plan owes nothing; otherwise ``reminder_due_at`` says when it is owed.
- Plans end where the engine ends them: a reply, a booked meeting, a bounce or an unsubscribe
  ends the plan at the step current then; doing the last step finishes it.
- The featured rep (``demo_content.FEATURED_REP``), whose login is printed first, has a plan
  overdue and one due today on their own calendar, whatever the seed and "now": their first two
  contacts get plans not started yet (statuses swapped with other contacts, so the mix holds),
  on strategies that count calendar days, which reach any day exactly.
- Enrollments keep the strategies' rules. Each contact is in one plan at a time (``exclusive``);
  a re-enrolled contact's earlier plan started long before (``cooldown_days``); and no plan of a
  strategy that pauses on a colleague's reply (``pause_company_on_reply``) runs at a company
  where someone else replied, except the one plan that such a reply paused.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence

from cadence.activities.choices import ActivityType, Direction, Outcome, ReminderStatus
from cadence.activities.models import Activity, Reminder
from cadence.crm.choices import EmailStatus
from cadence.crm.models import Company, Contact
from cadence.ops import demo_content as content
from cadence.ops.demo_base import (
    DAY,
    MARGIN,
    MINUTE,
    Seeded,
    at_work_hours,
    render_template,
    to_minute,
    weighted,
)
from cadence.plans.choices import (
    ACTIVE_STATUSES,
    RUNNING_STATUSES,
    ExitReason,
    PlanStatus,
    StepResult,
)
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.plans.progress import due_date_for, end, reminder_lead_time, set_due
from cadence.scheduling.due import next_due_at
from cadence.scheduling.zones import local_to_utc, resolve_zone, to_local
from cadence.strategies.models import ContactStrategy, StrategyStep

# Plans on contacts by status; six company-level, two custom, a few re-enrolled plans and one
# paused by a colleague's reply come on top of these.
PLAN_MIX = {
    PlanStatus.NOT_STARTED: 45,
    PlanStatus.IN_PROGRESS: 110,
    PlanStatus.PAUSED: 18,
    PlanStatus.COMPLETED: 62,
    PlanStatus.ABORTED: 30,
}
# Where an active plan's next step falls, with weights. Most plans not started yet were assigned
# recently and their first step is due; the rest are scheduled to start later.
DUE_MIX = (("overdue", 3), ("today", 1), ("upcoming", 6))
FIRST_DUE_MIX = (("overdue", 4), ("today", 3), ("upcoming", 3))
# Where the featured rep's first plans not started yet fall due, in order.
FEATURED_DUES = ("overdue", "today")
# Shares of the done steps that were skipped (never the last one done), and done ahead of their
# due date; the others were done late.
SKIP_SHARE = 0.08
EARLY_SHARE = 0.4
# Share of the plans in progress that were paused, and resumed, since their previous step.
RESUMED_SHARE = 0.15
# A step is done or skipped at least this long after the previous one.
STEP_GAP = 5 * MINUTE
# Outcomes that end a contact's plans or pause their colleagues' (cadence.plans.services).
PLAN_MOVING_OUTCOMES = frozenset(
    (Outcome.REPLIED, Outcome.MEETING_BOOKED, Outcome.BOUNCED, Outcome.UNSUBSCRIBED)
)

Clock = Callable[[datetime.datetime, int], datetime.datetime]


@dataclasses.dataclass
class PlanHistory:
    """The plans of a build and the rows that record their past."""

    plans: list[LeadContactPlan] = dataclasses.field(default_factory=list)
    activities: list[Activity] = dataclasses.field(default_factory=list)
    results: list[PlanStepResult] = dataclasses.field(default_factory=list)
    reminders: list[Reminder] = dataclasses.field(default_factory=list)

    def quiet_contacts(self, contacts: Sequence[Contact]) -> list[Contact]:
        """Contacts whose reply would move no plan: in none, at a company where no plan pauses
        on a colleague's reply. Activities outside plans that end or pause plans come from them."""
        planned = {p.contact.pk for p in self.plans if p.contact}
        pausing = {p.company.pk for p in self.plans if p.strategy.pause_company_on_reply}
        return [c for c in contacts if c.pk not in planned and c.company.pk not in pausing]


@dataclasses.dataclass
class _Track:
    """When a plan started, when each step up to the current one fell due, and when each done
    step was done or skipped."""

    start: datetime.datetime
    dues: list[datetime.datetime]
    ats: list[datetime.datetime]


def build_plans(
    seeded: Seeded,
    strategies: list[tuple[ContactStrategy, list[StrategyStep]]],
    companies: list[Company],
    contacts: list[Contact],
) -> PlanHistory:
    """Plans on ``contacts`` and ``companies`` with their history; custom plans add their private
    strategies to ``strategies``."""
    return _PlanBuilder(seeded).build(strategies, companies, contacts)


def reminder_message(plan: LeadContactPlan) -> str:
    """The text the scheduler gives a plan's reminder (``cadence.plans.scheduler``)."""
    step = plan.current_step
    lead = plan.contact.full_name if plan.contact else plan.company.name
    at = f" at {plan.company.name}" if plan.contact else ""
    return f"Step {step.step_number} ({step.activity_type}) for {lead}{at} is due."


class _PlanBuilder:
    def __init__(self, seeded: Seeded):
        self.seeded = seeded
        self.now = seeded.now
        self.history = PlanHistory()
        self._repliers: defaultdict[object, set] = defaultdict(set)

    def build(self, strategies: list, companies: list, contacts: list) -> PlanHistory:
        """Each contact gets one plan, except a few re-enrolled after an earlier one ended, so no
        contact is ever active twice, in one strategy or in two."""
        rng = self.seeded.rng("plans")
        templates = list(strategies)
        open_templates = [(s, steps) for s, steps in templates if s.archived_at is None]
        statuses = [status for status, count in PLAN_MIX.items() for _ in range(count)]
        rng.shuffle(statuses)
        chosen = rng.sample(contacts, len(statuses) + 2)
        _feature_rep(statuses, chosen)
        reasons = [weighted(rng, content.EXIT_MIX.get(status, (("", 1),))) for status in statuses]
        # Who replies, by company: their colleagues get no plan that a reply would pause.
        repliers = self._repliers
        for contact, reason in zip(chosen, reasons, strict=False):
            if reason == ExitReason.REPLIED:
                repliers[contact.company.pk].add(contact.pk)

        def pick(pool: list, company: Company, contact: Contact | None) -> tuple:
            if repliers[company.pk] - {contact.pk if contact else None}:
                pool = [p for p in pool if not p[0].pause_company_on_reply]
            return rng.choices(pool, weights=[s.demo_weight for s, _ in pool])[0]

        featured = list(FEATURED_DUES)
        for status, contact, reason in zip(statuses, chosen, reasons, strict=False):
            pool = open_templates if status in ACTIVE_STATUSES else templates
            due_on = None
            if featured and status == PlanStatus.NOT_STARTED and _is_featured(contact):
                due_on = featured.pop(0)
                # Business days would move a due date off a weekend or holiday: today, say.
                pool = [p for p in pool if not p[0].uses_business_days] or pool
            strategy, steps = pick(pool, contact.company, contact)
            self._plan(
                rng, status, strategy, steps, contact, contact.company, reason, due_on=due_on
            )

        # Plans on a whole company, without a contact: the specification allows them.
        for company in rng.sample(companies, 6):
            strategy, steps = pick(open_templates, company, None)
            self._plan(rng, rng.choice(RUNNING_STATUSES), strategy, steps, None, company)

        # Custom plans, each following a private strategy that is not a template.
        for contact in chosen[len(statuses) :]:
            strategy = ContactStrategy(
                strategy_id=self.seeded.uuid(),
                name=f"Custom plan: {contact.full_name} at {contact.company.name}",
                description="One-off follow-up after the product demo.",
                created_by=contact.company.owner,
                is_template=False,
            )
            steps = steps_of(self.seeded, strategy, content.CUSTOM_STEPS)
            strategies.append((strategy, steps))
            plan = self._plan(
                rng, PlanStatus.IN_PROGRESS, strategy, steps, contact, contact.company
            )
            for row in (strategy, *steps):
                row.created_at = plan.created_at - 60 * MINUTE

        self._reenroll(rng, {s.pk: steps for s, steps in strategies})
        self._pause_by_reply(rng, open_templates, contacts)
        self._reminders()
        return self.history

    def _reenroll(self, rng: random.Random, steps_of_strategy: dict) -> None:
        """Re-enrolled contacts: an ended plan and a new active one in the same strategy, which
        the "one active plan per contact and strategy" constraint must allow, long enough after
        the old one started for the strategy's cooldown."""

        def cooled_down(plan: LeadContactPlan) -> bool:
            # New plans start at most a couple of weeks before now; a month's margin is ample.
            cooldown = datetime.timedelta(days=(plan.strategy.cooldown_days or 0) + 30)
            return not plan.strategy.cooldown_days or plan.plan_start_date < self.now - cooldown

        ended = [
            p
            for p in self.history.plans
            if p.contact
            and p.exit_reason in (ExitReason.FINISHED, ExitReason.MANUAL)
            and p.strategy.archived_at is None
            and p.ended_at < self.now - 21 * DAY
            and cooled_down(p)
        ]
        for old in rng.sample(ended, min(5, len(ended))):
            steps = steps_of_strategy[old.strategy.pk]
            self._plan(rng, PlanStatus.NOT_STARTED, old.strategy, steps, old.contact, old.company)

    def _pause_by_reply(self, rng: random.Random, open_templates: list, contacts: list) -> None:
        """One plan paused by a colleague's reply, as ``pause_company_on_reply`` says: the
        latest reply from a contact who was the only one at the company to reply, and has a
        colleague in no plan yet."""
        pausing = [(s, steps) for s, steps in open_templates if s.pause_company_on_reply]
        if not pausing:
            return
        strategy, steps = pausing[0]
        planned = {p.contact.pk for p in self.history.plans if p.contact}
        replies = [
            p
            for p in self.history.plans
            if p.exit_reason == ExitReason.REPLIED and len(self._repliers[p.company.pk]) == 1
        ]
        for replied in sorted(replies, key=lambda p: p.ended_at, reverse=True):
            company = replied.company
            colleagues = [c for c in contacts if c.company is company and c.pk not in planned]
            if colleagues:
                status, colleague = PlanStatus.PAUSED, colleagues[0]
                self._plan(
                    rng, status, strategy, steps, colleague, company, paused_at=replied.ended_at
                )
                return

    # -- One plan ---------------------------------------------------------------------------

    def _plan(
        self, rng, status, strategy, steps, contact, company, reason="", paused_at=None, due_on=None
    ):
        """A plan in ``status`` with its history, added to the build; returns the plan.

        ``due_on`` ("overdue" or "today") places an active plan's due date on that day of its
        owner's calendar instead of a drawn one; the draws are made all the same, so the plans
        after it do not change."""
        plan = LeadContactPlan(
            plan_id=self.seeded.uuid(),
            company=company,
            contact=contact,
            strategy=strategy,
            user=company.owner,
            status=status,
        )
        active = status in ACTIVE_STATUSES
        if active:
            # Not started: step 1 is current. Otherwise some steps are done and one is current.
            done = 0 if status == PlanStatus.NOT_STARTED else rng.randint(1, len(steps) - 1)
            bucket = weighted(rng, DUE_MIX if done else FIRST_DUE_MIX)
            days = {"overdue": -rng.randint(1, 8), "today": 0, "upcoming": rng.randint(1, 14)}
            target = at_work_hours(rng, self.now + days[bucket] * DAY)
            if due_on is not None:
                # The dashboard's "today" is the owner's local day, which need not be the UTC
                # day of "now": the drawn time of day, on the owner's calendar.
                zone = resolve_zone(plan.user.time_zone)
                day = to_local(self.now, zone).date()
                if due_on == "overdue":
                    day += days["overdue"] * DAY
                target = local_to_utc(datetime.datetime.combine(day, target.time()), zone)
        else:
            done = _steps_done_before_exit(rng, reason, steps)
            days_ago = rng.randint(45, 75) if strategy.archived_at else rng.randint(2, 75)
            target = at_work_hours(rng, self.now - days_ago * DAY)
        skipped = {index for index in range(done - 1) if rng.random() < SKIP_SHARE}
        latest = (paused_at or self.now) - MARGIN
        track = self._timeline(rng, plan, steps, done, active, target, latest)
        plan.plan_start_date, plan.created_at = track.start, min(track.start, self.now - MARGIN)

        last, completed = None, []
        for index, step in enumerate(steps[:done]):
            last = None
            if index not in skipped:
                last = self._step_activity(rng, plan, step, track.ats[index])
                completed.append(step)
            self._result(plan, step, track, index, last)
        if done:
            plan.last_step_completed_at = track.ats[done - 1]
            plan.started_at = _started_at(rng, track)
        if active:
            plan.current_step = steps[done]
            if status == PlanStatus.IN_PROGRESS:
                plan.paused_duration = self._resumed(rng, track.ats[-1], track.dues[done])
            if status == PlanStatus.PAUSED:
                pause = track.ats[-1] + (self.now - track.ats[-1]) * rng.uniform(0.2, 0.9)
                plan.paused_at = paused_at or to_minute(pause)
            set_due(plan, due_date_for(plan, steps[done]))
        else:
            # The engine leaves the step that was current when the plan ended; after the last
            # step, the last one.
            plan.current_step = steps[min(done, len(steps) - 1)]
            self._exit(rng, plan, reason, completed, last)
        self.history.plans.append(plan)
        return plan

    def _timeline(self, rng, plan, steps, done: int, anchor_due: bool, target, latest) -> _Track:
        """Start, due and done times of the steps, placed so that the anchor (the current step's
        due date, or the last step done) lands near ``target`` while the ``done`` steps were all
        done before ``latest``. Each step falls due by the engine's rule after the previous one
        was done, and is done from six hours early to 30 hours late."""
        clock = _clock(plan)
        offsets = [_finish_offset(rng) for _ in steps]

        def run(start: datetime.datetime) -> _Track:
            track, base = _Track(start, [], []), start
            for index, step in enumerate(steps[: done + 1]):
                track.dues.append(clock(base, step.delay_days))
                if index < done:
                    base = max(track.dues[-1] + offsets[index], base + STEP_GAP)
                    track.ats.append(base)
            return track

        def anchor(track: _Track) -> datetime.datetime:
            return track.dues[done] if anchor_due else track.ats[done - 1]

        # Calendar days shift with the start; weekends and holidays may need a few rounds, and
        # a target on a day off is never reached exactly: the last round is kept then.
        track = run(target)
        for _ in range(8):
            error = anchor(track) - target
            if abs(error) < 5 * MINUTE:
                break
            track = run(track.start - error)
        # Keep the done steps in the past, spread over the day and a half before ``latest``
        # rather than stacked just before it. A plan with nothing done may start in the future:
        # it is scheduled.
        for _ in range(50):
            if not done or track.ats[-1] <= latest:
                break
            excess = math.ceil((track.ats[-1] - latest) / MINUTE) + rng.randint(60, 36 * 60)
            track = run(track.start - excess * MINUTE)
        return track

    def _resumed(self, rng, last_done, due) -> datetime.timedelta:
        """How long a plan in progress was paused since its previous step: mostly not at all.
        The pause ended before the reminder of the step fell due, so none was made for the due
        date the pause then moved."""
        end_by = min(self.now - MARGIN, due - reminder_lead_time())
        if rng.random() >= RESUMED_SHARE or end_by - last_done < 4 * 60 * MINUTE:
            return datetime.timedelta()
        paused = to_minute(last_done + (end_by - last_done) * rng.uniform(0.1, 0.5))
        resumed = to_minute(paused + (end_by - paused) * rng.uniform(0.3, 0.95))
        return resumed - paused

    def _result(self, plan, step, track: _Track, index: int, activity: Activity | None) -> None:
        at = track.ats[index]
        self.history.results.append(
            PlanStepResult(
                result_id=self.seeded.uuid(),
                plan=plan,
                step=step,
                step_number=step.step_number,
                result=StepResult.COMPLETED if activity else StepResult.SKIPPED,
                due_at=track.dues[index],
                completed_at=at,
                arrived_at=track.ats[index - 1] if index else track.start,
                activity=activity,
                user=plan.user,
                created_at=at,
            )
        )

    def _step_activity(self, rng, plan, step: StrategyStep, at) -> Activity:
        contact = plan.contact
        if (
            contact
            and step.activity_type == ActivityType.EMAIL
            and contact.email_status == EmailStatus.UNKNOWN
        ):
            contact.email_status = rng.choice((EmailStatus.UNKNOWN, EmailStatus.VALID))
        context = {"contact": contact, "company": plan.company, "user": plan.user}
        activity = self.seeded.activity(
            rng,
            plan=plan,
            step=step,
            activity_type=step.activity_type,
            outcome=weighted(rng, content.STEP_OUTCOMES[step.activity_type]),
            occurred_at=at,
            subject=render_template(step.subject_template, context),
            description=render_template(step.description_template, context),
        )
        self.history.activities.append(activity)
        return activity

    def _exit(self, rng, plan, reason: str, completed: list, last: Activity) -> None:
        """End the plan as the engine did, and record how on its contact: the last step's own
        activity (a bounce, a booked call), an inbound one after it (a reply, an unsubscribe),
        or nothing (the last step finished it, or it was aborted by hand)."""
        contact = plan.contact
        event_at = last.occurred_at + rng.randint(20, 20 * 60) * MINUTE
        event_at = min(event_at, self.now - 5 * MINUTE)
        ended_at = event_at
        if reason in (ExitReason.FINISHED, ExitReason.BOUNCED):
            ended_at = last.occurred_at
        if reason == ExitReason.BOUNCED:
            last.outcome, last.description = Outcome.BOUNCED, "Delivery failed: mailbox unknown."
            contact.email_status = EmailStatus.BOUNCED
        elif reason == ExitReason.MEETING_BOOKED and last.activity_type == ActivityType.CALL:
            last.outcome, ended_at = Outcome.MEETING_BOOKED, last.occurred_at
            contact.email_status = EmailStatus.VALID
        elif reason in (ExitReason.REPLIED, ExitReason.MEETING_BOOKED, ExitReason.OPTED_OUT):
            self._inbound(rng, plan, reason, completed, event_at)
        end(plan, status=plan.status, reason=reason, at=ended_at)

    def _inbound(self, rng, plan, reason, completed, event_at) -> None:
        """The contact's answer that ended the plan, to its last email done."""
        outcome = {
            ExitReason.REPLIED: Outcome.REPLIED,
            ExitReason.MEETING_BOOKED: Outcome.MEETING_BOOKED,
            ExitReason.OPTED_OUT: Outcome.UNSUBSCRIBED,
        }[reason]
        contact = plan.contact
        if outcome == Outcome.UNSUBSCRIBED:
            contact.opted_out, contact.opted_out_at = True, event_at
        else:
            contact.email_status = EmailStatus.VALID
        email = next(
            (s for s in reversed(completed) if s.activity_type == ActivityType.EMAIL), None
        )
        context = {"contact": contact, "company": plan.company, "user": plan.user}
        subject = render_template(email.subject_template, context) if email else ""
        reply = self.seeded.activity(
            rng,
            plan=plan,
            activity_type=ActivityType.EMAIL,
            direction=Direction.INBOUND,
            outcome=outcome,
            occurred_at=event_at,
            subject=f"Re: {subject or plan.company.name}",
            description=rng.choice(content.EXIT_TEXT[outcome]),
        )
        self.history.activities.append(reply)

    def _reminders(self) -> None:
        """The reminders the scheduler has made by now: one for every running plan whose
        reminder time has passed (delivered if that was on an earlier day, pending if today),
        and for every paused plan whose reminder time came before the pause (delivered then).
        The other running plans still owe theirs (``reminder_due_at``)."""
        lead_time = reminder_lead_time()
        for plan in self.history.plans:
            if plan.status not in ACTIVE_STATUSES:
                continue
            remind_at = plan.next_step_due_date - lead_time
            if remind_at > (plan.paused_at or self.now):
                continue
            plan.reminder_due_at = None
            delivered = plan.status == PlanStatus.PAUSED or remind_at.date() < self.now.date()
            self.history.reminders.append(
                Reminder(
                    reminder_id=self.seeded.uuid(),
                    user=plan.user,
                    plan=plan,
                    step=plan.current_step,
                    remind_at=remind_at,
                    due_at=plan.next_step_due_date,
                    message=reminder_message(plan),
                    status=ReminderStatus.SENT if delivered else ReminderStatus.PENDING,
                    sent_at=remind_at if delivered else None,
                    created_at=remind_at,
                )
            )


def _is_featured(contact: Contact) -> bool:
    return contact.company.owner.username == content.FEATURED_REP


def _feature_rep(statuses: list, chosen: list[Contact]) -> None:
    """Make the featured rep's first contacts' plans not started yet, by swapping statuses
    with other contacts' plans: the mix of statuses stays what ``PLAN_MIX`` says."""
    theirs = [i for i, c in enumerate(chosen[: len(statuses)]) if _is_featured(c)]
    theirs = theirs[: len(FEATURED_DUES)]
    spare = (i for i, s in enumerate(statuses) if s == PlanStatus.NOT_STARTED and i not in theirs)
    for index in theirs:
        if statuses[index] != PlanStatus.NOT_STARTED:
            other = next(spare)
            statuses[index], statuses[other] = statuses[other], statuses[index]


def steps_of(seeded: Seeded, strategy: ContactStrategy, specs: Sequence) -> list[StrategyStep]:
    """The steps of ``strategy`` from ``demo_content.Step`` specs, numbered from 1."""
    return [
        StrategyStep(
            step_id=seeded.uuid(),
            strategy=strategy,
            step_number=number,
            delay_days=spec.delay,
            activity_type=spec.kind,
            subject_template=spec.subject,
            description_template=spec.body,
            is_automated=spec.automated,
            created_at=strategy.created_at,
        )
        for number, spec in enumerate(specs, 1)
    ]


def _clock(plan: LeadContactPlan) -> Clock:
    """The engine's due-date rule for ``plan``: (previous step done, delay) to due date."""
    due = functools.partial(
        next_due_at,
        business_days=bool(plan.strategy.uses_business_days),
        time_zone=plan.user.time_zone,
        country=str(plan.user.country or ""),
    )
    return lambda base, delay: due(base=base, delay_days=delay)


def _finish_offset(rng: random.Random) -> datetime.timedelta:
    """How long after its due date a step is done: ahead of time or late."""
    if rng.random() < EARLY_SHARE:
        return -rng.randint(10, 6 * 60) * MINUTE
    return rng.randint(5, 30 * 60) * MINUTE


def _started_at(rng: random.Random, track: _Track) -> datetime.datetime:
    """When work began: the first step done, or for half the plans the start action before."""
    first = track.ats[0]
    if rng.random() < 0.5 or first <= track.start:
        return first
    return to_minute(track.start + (first - track.start) * rng.uniform(0.05, 0.95))


def _steps_done_before_exit(rng: random.Random, reason: str, steps: list) -> int:
    """How many steps an ended plan did. Only the last step finishes a plan: a reply, a booked
    meeting or an unsubscribe after it would find the plan already Completed."""
    emails = [
        number for number, s in enumerate(steps[:-1], 1) if s.activity_type == ActivityType.EMAIL
    ]
    if reason == ExitReason.FINISHED:
        return len(steps)
    if reason == ExitReason.BOUNCED:
        return emails[0]  # a bad address bounces the first email
    if reason == ExitReason.OPTED_OUT:
        return rng.choice(emails)
    return rng.randint(1, len(steps) - 1)
