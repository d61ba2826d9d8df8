"""The quality improvement words the app uses, in plain English, for everyone and above
all for patient and carer partners."""

TERMS = [
    (
        "Big room",
        "A weekly one-hour meeting of everyone along a care pathway, including "
        "patients and carers, to improve it together.",
    ),
    (
        "Measure",
        "Something counted every week or month to see whether care is getting better, "
        "such as how many patients had their operation within 36 hours.",
    ),
    (
        "Run chart",
        "A line of a measure's values over time with its middle value (the median) "
        "drawn across. Some patterns in the line show a real change rather than chance.",
    ),
    (
        "Control chart (SPC chart)",
        "A run chart with limits drawn above and below. Points "
        "between the limits vary by chance; a point outside them, or certain patterns, show "
        "that something has changed.",
    ),
    (
        "Common cause variation",
        "The ups and downs every measure has by chance. Nothing special has changed.",
    ),
    (
        "Special cause variation",
        "A change too big or too regular to be chance: something "
        "has changed. The chart cannot say what; the team works that out.",
    ),
    (
        "Target",
        "The level the team is aiming for. The chart shows whether the process, as "
        "it is, will reliably meet it.",
    ),
    (
        "PDSA cycle",
        "Plan, Do, Study, Act: a small test of a change. Plan it and predict what "
        "will happen, try it, study what did happen, then adopt, adapt or abandon it.",
    ),
    (
        "Driver diagram",
        "A picture linking the room's aim to the things that drive it and to "
        "the change ideas the team will test.",
    ),
    ("Aim", "What the room is trying to achieve, by how much and by when."),
    ("Action", "A task agreed in the meeting, with an owner and a date."),
    ("Parking lot", "Ideas and questions to come back to in a later meeting."),
]
