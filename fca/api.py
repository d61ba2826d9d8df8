"""The academy-wide API: the audit log (for an organisation's security tooling as much as
for people), and for academy admins the cohorts, their coaches and taught days, and the
programme's figures. One endpoint per operation, through the same rules as the pages."""

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from fca import academy, audit, programme
from fca.access import get_academy_object, require_academy_admin
from fca.api_schema import page_of, paginated, responses
from fca.models import AuditEvent, Coach, Cohort, Organisation


def _given(request) -> dict:
    """The query's filters that have a value: one left empty filters nothing, as on the
    page whose form it mirrors."""
    return {key: value for key, value in request.query_params.items() if value != ""}


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

    def validate_organisation(self, wanted: int) -> Organisation:
        """One of the organisations whose log the person reads (context: those, or None
        for every one)."""
        readable = self.context["organisations"]
        if readable is None:
            found = Organisation.objects.filter(pk=wanted).first()
        else:
            found = next((o for o in readable if o.pk == wanted), None)
        if found is None:
            raise serializers.ValidationError(
                f"{wanted} is not an organisation whose log you read."
            )
        return found

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
    query = AuditFilter(data=_given(request), context={"organisations": organisations})
    query.is_valid(raise_exception=True)
    events = audit.events_for(request.user, **query.validated_data)
    return paginated(request, events, AuditEventSerializer)


# --- The academy: cohorts, coaches, taught days, the programme's figures (its admins) -----


class CohortSerializer(serializers.ModelSerializer):
    coaches = serializers.IntegerField(source="coach_count", help_text="How many enrolled")

    class Meta:
        model = Cohort
        fields = ["id", "name", "academy", "starts_on", "ends_on", "coaches"]


class TaughtDaySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    held_on = serializers.DateField()
    title = serializers.CharField()
    present = serializers.IntegerField(source="came", help_text="Coaches who came")


class CoachedRoomSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EnrolledCoachSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.full_name")
    email = serializers.CharField(source="user.email")
    organisation = serializers.CharField(source="organisation.name")
    shown_status = serializers.CharField(help_text="What the academy reads, in words")
    rooms = CoachedRoomSerializer(many=True, help_text="The big rooms they coach")

    class Meta:
        model = Coach
        fields = ["id", "user_id", "name", "email", "organisation_id", "organisation", "kind",
                  "status", "status_reason", "shown_status", "rooms", "invited_at"]  # fmt: skip


class CohortDetailSerializer(CohortSerializer):
    days = TaughtDaySerializer(
        many=True, source="taught_days", help_text="Its taught days, in date order"
    )
    enrolled = EnrolledCoachSerializer(many=True, help_text="Its coaches by name")

    class Meta(CohortSerializer.Meta):
        fields = [*CohortSerializer.Meta.fields, "days", "enrolled"]


ACADEMY_ONLY = "For academy admins; to anyone else it does not exist (404)."


@extend_schema(
    summary="The academy's cohorts, newest first",
    description=ACADEMY_ONLY,
    responses=responses({200: page_of(CohortSerializer, "Cohort")}),
    tags=["academy"],
)
@api_view(["GET"])
def cohort_list(request):
    require_academy_admin(request.user)
    cohorts = Cohort.objects.annotate(coach_count=Count("coaches")).order_by("-starts_on", "pk")
    return paginated(request, cohorts, CohortSerializer)


@extend_schema(
    summary="A cohort: its taught days and its coaches, with their status and rooms",
    description=ACADEMY_ONLY,
    responses=responses({200: CohortDetailSerializer}),
    tags=["academy"],
)
@api_view(["GET"])
def cohort_detail(request, cohort_id: int):
    cohort = get_academy_object(request.user, Cohort, cohort_id)
    coaches = list(cohort.coaches.select_related("user", "organisation"))
    statuses, rooms = academy.shown_statuses(coaches), academy.coach_rooms(coaches)
    for coach in coaches:
        coach.shown_status, coach.rooms = statuses[coach.pk], rooms.get(coach.user_id, [])
    cohort.enrolled, cohort.coach_count = coaches, len(coaches)
    cohort.taught_days = cohort.days.annotate(came=Count("present")).order_by("held_on")
    return Response(CohortDetailSerializer(cohort).data)


class QuarterSerializer(serializers.Serializer):
    quarter = serializers.CharField(help_text="Its months, in words")
    start = serializers.DateField()
    coaches_trained = serializers.IntegerField()
    coaching = serializers.IntegerField()
    rooms_running = serializers.IntegerField()
    pathways = serializers.IntegerField()
    sessions = serializers.IntegerField()
    adopt = serializers.IntegerField(help_text="PDSA cycles adopted")
    adapt = serializers.IntegerField(help_text="PDSA cycles adapted")
    abandon = serializers.IntegerField(help_text="PDSA cycles abandoned")
    sustained = serializers.IntegerField(help_text="Rooms with a sustained improvement")


class ProgrammeSerializer(serializers.Serializer):
    scope = serializers.CharField(help_text="Whose figures: the academy, a cohort or a trust")
    quarters = QuarterSerializer(many=True, help_text="The last eight quarters, oldest first")


class ProgrammeFilter(serializers.Serializer):
    scope = serializers.RegexField(
        r"^(cohort|organisation)-[1-9][0-9]{0,9}$", required=False,
        help_text="cohort-<id> or organisation-<id>; the whole academy when left out",
    )  # fmt: skip


@extend_schema(
    summary="The programme's figures by quarter, as on its page (definitions there)",
    description=ACADEMY_ONLY,
    parameters=[ProgrammeFilter],
    responses=responses({200: ProgrammeSerializer}, 400),
    tags=["academy"],
)
@api_view(["GET"])
def programme_figures(request):
    require_academy_admin(request.user)
    query = ProgrammeFilter(data=_given(request))
    query.is_valid(raise_exception=True)
    key = query.validated_data.get("scope", "")
    scope = programme.scope_for(key)
    if scope.key != key:
        raise serializers.ValidationError({"scope": [f"No cohort or organisation is {key}."]})
    body = {"scope": scope.label, "quarters": programme.figures(scope)}
    return Response(ProgrammeSerializer(body).data)
