from cadence.notifications.models import Notification

#: The main navigation: (label, path, the first path segment that marks it current).
NAVIGATION = [
    ("Dashboard", "/", ""),
    ("Plans", "/plans/", "plans"),
    ("Strategies", "/strategies/", "strategies"),
    ("Contacts", "/contacts/", "contacts"),
    ("Companies", "/companies/", "companies"),
    ("Suggestions", "/suggestions/", "suggestions"),
    ("Recommendations", "/recommendations/", "recommendations"),
    ("Analytics", "/analytics/", "analytics"),
    ("Outbox", "/outbox/", "outbox"),
    ("Suppressions", "/suppressions/", "suppressions"),
]


def navigation(request) -> dict:
    """The navigation and the unread-notification count every page's header shows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    section = request.path.strip("/").split("/", 1)[0]
    return {
        "navigation": [
            {"label": label, "path": path, "current": section == key}
            for label, path, key in NAVIGATION
        ],
        "unread_count": Notification.objects.filter(user=user, read_at__isnull=True).count(),
    }
