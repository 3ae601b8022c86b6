"""Demo data: a realistic data set to try Cadence with, the same every time it is built.

Everything derives from a seed and a reference "now": the same pair gives the same teams,
companies, contacts, strategies, plans and history, down to the primary keys, on any database.
Each section draws from its own random stream, so changing how contacts are made does not
reshuffle the companies. The words and cadences themselves live in ``demo_content``.

History (plans part-way through, past activities, delivered reminders) is written directly with
``bulk_create``: the services stamp rows with the real clock, refuse states a history must contain
(the old plan of a contact who has since bounced) and would take minutes row by row. Users do go
through ``user_create``, so their profiles are validated like any other account.
"""

import dataclasses
import datetime
import math
import random
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Sequence

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from cadence.accounts.choices import Role
from cadence.accounts.models import Team, User
from cadence.accounts.services import user_create
from cadence.activities.choices import (
    ActivityType,
    Direction,
    Outcome,
    ReminderChannel,
    ReminderStatus,
)
from cadence.activities.models import Activity, Reminder
from cadence.core.errors import CadenceError
from cadence.crm.choices import CompanySize, EmailStatus
from cadence.crm.models import Company, Contact
from cadence.ops import demo_content as content
from cadence.ops.demo_content import Step
from cadence.plans.choices import ACTIVE_STATUSES, RUNNING_STATUSES, ExitReason, PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy, StrategyStep

ADMIN_USERNAME = "admin"
COMPANY_COUNT = 200
STANDALONE_ACTIVITY_COUNT = 150
# Plans on contacts by status; six company-level, two custom and a few re-enrolled plans come on
# top of these.
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
DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)
# Completed work ends at least this long before "now", so nothing in the history is in the future.
MARGIN = 30 * MINUTE

_PLACEHOLDER = re.compile(
    r"\{\{\s*(\w+)\.(\w+)\s*(?:\|\s*default\(\s*[\"']([^\"']*)[\"']\s*\)\s*)?\}\}"
)


@dataclasses.dataclass
class DemoSummary:
    """What a build created, by kind of row."""

    usernames: tuple[str, ...] = ()
    teams: int = 0
    companies: int = 0
    contacts: int = 0
    strategies: int = 0
    steps: int = 0
    plans: Counter[str] = dataclasses.field(default_factory=Counter)
    activities: int = 0
    reminders: int = 0


def demo_data_loaded() -> bool:
    """Whether the demo's admin account exists, which is what marks the data as loaded."""
    return User.objects.filter(username=ADMIN_USERNAME).exists()


@transaction.atomic
def build_demo_data(
    *,
    seed: int,
    now: datetime.datetime,
    password: str,
    log: Callable[[str], object] = lambda line: None,
) -> DemoSummary:
    """Create the demo data set for ``seed`` as of ``now``; every demo user gets ``password``.

    Raises ``CadenceError`` when the password fails the password validators; nothing is written
    then. ``log`` receives one progress line per kind of row.
    """
    try:
        validate_password(password)
    except ValidationError as exc:
        raise CadenceError(" ".join(exc.messages), field="password") from exc
    return _Builder(seed=seed, now=now, log=log).build(password)


def render_template(text: str | None, context: dict[str, object]) -> str:
    """Fill the ``{{ object.field }}`` placeholders (with an optional ``default("...")``) that
    the demo strategies use.

    Real rendering belongs to the strategies app's sandboxed Jinja2; the demo history only needs
    its own templates filled, and should not change when that engine does.
    """

    def replace(match: re.Match) -> str:
        value = getattr(context.get(match[1]), match[2], "") or ""
        return str(value) or (match[3] or "")

    return _PLACEHOLDER.sub(replace, text or "")


def add_days(start: datetime.datetime, days: int, *, business: bool) -> datetime.datetime:
    """``start`` plus ``days`` calendar days, or weekdays when ``business`` is set.

    Holidays are ignored: this places demo history, it is not the scheduling engine.
    """
    if not business:
        return start + days * DAY
    moment = start
    while days > 0:
        moment += DAY
        if moment.weekday() < 5:
            days -= 1
    return moment


def _weighted(rng: random.Random, pairs: Sequence[tuple]) -> object:
    return rng.choices([p[0] for p in pairs], weights=[p[-1] for p in pairs])[0]


def _at_work_hours(rng: random.Random, day: datetime.datetime) -> datetime.datetime:
    hour, minute = rng.randint(8, 17), rng.randrange(0, 60, 5)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.]+", "", plain.lower())


def _phone(rng: random.Random, country: str) -> str:
    # Only ranges reserved for fiction, so no demo number can ring a real phone.
    if country in ("US", "CA"):
        return f"+1 {rng.choice((212, 312, 415, 416, 617))} 555 01{rng.randint(0, 99):02d}"
    if country == "GB":
        return f"+44 20 7946 0{rng.randint(0, 999):03d}"
    if country == "AU":
        return f"+61 491 570 {rng.randint(6, 159):03d}"
    return ""


class _Builder:
    """Builds the rows in memory, section by section, then writes them in foreign-key order."""

    def __init__(self, *, seed: int, now: datetime.datetime, log: Callable[[str], object]):
        self.seed = seed
        self.now = now
        self.log = log
        self._ids = self._rng("ids")

    def _rng(self, section: str) -> random.Random:
        # String seeds are hashed with SHA-512, so the streams do not depend on PYTHONHASHSEED.
        return random.Random(f"{self.seed}:{section}")

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._ids.getrandbits(128), version=4)

    def build(self, password: str) -> DemoSummary:
        users = self._users(password)
        companies = self._companies([u for u in users.values() if u.role == Role.REP])
        contacts = self._contacts(companies)
        strategies = self._strategies(users)
        plans, activities = self._plans(strategies, companies, contacts)
        self._mark_other_contacts(contacts, plans)
        activities += self._standalone_activities(contacts)
        reminders = self._reminders(plans, activities)

        all_strategies = [strategy for strategy, _ in strategies]
        all_steps = [step for _, steps in strategies for step in steps]
        for model, rows in (
            (Company, companies),
            (Contact, contacts),
            (ContactStrategy, all_strategies),
            (StrategyStep, all_steps),
            (LeadContactPlan, plans),
            (Activity, activities),
            (Reminder, reminders),
        ):
            model.objects.bulk_create(rows)

        summary = DemoSummary(
            usernames=tuple(users),
            teams=len({u.team_id for u in users.values() if u.team_id}),
            companies=len(companies),
            contacts=len(contacts),
            strategies=len(all_strategies),
            steps=len(all_steps),
            plans=Counter(plan.status for plan in plans),
            activities=len(activities),
            reminders=len(reminders),
        )
        opted_out = sum(c.opted_out for c in contacts)
        bounced = sum(c.email_status == EmailStatus.BOUNCED for c in contacts)
        templates = sum(s.is_template for s in all_strategies)
        mix = ", ".join(f"{status} {summary.plans[status]}" for status in PlanStatus.values)
        pending = sum(r.status == ReminderStatus.PENDING for r in reminders)
        self.log(f"Companies: {summary.companies}")
        self.log(f"Contacts: {summary.contacts} ({opted_out} opted out, {bounced} bounced)")
        self.log(f"Strategies: {summary.strategies} ({templates} templates), {summary.steps} steps")
        self.log(f"Plans: {len(plans)} ({mix})")
        self.log(f"Activities: {summary.activities}")
        self.log(f"Reminders: {summary.reminders} ({pending} pending)")
        return summary

    def _users(self, password: str) -> dict[str, User]:
        teams = {
            name: Team(team_id=self._uuid(), name=name, description=text)
            for name, text in content.TEAMS.items()
        }
        Team.objects.bulk_create(teams.values())
        users = {}
        for username, first, last, role, team, title, country, zone in content.USERS:
            email = f"{username}@{content.USER_DOMAIN}"
            users[username] = user_create(
                username=username,
                user_id=self._uuid(),
                email=email,
                first_name=first,
                last_name=last,
                display_name=f"{first} {last}",
                signature=f"{first} {last}\n{title}, Cadence Demo Co.\n{email}",
                time_zone=zone,
                country=country,
                role=role,
                team=teams[team] if team else None,
                is_staff=role == Role.ADMIN,
                is_superuser=role == Role.ADMIN,
            )
        # One hash for all: the hasher is deliberately slow (about 0.3 s each in production), and
        # the users share the password anyway, so a shared salt reveals nothing.
        User.objects.filter(pk__in=[u.pk for u in users.values()]).update(
            password=make_password(password)
        )
        self.log(f"Users: {len(users)} in {len(teams)} teams ({', '.join(users)})")
        return users

    def _companies(self, reps: list[User]) -> list[Company]:
        rng = self._rng("companies")
        seen, companies = set(), []
        while len(companies) < COMPANY_COUNT:
            industry = rng.choice(list(content.INDUSTRY_WORDS))
            suffixes = content.INDUSTRY_WORDS[industry]
            base = f"{rng.choice(content.COMPANY_WORDS)} {rng.choice(suffixes)}"
            if base in seen:
                continue
            seen.add(base)
            country, zones, legal, _ = rng.choices(
                content.REGIONS, weights=[r[3] for r in content.REGIONS]
            )[0]
            owner = rng.choice(reps)
            companies.append(
                Company(
                    company_id=self._uuid(),
                    name=f"{base} {legal}" if rng.random() < 0.4 else base,
                    domain=re.sub(r"[^a-z0-9]+", "-", base.lower()) + ".example",
                    industry=industry,
                    size=rng.choices(CompanySize.values, weights=content.SIZE_WEIGHTS)[0],
                    country=country,
                    time_zone=rng.choice(zones),
                    owner=owner,
                    team=owner.team if rng.random() < 0.35 else None,
                    created_at=_at_work_hours(rng, self.now - rng.randint(160, 420) * DAY),
                )
            )
        return companies

    def _contacts(self, companies: list[Company]) -> list[Contact]:
        rng = self._rng("contacts")
        contacts = []
        for company in companies:
            used: set[str] = set()
            for _ in range(rng.choices((1, 2, 3, 4), weights=(35, 35, 18, 12))[0]):
                first, last = rng.choice(content.FIRST_NAMES), rng.choice(content.LAST_NAMES)
                local = _ascii(f"{first}.{last}")
                while local in used:
                    local += str(rng.randint(0, 9))
                used.add(local)
                profile = f"https://linkedin.example/in/{local.replace('.', '-')}"
                contacts.append(
                    Contact(
                        contact_id=self._uuid(),
                        company=company,
                        first_name=first,
                        last_name=last,
                        email=f"{local}@{company.domain}",
                        phone=_phone(rng, company.country.code),
                        title=rng.choice(content.TITLES),
                        linkedin_url=profile if rng.random() < 0.7 else "",
                        time_zone=company.time_zone if rng.random() < 0.85 else "",
                        owner=company.owner,
                        team=company.team,
                        created_at=company.created_at + rng.randint(0, 15) * DAY,
                    )
                )
        return contacts

    def _strategies(self, users: dict[str, User]) -> list[tuple[ContactStrategy, list]]:
        rng = self._rng("strategies")
        result = []
        for spec in content.STRATEGIES:
            created = _at_work_hours(rng, self.now - rng.randint(180, 240) * DAY)
            strategy = ContactStrategy(
                strategy_id=self._uuid(),
                name=spec.name,
                description=spec.description,
                created_by=users[spec.creator],
                created_at=created,
                archived_at=self.now - 40 * DAY if spec.archived else None,
                automation_approved_at=created + 2 * DAY if spec.approved else None,
                automation_approved_by=users[spec.creator] if spec.approved else None,
                **spec.settings,
            )
            strategy.demo_weight = spec.weight
            result.append((strategy, self._steps(strategy, spec.steps)))
        return result

    def _steps(self, strategy: ContactStrategy, specs: Sequence[Step]) -> list[StrategyStep]:
        return [
            StrategyStep(
                step_id=self._uuid(),
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

    def _plans(self, strategies: list, companies: list, contacts: list) -> tuple[list, list]:
        """Plans and the activities of their completed steps. Each contact gets one plan, except
        a few re-enrolled after an earlier one ended, so no contact is active twice in a
        strategy."""
        rng = self._rng("plans")
        templates = list(strategies)
        open_templates = [(s, steps) for s, steps in templates if s.archived_at is None]
        statuses = [status for status, count in PLAN_MIX.items() for _ in range(count)]
        rng.shuffle(statuses)
        chosen = rng.sample(contacts, len(statuses) + 2)
        plans, activities = [], []

        def add(status, strategy, steps, contact, company, reason=""):
            plan, history = self._plan(rng, status, strategy, steps, contact, company, reason)
            plans.append(plan)
            activities.extend(history)
            return plan

        for status, contact in zip(statuses, chosen, strict=False):
            pool = open_templates if status in ACTIVE_STATUSES else templates
            strategy, steps = rng.choices(pool, weights=[s.demo_weight for s, _ in pool])[0]
            reason = _weighted(rng, content.EXIT_MIX[status]) if status in content.EXIT_MIX else ""
            add(status, strategy, steps, contact, contact.company, reason)

        # Plans on a whole company, without a contact: the specification allows them.
        for company in rng.sample(companies, 6):
            strategy, steps = rng.choice(open_templates)
            add(rng.choice(RUNNING_STATUSES), strategy, steps, None, company)

        # Custom plans, each following a private strategy that is not a template.
        for contact in chosen[len(statuses) :]:
            strategy = ContactStrategy(
                strategy_id=self._uuid(),
                name=f"Custom plan: {contact.full_name} at {contact.company.name}",
                description="One-off follow-up after the product demo.",
                created_by=contact.company.owner,
                is_template=False,
            )
            steps = self._steps(strategy, content.CUSTOM_STEPS)
            strategies.append((strategy, steps))
            plan = add(PlanStatus.IN_PROGRESS, strategy, steps, contact, contact.company)
            for row in (strategy, *steps):
                row.created_at = plan.created_at - 60 * MINUTE

        # Re-enrolled contacts: an ended plan and a new active one in the same strategy, which
        # the "one active plan per contact and strategy" constraint must allow.
        ended = [
            p
            for p in plans
            if p.contact
            and p.exit_reason in (ExitReason.FINISHED, ExitReason.MANUAL)
            and p.strategy.archived_at is None
            and p.ended_at < self.now - 21 * DAY
        ]
        steps_of = {strategy.pk: steps for strategy, steps in strategies}
        for old in rng.sample(ended, min(5, len(ended))):
            steps = steps_of[old.strategy.pk]
            add(PlanStatus.NOT_STARTED, old.strategy, steps, old.contact, old.company)
        return plans, activities

    def _plan(self, rng, status, strategy, steps, contact, company, reason):
        plan = LeadContactPlan(
            plan_id=self._uuid(),
            company=company,
            contact=contact,
            strategy=strategy,
            user=company.owner,
            status=status,
        )
        if status in ACTIVE_STATUSES:
            # Not started: step 1 is current. Otherwise some steps are done and one is current.
            done = 0 if status == PlanStatus.NOT_STARTED else rng.randint(1, len(steps) - 1)
            bucket = _weighted(rng, DUE_MIX if done else FIRST_DUE_MIX)
            days = {"overdue": -rng.randint(1, 8), "today": 0, "upcoming": rng.randint(1, 14)}
            target = _at_work_hours(rng, self.now + days[bucket] * DAY)
            start, dues, dones = self._timeline(rng, strategy, steps, done, True, target)
            plan.current_step, plan.next_step_due_date = steps[done], dues[done]
            if status == PlanStatus.PAUSED:
                paused = dones[done - 1] + (self.now - dones[done - 1]) * rng.uniform(0.2, 0.9)
                plan.paused_at = paused.replace(second=0, microsecond=0)
        else:
            # Ended: the last completed step stays current.
            done = self._steps_done_before_exit(rng, reason, steps)
            days_ago = rng.randint(45, 75) if strategy.archived_at else rng.randint(2, 75)
            target = _at_work_hours(rng, self.now - days_ago * DAY)
            start, dues, dones = self._timeline(rng, strategy, steps, done, False, target)
            plan.current_step, plan.exit_reason = steps[done - 1], reason
        plan.plan_start_date, plan.created_at = start, min(start, self.now - MARGIN)
        activities = [self._step_activity(rng, plan, steps[i], dones[i]) for i in range(done)]
        if reason:
            activities += self._exit(rng, plan, steps[:done], activities[-1])
        return plan, activities

    def _timeline(self, rng, strategy, steps, done: int, anchor_due: bool, target):
        """Start, due and completion times of every step, placed so that the anchor (the next
        step's due date, or the last completion) lands near ``target`` while the ``done``
        completed steps all lie in the past. Each step falls due ``delay_days`` after the
        previous one was completed, and is completed up to 30 hours after it fell due."""
        business = strategy.uses_business_days
        lateness = [rng.randint(5, 30 * 60) * MINUTE for _ in steps]

        def run(start):
            dues, dones, previous = [], [], start
            for step, late in zip(steps, lateness, strict=True):
                dues.append(add_days(previous, step.delay_days, business=business))
                dones.append(dues[-1] + late)
                previous = dones[-1]
            return dues, dones

        dues, dones = run(target)
        start = target - ((dues[done] if anchor_due else dones[done - 1]) - target)
        # Weekends can stretch a shifted timeline again, hence a loop rather than one shift. A
        # plan with nothing done may start in the future: it is scheduled.
        for _ in range(50):
            dues, dones = run(start)
            if not done or max(dones[:done]) <= self.now - MARGIN:
                break
            # Spread the shifted plans over the last day and a half rather than stack them
            # just before now.
            excess = max(dones[:done]) - (self.now - MARGIN)
            start -= (math.ceil(excess / MINUTE) + rng.randint(60, 36 * 60)) * MINUTE
        return start, dues, dones

    @staticmethod
    def _steps_done_before_exit(rng: random.Random, reason: str, steps: list) -> int:
        emails = [
            number for number, s in enumerate(steps, 1) if s.activity_type == ActivityType.EMAIL
        ]
        if reason == ExitReason.FINISHED:
            return len(steps)
        if reason == ExitReason.BOUNCED:
            return emails[0]  # a bad address bounces the first email
        if reason == ExitReason.OPTED_OUT:
            return rng.choice(emails)
        if reason == ExitReason.MANUAL:
            return rng.randint(1, len(steps) - 1)
        return rng.randint(1, len(steps))

    def _exit(self, rng, plan, steps_done, last: Activity) -> list[Activity]:
        """Record how an ended plan ended, on the plan and on its contact. Returns the inbound
        activity that ended it, if it was not the last step's own."""
        reason, contact = plan.exit_reason, plan.contact
        event_at = last.occurred_at + rng.randint(20, 20 * 60) * MINUTE
        event_at = min(event_at, self.now - 5 * MINUTE)
        plan.ended_at = last.occurred_at
        if reason == ExitReason.FINISHED:
            return []
        if reason == ExitReason.MANUAL:
            plan.ended_at = event_at
            return []
        if reason == ExitReason.BOUNCED:
            last.outcome, last.description = Outcome.BOUNCED, "Delivery failed: mailbox unknown."
            contact.email_status = EmailStatus.BOUNCED
            return []
        if reason == ExitReason.MEETING_BOOKED and last.activity_type == ActivityType.CALL:
            last.outcome = Outcome.MEETING_BOOKED
            contact.email_status = EmailStatus.VALID
            return []
        outcome = {
            ExitReason.REPLIED: Outcome.REPLIED,
            ExitReason.MEETING_BOOKED: Outcome.MEETING_BOOKED,
            ExitReason.OPTED_OUT: Outcome.UNSUBSCRIBED,
        }[reason]
        plan.ended_at = event_at
        if outcome == Outcome.UNSUBSCRIBED:
            contact.opted_out, contact.opted_out_at = True, event_at
        else:
            contact.email_status = EmailStatus.VALID
        email = next(
            (s for s in reversed(steps_done) if s.activity_type == ActivityType.EMAIL), None
        )
        context = {"contact": contact, "company": plan.company, "user": plan.user}
        subject = render_template(email.subject_template, context) if email else ""
        reply = self._activity(
            rng,
            plan=plan,
            activity_type=ActivityType.EMAIL,
            direction=Direction.INBOUND,
            outcome=outcome,
            occurred_at=event_at,
            subject=f"Re: {subject or plan.company.name}",
            description=rng.choice(content.EXIT_TEXT[outcome]),
        )
        return [reply]

    def _step_activity(self, rng, plan, step: StrategyStep, at) -> Activity:
        contact = plan.contact
        if (
            contact
            and step.activity_type == ActivityType.EMAIL
            and contact.email_status == EmailStatus.UNKNOWN
        ):
            contact.email_status = rng.choice((EmailStatus.UNKNOWN, EmailStatus.VALID))
        context = {"contact": contact, "company": plan.company, "user": plan.user}
        return self._activity(
            rng,
            plan=plan,
            step=step,
            activity_type=step.activity_type,
            outcome=_weighted(rng, content.STEP_OUTCOMES[step.activity_type]),
            occurred_at=at,
            subject=render_template(step.subject_template, context),
            description=render_template(step.description_template, context),
        )

    def _activity(self, rng, *, plan=None, **fields) -> Activity:
        """An activity with the plan's lead and user unless given; emails carry a Message-ID
        from the sender's domain, as real ones would."""
        if plan is not None:
            fields.update(company=plan.company, contact=plan.contact, user=plan.user)
        fields.setdefault("direction", Direction.OUTBOUND)
        if fields["activity_type"] == ActivityType.EMAIL:
            inbound = fields["direction"] == Direction.INBOUND
            domain = fields["company"].domain if inbound else content.USER_DOMAIN
            fields["message_id"] = f"<{rng.getrandbits(64):016x}@{domain}>"
        fields["subject"] = fields["subject"][:255]
        return Activity(
            activity_id=self._uuid(), plan=plan, created_at=fields["occurred_at"], **fields
        )

    def _mark_other_contacts(self, contacts: list[Contact], plans: list) -> None:
        """Opt out and bounce some contacts that no plan targets, so lists show every state."""
        rng = self._rng("contact-states")
        planned = {p.contact.pk for p in plans if p.contact}
        free = [c for c in contacts if c.pk not in planned]
        for index, contact in enumerate(rng.sample(free, min(20, len(free)))):
            if index < 12:
                elapsed = (self.now - contact.created_at) * rng.uniform(0.3, 0.95)
                contact.opted_out = True
                contact.opted_out_at = (contact.created_at + elapsed).replace(microsecond=0)
            else:
                contact.email_status = EmailStatus.BOUNCED

    def _standalone_activities(self, contacts: list[Contact]) -> list[Activity]:
        """Touches outside any plan: calls, meetings, notes, replies."""
        rng = self._rng("standalone")
        reachable = [
            c for c in contacts if not c.opted_out and c.email_status != EmailStatus.BOUNCED
        ]
        activities = []
        for _ in range(STANDALONE_ACTIVITY_COUNT):
            contact = rng.choice(reachable)
            kind, direction, outcomes, subject, text = rng.choice(content.STANDALONE)
            names = {"first": contact.first_name, "company": contact.company.name}
            activities.append(
                self._activity(
                    rng,
                    company=contact.company,
                    contact=contact,
                    user=contact.owner,
                    activity_type=kind,
                    direction=direction,
                    outcome=_weighted(rng, outcomes),
                    occurred_at=_at_work_hours(rng, self.now - rng.randint(1, 120) * DAY),
                    subject=subject.format(**names),
                    description=text.format(**names),
                )
            )
        return activities

    def _reminders(self, plans: list, activities: list[Activity]) -> list[Reminder]:
        """The reminders the scheduler would have made by now: one per running plan whose step
        is due, delivered if it fell due on an earlier day, pending if today. Plus a few
        personal reminders outside any plan."""
        rng = self._rng("reminders")
        reminders = []
        for plan in plans:
            due, step = plan.next_step_due_date, plan.current_step
            if plan.status not in RUNNING_STATUSES or due > self.now:
                continue
            lead = plan.contact.full_name if plan.contact else plan.company.name
            earlier = due.date() < self.now.date()
            reminders.append(
                Reminder(
                    reminder_id=self._uuid(),
                    user=plan.user,
                    plan=plan,
                    step=step,
                    remind_at=due,
                    due_at=due,
                    message=f"{step.activity_type}: {lead} (step {step.step_number} of "
                    f"{plan.strategy.name})",
                    status=ReminderStatus.SENT if earlier else ReminderStatus.PENDING,
                    sent_at=due if earlier else None,
                    channels=[ReminderChannel.IN_APP, ReminderChannel.EMAIL],
                    created_at=due,
                )
            )
        meetings = [
            a for a in activities if a.activity_type == ActivityType.MEETING and a.plan is None
        ]
        picked = rng.sample(meetings, min(len(content.PERSONAL_REMINDER_STATUSES), len(meetings)))
        for status, meeting in zip(content.PERSONAL_REMINDER_STATUSES, picked, strict=False):
            days = -2 if status == ReminderStatus.DISMISSED else rng.randint(1, 4)
            reminders.append(
                Reminder(
                    reminder_id=self._uuid(),
                    user=meeting.user,
                    activity=meeting,
                    remind_at=_at_work_hours(rng, self.now + days * DAY),
                    message=f"Send the meeting notes to {meeting.contact.full_name}",
                    status=status,
                    created_at=meeting.occurred_at,
                )
            )
        return reminders
