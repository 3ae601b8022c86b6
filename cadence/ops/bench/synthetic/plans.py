"""The life of one generated plan (``cadence.ops.bench.synthetic``): its steps done on time or
late, skipped, or sent through the outbox, and what each may lead to (a reply, a meeting, a
bounce, an opt-out, a manual end), written as the product would have left it."""

from __future__ import annotations

from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.messaging.choices import InboundKind, InboundStatus, OutboundStatus
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.ops.bench.synthetic.rows import DAY, HOUR, REMINDER_LEAD, Step, Strategy
from cadence.plans.choices import ExitReason, PlanStatus, StepResult
from cadence.plans.models import LeadContactPlan, PlanStepResult


class PlanLives:
    """The plan-writing half of a generation run (``org._Org``), which holds the random
    generator, the row IDs, the writer, the clock and the counts these methods use."""

    def _plan(self, lead, strategy: Strategy, start: int, state: dict) -> tuple[int, bool]:
        """Write one plan and its life; returns the time of its last event and whether it is
        still active."""
        rng, now, when, pending = self.rng, self.now, self.when, self.writer.pending
        owner, company_id, contact_id, _ = lead
        plan_id = self.ids.new(3)
        steps = strategy.steps
        status, exit_reason, ended = PlanStatus.NOT_STARTED, "", None
        current, next_due = steps[0], None
        started_at = last_done = paused_at = None
        base = start
        outbox = None
        for index, step in enumerate(steps):
            following = steps[index + 1] if index + 1 < len(steps) else None
            current = step
            due = base + step.delay * DAY
            if step.automated:
                done = due + rng.randrange(60, 2 * HOUR)
            else:
                chance = rng.random()
                if chance < 0.55:
                    done = due + rng.randrange(-2 * HOUR, 4 * HOUR)
                elif chance < 0.85:
                    done = due + rng.randrange(4 * HOUR, 2 * DAY)
                else:
                    done = due + rng.randrange(2 * DAY, 10 * DAY)
                done = max(done, base + 60)
            if done > now:
                next_due = due
                if step.automated and due <= now:
                    outbox = (step, OutboundStatus.QUEUED, due, None)
                break
            send = None
            if step.automated:
                chance = rng.random()
                if chance < 0.015:
                    # Handed over and never confirmed: a person must decide, the plan waits.
                    outbox = (step, OutboundStatus.UNCERTAIN, due, done)
                    next_due = due
                    break
                if chance < 0.04:
                    self._outbound(
                        lead, plan_id, strategy, step, OutboundStatus.FAILED, due, done, None
                    )
                    done += rng.randrange(HOUR, 2 * DAY)
                    if done > now:
                        next_due = due
                        break
                    skipped = True
                else:
                    skipped = False
                    send = True
            else:
                skipped = index > 0 and rng.random() < 0.06
            started_at = started_at or done
            arrived = when(last_done if last_done is not None else started_at)
            last_done = done
            if skipped:
                pending[PlanStepResult].append(
                    (self.ids.new(5), plan_id, step.id, step.number, StepResult.SKIPPED,
                     when(due), when(done), arrived, None, owner.id, when(done), when(done))
                )  # fmt: skip
                self.counts["results"] += 1
                base = done
                status = PlanStatus.IN_PROGRESS
                continue
            kind, outcome = step.kind, Outcome.SENT
            if kind == ActivityType.CALL:
                chance = rng.random()
                outcome = (
                    Outcome.NO_ANSWER
                    if chance < 0.45
                    else Outcome.VOICEMAIL_LEFT
                    if chance < 0.75
                    else Outcome.CONNECTED
                )
            elif kind == ActivityType.TASK:
                outcome = Outcome.COMPLETED
            activity_id = self.ids.new(4)
            message_id = f"<{activity_id}@bench.cadence.example>" if send else ""
            stamp = when(done)
            pending[Activity].append(
                (activity_id, company_id, contact_id, owner.id, kind, Direction.OUTBOUND,
                 f"Step {step.number}" if kind == ActivityType.EMAIL else "", "", outcome,
                 stamp, plan_id, step.id, message_id, stamp, stamp)
            )  # fmt: skip
            self.counts["activities"] += 1
            self.counts["plan_activities"] += 1
            pending[PlanStepResult].append(
                (self.ids.new(5), plan_id, step.id, step.number, StepResult.COMPLETED, when(due),
                 stamp, arrived, activity_id, owner.id, stamp, stamp)
            )  # fmt: skip
            self.counts["results"] += 1
            sent_id = None
            if send:
                sent_id = self._outbound(
                    lead,
                    plan_id,
                    strategy,
                    step,
                    OutboundStatus.SENT,
                    due,
                    done,
                    activity_id,
                    message_id,
                )
            status = PlanStatus.IN_PROGRESS
            base = done
            # What the touch led to. The plan has moved on already (the step is done); an
            # exit ends it where it stands, unless it had just finished with its last step.
            event, at = self._response(step, outcome, strategy, done, index)
            if event is None:
                continue
            ends = following is not None
            if event in (ExitReason.REPLIED, ExitReason.MEETING_BOOKED):
                channel = ActivityType.LINKEDIN_MESSAGE if kind.startswith("LinkedIn") else kind
                if kind != ActivityType.CALL:
                    reply_id = self._activity(
                        lead,
                        channel,
                        Direction.INBOUND,
                        Outcome.REPLIED,
                        at,
                        plan_id,
                        subject=f"Re: Step {step.number}",
                    )
                    if sent_id is not None:
                        self._inbound(lead, plan_id, sent_id, reply_id, InboundKind.REPLY, at)
                if event == ExitReason.MEETING_BOOKED:
                    at = min(at + rng.randrange(10 * 60, 2 * DAY), now)
                    self._activity(
                        lead,
                        ActivityType.MEETING,
                        Direction.OUTBOUND,
                        Outcome.MEETING_BOOKED,
                        at,
                        plan_id,
                    )
                end_status = PlanStatus.COMPLETED
            elif event == ExitReason.BOUNCED:
                self._activity(
                    lead,
                    ActivityType.EMAIL,
                    Direction.INBOUND,
                    Outcome.BOUNCED,
                    at,
                    plan_id,
                    subject=f"Undeliverable: Step {step.number}",
                )
                if sent_id is not None:
                    self._inbound(lead, plan_id, sent_id, None, InboundKind.BOUNCE, at)
                state["bounced"] = True
                end_status = PlanStatus.ABORTED
            elif event == ExitReason.OPTED_OUT:
                self._activity(
                    lead, ActivityType.EMAIL, Direction.INBOUND, Outcome.UNSUBSCRIBED, at, plan_id
                )
                state["opted_out_at"] = at
                end_status = PlanStatus.ABORTED
            else:
                end_status = PlanStatus.ABORTED
            if ends:
                status, exit_reason, ended = end_status, event, at
                current = following
                next_due = None
                break
            # The plan finished with this step; the event came after.
            status, exit_reason, ended, next_due = (
                PlanStatus.COMPLETED, ExitReason.FINISHED, done, None,
            )  # fmt: skip
            break
        else:
            status, exit_reason, ended, next_due = (
                PlanStatus.COMPLETED, ExitReason.FINISHED, last_done, None,
            )  # fmt: skip
        reminder = None
        resume = None
        if next_due is not None:
            status = PlanStatus.IN_PROGRESS if started_at else PlanStatus.NOT_STARTED
            if rng.random() < 0.05:
                status = PlanStatus.PAUSED
                paused_at = rng.randrange(min(last_done or start, now - 1), now)
                if rng.random() < 0.5:
                    resume = now + rng.randrange(HOUR, 14 * DAY)
            elif next_due - REMINDER_LEAD > now:
                reminder = next_due - REMINDER_LEAD
        if outbox is not None:
            step, out_status, due, handoff = outbox
            self._outbound(lead, plan_id, strategy, step, out_status, due, handoff, None)
        created = when(start)
        last_event = max(t for t in (start, last_done, ended, paused_at) if t is not None)
        pending[LeadContactPlan].append(
            (plan_id, company_id, contact_id, strategy.id, owner.id, status,
             current.id if current else None, created,
             when(next_due) if next_due is not None else None, exit_reason,
             when(started_at) if started_at else None, when(last_done) if last_done else None,
             when(paused_at) if paused_at else None, when(resume) if resume else None,
             self.zero, when(ended) if ended is not None else None,
             when(reminder) if reminder else None, created, when(last_event))
        )  # fmt: skip
        return last_event, next_due is not None

    def _response(self, step: Step, outcome: str, strategy: Strategy, done: int, index: int):
        """What follows a done step, if anything: (exit reason, when), or (None, None)."""
        rng, now = self.rng, self.now
        chance = rng.random()
        kind = step.kind
        at = None
        event = None
        if kind == ActivityType.CALL:
            if outcome == Outcome.CONNECTED and chance < 0.12:
                event, at = ExitReason.MEETING_BOOKED, done
        elif kind in (
            ActivityType.EMAIL,
            ActivityType.LINKEDIN_MESSAGE,
            ActivityType.LINKEDIN_CONNECT,
        ):
            rate = strategy.reply_rate * (1.0 if index == 0 else 0.8)
            if kind == ActivityType.LINKEDIN_MESSAGE:
                rate *= 1.3
            elif kind == ActivityType.LINKEDIN_CONNECT:
                rate *= 0.5
            bounce = (0.015 if index == 0 else 0.003) if kind == ActivityType.EMAIL else 0.0
            opt_out = 0.003 if kind == ActivityType.EMAIL else 0.0
            if chance < rate:
                meeting = rng.random() < 0.25
                event = ExitReason.MEETING_BOOKED if meeting else ExitReason.REPLIED
                at = done + rng.randrange(2 * HOUR, 72 * HOUR)
            elif chance < rate + bounce:
                event, at = ExitReason.BOUNCED, done + rng.randrange(60, 30 * 60)
            elif chance < rate + bounce + opt_out:
                event, at = ExitReason.OPTED_OUT, done + rng.randrange(HOUR, 48 * HOUR)
        if event is None and rng.random() < 0.008:
            event, at = ExitReason.MANUAL, done + rng.randrange(HOUR, 5 * DAY)
        if event is None or at > now:
            return None, None
        return event, at

    def _outbound(
        self,
        lead,
        plan_id,
        strategy: Strategy,
        step: Step,
        status: str,
        due: int,
        at: int | None,
        activity_id,
        message_id: str = "",
    ):
        owner, company_id, contact_id, email = lead
        row_id = self.ids.new(6)
        when = self.when
        handoff = when(at) if at is not None and status != OutboundStatus.QUEUED else None
        error = {
            OutboundStatus.FAILED: "550 Mailbox unavailable",
            OutboundStatus.UNCERTAIN: "The worker stopped after the hand-off.",
        }.get(status, "")
        self.writer.pending[OutboundMessage].append(
            (row_id, plan_id, step.id, strategy.id, contact_id, company_id, owner.id, status,
             email, f"Step {step.number}", "Hello", error, when(due), False, handoff, None,
             handoff, when(at) if status == OutboundStatus.SENT else None, message_id, "",
             0 if status == OutboundStatus.QUEUED else 1, activity_id, when(due),
             handoff or when(due))
        )  # fmt: skip
        self.counts["outbound"] += 1
        return row_id

    def _inbound(self, lead, plan_id, sent_id, activity_id, kind: str, at: int) -> None:
        _, _, contact_id, email = lead
        row_id = self.ids.new(7)
        stamp = self.when(at)
        sender = email if kind == InboundKind.REPLY else "mailer-daemon@bench.example.com"
        self.writer.pending[InboundMessage].append(
            (row_id, f"<in-{row_id}@bench.example.com>", "raw", kind, InboundStatus.APPLIED,
             sender, "Re: your email", "", "Applied by the benchmark generator.", sent_id,
             contact_id, plan_id, activity_id, stamp, stamp)
        )  # fmt: skip
        self.counts["inbound"] += 1
