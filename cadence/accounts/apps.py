from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cadence.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from cadence.accounts.login_throttle import record_failed_login

        # The one hook every sign-in door shares: authenticate() sends it for each failure,
        # whether the page, the admin, the browsable API or the token endpoint asked.
        user_login_failed.connect(record_failed_login, dispatch_uid="cadence-login-throttle")
