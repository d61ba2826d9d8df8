from django.urls import path

from bigrooms import api

urlpatterns = [
    path("rooms/", api.room_list, name="api_room_list"),
    path("rooms/<int:room_id>/", api.room_detail, name="api_room_detail"),
    path("rooms/<int:room_id>/sessions/", api.session_list, name="api_session_list"),
    path("rooms/<int:room_id>/sessions/new/", api.session_log, name="api_session_log"),
    path("sessions/<int:session_id>/", api.session_detail, name="api_session_detail"),
    path("sessions/<int:session_id>/scores/", api.session_scores, name="api_session_scores"),
    path("rooms/<int:room_id>/improvement/", api.room_improvement, name="api_room_improvement"),
    path("rooms/<int:room_id>/actions/", api.action_list, name="api_action_list"),
    path("rooms/<int:room_id>/actions/new/", api.action_create, name="api_action_create"),
    path("actions/mine/", api.my_actions, name="api_my_actions"),
    path("actions/<int:action_id>/", api.action_detail, name="api_action_detail"),
    path("actions/<int:action_id>/change/", api.action_change, name="api_action_change"),
    path("actions/<int:action_id>/complete/", api.action_complete, name="api_action_complete"),
    path("rooms/<int:room_id>/build/", api.room_build, name="api_room_build"),
    path("rooms/<int:room_id>/multivotes/", api.multivote_list, name="api_multivote_list"),
    path("rooms/<int:room_id>/board-packs/", api.board_pack_list, name="api_board_pack_list"),
    path("library/", api.package_list, name="api_package_list"),
    path("library/<int:package_id>/", api.package_detail, name="api_package_detail"),
    path("rooms/<int:room_id>/pdsas/", api.pdsa_list, name="api_pdsa_list"),
    path("pdsas/<int:pdsa_id>/", api.pdsa_detail, name="api_pdsa_detail"),
    path("pdsa-tasks/<int:task_id>/done/", api.pdsa_task_done, name="api_pdsa_task_done"),
    path(
        "organisations/<int:org_id>/dashboard/",
        api.organisation_dashboard,
        name="api_organisation_dashboard",
    ),
]
