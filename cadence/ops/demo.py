"""Demo data: a realistic data set to try Cadence with, the same every time it is built.

Everything derives from a seed and a reference "now": the same pair gives the same teams,
companies, contacts, strategies, plans and history, down to the primary keys, on any database.
Each section draws from its own random stream, so changing how contacts are made does not
reshuffle the companies. The words and cadences themselves live in ``demo_content``; plans and
their history, placed by the plan engine's rules, are built by ``demo_plans``.

History (plans part-way through, past activities, step results, reminders) is written directly
with ``bulk_create``: the services stamp rows with the real clock, refuse states a history must
contain (the old plan of a contact who has since bounced) and would take minutes row by row. Users
do go through ``user_create``, so their profiles are validated like any other account.
"""

import dataclasses
import datetime
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from cadence.accounts.choices import Role
from cadence.accounts.models import Team, User
from cadence.accounts.services import user_create
from cadence.activities.choices import ActivityType, ReminderStatus
from cadence.activities.models import Activity, Reminder
from cadence.analytics.rollups import rollups_refresh
from cadence.core.errors import CadenceError
from cadence.crm.choices import CompanySize, EmailStatus
from cadence.crm.models import Company, Contact
from cadence.messaging.models import Sender
from cadence.ops import demo_content as content
from cadence.ops.demo_base import DAY, Seeded, at_work_hours, weighted
from cadence.ops.demo_plans import PLAN_MOVING_OUTCOMES, PlanHistory, build_plans, steps_of
from cadence.plans.choices import PlanStatus, StepResult
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.suggestions.analysis import history_analyze
from cadence.suggestions.services import suggestions_replay

ADMIN_USERNAME = "admin"
# The login printed first: a rep with tasks overdue and due today, so the first screen shows work.
REP_USERNAME = content.FEATURED_REP
# Their dashboards switch to their team's tasks.
MANAGER_USERNAMES = tuple(user[0] for user in content.USERS if user[3] == Role.MANAGER)
COMPANY_COUNT = 200
STANDALONE_ACTIVITY_COUNT = 150


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
    step_results: int = 0
    reminders: int = 0
    suggestions: int = 0


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
        self.seeded = Seeded(seed=seed, now=now)
        self.now = now
        self.log = log

    def build(self, password: str) -> DemoSummary:
        users = self._users(password)
        companies = self._companies([u for u in users.values() if u.role == Role.REP])
        contacts = self._contacts(companies)
        strategies = self._strategies(users)
        history = build_plans(self.seeded, strategies, companies, contacts)
        self._mark_other_contacts(contacts, history.plans)
        activities = history.activities + self._standalone_activities(contacts, history)
        reminders = history.reminders + self._personal_reminders(activities)

        all_strategies = [strategy for strategy, _ in strategies]
        all_steps = [step for _, steps in strategies for step in steps]
        for model, rows in (
            (Company, companies),
            (Contact, contacts),
            (ContactStrategy, all_strategies),
            (StrategyStep, all_steps),
            (LeadContactPlan, history.plans),
            (Activity, activities),
            (PlanStepResult, history.results),
            (Reminder, reminders),
        ):
            model.objects.bulk_create(rows, batch_size=500)
        # The rows were written in bulk, past the listener that makes suggestions as activities
        # are logged: replay the history so the demo has the suggestions its history implies.
        suggestions = suggestions_replay(activities=activities, now=self.now)
        # The Recommendations page then says what the analysis read, and that a demo's few
        # hundred activities are too little evidence for any finding.
        analysis = history_analyze()
        # Written in bulk too: the analytics rollups start from this history, not from before it.
        rollups = rollups_refresh(rebuild=True)

        summary = DemoSummary(
            usernames=tuple(users),
            teams=len({u.team_id for u in users.values() if u.team_id}),
            companies=len(companies),
            contacts=len(contacts),
            strategies=len(all_strategies),
            steps=len(all_steps),
            plans=Counter(plan.status for plan in history.plans),
            activities=len(activities),
            step_results=len(history.results),
            reminders=len(reminders),
            suggestions=suggestions,
        )
        self._log_summary(summary, contacts, all_strategies, history, reminders)
        self.log(f"History analysis: {analysis.summary}")
        for rollup in rollups:
            self.log(str(rollup))
        return summary

    def _log_summary(self, summary, contacts, strategies, history: PlanHistory, reminders):
        opted_out = sum(c.opted_out for c in contacts)
        bounced = sum(c.email_status == EmailStatus.BOUNCED for c in contacts)
        templates = sum(s.is_template for s in strategies)
        mix = ", ".join(f"{status} {summary.plans[status]}" for status in PlanStatus.values)
        owed = sum(p.reminder_due_at is not None for p in history.plans)
        results = history.results
        skipped = sum(r.result == StepResult.SKIPPED for r in results)
        late = sum(r.completed_at > r.due_at for r in results)
        pending = sum(r.status == ReminderStatus.PENDING for r in reminders)
        self.log(f"Companies: {summary.companies}")
        self.log(f"Contacts: {summary.contacts} ({opted_out} opted out, {bounced} bounced)")
        self.log(f"Strategies: {summary.strategies} ({templates} templates), {summary.steps} steps")
        self.log(f"Plans: {sum(summary.plans.values())} ({mix}; {owed} owed a reminder)")
        self.log(f"Activities: {summary.activities}")
        self.log(
            f"Step results: {len(results)} ({len(results) - skipped} done, {skipped} skipped; "
            f"{late} late, {len(results) - late} on time)"
        )
        self.log(f"Reminders: {summary.reminders} ({pending} pending)")
        self.log(f"Suggestions: {summary.suggestions}")

    def _users(self, password: str) -> dict[str, User]:
        teams = {
            name: Team(team_id=self.seeded.uuid(), name=name, description=text)
            for name, text in content.TEAMS.items()
        }
        Team.objects.bulk_create(teams.values())
        users = {}
        for username, first, last, role, team, title, country, zone in content.USERS:
            email = f"{username}@{content.USER_DOMAIN}"
            users[username] = user_create(
                username=username,
                user_id=self.seeded.uuid(),
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
        # Automated emails need a postal address for their footer: the demo company's.
        Sender.objects.bulk_create(
            Sender(
                sender_id=self.seeded.uuid(),
                user=user,
                ramp_started_on=(self.now - 60 * DAY).date(),
                postal_address=content.POSTAL_ADDRESS,
            )
            for user in users.values()
        )
        self.log(f"Users: {len(users)} in {len(teams)} teams ({', '.join(users)})")
        return users

    def _companies(self, reps: list[User]) -> list[Company]:
        rng = self.seeded.rng("companies")
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
                    company_id=self.seeded.uuid(),
                    name=f"{base} {legal}" if rng.random() < 0.4 else base,
                    domain=re.sub(r"[^a-z0-9]+", "-", base.lower()) + ".example",
                    industry=industry,
                    size=rng.choices(CompanySize.values, weights=content.SIZE_WEIGHTS)[0],
                    country=country,
                    time_zone=rng.choice(zones),
                    owner=owner,
                    team=owner.team if rng.random() < 0.35 else None,
                    created_at=at_work_hours(rng, self.now - rng.randint(160, 420) * DAY),
                )
            )
        return companies

    def _contacts(self, companies: list[Company]) -> list[Contact]:
        rng = self.seeded.rng("contacts")
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
                        contact_id=self.seeded.uuid(),
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
        rng = self.seeded.rng("strategies")
        result = []
        for spec in content.STRATEGIES:
            created = at_work_hours(rng, self.now - rng.randint(180, 240) * DAY)
            strategy = ContactStrategy(
                strategy_id=self.seeded.uuid(),
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
            result.append((strategy, steps_of(self.seeded, strategy, spec.steps)))
        return result

    def _mark_other_contacts(self, contacts: list[Contact], plans: list) -> None:
        """Opt out and bounce some contacts that no plan targets, so lists show every state."""
        rng = self.seeded.rng("contact-states")
        planned = {p.contact.pk for p in plans if p.contact}
        free = [c for c in contacts if c.pk not in planned]
        for index, contact in enumerate(rng.sample(free, min(20, len(free)))):
            if index < 12:
                elapsed = (self.now - contact.created_at) * rng.uniform(0.3, 0.95)
                contact.opted_out = True
                contact.opted_out_at = (contact.created_at + elapsed).replace(microsecond=0)
            else:
                contact.email_status = EmailStatus.BOUNCED

    def _standalone_activities(self, contacts: list[Contact], history: PlanHistory):
        """Touches outside any plan: calls, meetings, notes, replies. A reply (or anything else
        that would end or pause plans) comes from a contact whose reply moves no plan."""
        rng = self.seeded.rng("standalone")
        reachable = [
            c for c in contacts if not c.opted_out and c.email_status != EmailStatus.BOUNCED
        ]
        quiet = history.quiet_contacts(reachable)
        activities = []
        for _ in range(STANDALONE_ACTIVITY_COUNT):
            kind, direction, outcomes, subject, text = rng.choice(content.STANDALONE)
            moves_plans = any(outcome in PLAN_MOVING_OUTCOMES for outcome, _ in outcomes)
            contact = rng.choice(quiet if moves_plans else reachable)
            names = {"first": contact.first_name, "company": contact.company.name}
            activities.append(
                self.seeded.activity(
                    rng,
                    company=contact.company,
                    contact=contact,
                    user=contact.owner,
                    activity_type=kind,
                    direction=direction,
                    outcome=weighted(rng, outcomes),
                    occurred_at=at_work_hours(rng, self.now - rng.randint(1, 120) * DAY),
                    subject=subject.format(**names),
                    description=text.format(**names),
                )
            )
        return activities

    def _personal_reminders(self, activities: list[Activity]) -> list[Reminder]:
        """A few personal reminders outside any plan, about meetings."""
        rng = self.seeded.rng("reminders")
        reminders = []
        meetings = [
            a for a in activities if a.activity_type == ActivityType.MEETING and a.plan is None
        ]
        picked = rng.sample(meetings, min(len(content.PERSONAL_REMINDER_STATUSES), len(meetings)))
        for status, meeting in zip(content.PERSONAL_REMINDER_STATUSES, picked, strict=False):
            days = -2 if status == ReminderStatus.DISMISSED else rng.randint(1, 4)
            reminders.append(
                Reminder(
                    reminder_id=self.seeded.uuid(),
                    user=meeting.user,
                    activity=meeting,
                    remind_at=at_work_hours(rng, self.now + days * DAY),
                    message=f"Send the meeting notes to {meeting.contact.full_name}",
                    status=status,
                    created_at=meeting.occurred_at,
                )
            )
        return reminders
