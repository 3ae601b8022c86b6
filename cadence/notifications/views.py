"""The calendar feed that calendar apps subscribe to: no login, the token in the URL is the key."""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from cadence.notifications.selectors import calendar_feed_by_token
from cadence.notifications.services import calendar_render


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar document of the feed with this token; an unknown token is a 404."""
    feed = calendar_feed_by_token(token=token)
    if feed is None:
        raise Http404("No such calendar.")
    response = HttpResponse(
        calendar_render(feed=feed, now=timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="cadence.ics"'
    # Personal data behind a secret URL: shared caches must not keep it.
    response["Cache-Control"] = "private, max-age=300"
    return response
