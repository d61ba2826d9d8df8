from django.urls import path

from bigrooms import views

urlpatterns = [
    path("rooms/<int:room_id>/", views.room_detail, name="room_detail"),
    path("rooms/<int:room_id>/members/", views.room_members, name="room_members"),
    path(
        "rooms/<int:room_id>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("rooms/<int:room_id>/stall-notes/", views.stall_note, name="stall_note"),
    path("rooms/<int:room_id>/build/", views.room_build, name="room_build"),
    path("rooms/<int:room_id>/photos/<int:photo_id>/", views.room_photo, name="room_photo"),
    path("rooms/<int:room_id>/settings/", views.room_settings, name="room_settings"),
    path("rooms/<int:room_id>/tokens/", views.room_tokens, name="room_tokens"),
    path("rooms/<int:room_id>/sessions/new/", views.session_new, name="session_new"),
    path("sessions/<int:session_id>/", views.session_detail, name="session_detail"),
    path("sessions/<int:session_id>/finish/", views.session_finish, name="session_finish"),
    path("sessions/<int:session_id>/notes/", views.session_notes, name="session_notes"),
    path("sessions/<int:session_id>/autosave/", views.session_autosave, name="session_autosave"),
    path("score/<str:ticket>/", views.score_session, name="score_session"),
    path("sessions/<int:session_id>/meeting/", views.meeting_drive, name="meeting_drive"),
    path("sessions/<int:session_id>/meeting/move/", views.meeting_move, name="meeting_move"),
    path("sessions/<int:session_id>/meeting/action/", views.meeting_action, name="meeting_action"),
    path("meeting/<str:screen>/", views.meeting_screen, name="meeting_screen"),
    path("meeting/<str:screen>/state/", views.meeting_state, name="meeting_state"),
    path("rooms/<int:room_id>/themes/", views.room_themes, name="room_themes"),
    path("rooms/<int:room_id>/multivotes/new/", views.multivote_open, name="multivote_open"),
    path("multivotes/<int:multivote_id>/", views.multivote_detail, name="multivote_detail"),
    path("multivotes/<int:multivote_id>/close/", views.multivote_close, name="multivote_close"),
    path("rooms/<int:room_id>/aims/", views.room_aims, name="room_aims"),
    path("rooms/<int:room_id>/aims/new/", views.specific_aim_create, name="specific_aim_create"),
    path("aims/<int:aim_id>/", views.specific_aim_edit, name="specific_aim_edit"),
    path("rooms/<int:room_id>/driver-diagram/", views.driver_diagram, name="driver_diagram"),
    path(
        "rooms/<int:room_id>/driver-diagram.svg",
        views.driver_diagram_image,
        {"kind": "svg"},
        name="driver_diagram_svg",
    ),
    path(
        "rooms/<int:room_id>/driver-diagram.png",
        views.driver_diagram_image,
        {"kind": "png"},
        name="driver_diagram_png",
    ),
    path("drivers/<int:driver_id>/", views.driver_edit, name="driver_edit"),
    path("drivers/<int:driver_id>/remove/", views.driver_remove, name="driver_remove"),
    path(
        "rooms/<int:room_id>/change-ideas/new/",
        views.change_idea_create,
        name="change_idea_create",
    ),
    path("change-ideas/<int:idea_id>/", views.change_idea_detail, name="change_idea_detail"),
    path("change-ideas/<int:idea_id>/edit/", views.change_idea_edit, name="change_idea_edit"),
    path("change-ideas/<int:idea_id>/pdsas/new/", views.pdsa_create, name="pdsa_create"),
    path("rooms/<int:room_id>/pdsas/", views.room_pdsas, name="room_pdsas"),
    path("pdsas/<int:pdsa_id>/", views.pdsa_detail, name="pdsa_detail"),
    path("pdsas/<int:pdsa_id>/move/", views.pdsa_move, name="pdsa_move"),
    path("pdsas/<int:pdsa_id>/next/", views.pdsa_next, name="pdsa_next"),
    *(
        path(
            f"pdsas/<int:pdsa_id>/{part}/",
            views.pdsa_edit,
            {"part": part},
            name=f"pdsa_edit_{part}",
        )  # fmt: skip
        for part in ("plan", "do", "study", "act")
    ),
    path("actions/", views.my_actions, name="my_actions"),
    path("actions/<int:action_id>/status/", views.action_status, name="action_status"),
]
