from django.apps import AppConfig


class FcaConfig(AppConfig):
    name = "fca"
    verbose_name = "FCA big rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The audit log listens for sign-ins, sign-outs, failures and lockouts.
        from fca import audit

        audit.connect()
