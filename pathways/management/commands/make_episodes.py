"""Realistic synthetic episodes, of any size: into a pathway, or into a CSV file to upload.

manage.py make_episodes --pathway 3 --episodes 40000 --days 365
manage.py make_episodes --csv /tmp/episodes.csv --episodes 1000000 --days 1825 --steps 2
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pathways import services, synthetic
from pathways.models import Pathway


class Command(BaseCommand):
    help = "Make synthetic pseudonymised episodes, into a pathway or a CSV file."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--pathway", type=int, help="the pathway's id")
        target.add_argument("--csv", type=Path, help="a CSV file to write")
        parser.add_argument("--episodes", type=int, default=10_000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--stay-hours", type=float, default=72.0, help="median stay")
        parser.add_argument("--steps", type=int, default=2, help="steps, for --csv")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--force", action="store_true", help="add to a pathway that already has episodes"
        )

    def handle(self, *args, **options):
        if options["episodes"] < 1 or options["days"] < 1:
            raise CommandError("--episodes and --days must be at least 1")
        pathway = None
        if options["pathway"]:
            pathway = Pathway.objects.filter(pk=options["pathway"]).first()
            if pathway is None:
                raise CommandError(f"No pathway with the id {options['pathway']}")
            if pathway.episodes.exists() and not options["force"]:
                raise CommandError(
                    f"“{pathway.name}” already holds episodes: synthetic ones would mix with "
                    "them. Use --force if that is what you want"
                )
            steps = [(s.code, 6.0 * (i + 1)) for i, s in enumerate(pathway.steps.all())]
        else:
            steps = [(f"step_{i + 1}", 6.0 * (i + 1)) for i in range(options["steps"])]
        shape = synthetic.Shape(median_stay_hours=options["stay_hours"], steps=steps)
        data = synthetic.columns(
            options["episodes"], end=timezone.now(), days=options["days"], shape=shape,
            seed=options["seed"],
        )  # fmt: skip
        if pathway is not None:
            count = services.load_synthetic(pathway=pathway, data=data)
            self.stdout.write(f"{count:,} episodes stored in “{pathway.name}”.")
        else:
            count = synthetic.write_csv(data, options["csv"])
            self.stdout.write(f"{count:,} episodes written to {options['csv']}.")
