"""The big rooms API, for data systems and people's own scripts: read rooms, their
improvement work, how they were built, their multivotes and board packs, sessions,
actions, PDSA cycles, an organisation's dashboard and the learning library; log a
session and its scores, agree and move on actions, tick off PDSA tasks.
One endpoint per operation, each through the same access helpers, validation and services
as the pages. Feed tokens (a room's or pathway's) may not use these: they send data only."""

from django.db.models import Avg, Count, F, Prefetch, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.reverse import reverse

from bigrooms import dashboard, library, services
from bigrooms.models import (
    PDSA,
    Action,
    Attendance,
    BigRoom,
    BoardPack,
    ChangeIdea,
    ChangePackage,
    Driver,
    FiveVs,
    GlobalAim,
    Multivote,
    PDSATask,
    RoomMembership,
    RoomPhoto,
    Session,
    SpecificAim,
    Stakeholder,
    Theme,
)
from fca.access import (
    get_action_for_user,
    get_big_room_for_user,
    get_organisation_for_user,
    get_package_for_user,
    get_pdsa_task_for_user,
    get_room_part_for_user,
    get_session_for_user,
)
from fca.api_schema import page_of, paginated, responses
from fca.identifiers import text_warnings

ROLES = tuple(services.SESSION_ROLES)


def _problems(error: services.SessionError) -> dict[str, list[str]]:
    """A service's problems as DRF names them: each field with its messages."""
    named: dict[str, list[str]] = {}
    for key, problem in error.problems.items():
        field = "non_field_errors" if key == "__all__" else key
        if key.startswith("action_"):  # action_2_owner: the second of new_actions
            field = "new_actions"
        named.setdefault(field, []).append(problem)
    return named


# --- Rooms ---------------------------------------------------------------------------------


class MemberSerializer(serializers.ModelSerializer):
    """A member by name and role only: no email or other personal data."""

    user_id = serializers.IntegerField()
    name = serializers.CharField(source="user.full_name")

    class Meta:
        model = RoomMembership
        fields = ["user_id", "name", "role", "team_role", "can_contribute_data"]


class RoomSerializer(serializers.ModelSerializer):
    host = serializers.CharField(source="host.name")
    pathway = serializers.CharField(source="pathway.name", default=None, allow_null=True)

    class Meta:
        model = BigRoom
        fields = [
            "id", "name", "host_id", "host", "pathway_id", "pathway", "purpose", "sponsor",
            "status", "status_reason", "stage", "meeting_weekday", "meeting_time",
            "meeting_minutes", "meeting_place", "created_at",
        ]  # fmt: skip


class RoomDetailSerializer(RoomSerializer):
    members = serializers.SerializerMethodField()
    agenda = serializers.ListField(child=serializers.CharField())
    measures = serializers.SerializerMethodField()

    class Meta(RoomSerializer.Meta):
        fields = [*RoomSerializer.Meta.fields, "agenda", "members", "measures"]

    @extend_schema_field(MemberSerializer(many=True))
    def get_members(self, room):
        members = room.memberships.select_related("user").order_by("role", "user__full_name")
        return MemberSerializer(members, many=True).data

    def get_measures(self, room) -> list[int]:
        """The ids of the room's measures and its pathway's flow measures."""
        return list(room.all_measures().order_by("pk").values_list("pk", flat=True))


@extend_schema(
    summary="List the big rooms you can see",
    responses=responses({200: page_of(RoomSerializer, "Room")}),
    tags=["rooms"],
)
@api_view(["GET"])
def room_list(request):
    rooms = BigRoom.objects.visible_to(request.user).select_related("host", "pathway")
    return paginated(request, rooms.order_by("name", "pk"), RoomSerializer)


@extend_schema(
    summary="A big room, with its members' names and roles",
    responses=responses({200: RoomDetailSerializer}),
    tags=["rooms"],
)
@api_view(["GET"])
def room_detail(request, room_id: int):
    room, _ = get_big_room_for_user(request.user, room_id)
    return Response(RoomDetailSerializer(room).data)


# --- Sessions ------------------------------------------------------------------------------


class SessionSerializer(serializers.ModelSerializer):
    attended = serializers.IntegerField(help_text="Members there (guests apart)")
    mean_score = serializers.FloatField(allow_null=True, help_text="Mean evaluation, 0 to 10")
    roles = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = ["id", "room_id", "held_on", "guests", "attended", "mean_score", "roles",
                  "finished_at", "created_at"]  # fmt: skip

    def get_roles(self, session) -> dict[str, int | None]:
        """The user id holding each meeting role (chair, timekeeper, note_keeper,
        facilitator), or null."""
        return {role: getattr(session, f"{role}_id") for role in ROLES}


class AttendanceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.full_name")

    class Meta:
        model = Attendance
        fields = ["user_id", "name", "mode"]


class AgendaItemSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    title = serializers.CharField()
    minutes = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField(allow_null=True, help_text="Null unless you may read notes")


class SessionDetailSerializer(SessionSerializer):
    attendance = AttendanceSerializer(source="attendances", many=True)
    scores = serializers.SerializerMethodField()
    actions_raised = serializers.SerializerMethodField()
    agenda = serializers.SerializerMethodField()
    patient_story = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "attendance", "scores", "actions_raised",
                  "agenda", "patient_story", "notes"]  # fmt: skip

    def _notes(self) -> bool:
        return self.context["access"].can_read_notes

    def get_scores(self, session) -> list[int]:
        """The anonymous evaluation scores, 0 to 10."""
        return sorted(session.evaluations.values_list("score", flat=True))

    def get_actions_raised(self, session) -> list[int]:
        return list(session.actions_raised.order_by("pk").values_list("pk", flat=True))

    @extend_schema_field(AgendaItemSerializer(many=True))
    def get_agenda(self, session):
        items = [
            {"order": i.order, "title": i.title, "minutes": i.minutes,
             "notes": i.notes if self._notes() else None}
            for i in session.agenda.all()
        ]  # fmt: skip
        return AgendaItemSerializer(items, many=True).data

    def get_patient_story(self, session) -> str | None:
        """Null unless you may read the room's notes (its members and QI leads)."""
        return session.patient_story if self._notes() else None

    def get_notes(self, session) -> str | None:
        """Null unless you may read the room's notes (its members and QI leads)."""
        return session.notes if self._notes() else None


@extend_schema(
    summary="A big room's sessions, newest first",
    responses=responses({200: page_of(SessionSerializer, "Session")}),
    tags=["sessions"],
)
@api_view(["GET"])
def session_list(request, room_id: int):
    room, _ = get_big_room_for_user(request.user, room_id)
    sessions = room.sessions.annotate(
        attended=Count("attendances", distinct=True), mean_score=Avg("evaluations__score")
    ).order_by("-held_on", "-pk")
    return paginated(request, sessions, SessionSerializer)


@extend_schema(
    summary="A session: who came, roles, scores, agenda and notes",
    responses=responses({200: SessionDetailSerializer}),
    tags=["sessions"],
)
@api_view(["GET"])
def session_detail(request, session_id: int):
    session, access = get_session_for_user(request.user, session_id)
    session = (
        Session.objects.annotate(
            attended=Count("attendances", distinct=True), mean_score=Avg("evaluations__score")
        )
        .prefetch_related(Prefetch("attendances", Attendance.objects.select_related("user")))
        .get(pk=session.pk)
    )
    return Response(SessionDetailSerializer(session, context={"access": access}).data)


class AttendeeIn(serializers.Serializer):
    user_id = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=Attendance.Mode.choices, default="in_room")


class RolesIn(serializers.Serializer):
    chair = serializers.IntegerField(required=False, allow_null=True)
    timekeeper = serializers.IntegerField(required=False, allow_null=True)
    note_keeper = serializers.IntegerField(required=False, allow_null=True)
    facilitator = serializers.IntegerField(required=False, allow_null=True)


class ActionUpdateIn(serializers.Serializer):
    action_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[Action.Status.DONE, Action.Status.DROPPED])


class NewActionIn(serializers.Serializer):
    what = serializers.CharField(max_length=300)
    due_on = serializers.DateField(required=False, allow_null=True)
    owner_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="A member of the room's team"
    )
    owner_text = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text="Or the owner in words (the discharge team), with a chaser",
    )  # fmt: skip
    chaser_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="The member who chases an owner in words"
    )


class AgendaIn(serializers.Serializer):
    item = serializers.IntegerField(
        min_value=1, help_text="Its place in the room's agenda (1 is the first)"
    )
    minutes = serializers.IntegerField(min_value=0, max_value=240, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class SessionIn(serializers.Serializer):
    """A session as the session page logs it."""

    held_on = serializers.DateField()
    attendance = AttendeeIn(many=True, required=False, default=list)
    guests = serializers.IntegerField(min_value=0, max_value=200, required=False, default=0)
    roles = RolesIn(required=False, default=dict)
    patient_story = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    no_identifiers = serializers.BooleanField(
        required=False, default=False,
        help_text="You have checked that nothing in the text identifies a patient: text that "
        "looks like an NHS number or a date of birth is refused unless this is true",
    )  # fmt: skip
    action_updates = ActionUpdateIn(many=True, required=False, default=list)
    new_actions = NewActionIn(many=True, required=False, default=list, max_length=50)
    scores = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=10), required=False, default=list,
        max_length=500, help_text="The anonymous evaluation scores, 0 to 10",
    )  # fmt: skip
    agenda = AgendaIn(many=True, required=False, default=list)
    parking_new = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list, max_length=50
    )
    parking_closed = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, max_length=200
    )

    def validate(self, data):
        """What the session page's choices and checks allow: members of the team, the
        room's open actions and parking lot items, its agenda, and no patient identifiers."""
        room = self.context["room"]
        members = {m.user_id for m in services.team(room)}
        errors: dict[str, list[str]] = {}

        def refuse(field, message):
            errors.setdefault(field, []).append(message)

        for person in data["attendance"]:
            if person["user_id"] not in members:
                refuse("attendance", f"User {person['user_id']} is not on the room's team")
        for role, user_id in data["roles"].items():
            if user_id is not None and user_id not in members:
                refuse("roles", f"{role}: user {user_id} is not on the room's team")
        open_actions = set(room.actions.filter(status="open").values_list("pk", flat=True))
        for update in data["action_updates"]:
            if update["action_id"] not in open_actions:
                refuse("action_updates", f"Action {update['action_id']} is not open in this room")
        parking = set(room.parking_lot.filter(closed_on=None).values_list("pk", flat=True))
        for item in data["parking_closed"]:
            if item not in parking:
                refuse("parking_closed", f"Parking lot item {item} is not open in this room")
        agenda = room.agenda
        for item in data["agenda"]:
            if item["item"] > len(agenda):
                refuse("agenda", f"Item {item['item']}: the room's agenda has {len(agenda)}")
        if not data["no_identifiers"]:
            texts = [("patient_story", data["patient_story"]), ("notes", data["notes"])]
            texts += [("agenda", item["notes"]) for item in data["agenda"]]
            for field, text in texts:
                for warning in text_warnings(text):
                    refuse(field, f"It {warning}: remove it, or send no_identifiers true if "
                           "it is not about a patient")  # fmt: skip
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def record(self) -> services.SessionRecord:
        data, agenda = self.validated_data, self.context["room"].agenda
        given = {item["item"]: item for item in data["agenda"]}
        return services.SessionRecord(
            held_on=data["held_on"],
            attendance={p["user_id"]: p["mode"] for p in data["attendance"]},
            guests=data["guests"],
            roles={role: data["roles"].get(role) for role in ROLES},
            patient_story=data["patient_story"],
            notes=data["notes"],
            action_updates={u["action_id"]: u["status"] for u in data["action_updates"]},
            new_actions=[services.NewAction(**a) for a in data["new_actions"]],
            scores=data["scores"],
            agenda=[
                (title, given.get(n, {}).get("minutes"), given.get(n, {}).get("notes", ""))
                for n, title in enumerate(agenda, start=1)
            ],
            parking_new=[text.strip() for text in data["parking_new"] if text.strip()],
            parking_closed=data["parking_closed"],
        )


@extend_schema(
    summary="Log a session, as the room's coach does on the session page",
    description="All of it is saved, or none: one session a day per room, not more than a "
    "week ahead, and not empty. Open actions can be moved on and new ones agreed.",
    request=SessionIn,
    responses=responses({201: SessionDetailSerializer}, 400, 403),
    tags=["sessions"],
)
@api_view(["POST"])
def session_log(request, room_id: int):
    room, access = get_big_room_for_user(request.user, room_id, write=True)
    data = SessionIn(data=request.data, context={"room": room})
    data.is_valid(raise_exception=True)
    try:
        session = services.record_session(room=room, record=data.record(), by=request.user)
    except services.SessionError as error:
        return Response(_problems(error), status=status.HTTP_400_BAD_REQUEST)
    session.attended = session.attendances.count()
    session.mean_score = session.evaluations.aggregate(m=Avg("score"))["m"]
    body = SessionDetailSerializer(session, context={"access": access}).data
    return Response(body, status=status.HTTP_201_CREATED)


class ScoresIn(serializers.Serializer):
    scores = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=10), allow_empty=False,
        max_length=500, help_text="Anonymous scores of the meeting, 0 to 10",
    )  # fmt: skip


class ScoresOut(serializers.Serializer):
    scores = serializers.ListField(child=serializers.IntegerField())
    mean_score = serializers.FloatField(allow_null=True)


@extend_schema(
    summary="Add a round of anonymous evaluation scores to a session",
    description="For its coaches and whoever held one of its roles. All are saved, or none; "
    "a session takes no more scores than its team and guests.",
    request=ScoresIn,
    responses=responses({201: ScoresOut}, 400, 403),
    tags=["sessions"],
)
@api_view(["POST"])
def session_scores(request, session_id: int):
    session, access = get_session_for_user(request.user, session_id)
    if not session.writable_by(request.user, access):
        raise PermissionDenied("Only the room's coaches and the session's role holders")
    data = ScoresIn(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        services.add_scores(session=session, scores=data.validated_data["scores"])
    except ValueError as error:
        return Response({"scores": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
    scores = sorted(session.evaluations.values_list("score", flat=True))
    body = {"scores": scores, "mean_score": sum(scores) / len(scores)}
    return Response(ScoresOut(body).data, status=status.HTTP_201_CREATED)


# --- Actions -------------------------------------------------------------------------------


class ActionSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner_name", help_text="A member's name, or words")
    chaser = serializers.CharField(source="chaser.full_name", default=None, allow_null=True)
    raised_in = serializers.IntegerField(source="raised_in_id", allow_null=True)

    class Meta:
        model = Action
        fields = ["id", "room_id", "raised_in", "what", "due_on", "status", "owner_id", "owner",
                  "owner_text", "chaser_id", "chaser", "created_at", "updated_at"]  # fmt: skip


ACTIONS = Action.objects.select_related("owner", "chaser")


def _actions_in_order(actions):
    return actions.order_by(F("due_on").asc(nulls_last=True), "pk")


@extend_schema(
    summary="A big room's actions, soonest due first",
    parameters=[
        OpenApiParameter(
            "status", str, enum=Action.Status.values, description="Only actions with this status"
        )
    ],
    responses=responses({200: page_of(ActionSerializer, "Action")}, 400),
    tags=["actions"],
)
@api_view(["GET"])
def action_list(request, room_id: int):
    room, _ = get_big_room_for_user(request.user, room_id)
    actions = ACTIONS.filter(room=room)
    wanted = request.query_params.get("status")
    if wanted is not None:
        if wanted not in Action.Status.values:
            raise serializers.ValidationError({"status": [f"“{wanted}” is not a status"]})
        actions = actions.filter(status=wanted)
    return paginated(request, _actions_in_order(actions), ActionSerializer)


@extend_schema(
    summary="Your open actions across your rooms (owned or chased), soonest due first",
    responses=responses({200: page_of(ActionSerializer, "Action")}),
    tags=["actions"],
)
@api_view(["GET"])
def my_actions(request):
    rooms = BigRoom.objects.visible_to(request.user)
    actions = ACTIONS.filter(room__in=rooms, status=Action.Status.OPEN).filter(
        Q(owner=request.user) | Q(chaser=request.user)
    )
    return paginated(request, _actions_in_order(actions), ActionSerializer)


@extend_schema(summary="An action", responses=responses({200: ActionSerializer}), tags=["actions"])
@api_view(["GET"])
def action_detail(request, action_id: int):
    action, _ = get_room_part_for_user(request.user, Action, action_id)
    return Response(ActionSerializer(action).data)


@extend_schema(
    summary="Agree a new action in a big room (its coaches)",
    description="Owned by a member of the room's team (owner_id), or by a team named in "
    "words (owner_text) with a member who chases it (chaser_id).",
    request=NewActionIn,
    responses=responses({201: ActionSerializer}, 400, 403),
    tags=["actions"],
)
@api_view(["POST"])
def action_create(request, room_id: int):
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    data = NewActionIn(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        action = services.add_action(room=room, action=services.NewAction(**data.validated_data))
    except services.SessionError as error:
        return Response(_problems(error), status=status.HTTP_400_BAD_REQUEST)
    return Response(ActionSerializer(action).data, status=status.HTTP_201_CREATED)


class ActionChangeIn(serializers.Serializer):
    """Only what is sent changes."""

    status = serializers.ChoiceField(choices=Action.Status.choices, required=False)
    due_on = serializers.DateField(required=False, allow_null=True)
    what = serializers.CharField(max_length=300, required=False)
    owner_id = serializers.IntegerField(required=False, allow_null=True)
    owner_text = serializers.CharField(max_length=100, required=False, allow_blank=True)
    chaser_id = serializers.IntegerField(required=False, allow_null=True)

    COACHES_ONLY = ("what", "owner_id", "owner_text", "chaser_id")


@extend_schema(
    summary="Change an action: its status or due date (its owner, chaser or a coach), what "
    "it is and who owns or chases it (a coach)",
    request=ActionChangeIn,
    responses=responses({200: ActionSerializer}, 400, 403),
    tags=["actions"],
)
@api_view(["POST"])
def action_change(request, action_id: int):
    action = get_action_for_user(request.user, action_id)
    data = ActionChangeIn(data=request.data)
    data.is_valid(raise_exception=True)
    changes = data.validated_data
    owners_change = any(name in changes for name in ActionChangeIn.COACHES_ONLY)
    if owners_change and not action.room.access_for(request.user).can_manage:
        raise PermissionDenied(
            "Only a coach of the room can change what an action is or who owns it"
        )
    try:
        action = services.change_action(action=action, changes=changes)
    except services.SessionError as error:
        return Response(_problems(error), status=status.HTTP_400_BAD_REQUEST)
    return Response(ActionSerializer(ACTIONS.get(pk=action.pk)).data)


@extend_schema(
    summary="Mark an action done (its owner, chaser or a coach)",
    request=None,
    responses=responses({200: ActionSerializer}, 403),
    tags=["actions"],
)
@api_view(["POST"])
def action_complete(request, action_id: int):
    action = get_action_for_user(request.user, action_id)
    services.update_action(action=action, status=Action.Status.DONE)
    return Response(ActionSerializer(ACTIONS.get(pk=action.pk)).data)


# --- PDSA cycles ---------------------------------------------------------------------------


class QuestionSerializer(serializers.Serializer):
    question = serializers.CharField()
    prediction = serializers.CharField()
    result = serializers.CharField()


class TaskSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.full_name", default=None, allow_null=True)

    class Meta:
        model = PDSATask
        fields = ["id", "task", "owner_id", "owner", "due_on", "done"]


class PDSASerializer(serializers.ModelSerializer):
    change_idea_id = serializers.IntegerField(source="ramp.change_idea_id")
    change_idea = serializers.CharField(source="ramp.change_idea.title")
    questions = QuestionSerializer(many=True)
    tasks = TaskSerializer(many=True)
    measures = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = PDSA
        fields = [
            "id", "room_id", "change_idea_id", "change_idea", "ramp_id", "number", "status",
            "status_changed_on", "objective", "purpose", "scale", "what", "who", "where",
            "starts_on", "ends_on", "measures", "questions", "tasks", "what_happened",
            "observations", "problems", "learning", "decision", "next_step", "created_at",
        ]  # fmt: skip


PDSAS = PDSA.objects.select_related("ramp__change_idea").prefetch_related(
    "questions", Prefetch("tasks", PDSATask.objects.select_related("owner")), "measures"
)


@extend_schema(
    summary="A big room's PDSA cycles, by change idea and number",
    responses=responses({200: page_of(PDSASerializer, "PDSA")}),
    tags=["pdsas"],
)
@api_view(["GET"])
def pdsa_list(request, room_id: int):
    room, _ = get_big_room_for_user(request.user, room_id)
    cycles = PDSAS.filter(room=room).order_by("ramp__change_idea_id", "ramp_id", "number")
    return paginated(request, cycles, PDSASerializer)


@extend_schema(
    summary="A PDSA cycle: its plan, what happened, the learning and the decision",
    responses=responses({200: PDSASerializer}),
    tags=["pdsas"],
)
@api_view(["GET"])
def pdsa_detail(request, pdsa_id: int):
    pdsa, _ = get_room_part_for_user(request.user, PDSA, pdsa_id)
    return Response(PDSASerializer(PDSAS.get(pk=pdsa.pk)).data)


@extend_schema(
    summary="Tick off a PDSA cycle's task (its owner or a coach)",
    request=None,
    responses=responses({200: TaskSerializer}, 403),
    tags=["pdsas"],
)
@api_view(["POST"])
def pdsa_task_done(request, task_id: int):
    task = get_pdsa_task_for_user(request.user, task_id)
    services.finish_pdsa_task(task=task)
    return Response(TaskSerializer(PDSATask.objects.select_related("owner").get(pk=task.pk)).data)


# --- The room's improvement work: aims, themes, the driver diagram, change ideas ----------


class ThemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["id", "title", "description", "source"]


class GlobalAimSerializer(serializers.ModelSerializer):
    class Meta:
        model = GlobalAim
        fields = ["statement", "where", "looks_like", "why", "theme_id", "updated_at"]


class SpecificAimSerializer(serializers.ModelSerializer):
    class Meta:
        model = SpecificAim
        fields = ["id", "what", "measure_id", "target", "target_on", "theme_id"]


class DriverSerializer(serializers.ModelSerializer):
    class Meta:
        model = Driver
        fields = ["id", "title", "parent_id", "position"]


class ChangeIdeaSerializer(serializers.ModelSerializer):
    drivers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ChangeIdea
        fields = ["id", "title", "description", "drivers"]


class ImprovementSerializer(serializers.Serializer):
    global_aim = GlobalAimSerializer(allow_null=True)
    specific_aims = SpecificAimSerializer(many=True)
    themes = ThemeSerializer(many=True)
    drivers = DriverSerializer(many=True, help_text="Primary drivers have no parent")
    change_ideas = ChangeIdeaSerializer(many=True)


@extend_schema(
    summary="A big room's improvement work: its aims, themes, driver diagram and change ideas",
    responses=responses({200: ImprovementSerializer}),
    tags=["rooms"],
)
@api_view(["GET"])
def room_improvement(request, room_id: int):
    room, _ = get_big_room_for_user(request.user, room_id)
    work = {
        "global_aim": GlobalAim.objects.filter(room=room).first(),
        "specific_aims": room.specific_aims.order_by("target_on", "pk"),
        "themes": room.themes.order_by("pk"),
        "drivers": room.drivers.order_by("position", "pk"),
        "change_ideas": room.change_ideas.prefetch_related("drivers").order_by("pk"),
    }
    return Response(ImprovementSerializer(work).data)


# --- An organisation's dashboard -----------------------------------------------------------


class IconsSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    kind = serializers.CharField()
    unit = serializers.CharField()
    variation = serializers.CharField(allow_null=True)
    assurance = serializers.CharField(allow_null=True)
    status = serializers.CharField(source="status_words")
    latest_value = serializers.FloatField(allow_null=True)
    latest_period = serializers.DateField(allow_null=True)


class StallSerializer(serializers.Serializer):
    kind = serializers.CharField()
    message = serializers.CharField()


class CoachSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()


class DashboardRowSerializer(serializers.Serializer):
    room_id = serializers.IntegerField(source="room.pk")
    room = serializers.CharField(source="room.name")
    pathway = serializers.CharField(source="room.pathway.name", default=None, allow_null=True)
    stage = serializers.CharField(source="room.stage")
    status = serializers.CharField(source="room.status")
    coaches = serializers.SerializerMethodField()
    last_session = serializers.DateField(allow_null=True)
    weeks_since = serializers.IntegerField(allow_null=True)
    attendance = serializers.ListField(child=serializers.IntegerField())
    evaluation = serializers.ListField(child=serializers.FloatField())
    open_actions = serializers.IntegerField()
    overdue_actions = serializers.IntegerField()
    decisions = serializers.DictField(
        child=serializers.IntegerField(), help_text="PDSA decisions this quarter"
    )
    outcome = IconsSerializer(many=True)
    balancing = IconsSerializer(many=True)
    stalls = StallSerializer(many=True)

    @extend_schema_field(CoachSerializer(many=True))
    def get_coaches(self, row):
        return CoachSerializer([{"user_id": i, "name": n} for i, n in row.coaches], many=True).data


@extend_schema(
    summary="An organisation's dashboard: one row per big room it hosts",
    description="For its QI leads and viewers, and academy admins.",
    responses=responses({200: page_of(DashboardRowSerializer, "DashboardRow")}),
    tags=["dashboard"],
)
@api_view(["GET"])
def organisation_dashboard(request, org_id: int):
    organisation = get_organisation_for_user(request.user, org_id)
    return paginated(request, dashboard.room_rows(organisation), DashboardRowSerializer)


# --- Building the room: the 5Vs, stakeholders and photos; multivotes; board packs ---------


class FiveVsSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.full_name", default=None, allow_null=True)

    class Meta:
        model = FiveVs
        fields = ["id", *FiveVs.FIELDS, "created_by", "created_at"]


class StakeholderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stakeholder
        fields = ["id", "name", "organisation", "role", "involvement"]


class PhotoSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(
        source="uploaded_by.full_name", default=None, allow_null=True
    )
    image = serializers.SerializerMethodField()

    class Meta:
        model = RoomPhoto
        fields = ["id", "caption", "uploaded_by", "uploaded_at", "image"]

    def get_image(self, photo) -> str:
        """The photo's address on the site, for a person signed in there (never public)."""
        return reverse(
            "room_photo", args=[photo.room_id, photo.pk], request=self.context["request"]
        )


class BuildSerializer(serializers.Serializer):
    five_vs = FiveVsSerializer(many=True, help_text="Every saved version, newest first")
    stakeholders = StakeholderSerializer(many=True)
    photos = PhotoSerializer(many=True, help_text="Newest first")


@extend_schema(
    summary="How a big room was built: its 5Vs (every version), stakeholders and photos",
    description="For the room's members and its organisation's QI leads and viewers, as on "
    "its page; not academy admins, who see a room's metadata only.",
    responses=responses({200: BuildSerializer}, 403),
    tags=["rooms"],
)
@api_view(["GET"])
def room_build(request, room_id: int):
    room, access = get_big_room_for_user(request.user, room_id)
    if not access.can_read_notes:
        raise PermissionDenied("The room's own working is for its members and QI leads")
    built = {
        "five_vs": room.five_vs.select_related("created_by"),
        "stakeholders": room.stakeholders.all(),
        "photos": room.photos.select_related("uploaded_by"),
    }
    return Response(BuildSerializer(built, context={"request": request}).data)


class RankedThemeSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    theme_id = serializers.IntegerField()
    title = serializers.CharField()
    votes = serializers.IntegerField()
    voters = serializers.IntegerField()


class MultivoteSerializer(serializers.ModelSerializer):
    ranking = serializers.SerializerMethodField()

    class Meta:
        model = Multivote
        fields = ["id", "votes_each", "opened_on", "closed_on", "ranking"]

    @extend_schema_field(RankedThemeSerializer(many=True))
    def get_ranking(self, vote):
        """So far while it is open; as it was on the day it closed, after (a vote closed
        before ranks were kept is ranked by its order, as its page does)."""
        ranked = [{"rank": n, **row} for n, row in enumerate(services.tally(vote), start=1)]
        return RankedThemeSerializer(ranked, many=True).data


@extend_schema(
    summary="A big room's multivotes on its themes, newest first, with their rankings",
    responses=responses({200: page_of(MultivoteSerializer, "Multivote")}),
    tags=["rooms"],
)
@api_view(["GET"])
def multivote_list(request, room_id: int):
    room, _ = get_big_room_for_user(request.user, room_id)
    # An open vote's tally is a query of its own; a room has at most one open.
    votes = room.multivotes.select_related("room").order_by("-opened_on", "-pk")
    return paginated(request, votes, MultivoteSerializer)


class BoardPackSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(
        source="requested_by.full_name", default=None, allow_null=True
    )
    download = serializers.SerializerMethodField()

    class Meta:
        model = BoardPack
        fields = ["id", "status", "progress", "step", "requested_by", "created_at",
                  "updated_at", "size", "error", "download"]  # fmt: skip
        extra_kwargs = {"size": {"help_text": "The PDF's size in bytes, once ready"}}

    def get_download(self, pack) -> str | None:
        """The PDF's address on the site, for a person signed in there, while it is kept."""
        if pack.status != BoardPack.Status.READY or not pack.file:
            return None
        return reverse("board_pack_download", args=[pack.pk], request=self.context["request"])


@extend_schema(
    summary="A big room's board packs, newest first: where each has got to",
    description="For the room's coaches and its organisation's QI leads, as on its page.",
    responses=responses({200: page_of(BoardPackSerializer, "BoardPack")}, 403),
    tags=["rooms"],
)
@api_view(["GET"])
def board_pack_list(request, room_id: int):
    room, access = get_big_room_for_user(request.user, room_id)
    if not BoardPack.may_make(access):
        raise PermissionDenied("Only the room's coaches and its organisation's QI leads")
    packs = room.board_packs.select_related("requested_by").order_by("-created_at", "-pk")
    return paginated(request, packs, BoardPackSerializer)


# --- The learning library ------------------------------------------------------------------


class PackageSerializer(serializers.ModelSerializer):
    summary = serializers.CharField(help_text="What the room learnt")

    class Meta:
        model = ChangePackage
        fields = ["id", "title", "summary", "organisation", "pathway", "specialty", "status",
                  "featured", "curator_note", "room_id", "published_at"]  # fmt: skip


class PackageDetailSerializer(PackageSerializer):
    content = serializers.JSONField(
        help_text="What was published: themes, aims, drivers, change ideas with their PDSA "
        "ramps, measure definitions and before-and-after charts"
    )

    class Meta(PackageSerializer.Meta):
        fields = [*PackageSerializer.Meta.fields, "content"]


class LibraryFilter(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100,
                              help_text="Words the package mentions")  # fmt: skip
    specialty = serializers.CharField(required=False, allow_blank=True, max_length=100)


@extend_schema(
    summary="The learning library: change packages, featured first, then newest",
    description="Every signed-in person reads it; withdrawn packages only academy admins.",
    parameters=[LibraryFilter],
    responses=responses({200: page_of(PackageSerializer, "Package")}, 400),
    tags=["library"],
)
@api_view(["GET"])
def package_list(request):
    query = LibraryFilter(data=request.query_params)
    query.is_valid(raise_exception=True)
    packages = ChangePackage.objects.defer("content")
    if not request.user.is_academy_admin:
        packages = packages.filter(status=ChangePackage.Status.PUBLISHED)
    found = library.search(packages, **query.validated_data)
    return paginated(
        request, found.order_by("-featured", "-published_at", "-pk"), PackageSerializer
    )


@extend_schema(
    summary="A change package, with what it published",
    responses=responses({200: PackageDetailSerializer}),
    tags=["library"],
)
@api_view(["GET"])
def package_detail(request, package_id: int):
    package = get_package_for_user(request.user, package_id)
    return Response(PackageDetailSerializer(package).data)
