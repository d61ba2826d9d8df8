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
    path("actions/", views.my_actions, name="my_actions"),
    path("actions/<int:action_id>/status/", views.action_status, name="action_status"),
]
