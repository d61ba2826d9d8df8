from django.urls import path

from measures import api

urlpatterns = [
    path("measures/", api.measure_list, name="api_measure_list"),
    path("measures/<int:measure_id>/", api.measure_detail, name="api_measure_detail"),
    path("measures/<int:measure_id>/points/", api.point_list, name="api_point_list"),
    path("measures/<int:measure_id>/points/upsert/", api.point_upsert, name="api_point_upsert"),
]
