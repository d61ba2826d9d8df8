from django.urls import path

from bigrooms import views

urlpatterns = [
    path("rooms/<int:room_id>/", views.room_detail, name="room_detail"),
]
