from django.urls import path

from measures import views

urlpatterns = [
    path("rooms/<int:room_id>/measures/new/", views.measure_create, name="measure_create"),
    path("measures/<int:measure_id>/", views.measure_detail, name="measure_detail"),
    path("academy/failed-work/", views.failed_work, name="failed_work"),
    path("measures/<int:measure_id>/settings/", views.measure_settings, name="measure_settings"),
    path("measures/<int:measure_id>/chart-status/", views.chart_status, name="chart_status"),
    path("measures/<int:measure_id>/data.csv", views.measure_csv, name="measure_csv"),
    path("measures/<int:measure_id>/points/add/", views.add_point, name="add_point"),
    path("measures/<int:measure_id>/points/paste/", views.paste_points, name="paste_points"),
    path(
        "measures/<int:measure_id>/points/<int:point_id>/remove/",
        views.point_remove,
        name="point_remove",
    ),
    path("measures/<int:measure_id>/upload/", views.upload_start, name="upload_start"),
    path(
        "measures/<int:measure_id>/upload/<int:upload_id>/",
        views.upload_review,
        name="upload_review",
    ),
    path("measures/<int:measure_id>/phases/new/", views.phase_create, name="phase_create"),
    path(
        "measures/<int:measure_id>/phases/<int:phase_id>/remove/",
        views.phase_remove,
        name="phase_remove",
    ),
    path("measures/<int:measure_id>/notes/new/", views.annotation_create, name="annotation_create"),
]
