from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fca import twofactor
from fca.demo import DEMO_PASSWORD, demo_sign_ins, load_demo


class Command(BaseCommand):
    help = "Load the demo organisations, people, big rooms and measures (never in production)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("The demo is for trying the app: it refuses production settings.")
        load_demo()
        self.stdout.write(self.style.SUCCESS("Demo loaded. Sign in with any of these:"))
        for role, email, organisation in demo_sign_ins():
            self.stdout.write(f"  {role:<14} {email:<28} {organisation}")
        self.stdout.write(f"  password for all: {DEMO_PASSWORD}")
        self.stdout.write(
            "  QI leads and the academy admin also enter a two-factor code: add the key "
            f"{twofactor.grouped(twofactor.DEMO_SECRET)} to an authenticator app, or run "
            "`manage.py demo_code` for the code of the moment"
        )
