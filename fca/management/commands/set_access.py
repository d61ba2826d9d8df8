"""What a service operator changes from the command line, each change in the audit log:

manage.py set_access alice@trust.nhs.uk --organisation RXN --role qi_lead
manage.py set_access ada@academy.nhs.uk --academy-admin yes
manage.py set_access bob@trust.nhs.uk --disable
"""

from django.core.management.base import BaseCommand, CommandError

from fca import accounts
from fca.models import User

OPERATOR = "command line (manage.py set_access)"


class Command(BaseCommand):
    help = "Give or take away an organisation role or the academy admin role; disable or enable an account (audited)"

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--organisation", help="ODS code or exact name")
        parser.add_argument("--role", help="qi_lead, viewer, staff or none")
        parser.add_argument("--academy-admin", choices=["yes", "no"])
        switch = parser.add_mutually_exclusive_group()
        switch.add_argument("--disable", action="store_true")
        switch.add_argument("--enable", action="store_true")

    def handle(self, email, organisation, role, academy_admin, disable, enable, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account has the email address {email}")
        if (organisation is None) != (role is None):
            raise CommandError("Give --organisation and --role together")
        if not any([organisation, academy_admin, disable, enable]):
            raise CommandError(
                "Say what to change: --organisation with --role, --academy-admin, --disable or --enable"
            )
        try:
            if organisation is not None:
                place = accounts.find_organisation(organisation)
                was = accounts.set_organisation_role(user=user, organisation=place, role=role,
                                                     by=OPERATOR)  # fmt: skip
                self.stdout.write(f"{user.email} at {place.name}: {was} → {role}")
            if academy_admin is not None:
                accounts.set_academy_admin(user=user, admin=academy_admin == "yes", by=OPERATOR)
                self.stdout.write(f"{user.email}: academy admin {academy_admin}")
            if disable or enable:
                accounts.set_active(user=user, active=enable, by=OPERATOR)
                self.stdout.write(f"{user.email}: {'enabled' if enable else 'disabled'}")
        except accounts.AccessChangeError as error:
            raise CommandError(str(error)) from None
