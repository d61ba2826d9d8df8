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
    (
        "Global aim",
        "What the room is trying to accomplish, in words: where, what it will look like "
        "and why it matters.",
    ),
    (
        "Specific aim",
        "How the room will know it has got there: what will improve, how good and by when, "
        "read on one of its measures.",
    ),
    (
        "The 5Vs",
        "How a big room is built: Value (what matters), inVolve (who must be there), "
        "Visualisation (seeing the pathway), eVidence (the data) and Vision (where it is going).",
    ),
    (
        "Theme",
        "Something the team could work on, found while building the room. The team "
        "chooses between themes with a multivote.",
    ),
    (
        "Multivote",
        "Everyone spreads a few votes (usually three) over the themes, several on one if "
        "they like; the most votes show what the team thinks matters most.",
    ),
    (
        "Primary and secondary drivers",
        "Primary drivers are the few big things that most affect the aim. Secondary "
        "drivers are the smaller things under each that the team can act on.",
    ),
    ("Change idea", "Something the team could change, to be tested in PDSA cycles."),
    (
        "Ramp",
        "A run of PDSA cycles testing one change idea, each building on the last and "
        "usually a little bigger, until the change is adopted or abandoned.",
    ),
    (
        "Outcome, process and balancing measures",
        "Outcome measures show what matters to patients; process measures show what the "
        "team does; balancing measures watch for things getting worse elsewhere.",
    ),
    ("Action", "A task agreed in the meeting, with an owner and a date."),
    ("Parking lot", "Ideas and questions to come back to in a later meeting."),
]
