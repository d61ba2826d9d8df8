"""The pathways API, for data warehouses: send a file of episodes (streamed to disk, as a
multipart upload), and follow it through its check and load."""

from django.conf import settings
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from fca.access import get_episode_upload_for_api, get_pathway_for_api
from pathways import services
from pathways.models import EpisodeUpload


class SendSerializer(serializers.Serializer):
    file = serializers.FileField()

    def validate_file(self, file):
        limit = settings.FCA_MAX_EPISODE_FILE_MB
        if file.size > limit * 1_000_000:
            raise serializers.ValidationError(
                f"The file is {file.size / 1_000_000:,.0f} MB: the most is {limit} MB"
            )
        return file

    load = serializers.ChoiceField(
        choices=["", "all", "valid"], required=False, default="",
        help_text="Load it once checked: all (only if it has no problems) or the valid rows; "
        "empty leaves it for a person to look at",
    )  # fmt: skip


class UploadSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    rows = serializers.IntegerField(source="report.rows", default=None)
    valid = serializers.IntegerField(source="report.valid", default=None)
    problem_count = serializers.IntegerField(source="report.problem_count", default=None)
    problems = serializers.ListField(source="report.problems", default=list)

    class Meta:
        model = EpisodeUpload
        fields = ["id", "url", "filename", "status", "reason", "rows", "valid", "problem_count",
                  "problems", "added", "updated", "created_at"]  # fmt: skip

    def get_url(self, upload) -> str:
        return reverse("api_episode_upload", args=[upload.pk], request=self.context["request"])


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


@api_view(["GET"])
@permission_classes([IsAuthenticated])  # a pathway's feed token may use it
def episode_upload(request, episode_upload_id: int):
    upload = get_episode_upload_for_api(request, episode_upload_id)
    return Response(UploadSerializer(upload, context={"request": request}).data)
