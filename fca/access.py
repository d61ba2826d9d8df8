"""The only way views and API endpoints fetch objects named in a request.

Each helper answers 404 to a person who may not see the object (so its existence does
not leak) and 403 to a person who may see it but not do what was asked.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from bigrooms.models import BigRoom, RoomAccess
from measures.models import Measure


def _check(access: RoomAccess, *, write: bool, data: bool) -> None:
    if not access.can_read:
        raise Http404("No such page")
    if write and not access.can_manage:
        raise PermissionDenied("Only the room's coaches can do this")
    if data and not access.can_enter_data:
        raise PermissionDenied("Only the room's coaches and data contributors can add data")


def get_big_room_for_user(user, pk: int, *, write: bool = False) -> tuple[BigRoom, RoomAccess]:
    """The room and what the person may do in it; ``write`` needs a coach of the room."""
    room = BigRoom.objects.select_related("host").filter(pk=pk).first()
    if room is None:
        raise Http404("No such page")
    access = room.access_for(user)
    _check(access, write=write, data=False)
    return room, access


def get_measure_for_user(
    user, pk: int, *, write: bool = False, data: bool = False
) -> tuple[Measure, RoomAccess]:
    """A measure and the person's access to its room; ``data`` needs the right to enter
    data, ``write`` (change the measure itself) a coach."""
    measure = Measure.objects.select_related("room__host").filter(pk=pk).first()
    if measure is None:
        raise Http404("No such page")
    access = measure.room.access_for(user)
    _check(access, write=write, data=data)
    return measure, access
