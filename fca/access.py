"""The only way views and API endpoints fetch objects named in a request.

Each helper answers 404 to a person who may not see the object (so its existence does
not leak) and 403 to a person who may see it but not do what was asked.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from bigrooms.models import Action, BigRoom, RoomAccess, Session
from fca.models import ApiToken, Organisation
from measures.models import Measure


def _check(access: RoomAccess, *, write: bool, data: bool) -> None:
    if not access.can_read:
        raise Http404("No such page")
    if write and not access.can_manage:
        raise PermissionDenied("Only the room's coaches can do this")
    if data and not access.can_enter_data:
        raise PermissionDenied("Only the room's coaches and data contributors can add data")


def get_big_room_for_user(
    user, pk: int, *, write: bool = False, members: bool = False
) -> tuple[BigRoom, RoomAccess]:
    """The room and what the person may do in it; ``write`` needs a coach of the room,
    ``members`` a coach or a QI lead of the host organisation."""
    room = BigRoom.objects.select_related("host", "pathway").filter(pk=pk).first()
    if room is None:
        raise Http404("No such page")
    access = room.access_for(user)
    _check(access, write=write, data=False)
    if members and not access.can_manage_members:
        raise PermissionDenied("Only the room's coaches and QI leads can change its team")
    return room, access


def require_academy_admin(user) -> None:
    """The academy's pages are its admins' alone: to anyone else they do not exist."""
    if not (user.is_authenticated and user.is_active and user.is_academy_admin):
        raise Http404("No such page")


def get_academy_object(user, model, pk: int):
    """A cohort, taught day, coach or enrolment, for an academy admin."""
    require_academy_admin(user)
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("No such page")
    return found


def get_package_for_user(user, pk: int):
    """A change package of the learning library: every signed-in person reads it; one
    withdrawn from the library only academy admins still see."""
    from bigrooms.models import ChangePackage

    package = ChangePackage.objects.filter(pk=pk).first()
    if package is None or not user.is_authenticated:
        raise Http404("No such page")
    if package.status == ChangePackage.Status.WITHDRAWN and not user.is_academy_admin:
        raise Http404("No such page")
    return package


def get_organisation_for_user(user, pk: int) -> Organisation:
    """An organisation whose dashboard the person may read (its QI leads and viewers,
    academy admins)."""
    organisation = Organisation.objects.readable_by(user).filter(pk=pk).first()
    if organisation is None:
        raise Http404("No such page")
    return organisation


def get_measure_for_user(
    user, pk: int, *, write: bool = False, data: bool = False, note: bool = False
) -> tuple[Measure, RoomAccess]:
    """A measure and the person's access to its room (or pathway); ``data`` needs the
    right to enter data, ``note`` to add notes to its chart, ``write`` (change the measure
    itself) a coach (for a flow measure, a QI lead of the pathway's host)."""
    measure = Measure.objects.select_related("room__host", "pathway__host").filter(pk=pk).first()
    if measure is None:
        raise Http404("No such page")
    access = measure.access_for(user)
    _check(access, write=write, data=data)
    if note and not access.can_note:
        raise PermissionDenied("Only those who give the chart its data can add notes to it")
    return measure, access


def _integration_token(request):
    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken) and token.kind == ApiToken.Kind.INTEGRATION:
        return token
    return None


def _token_scope(token: ApiToken) -> dict:
    """The one room, or the one pathway, an integration token reaches (never None: a
    token has exactly one, so no filter can come out as "everything without one")."""
    if token.room_id:
        return {"room_id": token.room_id}
    return {"pathway_id": token.pathway_id}


def get_measure_for_api(request, pk: int, *, write: bool = False) -> Measure:
    """A measure for an API call. A person (signed in, or by their personal token) has
    their own access; an integration token reaches only its room's measures, and a
    write-only one may not read them."""
    token = _integration_token(request)
    if token is None:
        measure, _ = get_measure_for_user(request.user, pk, data=write)
        return measure
    measure = Measure.objects.select_related("room").filter(pk=pk, **_token_scope(token)).first()
    if measure is None:
        raise Http404("No such measure")
    if not write and token.write_only:
        raise PermissionDenied("This token can send data but not read it")
    return measure


def measures_for_api(request):
    """The measures an API client may list."""
    token = _integration_token(request)
    if token is None:
        return Measure.objects.visible_to(request.user)
    if token.write_only:
        raise PermissionDenied("This token can send data but not read it")
    return Measure.objects.filter(**_token_scope(token))


def get_token_for_user(user, pk: int) -> ApiToken:
    """A token the person may manage: their own personal token, or an integration token of
    a room they coach. Others' tokens do not exist for them."""
    token = ApiToken.objects.select_related("room").filter(pk=pk).first()
    if token is None:
        raise Http404("No such token")
    if token.kind == ApiToken.Kind.PERSONAL:
        if token.user_id != user.pk:
            raise Http404("No such token")
        return token
    if token.pathway_id:
        get_pathway_for_user(user, token.pathway_id, write=True)
    else:
        get_big_room_for_user(user, token.room_id, write=True)
    return token


def get_session_for_user(user, pk: int):
    """A weekly session and the person's access to its room (404 for outsiders)."""
    session = (
        Session.objects.select_related(
            "room__host", "chair", "timekeeper", "note_keeper", "facilitator"
        )
        .filter(pk=pk)
        .first()
    )
    if session is None:
        raise Http404("No such page")
    access = session.room.access_for(user)
    _check(access, write=False, data=False)
    return session, access


def get_action_for_user(user, pk: int) -> Action:
    """An action the person may move on: its owner's, its chaser's, or a coach's of the
    room. Others who can read the room get 403; outsiders 404."""
    action = Action.objects.select_related("room").filter(pk=pk).first()
    if action is None:
        raise Http404("No such page")
    access = action.room.access_for(user)
    _check(access, write=False, data=False)
    if user.pk not in (action.owner_id, action.chaser_id) and not access.can_manage:
        raise PermissionDenied("Only its owner, its chaser or a coach can change an action")
    return action


def get_room_part_for_user(user, model, pk: int, *, write: bool = False):
    """A part of a room's improvement work (a theme's multivote, an aim, a driver, a change
    idea, a PDSA cycle) and the person's access to its room; ``write`` needs a coach."""
    part = model.objects.select_related("room__host").filter(pk=pk).first()
    if part is None:
        raise Http404("No such page")
    access = part.room.access_for(user)
    _check(access, write=write, data=False)
    return part, access


def get_pathway_for_user(user, pk: int, *, write: bool = False, load: bool = False):
    """A care pathway and the person's access to it; ``write`` (steps, settings, tokens)
    needs a QI lead of its host, ``load`` the right to load its data."""
    from pathways.models import Pathway

    pathway = Pathway.objects.select_related("host").filter(pk=pk).first()
    if pathway is None:
        raise Http404("No such page")
    access = pathway.access_for(user)
    if not access.can_read:
        raise Http404("No such page")
    if write and not access.can_manage:
        raise PermissionDenied("Only the QI leads of the pathway's organisation can do this")
    if load and not access.can_load:
        raise PermissionDenied("Only the pathway's QI leads, coaches and data contributors")
    return pathway, access


def get_step_for_user(user, pk: int):
    """A step of a pathway the person may manage."""
    from pathways.models import Step

    step = Step.objects.filter(pk=pk).first()
    if step is None:
        raise Http404("No such page")
    pathway, _ = get_pathway_for_user(user, step.pathway_id, write=True)
    step.pathway = pathway
    return step


def get_episode_upload_for_user(user, pk: int):
    """An episode upload, to those who may load data into its pathway. Its report names
    lines and columns, never a row's values."""
    from pathways.models import EpisodeUpload

    upload = EpisodeUpload.objects.filter(pk=pk).first()
    if upload is None:
        raise Http404("No such page")
    upload.pathway, _ = get_pathway_for_user(user, upload.pathway_id, load=True)
    return upload


def get_pathway_for_api(request, pk: int):
    """A pathway an API client may send episodes to: a person needs the right to load its
    data; a pathway's feed token reaches only its own pathway, a room's token none."""
    from pathways.models import Pathway

    token = _integration_token(request)
    if token is None:
        pathway, _ = get_pathway_for_user(request.user, pk, load=True)
        return pathway
    pathway = Pathway.objects.filter(pk=pk).first()
    if pathway is None or token.pathway_id != pathway.pk:
        raise Http404("No such pathway")
    return pathway


def get_episode_upload_for_api(request, pk: int):
    """An episode upload's progress: a person's own access, or a feed token's own pathway."""
    from pathways.models import EpisodeUpload

    token = _integration_token(request)
    if token is None:
        return get_episode_upload_for_user(request.user, pk)
    upload = EpisodeUpload.objects.filter(pk=pk, pathway_id=token.pathway_id).first()
    if token.pathway_id is None or upload is None:
        raise Http404("No such upload")
    return upload


def get_pdsa_task_for_user(user, pk: int):
    """A PDSA task the person may tick off: its owner's, or a coach's of the room."""
    from bigrooms.models import PDSATask

    task = PDSATask.objects.select_related("pdsa__room").filter(pk=pk).first()
    if task is None:
        raise Http404("No such page")
    access = task.pdsa.room.access_for(user)
    _check(access, write=False, data=False)
    if task.owner_id != user.pk and not access.can_manage:
        raise PermissionDenied("Only its owner or a coach of the room can tick off a task")
    return task
