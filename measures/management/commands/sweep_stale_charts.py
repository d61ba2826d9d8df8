from django.core.management.base import BaseCommand

from measures.services import enqueue_stale_charts


class Command(BaseCommand):
    help = "Enqueue a recompute for every chart older than its data (for cron, without beat)."

    def handle(self, *args, **options):
        sent = enqueue_stale_charts()
        self.stdout.write(f"{sent} stale chart(s) sent for recompute.")
