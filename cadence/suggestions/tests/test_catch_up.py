"""The time rules catch up: each scheduler pass covers everything since the previous finished
one (its watermark), and an email logged days after it was sent is considered when it is
logged; neither makes a suggestion that would already be past its expiry (14 days).

Each test's clock starts at the real time, since activities are stamped with it when logged,
and moves by passing ``now`` to the pass.
"""

import datetime

import pytest
from django.utils import timezone

from cadence.activities.choices import ActivityType, Outcome
from cadence.activities.models import Activity
from cadence.crm.tests.factories import ContactFactory
from cadence.plans import services as plan_services
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory
from cadence.suggestions.choices import SuggestionKind
from cadence.suggestions.models import RuleWatermark, Suggestion, SuggestionRule
from cadence.suggestions.services import suggestions_generate_due

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
#: The default threshold of "email without a reply".
THRESHOLD = 3 * DAY


def email_sent(rep, *, at):
    """An email to a new contact of the rep, logged now, sent at ``at``."""
    return plan_services.activity_log(
        actor=rep,
        contact=ContactFactory(company__owner=rep),
        activity_type=ActivityType.EMAIL,
        outcome=Outcome.SENT,
        occurred_at=at,
    )


def covered_until():
    return RuleWatermark.objects.get(kind=SuggestionKind.EMAIL_NO_REPLY).covered_until


def made_for(*emails):
    """The email-no-reply suggestions' due times, by triggering email."""
    return dict(
        Suggestion.objects.filter(
            kind=SuggestionKind.EMAIL_NO_REPLY, trigger_activity__in=emails
        ).values_list("trigger_activity_id", "due_at")
    )


def test_a_pass_after_a_three_day_outage_makes_every_suggestion_it_missed_once(rep):
    """Emails whose silence came due on each day the scheduler was down, and a paused plan that
    went quiet meanwhile, each get their suggestion at the first pass after it, and only
    there."""
    start = timezone.now()
    emails = [email_sent(rep, at=start - THRESHOLD + hours * HOUR) for hours in (12, 36, 60)]
    strategy = ContactStrategyFactory()
    StrategyStepFactory(strategy=strategy, step_number=1)
    plan = plan_services.plan_pause(
        plan=LeadContactPlanFactory(
            contact=ContactFactory(company__owner=rep), strategy=strategy, user=rep
        ),
        # Quiet for the rule's 14 days one day into the outage.
        now=start - 13 * DAY,
    )
    # The last pass before the outage, once the emails' logging is well past: nothing is due.
    before = start + 2 * HOUR
    assert suggestions_generate_due(now=before) == 0

    after = before + 3 * DAY
    assert suggestions_generate_due(now=after) == 4
    assert made_for(*emails) == {email.pk: email.occurred_at + THRESHOLD for email in emails}
    assert Suggestion.objects.get(kind=SuggestionKind.PAUSED_STALE).plan == plan
    assert suggestions_generate_due(now=after + datetime.timedelta(minutes=1)) == 0
    assert suggestions_generate_due(now=after + 2 * HOUR) == 0
    assert Suggestion.objects.count() == 4


def test_a_pass_after_a_long_outage_makes_nothing_past_its_expiry(rep):
    """After 15 days down, the email whose silence came due 15 days ago gets no suggestion; the
    one due 13 days ago does."""
    start = timezone.now()
    expired = email_sent(rep, at=start - THRESHOLD + 12 * HOUR)
    fresh = email_sent(rep, at=start - 12 * HOUR)
    before = start + 2 * HOUR
    assert suggestions_generate_due(now=before) == 0

    after = start + 15 * DAY + 12 * HOUR
    assert suggestions_generate_due(now=after) == 1
    assert made_for(expired, fresh) == {fresh.pk: fresh.occurred_at + THRESHOLD}


def test_a_back_filled_email_gets_its_suggestion_at_the_next_pass(rep):
    """An email logged six days after it was sent (three past the rule's threshold) gets its
    suggestion at the next pass, once; one sent 20 days before (17 past) would be expired and
    gets none."""
    assert suggestions_generate_due(now=timezone.now()) == 0
    now = timezone.now()
    late = email_sent(rep, at=now - 6 * DAY)
    too_late = email_sent(rep, at=now - 20 * DAY)

    assert suggestions_generate_due(now=timezone.now()) == 1
    assert made_for(late, too_late) == {late.pk: late.occurred_at + THRESHOLD}
    assert suggestions_generate_due(now=timezone.now()) == 0
    assert suggestions_generate_due(now=timezone.now() + 2 * HOUR) == 0
    assert Suggestion.objects.count() == 1


def test_an_email_stamped_before_a_pass_but_committed_after_it_is_not_missed(rep):
    """An import stamps its rows when it builds them and commits later, after a pass has moved
    past the stamp; the next pass still finds them."""
    watermark = timezone.now()
    assert suggestions_generate_due(now=watermark) == 0
    contact = ContactFactory(company__owner=rep)
    email = Activity.objects.create(
        company=contact.company,
        contact=contact,
        user=rep,
        activity_type=ActivityType.EMAIL,
        outcome=Outcome.SENT,
        occurred_at=watermark - 5 * DAY,
        created_at=watermark - datetime.timedelta(minutes=10),
    )
    assert suggestions_generate_due(now=timezone.now()) == 1
    assert made_for(email) == {email.pk: email.occurred_at + THRESHOLD}


def test_a_failed_pass_leaves_the_watermark_and_the_next_one_makes_up_for_it(rep):
    """A pass that fails covers nothing: the watermark stays where the last finished pass left
    it, and the next finished pass makes what came due meanwhile. (A threshold stored as text,
    past the checks of the API and the admin, breaks the pass for real.)"""
    start = timezone.now()
    email = email_sent(rep, at=start - THRESHOLD + 12 * HOUR)
    before = start + 2 * HOUR
    suggestions_generate_due(now=before)
    assert covered_until() == before

    rule = SuggestionRule.objects.create(
        team=rep.team, kind=SuggestionKind.EMAIL_NO_REPLY, params={"days": "three"}
    )
    with pytest.raises(TypeError):
        suggestions_generate_due(now=start + DAY)
    assert covered_until() == before

    rule.delete()
    after = start + 2 * DAY
    assert suggestions_generate_due(now=after) == 1
    assert made_for(email) == {email.pk: email.occurred_at + THRESHOLD}
    assert covered_until() == after


def test_the_watermark_only_moves_forward(rep):
    """A pass that started before the last finished one (a slow worker, a clock behind) leaves
    the later watermark in place."""
    now = timezone.now()
    suggestions_generate_due(now=now)
    assert covered_until() == now
    suggestions_generate_due(now=now - HOUR)
    assert covered_until() == now
    suggestions_generate_due(now=now + HOUR)
    assert covered_until() == now + HOUR
    assert RuleWatermark.objects.count() == 1
