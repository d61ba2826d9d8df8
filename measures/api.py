"""The measures API, for data systems: one endpoint per operation, each through the same
access helpers and services as the pages."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from fca.access import get_measure_for_api, measures_for_api
from fca.api_schema import page_of, paginated, responses
from measures import services
from measures.models import Measure

MAX_BATCH = 5000


class LatestSerializer(serializers.Serializer):
    period = serializers.DateField()
    value = serializers.FloatField(allow_null=True)


class ChartSerializer(serializers.Serializer):
    current = serializers.BooleanField(help_text="Drawn from the measure's latest data")
    summary = serializers.CharField(allow_null=True)
    variation_icon = serializers.CharField(allow_null=True)
    assurance_icon = serializers.CharField(allow_null=True)
    latest = LatestSerializer(allow_null=True)


class MeasureSerializer(serializers.ModelSerializer):
    room = serializers.CharField(source="room.name", default=None, allow_null=True)
    pathway = serializers.CharField(source="pathway.name", default=None, allow_null=True)
    chart = serializers.SerializerMethodField()

    class Meta:
        model = Measure
        fields = [
            "id", "name", "room", "pathway", "kind", "shape", "unit", "frequency", "improvement",
            "target", "chart_type", "data_version", "chart",
        ]  # fmt: skip

    @extend_schema_field(ChartSerializer(allow_null=True))
    def get_chart(self, measure):
        chart = getattr(measure, "chart", None)
        if chart is None:
            return None
        result = chart.result
        latest = result.get("points", [])[-1:] or [None]
        return {
            "current": chart.is_current_for(measure),
            "summary": result.get("summary"),
            "variation_icon": result.get("variation_icon") if result.get("icons_ready") else None,
            "assurance_icon": result.get("assurance_icon") if result.get("icons_ready") else None,
            "latest": latest[0] and {"period": latest[0]["period"], "value": latest[0]["value"]},
        }


class PointSerializer(serializers.Serializer):
    period = serializers.DateField(input_formats=["iso-8601"])
    value = serializers.FloatField(required=False)
    numerator = serializers.FloatField(required=False)
    denominator = serializers.FloatField(required=False)


class StoredPointSerializer(PointSerializer):
    value = serializers.FloatField(allow_null=True)
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    provisional = serializers.BooleanField(
        help_text="A flow measure's unfinished or data-lag week, which rules and icons ignore"
    )


class CountsSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class UpsertSerializer(serializers.Serializer):
    points = PointSerializer(many=True, allow_empty=False, max_length=MAX_BATCH)


# The measure endpoints are the ones a room's data feed token may use: each checks the
# token's room through the access helpers.
FEED_TOKENS_ALLOWED = [IsAuthenticated]


@extend_schema(
    summary="List the measures you can see",
    responses=responses({200: page_of(MeasureSerializer, "Measure")}, 403),
    tags=["measures"],
)
@api_view(["GET"])
@permission_classes(FEED_TOKENS_ALLOWED)
def measure_list(request):
    """The measures you can see, a page at a time."""
    measures = (
        measures_for_api(request)
        .select_related("room", "chart")
        .defer("chart__figure")
        .order_by("pk")
    )
    return paginated(request, measures, MeasureSerializer)


@extend_schema(
    summary="A measure, with its chart's latest figure and icons",
    responses=responses({200: MeasureSerializer}, 403),
    tags=["measures"],
)
@api_view(["GET"])
@permission_classes(FEED_TOKENS_ALLOWED)
def measure_detail(request, measure_id: int):
    measure = get_measure_for_api(request, measure_id)
    return Response(MeasureSerializer(measure).data)


@extend_schema(
    summary="A measure's data points, oldest first",
    responses=responses({200: page_of(StoredPointSerializer, "Point")}, 403),
    tags=["measures"],
)
@api_view(["GET"])
@permission_classes(FEED_TOKENS_ALLOWED)
def point_list(request, measure_id: int):
    """A measure's data points, oldest first, a page at a time."""
    measure = get_measure_for_api(request, measure_id)
    # provisional: a flow measure's unfinished or data-lag week, which rules and icons ignore
    points = measure.points.order_by("period").values(
        "period", "value", "numerator", "denominator", "provisional"
    )
    return paginated(request, points)


@extend_schema(
    summary="Add or replace many periods' values at once",
    request=UpsertSerializer,
    responses=responses({200: CountsSerializer}, 400, 403),
    tags=["measures"],
)
@api_view(["POST"])
@permission_classes(FEED_TOKENS_ALLOWED)
def point_upsert(request, measure_id: int):
    """Add or replace the values of many periods at once: all saved, or none.

    Sending the same batch again changes nothing."""
    measure = get_measure_for_api(request, measure_id, write=True)
    batch = UpsertSerializer(data=request.data)
    batch.is_valid(raise_exception=True)
    rows, problems = [], []
    fields = ["value"] if measure.numbers_per_period == 1 else ["numerator", "denominator"]
    for index, point in enumerate(batch.validated_data["points"], start=1):
        missing = [name for name in fields if point.get(name) is None]
        if missing:
            problems.append(f"Point {index}: give {' and '.join(missing)}")
            continue
        rows.append((f"Point {index}", point["period"], tuple(point[f] for f in fields)))
    try:
        if problems:
            raise services.DataError(problems)
        counts = services.save_data_points(measure=measure, rows=rows)
    except services.DataError as error:
        return Response({"problems": error.problems}, status=status.HTTP_400_BAD_REQUEST)
    return Response(counts)
