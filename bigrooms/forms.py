from django import forms

from bigrooms.models import (
    PDSA,
    Action,
    Attendance,
    BigRoom,
    Driver,
    FiveVs,
    GlobalAim,
    RoomMembership,
    SpecificAim,
    Stakeholder,
    Theme,
)
from bigrooms.services import (
    PLAN_FIELDS,
    SESSION_ROLES,
    MemberInvite,
    NewAction,
    PlanQuestion,
    PlanTask,
    SessionRecord,
    parse_scores,
)
from bigrooms.story import in_tree_order
from fca.forms import NHSFormMixin
from fca.identifiers import text_warnings
from measures.forms import DateField, NumberField
from measures.models import Measure

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
            "name", "purpose", "pathway", "sponsor", "stage", "status", "status_reason",
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The host organisation's pathways: its data feeds the room's flow measures.
        self.fields["pathway"].queryset = self.instance.host.pathways.all()
        self.fields["pathway"].empty_label = "None yet"


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
        error_messages={"empty": "The file is empty", "required": "Choose a photo to upload"},
    )
    caption = forms.CharField(label="What it shows", max_length=200)


class StakeholderForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = ["name", "organisation", "role", "involvement"]
        labels = {"involvement": "How they are involved"}


# The Model for Improvement.

BLANK_ROWS = 2


class ThemeForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = Theme
        fields = ["title", "source", "description"]
        labels = {"title": "Theme", "description": "What it is about (optional)"}
        error_messages = {"title": {"required": "Enter the theme"}}
        help_texts = {"title": "For example: Delays to the first specialist review"}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "Not one of them"), *Theme.Source.choices]
        self.fields["source"].required = False


class MultivoteForm(NHSFormMixin, forms.Form):
    votes_each = forms.IntegerField(
        label="Votes for each person",
        help_text="Each person spreads this many votes over the themes, several on one if "
        "they like. Three is usual.",
        min_value=1,
        max_value=20,
        initial=3,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
    )


class VoteForm(NHSFormMixin, forms.Form):
    """One number per theme: how many of the person's votes it gets."""

    def __init__(self, *args, themes, votes_each: int, given: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.themes = list(themes)
        for theme in self.themes:
            self.fields[f"theme_{theme.pk}"] = forms.IntegerField(
                label=theme.title, min_value=0, max_value=votes_each, required=False,
                initial=given.get(theme.pk, 0),
                error_messages={
                    "invalid": f"Enter the votes for “{theme.title}” as a whole number",
                    "max_value": f"Give “{theme.title}” at most {votes_each} votes",
                    "min_value": f"Votes for “{theme.title}” cannot be fewer than 0",
                },
                widget=forms.NumberInput(
                    attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}
                ),
            )  # fmt: skip
        self.nhs_style()

    def counts(self) -> dict[int, int]:
        return {t.pk: self.cleaned_data.get(f"theme_{t.pk}") or 0 for t in self.themes}


class GlobalAimForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = GlobalAim
        fields = ["theme", "where", "looks_like", "why"]
        labels = {
            "theme": "The theme it comes from",
            "where": "Where",
            "looks_like": "What it will look like",
            "why": "Why it matters",
        }
        error_messages = {
            "where": {"required": "Enter where: the part of the pathway, and for whom"},
            "looks_like": {"required": "Enter what it will look like"},
            "why": {"required": "Enter why it matters"},
        }
        widgets = {
            "where": forms.Textarea(attrs={"rows": 2}),
            "looks_like": forms.Textarea(attrs={"rows": 3}),
            "why": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, room, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = room.themes.all()
        self.fields["theme"].empty_label = "None"
        self.fields["theme"].required = False


class SpecificAimForm(NHSFormMixin, forms.ModelForm):
    target = NumberField(
        label="How good",
        help_text="The value the measure should reach, as a number: 80 for 80%",
        error_messages={"required": "Enter how good, as a number, for example 80"},
    )
    target_on = DateField(
        label="By when",
        help_text="For example 31/03/2027",
        error_messages={"required": "Enter by when, as a date, for example 31/03/2027"},
    )

    class Meta:
        model = SpecificAim
        fields = ["what", "measure", "target", "target_on", "theme"]
        labels = {"measure": "Read on the measure"}
        help_texts = {"what": "For example: Patients seen by a stroke specialist within 14 hours"}

    def __init__(self, *args, room, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"].queryset = room.all_measures()
        self.fields["measure"].empty_label = "Choose a measure"
        self.fields["measure"].error_messages["required"] = (
            "Choose the measure that shows the aim (add it to the room first if it is missing)"
        )
        self.fields["theme"].queryset = room.themes.all()
        self.fields["theme"].empty_label = "None"
        self.fields["theme"].required = False


class DriverForm(NHSFormMixin, forms.Form):
    title = forms.CharField(
        label="Driver", max_length=200, error_messages={"required": "Enter the driver"}
    )
    parent = forms.ModelChoiceField(
        label="Where it goes",
        queryset=Driver.objects.none(),
        required=False,
        empty_label="Straight under the aim: a primary driver",
        help_text="A secondary driver goes under the primary driver it feeds",
    )

    def __init__(self, *args, room, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        parent.queryset = room.drivers.all()
        parent.choices = [("", parent.empty_label)] + [
            (d.pk, f"Under “{d.title}”") for d, _ in in_tree_order(list(parent.queryset))
        ]


class ChangeIdeaForm(NHSFormMixin, forms.Form):
    title = forms.CharField(
        label="Change idea", max_length=200, error_messages={"required": "Enter the change idea"}
    )
    description = forms.CharField(
        label="More about it (optional)", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    drivers = forms.ModelMultipleChoiceField(
        label="The drivers it works on",
        help_text="Choose every driver it could move",
        queryset=Driver.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, room, **kwargs):
        super().__init__(*args, **kwargs)
        drivers = self.fields["drivers"]
        drivers.queryset = room.drivers.all()
        # In the diagram's order, each secondary driver saying which driver it is under.
        parents = {d.pk: d.title for d in drivers.queryset}
        drivers.choices = [
            (d.pk, d.title if depth == 0 else f"{d.title} (under “{parents[d.parent_id]}”)")
            for d, depth in in_tree_order(list(drivers.queryset))
        ]


class PlanForm(NHSFormMixin, forms.ModelForm):
    """The Plan: objective, purpose, questions with predictions, who/what/when/where, tasks
    and the measures that will tell. Rows for questions and tasks: the saved ones and two
    blank ones."""

    starts_on = DateField(label="Starts on")
    ends_on = DateField(label="Ends on (optional)", required=False)

    class Meta:
        model = PDSA
        fields = ["objective", "purpose", "scale", "what", "who", "where", "starts_on",
                  "ends_on", "measures"]  # fmt: skip
        labels = {"objective": "Objective", "measures": "The measures that will tell"}
        error_messages = {"objective": {"required": "Enter the objective: what this cycle is for"}}
        help_texts = {
            "objective": "What this cycle is for, in a sentence",
            "measures": "The cycle shows on their charts as “started” at its start date",
        }
        widgets = {
            "objective": forms.Textarea(attrs={"rows": 2}),
            "what": forms.Textarea(attrs={"rows": 2}),
            "purpose": forms.RadioSelect,
            "measures": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, room, team, questions=(), tasks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measures"].queryset = room.all_measures()
        self.fields["measures"].required = False
        self.question_rows = []
        for n, row in enumerate([*questions, *[None] * BLANK_ROWS], start=1):
            self.fields[f"q_{n}_pk"] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, initial=row and row.pk
            )
            self.fields[f"q_{n}_question"] = forms.CharField(
                label=f"Question {n}", max_length=300, required=False,
                initial=row and row.question,
            )  # fmt: skip
            self.fields[f"q_{n}_prediction"] = forms.CharField(
                label=f"Prediction for question {n}", required=False,
                initial=row and row.prediction, widget=forms.Textarea(attrs={"rows": 2}),
            )  # fmt: skip
            self.question_rows.append(n)
        # The team, and whoever already owns a task though no longer on it: kept, not lost.
        people = {m.user_id: m.user.full_name for m in team}
        for task in tasks:
            if task.owner_id and task.owner_id not in people:
                people[task.owner_id] = task.owner.full_name
        owners = [("", "Nobody yet"), *((str(pk), name) for pk, name in people.items())]
        self.task_rows = []
        for n, row in enumerate([*tasks, *[None] * BLANK_ROWS], start=1):
            self.fields[f"t_{n}_pk"] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, initial=row and row.pk
            )
            self.fields[f"t_{n}_task"] = forms.CharField(
                label=f"Task {n}", max_length=300, required=False, initial=row and row.task
            )
            self.fields[f"t_{n}_owner"] = forms.TypedChoiceField(
                label=f"Task {n}: who", choices=owners, coerce=int, empty_value=None, required=False,
                initial=row and row.owner_id,
            )  # fmt: skip
            self.fields[f"t_{n}_due"] = DateField(
                label=f"Task {n}: by when", required=False,
                initial=row and row.due_on,
            )  # fmt: skip
            self.fields[f"t_{n}_done"] = forms.BooleanField(
                label=f"Task {n} is done", required=False, initial=row and row.done
            )
            self.task_rows.append(n)
        self.nhs_style()

    def question_groups(self) -> list[dict]:
        return [
            {name: self[f"q_{n}_{name}"] for name in ("pk", "question", "prediction")}
            for n in self.question_rows
        ]

    def task_groups(self) -> list[dict]:
        return [
            {name: self[f"t_{n}_{name}"] for name in ("pk", "task", "owner", "due", "done")}
            for n in self.task_rows
        ]

    def clean(self):
        data = super().clean()
        for n in self.question_rows:
            if data.get(f"q_{n}_prediction") and not data.get(f"q_{n}_question"):
                self.add_error(f"q_{n}_question", f"Enter question {n}, or clear its prediction")
        for n in self.task_rows:
            if (data.get(f"t_{n}_owner") or data.get(f"t_{n}_due")) and not data.get(f"t_{n}_task"):
                self.add_error(f"t_{n}_task", f"Enter task {n}, or clear its owner and date")
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The end must be on or after the start")
        return data

    def plan(self) -> dict:
        return {name: self.cleaned_data[name] for name in PLAN_FIELDS}

    def questions(self) -> list[PlanQuestion]:
        d = self.cleaned_data
        return [
            PlanQuestion(d[f"q_{n}_question"], d[f"q_{n}_prediction"], d[f"q_{n}_pk"])
            for n in self.question_rows
            if d.get(f"q_{n}_question")
        ]

    def tasks(self) -> list[PlanTask]:
        d = self.cleaned_data
        return [
            PlanTask(
                d[f"t_{n}_task"],
                d[f"t_{n}_owner"],
                d[f"t_{n}_due"],
                d[f"t_{n}_done"],
                d[f"t_{n}_pk"],
            )  # fmt: skip
            for n in self.task_rows
            if d.get(f"t_{n}_task")
        ]


class DoForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = PDSA
        fields = ["what_happened", "observations", "problems"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in fields}
        help_texts = {"what_happened": "Was the plan carried out? What was done differently?"}


class StudyForm(NHSFormMixin, forms.Form):
    """The result against each question's prediction, and what was learnt."""

    learning = forms.CharField(
        label="What was learnt", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for n, question in enumerate(self.questions, start=1):
            self.fields[f"result_{question.pk}"] = forms.CharField(
                label=f"Result for question {n}: {question.question}",
                help_text=f"Predicted: {question.prediction or 'no prediction was made'}",
                initial=question.result, required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )  # fmt: skip
        self.fields["learning"] = self.fields.pop("learning")  # after the results
        self.nhs_style()

    def result_fields(self) -> list:
        return [self[f"result_{q.pk}"] for q in self.questions]

    def results(self) -> dict[int, str]:
        return {q.pk: self.cleaned_data[f"result_{q.pk}"] for q in self.questions}


class ActForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = PDSA
        fields = ["decision", "next_step"]
        widgets = {"decision": forms.RadioSelect, "next_step": forms.Textarea(attrs={"rows": 2})}
        labels = {"decision": "Adopt, adapt or abandon?", "next_step": "The next step"}
        help_texts = {
            "decision": "Adopt: keep the change as it is. Adapt: change it and test again. "
            "Abandon: stop testing it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = PDSA.Decision.choices
        self.fields["decision"].required = False


class DashboardFilterForm(NHSFormMixin, forms.Form):
    """The organisation dashboard's filters and order: a GET form, every field optional."""

    SORTS = [
        ("name", "Name"),
        ("stage", "Roadmap stage"),
        ("last_session", "Longest since a session"),
        ("overdue", "Most overdue actions"),
        ("stalls", "Most stall flags"),
    ]
    stage = forms.ChoiceField(required=False, label="Stage")
    pathway = forms.ChoiceField(required=False, label="Pathway")
    coach = forms.ChoiceField(required=False, label="Coach")
    stalled = forms.BooleanField(required=False, label="Stalled rooms only")
    sort = forms.ChoiceField(required=False, choices=SORTS, label="Order by")

    def __init__(self, data, *, rows):
        super().__init__(data)
        anything = [("", "Any")]
        self.fields["stage"].choices = anything + list(BigRoom.Stage.choices)
        pathways = {r.room.pathway_id: r.room.pathway.name for r in rows if r.room.pathway_id}
        self.fields["pathway"].choices = anything + sorted(
            ((str(pk), name) for pk, name in pathways.items()), key=lambda c: c[1]
        )
        coaches = dict(coach for r in rows for coach in r.coaches)
        self.fields["coach"].choices = anything + sorted(
            ((str(pk), name) for pk, name in coaches.items()), key=lambda c: c[1]
        )


class MeasureFilterForm(NHSFormMixin, forms.Form):
    """The measure summary's filters: a GET form, every field optional."""

    SIGNALS = [
        ("", "Any"),
        ("improvement", "Special cause: improvement"),
        ("concern", "Special cause: concern"),
        ("common_cause", "Common cause only"),
        ("fail", "Will not meet its target without change"),
        ("not_ready", "Not enough data yet"),
    ]
    kind = forms.ChoiceField(required=False, label="Type",
                             choices=[("", "Any"), *Measure.Kind.choices])  # fmt: skip
    signal = forms.ChoiceField(required=False, label="What the chart shows", choices=SIGNALS)
    search = forms.CharField(required=False, max_length=100, label="Measure or room name")


class PublishForm(NHSFormMixin, forms.Form):
    title = forms.CharField(max_length=200, label="Title",
                            help_text="What changed, for whom: for example, “Early theatre slot "
                            "for hip fractures”")  # fmt: skip
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), label="What you learnt",
        help_text="What worked, what did not, and what another room should know before they "
        "start. Never write anything that could identify a patient.",
    )  # fmt: skip


class CopyForm(NHSFormMixin, forms.Form):
    room = forms.ChoiceField(label="Copy into", help_text="A big room you coach")

    def __init__(self, *args, rooms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [(str(r.pk), r.name) for r in rooms]


class CurateForm(NHSFormMixin, forms.Form):
    featured = forms.BooleanField(required=False, label="Feature it at the top of the library")
    withdrawn = forms.BooleanField(required=False, label="Withdraw it from the library")
    note = forms.CharField(max_length=300, required=False, label="Curator's note")
