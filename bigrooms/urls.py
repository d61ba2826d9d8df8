from django.urls import path

from bigrooms import views

urlpatterns = [
    path("rooms/<int:room_id>/", views.room_detail, name="room_detail"),
    path("rooms/<int:room_id>/tokens/", views.room_tokens, name="room_tokens"),
]
