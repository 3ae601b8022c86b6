from cadence.notifications.models import Notification

#: The main navigation: (label, path, the first path segments that mark it current). Pages
#: reached from another (recommendations from suggestions, suppressions from the outbox) mark
#: their parent, which keeps the header on one line at desktop widths.
NAVIGATION = [
    ("Dashboard", "/", ("",)),
    ("Plans", "/plans/", ("plans",)),
    ("Strategies", "/strategies/", ("strategies",)),
    ("Contacts", "/contacts/", ("contacts",)),
    ("Companies", "/companies/", ("companies",)),
    ("Suggestions", "/suggestions/", ("suggestions", "recommendations")),
    ("Analytics", "/analytics/", ("analytics",)),
    ("Outbox", "/outbox/", ("outbox", "suppressions")),
]


def navigation(request) -> dict:
    """The navigation and the unread-notification count every page's header shows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    section = request.path.strip("/").split("/", 1)[0]
    return {
        "navigation": [
            {"label": label, "path": path, "current": section in keys}
            for label, path, keys in NAVIGATION
        ],
        "unread_count": Notification.objects.filter(user=user, read_at__isnull=True).count(),
    }
