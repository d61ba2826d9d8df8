"""The academy-wide API: the audit log, for an organisation's security tooling as much as
for people. One endpoint per operation, through the same rules as the audit page."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound

from fca import audit
from fca.api_schema import page_of, paginated, responses
from fca.models import AuditEvent, Organisation


class AuditEventSerializer(serializers.ModelSerializer):
    who = serializers.CharField(source="actor_email", help_text="Email, or empty for the system")
    organisation = serializers.CharField(source="organisation.name", default=None, allow_null=True)
    what = serializers.SerializerMethodField()
    details = serializers.DictField(help_text="Counts and names of things, never free text")

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "who", "actor_id", "token_id", "ip_address", "organisation_id",
                  "organisation", "action", "what", "outcome", "target_type", "target_id",
                  "target_name", "details"]  # fmt: skip

    def get_what(self, event) -> str:
        """The action in words, as the audit page says it."""
        return audit.label(event.action)


class AuditFilter(serializers.Serializer):
    organisation = serializers.IntegerField(
        required=False, min_value=1, help_text="An organisation whose log you read"
    )
    group = serializers.ChoiceField(choices=audit.GROUP_CHOICES, required=False)
    outcome = serializers.ChoiceField(choices=AuditEvent.Outcome.choices, required=False)
    person = serializers.CharField(required=False, max_length=254, help_text="Part of an email")
    since = serializers.DateField(required=False, help_text="From this day (UTC)")
    until = serializers.DateField(required=False, help_text="To this day (UTC)")

    def validate(self, data):
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": "Must be the same as or after since."})
        return data


@extend_schema(
    summary="The audit log you may read, newest first",
    description="Academy admins read every organisation's; a QI lead their organisation's. "
    "To anyone else it does not exist (404).",
    parameters=[AuditFilter],
    responses=responses({200: page_of(AuditEventSerializer, "AuditEvent")}, 400),
    tags=["audit"],
)
@api_view(["GET"])
def audit_event_list(request):
    organisations = audit.organisations_for(request.user)
    if organisations == []:
        raise NotFound("No such page")
    query = AuditFilter(data=request.query_params)
    query.is_valid(raise_exception=True)
    filters = dict(query.validated_data)
    if "organisation" in filters:
        wanted = filters["organisation"]
        readable = organisations is None or any(o.pk == wanted for o in organisations)
        found = Organisation.objects.filter(pk=wanted).first() if readable else None
        if found is None:
            raise serializers.ValidationError(
                {"organisation": [f"{wanted} is not an organisation whose log you read."]}
            )
        filters["organisation"] = found
    return paginated(request, audit.events_for(request.user, **filters), AuditEventSerializer)
