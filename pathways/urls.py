from django.urls import path

from pathways import views

urlpatterns = [
    path("pathways/new/", views.pathway_create, name="pathway_create"),
    path("pathways/<int:pathway_id>/", views.pathway_detail, name="pathway_detail"),
    path("pathways/<int:pathway_id>/settings/", views.pathway_settings, name="pathway_settings"),
    path("pathways/<int:pathway_id>/steps/", views.pathway_steps, name="pathway_steps"),
    path("steps/<int:step_id>/", views.step_edit, name="step_edit"),
    path("steps/<int:step_id>/remove/", views.step_remove, name="step_remove"),
]
