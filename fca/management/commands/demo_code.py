import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fca import twofactor


class Command(BaseCommand):
    help = "The demo's two-factor code of the moment, for its QI leads and academy admin."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("The demo's key is for trying the app: it refuses production.")
        step = twofactor.step_at()
        left = twofactor.STEP_SECONDS - int(time.time()) % twofactor.STEP_SECONDS
        self.stdout.write(
            f"{twofactor.code_at(twofactor.DEMO_SECRET, step)} (for {left} more seconds)"
        )
