from django.urls import path

from pathways import views

urlpatterns = [
    path("pathways/new/", views.pathway_create, name="pathway_create"),
    path("pathways/<int:pathway_id>/", views.pathway_detail, name="pathway_detail"),
    path("pathways/<int:pathway_id>/settings/", views.pathway_settings, name="pathway_settings"),
    path("pathways/<int:pathway_id>/steps/", views.pathway_steps, name="pathway_steps"),
    path("pathways/<int:pathway_id>/tokens/", views.pathway_tokens, name="pathway_tokens"),
    path("steps/<int:step_id>/", views.step_edit, name="step_edit"),
    path(
        "pathways/<int:pathway_id>/episodes/upload/",
        views.episode_upload_new,
        name="episode_upload_new",
    ),
    path("episode-uploads/<int:episode_upload_id>/", views.episode_upload, name="episode_upload"),
    path(
        "episode-uploads/<int:episode_upload_id>/load/",
        views.episode_upload_confirm,
        name="episode_upload_confirm",
    ),
    path(
        "episode-uploads/<int:episode_upload_id>/discard/",
        views.episode_upload_discard,
        name="episode_upload_discard",
    ),
    path("steps/<int:step_id>/remove/", views.step_remove, name="step_remove"),
]
