from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

from fca.models import Organisation, OrganisationMembership


class BigRoomQuerySet(models.QuerySet):
    def visible_to(self, user) -> "BigRoomQuerySet":
        """Rooms the person may read: their own rooms, every room of an organisation where
        they are QI lead or viewer, and every room for an academy admin."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_academy_admin:
            return self.all()
        member = RoomMembership.objects.filter(room=OuterRef("pk"), user=user)
        org_reader = OrganisationMembership.objects.filter(
            organisation=OuterRef("host"),
            user=user,
            role__in=[OrganisationMembership.Role.QI_LEAD, OrganisationMembership.Role.VIEWER],
        )
        return self.filter(Exists(member) | Exists(org_reader))


class BigRoom(models.Model):
    name = models.CharField(max_length=200)
    host = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="big_rooms",
        help_text="The organisation that hosts the room",
    )
    purpose = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BigRoomQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def access_for(self, user) -> "RoomAccess":
        """What this person may do here; one query."""
        return RoomAccess.for_user(self, user)


class RoomMembership(models.Model):
    class Role(models.TextChoices):
        CLINICAL_COACH = "clinical_coach", "Clinical coach"
        INDEPENDENT_COACH = "independent_coach", "Independent coach"
        MEMBER = "member", "Member"
        PARTNER = "partner", "Patient or carer partner"
        VIEWER = "viewer", "Viewer"

    COACH_ROLES = (Role.CLINICAL_COACH, Role.INDEPENDENT_COACH)

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    # The right to upload and enter data for the room's measures.
    can_contribute_data = models.BooleanField("data contributor", default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="one_membership_per_room")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.room}"

    @property
    def is_coach(self) -> bool:
        return self.role in self.COACH_ROLES


class RoomAccess:
    """What one person may do in one room, decided in one place."""

    def __init__(self, *, can_read: bool, can_manage: bool, can_enter_data: bool):
        self.can_read = can_read
        self.can_manage = can_manage
        self.can_enter_data = can_enter_data

    @classmethod
    def for_user(cls, room: BigRoom, user) -> "RoomAccess":
        if not user.is_authenticated or not user.is_active:
            return cls(can_read=False, can_manage=False, can_enter_data=False)
        membership = (
            RoomMembership.objects.filter(room=room, user=user)
            .only("role", "can_contribute_data")
            .first()
        )
        if membership is not None:
            coach = membership.is_coach
            return cls(
                can_read=True,
                can_manage=coach,
                can_enter_data=coach or membership.can_contribute_data,
            )
        reads = (
            user.is_academy_admin
            or OrganisationMembership.objects.filter(
                Q(role=OrganisationMembership.Role.QI_LEAD)
                | Q(role=OrganisationMembership.Role.VIEWER),
                user=user,
                organisation_id=room.host_id,
            ).exists()
        )
        return cls(can_read=reads, can_manage=False, can_enter_data=False)
