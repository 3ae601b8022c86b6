"""Admin for users and teams: Django's user admin plus the profile Cadence keeps on the user."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from cadence.accounts import services
from cadence.accounts.forms import AdminLoginForm, UserAdminChangeForm, UserAdminCreationForm
from cadence.accounts.models import Team, User

TIMESTAMPS = ("created_at", "updated_at")

# The admin's sign-in page says when the sign-in throttle refuses an attempt (the refusal
# itself is the authentication backend's, on every door).
admin.site.login_form = AdminLoginForm


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "member_count", "created_at")
    search_fields = ("name", "description")
    readonly_fields = TIMESTAMPS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        # One grouped query instead of a COUNT per row.
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, with the profile fields (role, team, time zone, working day).

    An email address already another user's is refused, as in the API. Deactivating a user
    here revokes their API token, as ``user_deactivate`` does; a password set on the password
    page revokes it through ``RevokeApiTokenOnPasswordChange``."""

    form = UserAdminChangeForm
    add_form = UserAdminCreationForm

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "display_name", "email")}),
        ("Cadence", {"fields": ("role", "team")}),
        (
            "Working hours",
            {"fields": ("time_zone", "country", ("work_day_start", "work_day_end"))},
        ),
        ("Signature", {"fields": ("signature",)}),
        (
            "Permissions",
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "classes": ("collapse",),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined", *TIMESTAMPS)}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        ("Cadence", {"fields": ("email", "display_name", "role", "team", "time_zone")}),
    )
    list_display = ("username", "display_name", "email", "role", "team", "is_active", "is_staff")
    list_filter = ("role", "team", "is_active", "is_staff", "is_superuser")
    list_select_related = ("team",)
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    autocomplete_fields = ("team",)
    readonly_fields = ("last_login", "date_joined", *TIMESTAMPS)

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.api_token_revoke(user=obj)
