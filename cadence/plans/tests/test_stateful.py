"""The plan engine under random sequences of actions (a Hypothesis state machine).

A small world (one owner in Berlin, one or two template strategies of one to five steps, four
contacts at two companies) goes through random assignments, logged steps, skips, pauses, resumes,
aborts, completions, exit outcomes, template edits and scheduler passes, on a simulated clock that
only moves forward. After every action the database must satisfy the engine's invariants
(DESIGN.md sections 2 and 3); each action also checks its own effect, and an action that the
plan's state does not allow must be refused and change nothing.

Due dates are recomputed here with ``next_due_at`` itself, not with the engine's helpers, so the
invariant "the due date is the rule applied to the last completion" is checked independently.
"""

from __future__ import annotations

import datetime
from functools import partial

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from cadence.accounts.tests.factories import UserFactory
from cadence.activities.choices import ReminderStatus
from cadence.activities.models import Activity, Reminder
from cadence.core.errors import CadenceError
from cadence.crm.choices import EmailStatus
from cadence.crm.models import Contact
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans import assignment, services
from cadence.plans.choices import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    RUNNING_STATUSES,
    ExitReason,
    PlanStatus,
    StepResult,
)
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.plans.scheduler import plans_create_due_reminders
from cadence.plans.services import PlanStateError
from cadence.scheduling.due import next_due_at
from cadence.strategies import services as strategy_services
from cadence.strategies.models import ContactStrategy, StrategyStep

UTC = datetime.UTC
MINUTE = datetime.timedelta(minutes=1)
TIME_ZONE, COUNTRY = "Europe/Berlin", "DE"

# Outcome -> (the strategy's exit rule, final status, exit reason), as DESIGN.md section 2 states
# them; an unsubscribe (an opt-out) ends every plan of the contact, whatever its strategy says.
EXITS = {
    "Replied": ("exit_on_reply", PlanStatus.COMPLETED, ExitReason.REPLIED),
    "Meeting Booked": ("exit_on_meeting_booked", PlanStatus.COMPLETED, ExitReason.MEETING_BOOKED),
    "Bounced": ("exit_on_bounce", PlanStatus.ABORTED, ExitReason.BOUNCED),
    "Unsubscribed": (None, PlanStatus.ABORTED, ExitReason.OPTED_OUT),
}
MOVE_ON = st.sampled_from(["Sent", "No Answer", "Voicemail Left", "Connected"])
OUTCOMES = st.one_of(MOVE_ON, MOVE_ON, MOVE_ON, st.sampled_from(list(EXITS)))
#: The activity type an outcome is logged with (one it may have); Email otherwise.
CALL_OUTCOMES = ("No Answer", "Voicemail Left", "Connected")
# Delays of 0-10 days, short ones more often so that steps fall due within an example.
DELAY = st.one_of(st.integers(min_value=0, max_value=2), st.integers(min_value=0, max_value=10))
# From nothing (actions at the same instant) to a week, in minutes: long enough to cross
# weekends, holidays and DST changes, and to reach the steps' due dates.
ELAPSED = st.one_of(
    st.sampled_from([0, 15, 24 * 60, 3 * 24 * 60]), st.integers(min_value=0, max_value=7 * 24 * 60)
).map(lambda minutes: minutes * MINUTE)
UNDELIVERED_REMINDER = (ReminderStatus.PENDING, ReminderStatus.SNOOZED)
LIVE_REMINDER = (*UNDELIVERED_REMINDER, ReminderStatus.SENT)
INDEX = st.integers(min_value=0, max_value=9)
START_HOURS = st.integers(min_value=-96, max_value=96)
CONTACT = st.integers(min_value=0, max_value=3)
STRATEGY_SPEC = st.fixed_dictionaries(
    {
        "delays": st.lists(DELAY, min_size=1, max_size=5),
        "uses_business_days": st.booleans(),
        "exit_on_reply": st.booleans(),
        "exit_on_meeting_booked": st.booleans(),
        "exit_on_bounce": st.booleans(),
        "pause_company_on_reply": st.booleans(),
    }
)


def ends(strategy: ContactStrategy, outcome: str) -> bool:
    """Whether an activity with ``outcome`` ends the contact's plan on ``strategy``."""
    if outcome not in EXITS:
        return False
    flag = EXITS[outcome][0]
    return flag is None or getattr(strategy, flag)


def lead_time() -> datetime.timedelta:
    return datetime.timedelta(minutes=getattr(django_settings, "CADENCE_REMINDER_LEAD_MINUTES", 15))


def rows() -> dict:
    """Every plan's row, by primary key."""
    return {row["plan_id"]: row for row in LeadContactPlan.objects.values()}


def snapshot() -> tuple:
    """Everything an action could touch; a refused action must leave it as it was."""
    return (
        rows(),
        sorted(PlanStepResult.objects.values_list("plan_id", "step_id", "result"), key=repr),
        Activity.objects.count(),
        sorted(Reminder.objects.values_list("plan_id", "step_id", "due_at", "status"), key=repr),
        sorted(Contact.objects.values_list("pk", "email_status", "opted_out")),
        sorted(StrategyStep.objects.values_list("pk", "step_number", "delay_days")),
    )


def done_ids(plan_id) -> set:
    return set(
        PlanStepResult.objects.filter(plan_id=plan_id, step__isnull=False).values_list(
            "step_id", flat=True
        )
    )


def steps_of(strategy_id) -> list[StrategyStep]:
    return list(StrategyStep.objects.filter(strategy_id=strategy_id).order_by("step_number"))


def next_undone(plan_id, strategy_id, after_number: int):
    """The ID of the first step numbered after ``after_number`` that the plan has not done."""
    done = done_ids(plan_id)
    for step in steps_of(strategy_id):
        if step.step_number > after_number and step.pk not in done:
            return step.pk
    return None


def expected_due(plan: LeadContactPlan) -> datetime.datetime:
    """DESIGN.md section 2: ``delay_days`` after the previous completion (or the plan start),
    in the owner's calendar, moved later by the time spent paused since then."""
    return (
        next_due_at(
            base=plan.last_step_completed_at or plan.plan_start_date,
            delay_days=plan.current_step.delay_days,
            business_days=plan.strategy.uses_business_days,
            time_zone=plan.user.time_zone,
            country=str(plan.user.country),
        )
        + plan.paused_duration
    )


class PlanEngineMachine(RuleBasedStateMachine):
    plans = Bundle("plans")

    def __init__(self):
        super().__init__()
        # Each example runs in its own savepoint, rolled back in teardown().
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.user = UserFactory(time_zone=TIME_ZONE, country=COUNTRY)
        shared, other = CompanyFactory(owner=self.user), CompanyFactory(owner=self.user)
        self.contact_ids = [
            ContactFactory(company=company, owner=self.user).pk
            for company in (shared, shared, other, other)
        ]
        self.strategy_ids: list = []
        self.clock = datetime.datetime(2026, 1, 1, tzinfo=UTC)
        # Paused plan -> its reminder count when it was first seen paused.
        self.paused_reminders: dict = {}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # -- Helpers ---------------------------------------------------------------------------------

    def fetch(self, plan_id) -> LeadContactPlan:
        return LeadContactPlan.objects.select_related(
            "current_step", "strategy", "user", "contact"
        ).get(pk=plan_id)

    def strategy(self, index: int) -> ContactStrategy:
        return ContactStrategy.objects.get(pk=self.strategy_ids[index % len(self.strategy_ids)])

    def tick(self, elapsed: datetime.timedelta) -> datetime.datetime:
        self.clock += elapsed
        return self.clock

    def refused(self, call, error=PlanStateError) -> None:
        before = snapshot()
        with pytest.raises(error):
            call()
        assert snapshot() == before

    @staticmethod
    def only_changed(before: dict, after: dict, changed) -> None:
        assert before.keys() == after.keys()
        for pk, row in before.items():
            if pk not in changed:
                assert after[pk] == row, f"plan {pk} changed"

    def check_advanced(self, before: LeadContactPlan, step: StrategyStep, *, at, result: str):
        """After ``step`` was done (or skipped) at ``at``: it is recorded, the plan is at the next
        step not done, or Completed (keeping ``step``) when none is left."""
        recorded = PlanStepResult.objects.get(plan_id=before.pk, step_id=step.pk)
        assert (recorded.result, recorded.completed_at) == (result, at)
        after = self.fetch(before.pk)
        following = next_undone(before.pk, before.strategy_id, step.step_number)
        assert after.last_step_completed_at == at
        assert after.started_at == (before.started_at or at)
        if following is None:
            assert after.current_step_id == step.pk
            assert (after.status, after.exit_reason, after.ended_at) == (
                PlanStatus.COMPLETED,
                ExitReason.FINISHED,
                at,
            )
        else:
            assert after.current_step_id == following
            assert after.status == PlanStatus.IN_PROGRESS
            assert after.paused_duration == datetime.timedelta()
        return following is None

    def check_exits(self, before: dict, *, contact_id, outcome: str, at, logged=None) -> None:
        """The exit rules of ``outcome`` from ``contact_id`` at ``at``; ``logged`` is the plan
        whose step the activity did (checked by the caller)."""
        after = rows()
        strategies = {s.pk: s for s in ContactStrategy.objects.all()}
        contact = Contact.objects.get(pk=contact_id)
        if outcome == "Bounced":
            assert contact.email_status == EmailStatus.BOUNCED
        if outcome == "Unsubscribed":
            assert contact.opted_out and contact.opted_out_at <= at
        changed = set()
        for pk, old in before.items():
            if pk == logged:
                changed.add(pk)
                continue
            strategy = strategies[old["strategy_id"]]
            new = after[pk]
            if (
                old["contact_id"] == contact_id
                and old["status"] in ACTIVE_STATUSES
                and ends(strategy, outcome)
            ):
                _, status, reason = EXITS[outcome]
                assert (new["status"], new["exit_reason"], new["ended_at"]) == (status, reason, at)
                changed.add(pk)
            elif (
                outcome == "Replied"
                and old["contact_id"] != contact_id
                and old["company_id"] == contact.company_id
                and old["status"] in RUNNING_STATUSES
                and strategy.pause_company_on_reply
            ):
                assert (new["status"], new["paused_at"]) == (PlanStatus.PAUSED, at)
                changed.add(pk)
        self.only_changed(before, after, changed)

    # -- The world -------------------------------------------------------------------------------

    @initialize(
        target=plans,
        specs=st.lists(STRATEGY_SPEC, min_size=1, max_size=2),
        start=st.datetimes(
            min_value=datetime.datetime(2026, 1, 1),
            max_value=datetime.datetime(2027, 12, 31),
            timezones=st.just(UTC),
        ),
        enrolled=st.lists(st.tuples(CONTACT, INDEX, START_HOURS), min_size=2, max_size=8),
    )
    def world(self, specs, start, enrolled):
        """The strategies, and a few plans to begin with."""
        self.clock = start.replace(second=0, microsecond=0)
        for number, spec in enumerate(specs, 1):
            spec = dict(spec)
            delays = spec.pop("delays")
            strategy = strategy_services.strategy_create(
                created_by=self.user,
                name=f"Cadence {number}",
                steps=[{"delay_days": delay, "activity_type": "Email"} for delay in delays],
                **spec,
            )
            self.strategy_ids.append(strategy.pk)
        plan_ids = [self.enroll(*args, bulk=True) for args in enrolled]
        return multiple(*(pk for pk in plan_ids if pk is not None))

    @rule(elapsed=ELAPSED)
    def time_passes(self, elapsed):
        self.tick(elapsed)

    # -- Assignment ------------------------------------------------------------------------------

    @rule(
        target=plans, contact=CONTACT, strategy=INDEX, start_hours=START_HOURS, bulk=st.booleans()
    )
    def assign(self, contact, strategy, start_hours, bulk):
        plan_id = self.enroll(contact, strategy, start_hours, bulk=bulk)
        return multiple() if plan_id is None else plan_id

    def enroll(self, contact: int, strategy: int, start_hours: int, *, bulk: bool):
        """Assign a contact to a strategy, one at a time or by bulk assignment; the new plan's ID,
        or None when the enrollment rules refuse it."""
        contact = Contact.objects.select_related("company").get(pk=self.contact_ids[contact])
        strategy = self.strategy(strategy)
        start = self.clock + datetime.timedelta(hours=start_hours)
        refused = (
            contact.opted_out
            or contact.email_status == EmailStatus.BOUNCED
            or LeadContactPlan.objects.filter(
                contact=contact, strategy=strategy, status__in=ACTIVE_STATUSES
            ).exists()
        )
        if bulk:
            before = snapshot()
            result = assignment.strategy_assign(
                strategy=strategy, user=self.user, contacts=[contact], plan_start_date=start
            )
            if refused:
                assert result.enrolled == []
                assert [s["contact_id"] for s in result.skipped] == [contact.pk]
                assert snapshot() == before
                return None
            assert result.skipped == []
            (plan_id,) = result.enrolled
        else:
            create = partial(
                services.plan_create,
                user=self.user,
                contact=contact,
                strategy=strategy,
                plan_start_date=start,
            )
            if refused:
                self.refused(create, CadenceError)
                return None
            plan_id = create().pk
        plan = self.fetch(plan_id)
        steps = steps_of(strategy.pk)
        assert plan.status == PlanStatus.NOT_STARTED
        assert plan.plan_start_date == start
        assert plan.current_step_id == (steps[0].pk if steps else None)
        assert (plan.contact_id, plan.company_id) == (contact.pk, contact.company_id)
        return plan_id

    # -- Actions ---------------------------------------------------------------------------------

    @rule(plan=plans)
    def start(self, plan):
        before, plans_before = self.fetch(plan), rows()
        call = partial(services.plan_start, plan=before, now=self.clock)
        if before.status != PlanStatus.NOT_STARTED:
            return self.refused(call)
        call()
        after = self.fetch(plan)
        assert (after.status, after.started_at) == (PlanStatus.IN_PROGRESS, self.clock)
        assert after.current_step_id == before.current_step_id
        self.only_changed(plans_before, rows(), {plan})

    @rule(plan=plans)
    def pause(self, plan):
        before, plans_before = self.fetch(plan), rows()
        call = partial(services.plan_pause, plan=before, now=self.clock)
        if before.status not in RUNNING_STATUSES:
            return self.refused(call)
        call()
        after = self.fetch(plan)
        assert (after.status, after.paused_at) == (PlanStatus.PAUSED, self.clock)
        assert after.current_step_id == before.current_step_id
        assert after.next_step_due_date == before.next_step_due_date
        self.only_changed(plans_before, rows(), {plan})

    @rule(plan=plans)
    def resume(self, plan):
        before, plans_before = self.fetch(plan), rows()
        call = partial(services.plan_resume, plan=before, now=self.clock)
        if before.status != PlanStatus.PAUSED:
            return self.refused(call)
        call()
        after = self.fetch(plan)
        status = PlanStatus.IN_PROGRESS if before.started_at else PlanStatus.NOT_STARTED
        assert (after.status, after.paused_at) == (status, None)
        assert after.paused_duration == before.paused_duration + (self.clock - before.paused_at)
        self.only_changed(plans_before, rows(), {plan})

    @rule(plan=plans, elapsed=ELAPSED)
    def pause_for_a_while(self, plan, elapsed):
        """Pause, let ``elapsed`` pass (maybe none), resume: the due date moves by the pause."""
        if self.fetch(plan).status in RUNNING_STATUSES:
            self.pause(plan)
            self.tick(elapsed)
            self.resume(plan)

    @rule(plan=plans, complete=st.booleans())
    def end(self, plan, complete):
        before, plans_before = self.fetch(plan), rows()
        action = services.plan_complete if complete else services.plan_abort
        call = partial(action, plan=before, now=self.clock)
        if before.status not in ACTIVE_STATUSES:
            return self.refused(call)
        call()
        after = self.fetch(plan)
        expected = (
            (PlanStatus.COMPLETED, ExitReason.FINISHED)
            if complete
            else (PlanStatus.ABORTED, ExitReason.MANUAL)
        )
        assert (after.status, after.exit_reason, after.ended_at) == (*expected, self.clock)
        self.only_changed(plans_before, rows(), {plan})

    @rule(plan=plans)
    def skip(self, plan):
        before, plans_before = self.fetch(plan), rows()
        call = partial(services.plan_skip, plan=before, actor=self.user, now=self.clock)
        if before.status not in RUNNING_STATUSES or before.current_step is None:
            return self.refused(call)
        call()
        self.check_advanced(before, before.current_step, at=self.clock, result=StepResult.SKIPPED)
        self.only_changed(plans_before, rows(), {plan})

    # -- Logging activities ----------------------------------------------------------------------

    def log(self, plan_id, step: StrategyStep | None, *, skip_to: bool, elapsed, outcome: str):
        before, plans_before = self.fetch(plan_id), rows()
        current, done = before.current_step, done_ids(plan_id)
        at = self.clock + elapsed

        def call():
            return services.activity_log(
                actor=self.user,
                plan=before,
                step=step,
                skip_to=skip_to,
                activity_type="Call" if outcome in CALL_OUTCOMES else "Email",
                outcome=outcome,
                occurred_at=at,
            )

        if step is not None and step.strategy_id != before.strategy_id:
            return self.refused(call, CadenceError)
        if step is not None and not (
            before.status in RUNNING_STATUSES
            and current is not None
            and (
                step.pk == current.pk
                or (skip_to and step.pk not in done and step.step_number > current.step_number)
            )
        ):
            return self.refused(call)
        activity = call()
        self.tick(at - self.clock)
        if step is None:
            self.check_exits(plans_before, contact_id=before.contact_id, outcome=outcome, at=at)
            return
        # Every step from the current one up to the logged one, not done before, is skipped.
        between = [
            s
            for s in steps_of(before.strategy_id)
            if current.step_number <= s.step_number < step.step_number and s.pk not in done
        ]
        results = dict(
            PlanStepResult.objects.filter(plan_id=plan_id, step__isnull=False).values_list(
                "step_id", "result"
            )
        )
        assert all(results[s.pk] == StepResult.SKIPPED for s in between)
        assert len(results) == len(done) + len(between) + 1
        assert PlanStepResult.objects.get(plan_id=plan_id, step=step).activity_id == activity.pk
        if ends(before.strategy, outcome):
            # The step is done, and the plan ends there by its exit rule (a bounce on the last
            # email is a bounce, not a plan that finished).
            plan = self.fetch(plan_id)
            _, status, reason = EXITS[outcome]
            assert results[step.pk] == StepResult.COMPLETED
            assert (plan.status, plan.exit_reason, plan.ended_at) == (status, reason, at)
            assert plan.current_step_id == step.pk
        else:
            self.check_advanced(before, step, at=at, result=StepResult.COMPLETED)
        self.check_exits(
            plans_before, contact_id=before.contact_id, outcome=outcome, at=at, logged=plan_id
        )

    @rule(plan=plans, elapsed=ELAPSED, outcome=OUTCOMES)
    def log_current_step(self, plan, elapsed, outcome):
        """The everyday action: do the step that is due."""
        current = self.fetch(plan).current_step
        self.log(plan, current, skip_to=False, elapsed=elapsed, outcome=outcome)

    @rule(
        plan=plans,
        step=INDEX,
        skip_to=st.booleans(),
        foreign=st.booleans(),
        elapsed=ELAPSED,
        outcome=OUTCOMES,
    )
    def log_any_step(self, plan, step, skip_to, foreign, elapsed, outcome):
        """Any step of the plan's strategy (or, ``foreign``, of another one): a later one with
        ``skip_to`` skips the steps between; anything else but the current step is refused."""
        strategy_id = self.fetch(plan).strategy_id
        steps = StrategyStep.objects.order_by("strategy_id", "step_number")
        if foreign:
            steps = steps.exclude(strategy_id=strategy_id)
        else:
            steps = steps.filter(strategy_id=strategy_id)
        steps = list(steps)
        if steps:
            step = steps[step % len(steps)]
            self.log(plan, step, skip_to=skip_to, elapsed=elapsed, outcome=outcome)

    @rule(contact=CONTACT, outcome=st.sampled_from(list(EXITS)), elapsed=ELAPSED)
    def inbound_outcome(self, contact, outcome, elapsed):
        """A reply, a booked meeting, a bounce or an unsubscribe, outside any plan."""
        contact_id = self.contact_ids[contact]
        before = rows()
        at = self.tick(elapsed)
        services.activity_log(
            actor=self.user,
            contact=Contact.objects.get(pk=contact_id),
            activity_type="Email",
            direction="inbound",
            outcome=outcome,
            occurred_at=at,
        )
        self.check_exits(before, contact_id=contact_id, outcome=outcome, at=at)

    # -- Template edits --------------------------------------------------------------------------

    def edit(self, strategy: ContactStrategy, change, *, deleting: StrategyStep | None = None):
        """Make a template edit and check what it did to the plans: none leaves its step (but
        those on a deleted step, who move to the next step by number), finished plans stay as
        they are, and a plan that had no step picks up the first one."""
        before = rows()
        deleted = deleting.pk if deleting is not None else None  # delete() clears the pk
        moved = {
            pk: next_undone(pk, strategy.pk, deleting.step_number)
            for pk, row in before.items()
            if deleting is not None
            and row["current_step_id"] == deleted
            and row["status"] in ACTIVE_STATUSES
        }
        change()
        after = rows()
        steps = steps_of(strategy.pk)
        assert [s.step_number for s in steps] == list(range(1, len(steps) + 1))
        for pk, old in before.items():
            new = after[pk]
            if old["strategy_id"] != strategy.pk:
                assert new == old
            elif old["status"] in FINISHED_STATUSES:
                if deleted is not None and old["current_step_id"] == deleted:
                    old = {**old, "current_step_id": None}
                assert new == old
            elif pk in moved:
                if moved[pk] is None:
                    assert (new["status"], new["exit_reason"]) == (
                        PlanStatus.COMPLETED,
                        ExitReason.FINISHED,
                    )
                else:
                    assert (new["status"], new["current_step_id"]) == (old["status"], moved[pk])
            elif old["current_step_id"] is None:
                first = next_undone(pk, strategy.pk, 0)
                assert (new["status"], new["current_step_id"]) == (old["status"], first)
            else:
                assert (new["status"], new["current_step_id"]) == (
                    old["status"],
                    old["current_step_id"],
                )

    @rule(
        edit=st.sampled_from(["add", "delay", "delete", "reorder", "counting"]),
        strategy=INDEX,
        step=INDEX,
        position=st.integers(min_value=1, max_value=7),
        delay=DELAY,
        data=st.data(),
    )
    def edit_template(self, edit, strategy, step, position, delay, data):
        """Add a step at ``position``, change a step's delay, delete a step, reorder the steps,
        or switch between calendar and business days."""
        strategy = self.strategy(strategy)
        steps = steps_of(strategy.pk)
        if edit == "add":
            self.edit(
                strategy,
                partial(
                    strategy_services.step_create,
                    strategy=strategy,
                    step_number=position,
                    delay_days=delay,
                    activity_type="Call",
                ),
            )
        elif edit == "counting":
            change = {"uses_business_days": not strategy.uses_business_days}
            self.edit(
                strategy,
                partial(strategy_services.strategy_update, strategy=strategy, data=change),
            )
        elif edit == "reorder":
            order = data.draw(st.permutations(range(len(steps))), label="order")
            ids = [steps[i].pk for i in order]
            self.edit(
                strategy, partial(strategy_services.steps_reorder, strategy=strategy, step_ids=ids)
            )
            assert [s.pk for s in steps_of(strategy.pk)] == ids
        elif steps and edit == "delay":
            step = steps[step % len(steps)]
            change = {"delay_days": delay}
            self.edit(strategy, partial(strategy_services.step_update, step=step, data=change))
        elif steps:
            step = steps[step % len(steps)]
            step_id = step.pk
            self.edit(strategy, partial(strategy_services.step_delete, step=step), deleting=step)
            assert not StrategyStep.objects.filter(pk=step_id).exists()

    # -- Scheduler -------------------------------------------------------------------------------

    @rule(elapsed=ELAPSED, twice=st.booleans())
    def scheduler_pass(self, elapsed, twice):
        """A pass of the scheduler, some time later; ``twice`` runs it again at once."""
        self.tick(elapsed)
        before = rows()
        owed = {
            pk
            for pk, row in before.items()
            if row["status"] in RUNNING_STATUSES
            and row["reminder_due_at"] is not None
            and row["reminder_due_at"] <= self.clock
        }
        assert plans_create_due_reminders(now=self.clock) == len(owed)
        if twice:
            assert plans_create_due_reminders(now=self.clock) == 0
        after = rows()
        for pk in owed:
            row = before[pk]
            assert Reminder.objects.filter(
                plan_id=pk,
                step_id=row["current_step_id"],
                due_at=row["next_step_due_date"],
                user=self.user,
            ).exists()
            assert after[pk] == {**row, "reminder_due_at": None}
        self.only_changed(before, after, owed)

    # -- Invariants ------------------------------------------------------------------------------

    @invariant()
    def the_engine_rules_hold(self):
        """Every rule below, against the database, after every action (one read of each table
        for all of them)."""
        plans = list(
            LeadContactPlan.objects.select_related("current_step", "strategy", "user").order_by(
                "pk"
            )
        )
        done = set(
            PlanStepResult.objects.filter(step__isnull=False).values_list("plan_id", "step_id")
        )
        steps = list(StrategyStep.objects.values_list("strategy_id", "pk"))
        reminders = list(
            Reminder.objects.order_by("pk").values_list("plan_id", "step_id", "due_at", "status")
        )
        self.finished_plans_are_closed(plans)
        self.paused_plans_are_still(plans, reminders)
        self.due_dates_follow_the_rule(plans, reminders, done, steps)
        self.undelivered_reminders_are_awaited(plans, reminders)
        self.reminders_are_unique(reminders)
        self.one_active_plan_per_contact_and_strategy(plans)
        self.current_step_is_not_done(plans, done)

    @staticmethod
    def finished_plans_are_closed(plans):
        for plan in plans:
            if plan.status in FINISHED_STATUSES:
                assert plan.next_step_due_date is None
                assert plan.reminder_due_at is None
                assert plan.paused_at is None
                assert plan.ended_at is not None
                assert plan.exit_reason != ""
            else:
                assert plan.ended_at is None
                assert plan.exit_reason == ""

    def paused_plans_are_still(self, plans, reminders):
        """A paused plan owes no reminder, and no reminder is made for it while it stays
        paused."""
        counts = {}
        for plan in plans:
            if plan.status == PlanStatus.PAUSED:
                assert plan.paused_at is not None
                assert plan.reminder_due_at is None
                counts[plan.pk] = sum(1 for r in reminders if r[0] == plan.pk)
            else:
                assert plan.paused_at is None
        for pk, count in counts.items():
            assert self.paused_reminders.get(pk, count) == count
        self.paused_reminders = {pk: self.paused_reminders.get(pk, n) for pk, n in counts.items()}

    @staticmethod
    def due_dates_follow_the_rule(plans, reminders, done, steps):
        """A running plan is due by the rule applied to its last completion, shifted by its
        pauses, and owes the reminder of that due date until the scheduler has made it; once
        made, that reminder is not dismissed (the rep hears of every step that falls due)."""
        statuses = {(plan, step, due): status for plan, step, due, status in reminders}
        for plan in plans:
            if plan.status not in RUNNING_STATUSES:
                continue
            assert (plan.status == PlanStatus.IN_PROGRESS) == (plan.started_at is not None)
            if plan.current_step is None:
                # Only a plan whose strategy has no step left for it stands still.
                left = [pk for sid, pk in steps if sid == plan.strategy_id]
                assert all((plan.pk, pk) in done for pk in left)
                assert plan.next_step_due_date is None
                assert plan.reminder_due_at is None
                continue
            assert plan.current_step.strategy_id == plan.strategy_id
            due = expected_due(plan)
            assert plan.next_step_due_date == due
            if plan.reminder_due_at is not None:
                assert plan.reminder_due_at == due - lead_time()
            else:
                assert statuses.get((plan.pk, plan.current_step_id, due)) in LIVE_REMINDER

    @staticmethod
    def undelivered_reminders_are_awaited(plans, reminders):
        """A pending or snoozed reminder is for a step its plan still awaits, at that due date;
        the others were dismissed when the plan moved on, paused or ended."""
        by_pk = {plan.pk: plan for plan in plans}
        for plan_id, step_id, due, status in reminders:
            if status in UNDELIVERED_REMINDER:
                plan = by_pk[plan_id]
                assert plan.status in RUNNING_STATUSES
                assert (step_id, due) == (plan.current_step_id, plan.next_step_due_date)

    @staticmethod
    def reminders_are_unique(reminders):
        keys = [(plan, step, due) for plan, step, due, _ in reminders if step is not None]
        assert len(keys) == len(set(keys))

    @staticmethod
    def one_active_plan_per_contact_and_strategy(plans):
        active = [(p.contact_id, p.strategy_id) for p in plans if p.status in ACTIVE_STATUSES]
        assert len(active) == len(set(active))

    @staticmethod
    def current_step_is_not_done(plans, done):
        for plan in plans:
            if plan.status in RUNNING_STATUSES and plan.current_step_id is not None:
                assert (plan.pk, plan.current_step_id) not in done


@pytest.mark.django_db
def test_the_plan_engine_keeps_its_invariants_under_random_actions():
    run_state_machine_as_test(
        PlanEngineMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
