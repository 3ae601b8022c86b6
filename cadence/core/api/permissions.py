from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated


class CanModifyObject(IsAuthenticated):
    """Reading is decided by the view's queryset (an object you may not see is a 404); changing
    a visible object asks the view's ``can_modify(user, obj)``.

    It replaces the default ``IsAuthenticated``, so it must still demand a signed-in user: the
    scoping selectors need a real user, and an anonymous request is a 401.
    """

    message = "You may see this object but not change it."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        can_modify = getattr(view, "can_modify", None)
        return can_modify is None or can_modify(request.user, obj)


class IsAdminRole(BasePermission):
    """Admins (role admin, or Django superusers) only."""

    message = "Only admins may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_admin)
