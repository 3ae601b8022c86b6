"""What the demo data set is made of: its people, word lists and cadences.

Kept apart from the builder in ``cadence.ops.demo`` so the prose can be edited without reading
the code that places it in time.
"""

import datetime
from typing import NamedTuple

from cadence.accounts.choices import Role
from cadence.activities.choices import ActivityType, Direction, Outcome, ReminderStatus
from cadence.plans.choices import ExitReason, PlanStatus

POSTAL_ADDRESS = "Cadence Demo Co., 1 Market Street, Springfield, 12345"
USER_DOMAIN = "cadence-demo.example"

E, C = ActivityType.EMAIL, ActivityType.CALL
LC, LM = ActivityType.LINKEDIN_CONNECT, ActivityType.LINKEDIN_MESSAGE
M, T, SMS = ActivityType.MEETING, ActivityType.TASK, ActivityType.SMS
OUT, IN = Direction.OUTBOUND, Direction.INBOUND

# username, first name, last name, role, team, job title, country, time zone
USERS = (
    ("admin", "Alex", "Morgan", Role.ADMIN, None, "Sales Operations", "US", "America/New_York"),
    ("olivia", "Olivia", "Bennett", Role.MANAGER, "North", "Sales Manager", "GB", "Europe/London"),
    ("lukas", "Lukas", "Weber", Role.REP, "North", "Account Executive", "DE", "Europe/Berlin"),
    ("freja", "Freja", "Lindqvist", Role.REP, "North", "SDR", "SE", "Europe/Stockholm"),
    ("mateo", "Mateo", "Garcia", Role.MANAGER, "South", "Sales Manager", "ES", "Europe/Madrid"),
    ("giulia", "Giulia", "Romano", Role.REP, "South", "Account Executive", "IT", "Europe/Rome"),
)
# The rep whose login the loader prints first: a newcomer signs in as them and finds work on the
# dashboard (demo_plans gives them a plan overdue and one due today, on their own calendar).
FEATURED_REP = "lukas"
TEAMS = {"North": "UK, DACH and the Nordics.", "South": "Southern Europe and the Americas."}

# fmt: off
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Sophie", "Lucas", "Emma", "Noah", "Mia", "Elias",
    "Hannah", "Leon", "Chloe", "Hugo", "Ines", "Pablo", "Lucia", "Marco", "Chiara", "Jan", "Anna",
    "Pieter", "Sanne", "Erik", "Ingrid", "Aarav", "Priya", "Kenji", "Yuki", "Olu", "Amara",
    "Liam", "Zoe", "Ethan", "Ava", "Omar", "Layla", "Mateus", "Camila", "Daniel", "Grace",
    "Samuel", "Nora", "Felix", "Clara",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Clark", "Lewis", "Walker", "Hall", "Young", "King",
    "Wright", "Müller", "Schmidt", "Fischer", "Wagner", "Becker", "Dubois", "Laurent", "Moreau",
    "Rossi", "Ferrari", "Esposito", "Bianchi", "Fernández", "López", "Martínez", "Jansen",
    "de Vries", "Bakker", "Andersson", "Nilsson", "Larsen", "Sharma", "Patel", "Tanaka", "Sato",
    "Okafor", "Mensah", "Silva", "Costa", "O'Brien", "Murphy", "Kelly", "Novak", "Kowalski",
)
TITLES = (
    "CEO", "CTO", "CFO", "COO", "VP of Sales", "VP of Marketing", "VP of Engineering",
    "Head of Operations", "Head of Procurement", "Director of IT", "IT Manager",
    "Marketing Manager", "Operations Manager", "Procurement Lead", "Sales Director",
    "Product Manager", "Head of Growth", "Finance Director", "HR Director", "Office Manager",
)
COMPANY_WORDS = (
    "Acme", "Apex", "Arbor", "Atlas", "Aurora", "Beacon", "Birch", "Bluestone", "Bright",
    "Cedar", "Clearwater", "Cobalt", "Copper", "Crescent", "Crest", "Delta", "Ember",
    "Evergreen", "Falcon", "Fjord", "Granite", "Greenfield", "Harbor", "Helix", "Horizon",
    "Ironwood", "Juniper", "Keystone", "Lakeside", "Lumen", "Maple", "Meridian", "Nimbus",
    "Northwind", "Oakridge", "Orbit", "Pinnacle", "Polar", "Prairie", "Quartz", "Redwood",
    "Riverbend", "Sequoia", "Silverline", "Summit", "Sunrise", "Tidewater", "Trident", "Vantage",
    "Vertex", "Willow", "Zenith",
)
# fmt: on
INDUSTRY_WORDS = {
    "Technology": ("Analytics", "Software", "Cloud", "Systems", "Labs", "Data"),
    "Healthcare": ("Health", "Medical", "Care", "Diagnostics", "Clinics"),
    "Financial Services": ("Capital", "Finance", "Partners", "Insurance", "Payments"),
    "Manufacturing": ("Manufacturing", "Industries", "Components", "Fabrication", "Tooling"),
    "Retail": ("Retail", "Outfitters", "Market", "Goods", "Stores"),
    "Education": ("Learning", "Academy", "Education", "Tutoring"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport", "Supply"),
    "Energy": ("Energy", "Power", "Solar", "Renewables", "Grid"),
}
# country, time zones, legal form, weight
REGIONS = (
    ("US", ("America/New_York", "America/Chicago", "America/Los_Angeles"), "Inc.", 30),
    ("CA", ("America/Toronto", "America/Vancouver"), "Inc.", 5),
    ("GB", ("Europe/London",), "Ltd", 15),
    ("DE", ("Europe/Berlin",), "GmbH", 12),
    ("FR", ("Europe/Paris",), "SAS", 8),
    ("NL", ("Europe/Amsterdam",), "B.V.", 6),
    ("SE", ("Europe/Stockholm",), "AB", 5),
    ("ES", ("Europe/Madrid",), "S.L.", 6),
    ("IT", ("Europe/Rome",), "S.r.l.", 6),
    ("AU", ("Australia/Sydney",), "Pty Ltd", 4),
    ("IN", ("Asia/Kolkata",), "Pvt Ltd", 3),
)
SIZE_WEIGHTS = (8, 20, 25, 18, 12, 10, 7)  # in the order of CompanySize


class Step(NamedTuple):
    """One step of a demo strategy (``delay`` in days, ``kind`` an ActivityType)."""

    delay: int
    kind: str
    subject: str
    body: str
    automated: bool = False


class Strategy(NamedTuple):
    """A demo template strategy and the settings it is created with."""

    name: str
    description: str
    creator: str
    weight: int  # how often new plans pick it
    steps: tuple[Step, ...]
    settings: dict = {}
    approved: bool = False  # its automated steps were approved by the creator
    archived: bool = False


def _email(text: str) -> str:
    """An email body: greeting, ``text`` and the sender's signature."""
    return (
        f'Hi {{{{ contact.first_name | default("there") }}}},\n\n{text}\n\n{{{{ user.signature }}}}'
    )


FIRST = "{{ contact.first_name }}"
COMPANY = "{{ company.name }}"
STRATEGIES = (
    Strategy(
        "New Logo Outbound",
        "Seven touches over three weeks for cold accounts: email, LinkedIn and phone.",
        "olivia",
        35,
        (
            Step(
                0,
                E,
                f"Quick question about {COMPANY}",
                _email(
                    f"Teams like {COMPANY} lose deals when follow-ups slip. Worth 20 minutes next "
                    "week to see how others fix that?"
                ),
                automated=True,
            ),
            Step(2, LC, f"Connect with {FIRST}", f"Short note that mentions {COMPANY}."),
            Step(
                2,
                C,
                f"Intro call: {FIRST} {{{{ contact.last_name }}}}",
                f"Refer to the email. Ask how {COMPANY} tracks follow-ups today.",
            ),
            Step(
                3,
                E,
                f"Re: Quick question about {COMPANY}",
                _email("Bumping this up in case it got buried. A two-page summary is attached."),
                automated=True,
            ),
            Step(2, LM, f"Case study for {COMPANY}", "Share a peer's case study, same industry."),
            Step(4, C, f"Second call: {FIRST}", "Leave a voicemail; mention the case study."),
            Step(
                5,
                E,
                f"Should I close your file, {FIRST}?",
                _email(
                    "I have not heard back, so I will assume the timing is wrong. Reply any time."
                ),
            ),
        ),
        settings={
            "uses_business_days": True,
            "send_window_start": datetime.time(8),
            "send_window_end": datetime.time(17),
            # Cold outreach to an account: once anyone there answers, the others wait.
            "pause_company_on_reply": True,
        },
        approved=True,
    ),
    Strategy(
        "Inbound Lead Fast Follow-up",
        "For demo requests and trial sign-ups: call within the hour, then keep it warm.",
        "mateo",
        20,
        (
            Step(0, C, f"Call {FIRST} about the demo request", "Team size, tool, timeline."),
            Step(
                0,
                E,
                f"Thanks for your interest, {FIRST}",
                _email(f"Thanks for asking about Cadence for {COMPANY}. Here is my calendar link."),
            ),
            Step(1, C, f"Follow-up call: {FIRST}", "Book the demo if not done yet."),
            Step(
                3,
                E,
                f"Resources for {COMPANY}",
                _email("A few guides your team might find useful before we talk."),
            ),
        ),
    ),
    Strategy(
        "Event Follow-up",
        "After a trade show or webinar: short, friendly, within a week.",
        "mateo",
        15,
        (
            Step(
                1,
                E,
                f"Great meeting you, {FIRST}",
                _email(f"Good to meet you at the event. Would a short call about {COMPANY} help?"),
            ),
            Step(2, LC, f"Connect with {FIRST} after the event", "Mention the event."),
            Step(3, C, f"Call {FIRST} at {COMPANY}", "Ask what stood out at the event."),
        ),
        settings={"cooldown_days": 30},  # one event's follow-up a month is plenty
    ),
    Strategy(
        "Enterprise Multi-thread",
        "Eight steps across the buying committee of large accounts.",
        "olivia",
        15,
        (
            Step(0, T, f"Map the buying committee at {COMPANY}", "Buyer, champion, IT."),
            Step(
                1,
                E,
                f"{COMPANY} and outreach at scale",
                _email("We help enterprise teams run consistent cadences across regions."),
                automated=True,
            ),
            Step(2, LC, f"Connect with {FIRST}", "Personal note, no pitch."),
            Step(3, C, f"Discovery call: {FIRST}", "Pain, process, priorities."),
            Step(
                4,
                E,
                f"Notes for {COMPANY}",
                _email("A summary of what I heard and a proposed next step."),
            ),
            Step(3, LM, f"Check in with {FIRST}", "Share a relevant article."),
            Step(5, M, f"Workshop with {COMPANY}", "Goals, success criteria, rollout."),
            Step(7, E, f"Next steps for {COMPANY}", _email("Proposal and timeline attached.")),
        ),
    ),
    Strategy(
        "Win-back: Closed-Lost",
        "Re-open deals lost over the last year, slowly.",
        "mateo",
        15,
        (
            Step(
                0,
                E,
                f"What changed at {COMPANY}?",
                _email("It has been a while. Has anything changed in how you run outreach?"),
            ),
            Step(14, E, "New since we last spoke", _email("Three things we shipped for you.")),
            Step(7, C, f"Win-back call: {FIRST}", "Ask how the tool they chose is going."),
            Step(14, E, f"One last note, {FIRST}", _email("I will stop here. The door is open.")),
        ),
        settings={"exclusive": True},  # not for anyone another cadence is working on
    ),
    Strategy(
        "Spring Webinar Invite",
        "Invitations to the spring webinar; archived once it took place.",
        "olivia",
        10,
        (
            Step(0, E, "Invitation: outreach that converts", _email("Join our live session.")),
            Step(5, E, "Reminder: webinar next week", _email("Seats are filling up.")),
            Step(3, C, f"Invite {FIRST} by phone", "Personal invite."),
        ),
        archived=True,
    ),
)
CUSTOM_STEPS = (
    Step(0, C, f"Debrief the demo with {FIRST}", "What did the team think?"),
    Step(2, E, f"Recap for {COMPANY}", _email("Recap and pricing, as discussed.")),
    Step(5, M, f"Decision meeting with {COMPANY}", "Bring the rollout plan."),
)
STEP_OUTCOMES = {
    E: ((Outcome.SENT, 1),),
    C: ((Outcome.NO_ANSWER, 5), (Outcome.VOICEMAIL_LEFT, 4), (Outcome.CONNECTED, 2)),
    LC: ((Outcome.SENT, 3), (Outcome.COMPLETED, 1)),
    LM: ((Outcome.SENT, 1),),
    M: ((Outcome.COMPLETED, 4), (Outcome.NO_SHOW, 1)),
    T: ((Outcome.COMPLETED, 1),),
    SMS: ((Outcome.SENT, 1),),
}
EXIT_TEXT = {
    Outcome.REPLIED: (
        "Thanks for reaching out. Can you send more details on pricing?",
        "Not a priority this quarter, but let's talk in the autumn.",
        "Interesting. Who else on your side should I speak with?",
    ),
    Outcome.MEETING_BOOKED: ("Happy to talk; I booked Tuesday 10:00 through your link.",),
    Outcome.UNSUBSCRIBED: ("Please take me off your list.",),
}
# type, direction, outcomes, subject, description ({first} and {company} are filled in)
# fmt: off
STANDALONE = (
    (C, OUT, ((Outcome.CONNECTED, 2), (Outcome.NO_ANSWER, 3)), "Check-in call with {first}",
     "Quarterly check-in on {company}."),
    (C, IN, ((Outcome.CONNECTED, 1),), "Inbound call from {first}", "Called about the proposal."),
    (M, OUT, ((Outcome.COMPLETED, 4), (Outcome.NO_SHOW, 1)), "Discovery meeting with {company}",
     "Current process, pain points, next steps."),
    (E, IN, ((Outcome.REPLIED, 1),), "Question about pricing", "{first} asked for a quote."),
    (E, OUT, ((Outcome.SENT, 1),), "Proposal for {company}", "Proposal and case study sent."),
    (T, OUT, ((Outcome.COMPLETED, 1),), "Update account notes for {company}",
     "Org chart and buying committee logged."),
    (LM, IN, ((Outcome.REPLIED, 1),), "LinkedIn reply from {first}", "Open to a chat soon."),
    (SMS, OUT, ((Outcome.SENT, 1),), "Text to {first}", "Confirmed tomorrow's meeting time."),
)
# fmt: on

# Why plans that ended did so, with weights. Replies and booked meetings end a plan as Completed:
# it reached its goal early; Aborted is for plans that could not go on.
EXIT_MIX = {
    PlanStatus.COMPLETED: (
        (ExitReason.FINISHED, 6),
        (ExitReason.REPLIED, 2),
        (ExitReason.MEETING_BOOKED, 2),
    ),
    PlanStatus.ABORTED: (
        (ExitReason.BOUNCED, 2),
        (ExitReason.OPTED_OUT, 2),
        (ExitReason.MANUAL, 3),
    ),
}
PERSONAL_REMINDER_STATUSES = (
    ReminderStatus.PENDING,
    ReminderStatus.PENDING,
    ReminderStatus.SNOOZED,
    ReminderStatus.DISMISSED,
)
