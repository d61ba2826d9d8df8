"""Building the big room: the 5Vs kept as versions, photos of flipcharts, stakeholders."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from bigrooms.models import FiveVs, RoomPhoto


def _png(size=(20, 10)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "yellow").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


def _five_vs(**texts):
    data = {"form": "five_vs", "value": "", "involve": "", "visualisation": "",
            "evidence": "", "vision": ""}  # fmt: skip
    data.update(texts)
    return data


def test_each_save_of_the_5vs_is_a_version_readable_later(coach, cast):
    url = reverse("room_build", args=[cast.room.pk])
    coach.post(url, _five_vs(value="Hip fracture patients wait too long"))
    coach.post(url, _five_vs(value="Hip fracture patients wait too long for theatre"))
    coach.post(url, _five_vs(value="Hip fracture patients wait too long for theatre"))  # same
    assert FiveVs.objects.count() == 2
    page = coach.get(url).content.decode()
    assert "Earlier versions (1)" in page
    assert (
        "Hip fracture patients wait too long<br>" in page
        or "wait too long</p>" in page
        or ("wait too long\n" in page)
    )


def test_a_photo_is_added_and_served_only_to_the_room(coach, cast, client):
    url = reverse("room_build", args=[cast.room.pk])
    response = coach.post(
        url,
        {"form": "photo", "caption": "Post-it map of the pathway",
         "image": SimpleUploadedFile("map.png", _png(), content_type="image/png")},
    )  # fmt: skip
    assert response.status_code == 302
    photo = RoomPhoto.objects.get()
    image = coach.get(reverse("room_photo", args=[cast.room.pk, photo.pk]))
    assert image.status_code == 200
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")
    client.force_login(cast.charlie)
    assert client.get(reverse("room_photo", args=[cast.room.pk, photo.pk])).status_code == 404
    client.force_login(cast.ada)  # the academy reads room metadata, not its working
    assert client.get(reverse("room_photo", args=[cast.room.pk, photo.pk])).status_code == 403


def test_a_photo_keeps_nothing_the_camera_wrote_and_stays_upright(coach, cast):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; shown rotated 90° clockwise
    exif[0x010F] = "PhoneMaker"
    exif[0x0132] = "2026:11:20 09:15:00"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "yellow").save(buffer, format="JPEG", exif=exif)
    coach.post(
        reverse("room_build", args=[cast.room.pk]),
        {"form": "photo", "caption": "Flipchart",
         "image": SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), "image/jpeg")},
    )  # fmt: skip
    stored = RoomPhoto.objects.get().image.read()
    assert b"PhoneMaker" not in stored and b"2026:11:20" not in stored
    with Image.open(io.BytesIO(stored)) as picture:
        assert picture.format == "JPEG" and not picture.getexif()
        assert picture.size == (20, 40)  # turned as the tag said, so it reads upright


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 not a picture", "The file is not a photo"),
        (b"\x89PNG" + b"0" * 20, "The file is not a photo"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused(coach, cast, content, message):
    response = coach.post(
        reverse("room_build", args=[cast.room.pk]),
        {"form": "photo", "caption": "Flipchart",
         "image": SimpleUploadedFile("x.png", content, content_type="image/png")},
    )  # fmt: skip
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RoomPhoto.objects.exists()


def test_a_photo_of_too_many_pixels_is_refused_before_it_is_drawn(coach, cast):
    buffer = io.BytesIO()
    Image.new("1", (8_000, 8_000)).save(buffer, format="PNG")  # 64 million pixels, 8 kB
    response = coach.post(
        reverse("room_build", args=[cast.room.pk]),
        {"form": "photo", "caption": "Huge",
         "image": SimpleUploadedFile("huge.png", buffer.getvalue(), "image/png")},
    )  # fmt: skip
    assert "The photo is 8,000 × 8,000 pixels: the most is 60 million" in response.content.decode()
    assert not RoomPhoto.objects.exists()


def test_a_photo_over_the_size_limit_is_refused(coach, cast, settings):
    settings.FCA_MAX_PHOTO_BYTES = 1024 * 1024
    noise = io.BytesIO()
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(noise, format="PNG")
    response = coach.post(
        reverse("room_build", args=[cast.room.pk]),
        {"form": "photo", "caption": "Big",
         "image": SimpleUploadedFile("big.png", noise.getvalue(), content_type="image/png")},
    )  # fmt: skip
    assert "The photo is larger than 1 MB: upload a smaller one" in response.content.decode()
    assert not RoomPhoto.objects.exists()


def test_stakeholders_are_listed(coach, cast):
    url = reverse("room_build", args=[cast.room.pk])
    coach.post(url, {"form": "stakeholder", "name": "Dr Osei", "organisation": "Ortho",
                     "role": "Consultant", "involvement": "Runs the trauma list"})  # fmt: skip
    assert "Runs the trauma list" in coach.get(url).content.decode()


def test_a_picture_named_as_a_web_page_is_stored_and_served_as_a_picture(coach, cast):
    response = coach.post(
        reverse("room_build", args=[cast.room.pk]),
        {"form": "photo", "caption": "Flipchart",
         "image": SimpleUploadedFile("evil.html", _png() + b"<script>alert(1)</script>",
                                     content_type="text/html")},
    )  # fmt: skip
    assert response.status_code == 302
    photo = RoomPhoto.objects.get()
    assert photo.image.name.endswith(".png") and "evil" not in photo.image.name
    served = coach.get(reverse("room_photo", args=[cast.room.pk, photo.pk]))
    assert served["Content-Type"] == "image/png"


def test_a_gif_is_not_a_photo_here(coach, cast):
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    response = coach.post(
        reverse("room_build", args=[cast.room.pk]),
        {"form": "photo", "caption": "x",
         "image": SimpleUploadedFile("x.gif", gif.getvalue(), content_type="image/gif")},
    )  # fmt: skip
    assert "upload a JPEG or PNG" in response.content.decode()
