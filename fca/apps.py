from django.apps import AppConfig


class FcaConfig(AppConfig):
    name = "fca"
    verbose_name = "FCA big rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The audit log listens for sign-ins, sign-outs, failures and lockouts.
        from fca import audit

        audit.connect()
        # Every sign-in, however it is made, starts the session's clock (SessionLimits).
        from django.contrib.auth import user_logged_in

        from fca.middleware import start_clock

        user_logged_in.connect(start_clock, dispatch_uid="session_clock")
