"""The academy: an admin adds a cohort, enrols its coaches from a list (every row checked
and shown before anything is saved), invites them, takes attendance at taught days,
follows each coach's status and pairs coaches into big rooms. Nobody else sees any of it."""

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from bigrooms.models import RoomMembership, Session
from fca import academy
from fca.models import Coach, Cohort, Enrolment, Organisation, User

HEADINGS = "Name,Email,Organisation,ODS code,Coach type\n"


def coach_list(n: int = 24, *, bad: bool = False) -> str:
    """n coaches of North and South, alternately clinical and independent; with bad,
    three bad rows: an unknown organisation, a bad email, and an email twice."""
    rows = []
    for i in range(n):
        organisation, code = (("North Acute NHS Trust", "RXN"), ("", "RYS"))[i % 2]
        kind = ("Clinical", "independent coach")[i % 2]
        rows.append(f"Coach {i:02d},coach{i:02d}@nhs.net,{organisation},{code},{kind}")
    if bad:
        rows[3] = "Coach 03,coach03@nhs.net,Nowhere Hospital,,Clinical"
        rows[7] = "Coach 07,coach07-at-nhs.net,,RYS,independent"
        rows[11] = "Coach 11,coach02@nhs.net,,RYS,independent"  # row 4's email again
    return HEADINGS + "\n".join(rows) + "\n"


@pytest.fixture
def cohort(cast):
    return Cohort.objects.create(name="Cohort 14", academy="Sheffield FCA",
                                 starts_on=timezone.localdate())  # fmt: skip


@pytest.fixture
def admin(client, cast):
    client.force_login(cast.ada)
    return client


def _upload(client, cohort, text: str, name: str = "coaches.csv"):
    return client.post(
        reverse("enrolment_new", args=[cohort.pk]),
        {"file": SimpleUploadedFile(name, text.encode())},
    )


def test_an_admin_adds_a_cohort_and_a_bad_date_is_named(admin, cast):
    bad = admin.post(reverse("cohort_create"), {"name": "Cohort 15", "academy": "Sheffield",
                                               "starts_on": "12/05/2027",
                                               "ends_on": "01/05/2027"})  # fmt: skip
    assert bad.status_code == 400
    assert "The end date must be on or after the start date" in bad.content.decode()
    assert not Cohort.objects.exists()
    response = admin.post(reverse("cohort_create"), {"name": "Cohort 15", "academy": "Sheffield",
                                                    "starts_on": "12/05/2027"})  # fmt: skip
    cohort = Cohort.objects.get()
    assert response["Location"] == reverse("cohort_detail", args=[cohort.pk])
    assert cohort.starts_on.isoformat() == "2027-05-12"


def test_a_list_with_bad_rows_is_shown_row_by_row_and_nothing_is_saved(admin, cast, cohort):
    users = User.objects.count()
    response = _upload(admin, cohort, coach_list(bad=True))
    enrolment = Enrolment.objects.get()
    assert response["Location"] == reverse("enrolment_detail", args=[enrolment.pk])
    page = admin.get(response["Location"]).content.decode()
    assert "4 rows of 24 have problems" in page  # the email twice: both its rows
    assert "Row 5: No organisation is called “Nowhere Hospital”" in page
    assert "Row 9: “coach07-at-nhs.net” is not an email address" in page
    assert "Row 4: coach02@nhs.net is also on row 13: each person once" in page
    assert "Row 13: coach02@nhs.net is also on row 4: each person once" in page
    assert "Upload the corrected list" in page and "send invitations" not in page
    # Confirming anyway is refused: nothing about the people is saved.
    refused = admin.post(reverse("enrolment_detail", args=[enrolment.pk]), follow=True)
    assert "Fix the rows with problems" in refused.content.decode()
    assert User.objects.count() == users and not Coach.objects.exists()
    assert not mail.outbox


@pytest.mark.parametrize(
    ("text", "name", "words"),
    [
        ("name,email\nA,a@nhs.net\n", "coaches.csv",
         "Missing: organisation, coach type (clinical or independent)"),
        ("", "coaches.csv", "The file is empty"),
        ("%PDF-1.4 binary", "coaches.pdf", "Upload a CSV file or an Excel workbook (.xlsx)"),
        ("x" * (5 * 1024 * 1024 + 1), "coaches.csv", "a list of coaches is at most 5 MB"),
    ],
)  # fmt: skip
def test_a_list_that_cannot_be_read_says_why(admin, cast, cohort, text, name, words):
    response = _upload(admin, cohort, text, name)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Enrolment.objects.exists() and not Coach.objects.exists()


def test_a_good_list_enrols_and_invites_once(
    admin, cast, cohort, django_capture_on_commit_callbacks
):
    text = coach_list().replace("coach05@nhs.net", "CHARLIE@south.nhs.uk")  # has an account
    _upload(admin, cohort, text)
    enrolment = Enrolment.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("enrolment_detail", args=[enrolment.pk]), follow=True)
    page = response.content.decode()
    assert "24 coaches enrolled; 23 invited by email to set a password." in page
    assert cohort.coaches.count() == 24
    assert User.objects.filter(email__iexact="charlie@south.nhs.uk").count() == 1
    assert Coach.objects.get(user=cast.charlie).kind == "independent"
    assert len(mail.outbox) == 23
    assert mail.outbox[0].subject == "You are enrolled as a flow coach: Cohort 14"
    assert Coach.objects.filter(user__email="coach00@nhs.net", organisation=cast.north,
                                kind="clinical").exists()  # fmt: skip
    # The same list twice changes nothing: no one new, no second invitation.
    _upload(admin, cohort, text)
    again = Enrolment.objects.latest("pk")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("enrolment_detail", args=[again.pk]), follow=True)
    assert "0 coaches enrolled; 24 already in the cohort" in response.content.decode()
    assert cohort.coaches.count() == 24 and len(mail.outbox) == 23
    # Confirming the first list again (a double click) does nothing either.
    assert academy.confirm_enrolment(enrolment=enrolment, by=cast.ada)["enrolled"] == 24
    assert cohort.coaches.count() == 24


def test_an_invited_coach_paired_into_a_room_sets_a_password_and_lands_in_it(
    admin, client, cast, cohort, django_capture_on_commit_callbacks
):
    _upload(admin, cohort, coach_list(2))
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("enrolment_detail", args=[Enrolment.objects.get().pk]))
    clinical, independent = Coach.objects.order_by("user__email")
    response = admin.post(reverse("coach_pair", args=[clinical.pk]),
                          {"partner": independent.pk, "room": cast.room.pk}, follow=True)  # fmt: skip
    assert "Coach 00 and Coach 01 now coach Hip fracture big room." in response.content.decode()
    roles = dict(cast.room.memberships.values_list("user__email", "role"))
    assert roles["coach00@nhs.net"] == RoomMembership.Role.CLINICAL_COACH
    assert roles["coach01@nhs.net"] == RoomMembership.Role.INDEPENDENT_COACH
    link = re.search(r"https?://\S+/account/invitation/\S+/", mail.outbox[0].body).group(0)
    path = "/" + link.split("/", 3)[3]
    client.logout()
    response = client.post(path, {"new_password1": "a-long-new-secret",
                                  "new_password2": "a-long-new-secret"})  # fmt: skip
    assert response["Location"] == reverse("room_detail", args=[cast.room.pk])


def test_a_coachs_status_comes_from_their_rooms_sessions_or_an_admins_reason(admin, cast, cohort):
    coach = Coach.objects.create(cohort=cohort, user=cast.alice, organisation=cast.north,
                                 kind="clinical")  # fmt: skip
    assert academy.shown_statuses([coach])[coach.pk] == "In training"
    Session.objects.create(room=cast.room, held_on=timezone.localdate() - timedelta(weeks=2))
    assert academy.shown_statuses([coach])[coach.pk] == "Coaching (logged in the app)"
    refused = admin.post(reverse("coach_detail", args=[coach.pk]), {"status": "stopped"})
    assert refused.status_code == 400 and "Give a reason" in refused.content.decode()
    admin.post(reverse("coach_detail", args=[coach.pk]),
               {"status": "stopped", "reason": "Moved to a new post"})  # fmt: skip
    coach.refresh_from_db()
    assert academy.shown_statuses([coach])[coach.pk] == "Stopped: Moved to a new post"
    other = Coach.objects.create(cohort=cohort, user=cast.bob, organisation=cast.north,
                                 kind="independent", status="coaching",
                                 status_reason="Their room logs on paper")  # fmt: skip
    words = academy.shown_statuses([other])[other.pk]
    assert words == "Coaching (an admin's word: Their room logs on paper)"


def test_taught_day_attendance_is_taken_and_a_second_day_on_a_date_is_named(admin, cast,
                                                                          cohort):  # fmt: skip
    coach = Coach.objects.create(cohort=cohort, user=cast.alice, organisation=cast.north,
                                 kind="clinical")  # fmt: skip
    url = reverse("taught_day_create", args=[cohort.pk])
    response = admin.post(url, {"held_on": "12/01/2027", "title": "Day 1"})
    day = cohort.days.get()
    assert response["Location"] == reverse("taught_day_attendance", args=[day.pk])
    admin.post(response["Location"], {"present": [coach.pk]})
    assert list(day.present.all()) == [coach]
    again = admin.post(url, {"held_on": "12/01/2027", "title": "Day 1 again"})
    assert "Cohort 14 already has a day on that date: Day 1" in again.content.decode()
    page = admin.get(reverse("cohort_detail", args=[cohort.pk])).content.decode()
    assert "12 Jan 2027: Day 1" in page and "(1 of 1 came)" in page


def test_only_academy_admins_see_the_academy(client, cast, cohort):
    coach = Coach.objects.create(cohort=cohort, user=cast.alice, organisation=cast.north,
                                 kind="clinical")  # fmt: skip
    urls = [reverse("academy_home"), reverse("cohort_detail", args=[cohort.pk]),
            reverse("coach_detail", args=[coach.pk]), reverse("enrolment_new", args=[cohort.pk])]  # fmt: skip
    for user in (cast.alice, cast.quinn, cast.vera, cast.charlie):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404
    client.force_login(cast.ada)
    for url in urls:
        assert client.get(url).status_code == 200


def test_the_organisation_column_may_name_an_organisation_by_ods_code_alone(cast, cohort):
    rows = academy.read_enrolment("c.csv", (HEADINGS + "Ann,ann@nhs.net,,rxn,clinical\n").encode())
    assert rows[0]["organisation_id"] == cast.north.pk and not rows[0]["problems"]
    rows = academy.read_enrolment("c.csv", (HEADINGS + "Ann,ann@nhs.net,,ZZZ,nurse\n").encode())
    assert rows[0]["problems"] == [
        "No organisation has the ODS code “ZZZ”",
        "The coach type must be clinical or independent, not “nurse”",
    ]
    assert Organisation.objects.count() == 2


def test_academy_admins_read_a_rooms_metadata_but_not_its_parking_lot(client, cast):
    cast.room.parking_lot.create(text="Ask about Mr Jones's discharge")
    client.force_login(cast.alice)
    url = reverse("room_detail", args=[cast.room.pk])
    assert "Mr Jones" in client.get(url).content.decode()
    client.force_login(cast.ada)
    page = client.get(url).content.decode()
    assert "Hip fracture big room" in page and "Mr Jones" not in page


def test_an_excel_list_reads_as_a_csv_does(cast, cohort):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in coach_list(3).splitlines():
        sheet.append(line.split(","))
    data = io.BytesIO()
    book.save(data)
    rows = academy.read_enrolment("coaches.xlsx", data.getvalue())
    assert [(r["email"], r["kind"], r["problems"]) for r in rows] == [
        ("coach00@nhs.net", "clinical", []),
        ("coach01@nhs.net", "independent", []),
        ("coach02@nhs.net", "clinical", []),
    ]


def test_an_invitation_is_sent_again_until_the_password_is_set(
    admin, cast, cohort, django_capture_on_commit_callbacks
):
    _upload(admin, cohort, coach_list(1))
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("enrolment_detail", args=[Enrolment.objects.get().pk]))
    coach = Coach.objects.get()
    url = reverse("coach_resend", args=[coach.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(url, follow=True)
    assert "A new invitation is on its way to coach00@nhs.net." in response.content.decode()
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["coach00@nhs.net"]
    coach.user.set_password("a-long-new-secret")
    coach.user.save()
    response = admin.post(url, follow=True)
    assert "Coach 00 has already set a password." in response.content.decode()
    assert len(mail.outbox) == 2


def test_a_name_two_organisations_share_or_a_value_too_long_is_a_row_problem(cast, cohort):
    Organisation.objects.create(name="The Surgery", kind="gp_practice", ods_code="A1")
    Organisation.objects.create(name="The Surgery", kind="gp_practice", ods_code="A2")
    long = "a" * 250 + "@nhs.net"
    text = HEADINGS + f"Ann,ann@nhs.net,The Surgery,,clinical\n{'N' * 201},{long},,A1,clinical\n"
    first, second = academy.read_enrolment("c.csv", text.encode())
    assert first["problems"] == [
        "Several organisations are called “The Surgery”: give its ODS code"
    ]
    assert second["problems"] == ["The name is longer than 200 characters",
                                  f"“{long}” is not an email address"]  # fmt: skip


def test_an_admin_cannot_pair_themselves_into_a_room(admin, cast, cohort):
    mine = Coach.objects.create(cohort=cohort, user=cast.ada, organisation=cast.north,
                                kind="clinical")  # fmt: skip
    partner = Coach.objects.create(cohort=cohort, user=cast.bob, organisation=cast.north,
                                   kind="independent")  # fmt: skip
    response = admin.post(reverse("coach_pair", args=[mine.pk]),
                          {"partner": partner.pk, "room": cast.room.pk})  # fmt: skip
    assert response.status_code == 400
    assert "Another academy admin must pair you into a room" in response.content.decode()
    assert not cast.room.memberships.filter(user=cast.ada).exists()


def test_a_list_never_confirmed_is_deleted_after_a_day(admin, cast, cohort):
    from fca.tasks import delete_unconfirmed_enrolments

    _upload(admin, cohort, coach_list(2, bad=False))
    _upload(admin, cohort, coach_list(2, bad=False))
    kept, old = Enrolment.objects.order_by("pk")
    academy.confirm_enrolment(enrolment=kept, by=cast.ada)
    Enrolment.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    assert delete_unconfirmed_enrolments() == 1
    assert list(Enrolment.objects.all()) == [kept]  # the confirmed one records what it did
