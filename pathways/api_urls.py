from django.urls import path

from pathways import api

urlpatterns = [
    path("pathways/", api.pathway_list, name="api_pathway_list"),
    path("pathways/<int:pathway_id>/", api.pathway_detail, name="api_pathway_detail"),
    path(
        "pathways/<int:pathway_id>/episode-uploads/",
        api.episode_upload_list,
        name="api_episode_upload_list",
    ),
    path("pathways/<int:pathway_id>/episodes/", api.send_episodes, name="api_send_episodes"),
    path("episode-uploads/<int:episode_upload_id>/", api.episode_upload, name="api_episode_upload"),
]
