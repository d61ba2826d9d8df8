"""The pathways API, for data warehouses: send a file of episodes (streamed to disk, as a
multipart upload), and follow it through its check and load."""

from django.conf import settings
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from fca.access import (
    get_episode_upload_for_api,
    get_pathway_for_api,
    get_pathway_for_user,
)
from fca.api_schema import page_of, paginated, responses
from fca.numbers import sizes_apart
from measures.api import MeasureSerializer
from measures.models import Measure
from pathways import episodes, services
from pathways.models import EpisodeUpload, Pathway, Step


class SendSerializer(serializers.Serializer):
    file = serializers.FileField()

    def validate_file(self, file):
        limit = settings.FCA_MAX_EPISODE_FILE_MB
        if file.size > limit * 1_000_000:
            words, most = sizes_apart(file.size, limit * 1_000_000)
            raise serializers.ValidationError(f"The file is {words}: the most is {most}")
        return file

    load = serializers.ChoiceField(
        choices=["", "all", "valid"], required=False, default="",
        help_text="Load it once checked: all (only if it has no problems) or the valid rows; "
        "empty leaves it for a person to look at",
    )  # fmt: skip


class UploadSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    rows = serializers.IntegerField(source="report.rows", default=None, allow_null=True)
    valid = serializers.IntegerField(source="report.valid", default=None, allow_null=True)
    problem_count = serializers.IntegerField(
        source="report.problem_count", default=None, allow_null=True
    )
    problems = serializers.ListField(source="report.problems", default=list)
    date_warning = serializers.SerializerMethodField()

    class Meta:
        model = EpisodeUpload
        fields = ["id", "url", "filename", "status", "reason", "rows", "valid", "problem_count",
                  "problems", "date_warning", "added", "updated", "created_at"]  # fmt: skip

    def get_date_warning(self, upload) -> str | None:
        """Set when every time was written day first and none says whether the file was
        really written month first (no day over 12): check before trusting the months."""
        return episodes.swapped_warning((upload.report or {}).get("swappable_time")) or None

    def get_url(self, upload) -> str:
        return reverse("api_episode_upload", args=[upload.pk], request=self.context["request"])


@extend_schema(
    summary="Send a file of a pathway's episodes",
    request={"multipart/form-data": SendSerializer},
    responses=responses({202: UploadSerializer}, 400, 403),
    tags=["pathways"],
)
@api_view(["POST"])
@parser_classes([MultiPartParser])
@permission_classes([IsAuthenticated])  # a pathway's feed token may use it
def send_episodes(request, pathway_id: int):
    """Send a CSV or .xlsx file of episodes. It is checked by the worker; follow `url`."""
    pathway = get_pathway_for_api(request, pathway_id)
    data = SendSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    upload = services.receive_upload(
        pathway=pathway, file=data.validated_data["file"], by=request.user, via_api=True,
        auto_load=data.validated_data["load"],
    )  # fmt: skip
    body = UploadSerializer(upload, context={"request": request}).data
    return Response(body, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    summary="An episode file's check and load, as it goes",
    responses=responses({200: UploadSerializer}, 403),
    tags=["pathways"],
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])  # a pathway's feed token may use it
def episode_upload(request, episode_upload_id: int):
    upload = get_episode_upload_for_api(request, episode_upload_id)
    return Response(UploadSerializer(upload, context={"request": request}).data)


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = Step
        fields = ["code", "name", "slot", "standard_hours"]


class PathwaySerializer(serializers.ModelSerializer):
    host = serializers.CharField(source="host.name")

    class Meta:
        model = Pathway
        fields = ["id", "name", "host_id", "host", "specialty", "description", "metrics",
                  "data_version", "metrics_version", "last_loaded_at"]  # fmt: skip


class PathwayDetailSerializer(PathwaySerializer):
    steps = StepSerializer(many=True)
    rooms = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    flow_measures = MeasureSerializer(source="measures", many=True)
    recomputing = serializers.SerializerMethodField()

    class Meta(PathwaySerializer.Meta):
        fields = [*PathwaySerializer.Meta.fields, "steps", "rooms", "recomputing",
                  "flow_measures"]  # fmt: skip

    def get_recomputing(self, pathway) -> bool:
        """Its flow measures are being worked out again from the latest load."""
        return pathway.metrics_version < pathway.data_version


@extend_schema(
    summary="List the care pathways you can see",
    responses=responses({200: page_of(PathwaySerializer, "Pathway")}),
    tags=["pathways"],
)
@api_view(["GET"])
def pathway_list(request):
    pathways = (
        Pathway.objects.visible_to(request.user).select_related("host").order_by("name", "pk")
    )
    return paginated(request, pathways, PathwaySerializer)


@extend_schema(
    summary="A care pathway: its steps, rooms and flow measures with their latest figures",
    description="Each flow measure's points are at /api/v1/measures/{id}/points/.",
    responses=responses({200: PathwayDetailSerializer}),
    tags=["pathways"],
)
@api_view(["GET"])
def pathway_detail(request, pathway_id: int):
    pathway, _ = get_pathway_for_user(request.user, pathway_id)
    pathway = (
        Pathway.objects.select_related("host")
        .prefetch_related(
            "steps",
            "rooms",
            Prefetch(
                "measures",
                Measure.objects.select_related("room", "chart")
                .defer("chart__figure")
                .order_by("pk"),
            ),
        )
        .get(pk=pathway.pk)
    )
    return Response(PathwayDetailSerializer(pathway).data)


@extend_schema(
    summary="A pathway's episode files, newest first",
    responses=responses({200: page_of(UploadSerializer, "EpisodeUpload")}, 403),
    tags=["pathways"],
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])  # a pathway's feed token may use it
def episode_upload_list(request, pathway_id: int):
    pathway = get_pathway_for_api(request, pathway_id)
    return paginated(request, pathway.uploads.order_by("-created_at", "-pk"), UploadSerializer)
