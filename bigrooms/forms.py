from django import forms

from bigrooms.models import (
    Action,
    Attendance,
    BigRoom,
    FiveVs,
    RoomMembership,
    Stakeholder,
)
from bigrooms.services import (
    SESSION_ROLES,
    MemberInvite,
    NewAction,
    SessionRecord,
    parse_scores,
)
from fca.forms import NHSFormMixin
from fca.identifiers import text_warnings
from measures.forms import DateField

NEW_ACTION_ROWS = 2
ABSENT = "absent"
SOMEONE_ELSE = "other"


class SessionForm(NHSFormMixin, forms.Form):
    """The whole of a weekly session on one page, top to bottom, as a plain form."""

    held_on = DateField(label="Date of the session")
    guests = forms.IntegerField(
        label="Guests", help_text="People who came but are not members", min_value=0,
        max_value=200, required=False,
    )  # fmt: skip
    patient_story = forms.CharField(
        label="Patient story",
        help_text="A summary. Do not write names, NHS numbers, dates of birth or anything "
        "else that could identify a patient.",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    notes = forms.CharField(
        label="Notes and decisions",
        help_text="Do not write anything that could identify a patient.",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
    no_identifiers = forms.BooleanField(
        label="I have checked: nothing here identifies a patient",
        required=False,
    )
    parking_new = forms.CharField(
        label="Add to the parking lot",
        help_text="Things to come back to: one per line",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    scores = forms.CharField(
        label="Meeting evaluation scores",
        help_text="Type the round as you heard it, 0 to 10 each, for example: 7 8 9 6 8. "
        "Scores are anonymous.",
        required=False,
    )

    def __init__(self, *args, members, open_actions, parking=(), agenda=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members = members
        self.open_actions = open_actions
        self.agenda = list(agenda)
        for n, title in enumerate(self.agenda, start=1):
            self.fields[f"agenda_{n}_notes"] = forms.CharField(
                label=f"Notes: {title}",
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
            )
            self.fields[f"agenda_{n}_minutes"] = forms.IntegerField(
                label="Minutes spent", min_value=0, max_value=240, required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )  # fmt: skip
        self.fields["parking_closed"] = forms.TypedMultipleChoiceField(
            label="Close parking lot items",
            help_text="Taken onto an agenda, or no longer needed",
            choices=[(str(item.pk), item.text) for item in parking],
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        people = [(str(m.user_id), m.user.full_name) for m in members]
        for membership in members:
            self.fields[f"attended_{membership.user_id}"] = forms.ChoiceField(
                label=membership.user.full_name,
                choices=[(ABSENT, "Not there"), *Attendance.Mode.choices],
                initial=ABSENT,
                widget=forms.RadioSelect,
                required=False,
            )
        for role, label in SESSION_ROLES.items():
            self.fields[f"role_{role}"] = forms.TypedChoiceField(
                label=label, choices=[("", "Nobody"), *people], coerce=int,
                empty_value=None, required=False,
            )  # fmt: skip
        for action in open_actions:
            self.fields[f"action_{action.pk}"] = forms.ChoiceField(
                label=f"{action.what} ({action.owner_name})",
                choices=[("open", "Still open"), ("done", "Done"), ("dropped", "Dropped")],
                initial="open",
                widget=forms.RadioSelect,
                required=False,
            )
        for n in range(1, NEW_ACTION_ROWS + 1):
            self.fields[f"new_{n}_what"] = forms.CharField(
                label="What", max_length=300, required=False
            )
            self.fields[f"new_{n}_due"] = DateField(label="Due", required=False)
            self.fields[f"new_{n}_owner"] = forms.ChoiceField(
                label="Owner",
                choices=[("", "Choose"), *people, (SOMEONE_ELSE, "Someone else (name them)")],
                required=False,
            )
            self.fields[f"new_{n}_owner_text"] = forms.CharField(
                label="Owner in words", help_text="For example: the discharge team",
                max_length=100, required=False,
            )  # fmt: skip
            self.fields[f"new_{n}_chaser"] = forms.TypedChoiceField(
                label="Member who chases it", choices=[("", "Choose"), *people], coerce=int,
                empty_value=None, required=False,
            )  # fmt: skip
        self.nhs_style()

    def agenda_rows(self):
        return [
            (title, self[f"agenda_{n}_notes"], self[f"agenda_{n}_minutes"])
            for n, title in enumerate(self.agenda, start=1)
        ]

    def attendance_fields(self):
        return [self[f"attended_{m.user_id}"] for m in self.members]

    def role_fields(self):
        return [self[f"role_{role}"] for role in SESSION_ROLES]

    def action_fields(self):
        return [self[f"action_{a.pk}"] for a in self.open_actions]

    def new_action_rows(self):
        return [
            [self[f"new_{n}_{part}"] for part in ("what", "due", "owner", "owner_text", "chaser")]
            for n in range(1, NEW_ACTION_ROWS + 1)
        ]

    def clean(self):
        """Warn when free text looks like it holds a patient identifier; the person can
        check and confirm, since a ward number or a meeting date can look alike."""
        data = super().clean()
        self._check_half_filled(data)
        if not data.get("no_identifiers"):
            agenda_notes = [f"agenda_{n}_notes" for n in range(1, len(self.agenda) + 1)]
            for name in ("patient_story", "notes", *agenda_notes):
                for warning in text_warnings(data.get(name) or ""):
                    self.add_error(
                        name,
                        f"What is in “{self.fields[name].label}” {warning}: remove it, or "
                        "tick the box below if it is not about a patient",
                    )
        return data

    def _check_half_filled(self, data) -> None:
        """A new action row with an owner or date but no words, or a parking lot item that
        is too long: said, not silently dropped or cut."""
        for n in range(1, NEW_ACTION_ROWS + 1):
            others = [data.get(f"new_{n}_{p}") for p in ("due", "owner", "owner_text", "chaser")]
            if any(others) and not (data.get(f"new_{n}_what") or "").strip():
                self.add_error(f"new_{n}_what", f"New action {n}: say what the action is")
        for line in (data.get("parking_new") or "").splitlines():
            if len(line.strip()) > 300:
                self.add_error("parking_new", "A parking lot item is 300 characters at most")
                break

    def clean_scores(self):
        try:
            return parse_scores(self.cleaned_data["scores"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def record(self) -> SessionRecord:
        data = self.cleaned_data
        new_actions = []
        for n in range(1, NEW_ACTION_ROWS + 1):
            what = data.get(f"new_{n}_what", "").strip()
            if not what:
                continue
            owner = data.get(f"new_{n}_owner") or ""
            new_actions.append(
                NewAction(
                    what=what,
                    due_on=data.get(f"new_{n}_due"),
                    owner_id=int(owner) if owner.isdigit() else None,
                    owner_text=data.get(f"new_{n}_owner_text", ""),
                    chaser_id=data.get(f"new_{n}_chaser"),
                )
            )
        return SessionRecord(
            held_on=data["held_on"],
            attendance={
                m.user_id: data[f"attended_{m.user_id}"]
                for m in self.members
                if data.get(f"attended_{m.user_id}") not in (ABSENT, "", None)
            },
            guests=data.get("guests") or 0,
            roles={role: data.get(f"role_{role}") for role in SESSION_ROLES},
            patient_story=data.get("patient_story", ""),
            notes=data.get("notes", ""),
            action_updates={
                a.pk: data[f"action_{a.pk}"]
                for a in self.open_actions
                if data.get(f"action_{a.pk}") in (Action.Status.DONE, Action.Status.DROPPED)
            },
            new_actions=new_actions,
            scores=data.get("scores") or [],
            parking_new=[
                line.strip() for line in data.get("parking_new", "").splitlines() if line.strip()
            ],
            parking_closed=data.get("parking_closed") or [],
            agenda=[
                (title, data.get(f"agenda_{n}_minutes"), data.get(f"agenda_{n}_notes", ""))
                for n, title in enumerate(self.agenda, start=1)
            ],
        )


class RoomForm(NHSFormMixin, forms.ModelForm):
    online_link = forms.URLField(
        label="Online meeting link", assume_scheme="https", required=False, max_length=200
    )

    class Meta:
        model = BigRoom
        fields = [
            "name", "purpose", "sponsor", "stage", "status", "status_reason",
            "meeting_weekday", "meeting_time", "meeting_minutes", "meeting_place",
            "online_link", "ground_rules",
        ]  # fmt: skip
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "ground_rules": forms.Textarea(attrs={"rows": 4}),
            "stage": forms.RadioSelect,
            "status": forms.RadioSelect,
            "meeting_time": forms.TimeInput(attrs={"type": "time"}),
        }
        labels = {
            "stage": "Where the room is on the FCA roadmap",
            "status_reason": "Why (when stood down or closed)",
            "meeting_weekday": "Meeting day",
            "meeting_time": "Meeting time",
            "meeting_minutes": "Meeting length (minutes)",
        }
        help_texts = {
            "status_reason": "For example: winter pressures, August",
            "ground_rules": "Agreed at the first meeting; shown when a session is logged",
        }


class MemberForm(NHSFormMixin, forms.Form):
    email = forms.EmailField(label="Email address")
    full_name = forms.CharField(
        label="Full name", help_text="Needed only for someone new to the app", max_length=200,
        required=False,
    )  # fmt: skip
    role = forms.ChoiceField(
        label="Their access",
        choices=[
            (RoomMembership.Role.MEMBER, "Member: reads the room, works their actions"),
            (RoomMembership.Role.PARTNER, "Patient or carer partner"),
            (RoomMembership.Role.CLINICAL_COACH, "Clinical coach"),
            (RoomMembership.Role.INDEPENDENT_COACH, "Independent coach"),
            (RoomMembership.Role.VIEWER, "Viewer: reads only"),
        ],
        initial=RoomMembership.Role.MEMBER,
        widget=forms.RadioSelect,
    )
    team_role = forms.ChoiceField(
        label="Their place on the team",
        choices=[("", "Choose"), *RoomMembership.TeamRole.choices],
        required=False,
    )
    can_contribute_data = forms.BooleanField(
        label="They may add data to the room's measures", required=False
    )

    def invite(self) -> MemberInvite:
        return MemberInvite(**self.cleaned_data)


class ScoreForm(NHSFormMixin, forms.Form):
    score = forms.TypedChoiceField(
        label="How useful was this meeting?",
        help_text="0 is not at all, 10 is extremely. Your score is anonymous.",
        choices=[(str(n), str(n)) for n in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a score from 0 to 10"},
    )
    comment = forms.CharField(
        label="Anything to add? (optional)",
        help_text="Do not write anything that could identify a patient.",
        max_length=300,
        required=False,
    )


class FiveVsForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = FiveVs
        fields = list(FiveVs.FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in FiveVs.FIELDS}
        help_texts = {
            "value": "Why this pathway matters, and to whom",
            "involve": "Who needs to be in the room, from every part of the pathway",
            "visualisation": "How the pathway is seen: process maps, data, walks",
            "evidence": "What the data and the literature say",
            "vision": "What good would look like for patients",
        }


class PhotoForm(NHSFormMixin, forms.Form):
    image = forms.FileField(
        label="Photo",
        help_text="A JPEG or PNG of a flipchart or a post-it process map, up to 10 MB. Check "
        "first: no patient names or other identifiers in the picture.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    caption = forms.CharField(label="What it shows", max_length=200)


class StakeholderForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = ["name", "organisation", "role", "involvement"]
        labels = {"involvement": "How they are involved"}
