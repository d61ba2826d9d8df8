from django.urls import path

from pathways import api

urlpatterns = [
    path("pathways/<int:pathway_id>/episodes/", api.send_episodes, name="api_send_episodes"),
    path("episode-uploads/<int:episode_upload_id>/", api.episode_upload, name="api_episode_upload"),
]
