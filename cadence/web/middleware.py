from django.utils import timezone

from cadence.scheduling.zones import resolve_zone


def user_time_zone(get_response):
    """Show times in the signed-in user's time zone on every page (they are stored in UTC). The
    API keeps answering in UTC whoever asks, so its output does not depend on the caller."""

    def middleware(request):
        user = getattr(request, "user", None)
        page = not request.path.startswith("/api/")
        if page and user is not None and user.is_authenticated:
            timezone.activate(resolve_zone(user.time_zone))
        else:
            timezone.deactivate()
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware
