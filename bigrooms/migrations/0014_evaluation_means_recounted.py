"""The weekly evaluation measure counted each score once per person there when a week
held two sessions (attendance and scores were joined in one query): its points are
recounted from the scores, and a measure whose points changed has its chart redrawn (its
data version raised, which the periodic sweep picks up)."""

from collections import defaultdict
from datetime import timedelta

from django.db import migrations
from django.db.models import F


def recount(apps, schema_editor):
    Evaluation = apps.get_model("bigrooms", "Evaluation")
    Measure = apps.get_model("measures", "Measure")
    DataPoint = apps.get_model("measures", "DataPoint")
    for measure in Measure.objects.filter(source="session_evaluation", room__isnull=False):
        weeks = defaultdict(list)
        scores = Evaluation.objects.filter(session__room_id=measure.room_id)
        for held_on, score in scores.values_list("session__held_on", "score"):
            weeks[held_on - timedelta(days=held_on.weekday())].append(score)
        changed = False
        for point in DataPoint.objects.filter(measure=measure, period__in=list(weeks)):
            mean = sum(weeks[point.period]) / len(weeks[point.period])
            if point.value != mean:
                point.value = mean
                point.save(update_fields=["value"])
                changed = True
        if changed:
            Measure.objects.filter(pk=measure.pk).update(data_version=F("data_version") + 1)


class Migration(migrations.Migration):
    dependencies = [
        ("bigrooms", "0013_learning_library"),
        ("measures", "0012_chart_icon_columns"),
    ]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop)]
