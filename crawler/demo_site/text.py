"""Deterministic news-like text: headlines, paragraphs, quotes and names from word lists.

Everything the demo site shows is generated here from a `random.Random` the caller seeds,
so the same seed always yields the same site (tests compare against it byte for byte).
"""

from __future__ import annotations

import random
import re

FIRST_NAMES = (
    "Jane", "John", "Maria", "Ahmed", "Li", "Sofia", "Tom", "Priya", "Lucas", "Emma", "Omar",
    "Grace", "Daniel", "Aisha", "Peter", "Hannah", "Mateo", "Chloe", "Ivan", "Nora", "Samuel",
    "Yuki", "Elena", "David", "Fatima", "Oscar", "Ruth", "Kofi", "Ingrid", "Pablo",
)  # fmt: skip
LAST_NAMES = (
    "Doe", "Roe", "Garcia", "Okafor", "Chen", "Rossi", "Novak", "Sharma", "Silva", "Bauer",
    "Haddad", "Kowalski", "Murphy", "Tanaka", "Larsen", "Moreau", "Adeyemi", "Fischer", "Lopez",
    "Walsh", "Kim", "Petrov", "Nguyen", "Mensah", "Berg", "Costa", "Ward", "Ibrahim", "Reyes",
)  # fmt: skip
PLACES = (
    "Riverside", "the harbour district", "Northgate", "the old town", "Eastfield", "Millbrook",
    "the university quarter", "Westbridge", "Lakeside", "the industrial estate", "Southport",
    "Greenhill", "the city centre", "Oakwood", "the airport corridor",
)  # fmt: skip
ORGS = (
    "city council", "transport authority", "regional hospital", "chamber of commerce",
    "teachers' union", "water utility", "police department", "housing association",
    "environment agency", "football club", "port authority", "arts council", "central bank",
    "fire service", "university", "energy regulator", "farmers' cooperative",
)  # fmt: skip
ROLES = (
    "a spokesperson for the", "the head of the", "a senior official at the",
    "an analyst who advises the", "a board member of the", "the deputy director of the",
)  # fmt: skip
SUBJECTS = (
    "budget", "transit plan", "housing project", "bridge repair", "water tariff",
    "school reform", "stadium deal", "flood defence", "tax proposal", "bus network",
    "hospital wing", "recycling scheme", "bike lane", "rent cap", "festival", "pay offer",
    "wind farm", "library closure", "rail link", "parking fee", "heat pump grant",
)  # fmt: skip
ADJECTIVES = (
    "new", "controversial", "long-delayed", "ambitious", "revised", "costly", "modest",
    "sweeping", "temporary", "disputed", "popular", "overdue", "experimental", "regional",
)  # fmt: skip
HEAD_VERBS = (
    "approves", "rejects", "delays", "unveils", "scraps", "expands", "defends", "questions",
    "backs", "pauses", "revives", "criticises", "funds", "reviews",
)  # fmt: skip
VERBS = (
    "approved", "rejected", "delayed", "announced", "debated", "expanded", "criticised",
    "welcomed", "postponed", "reviewed", "funded", "challenged", "endorsed", "questioned",
)  # fmt: skip
NOUNS = (
    "residents", "officials", "commuters", "business owners", "parents", "nurses",
    "students", "pensioners", "engineers", "shopkeepers", "campaigners", "drivers",
    "farmers", "landlords", "volunteers", "inspectors",
)  # fmt: skip
ADVERBS = (
    "sharply", "quietly", "narrowly", "repeatedly", "publicly", "largely", "formally",
    "reluctantly", "unexpectedly", "finally",
)  # fmt: skip
TIME_PHRASES = (
    "on Tuesday", "last week", "earlier this month", "after a long meeting", "late on Friday",
    "this morning", "over the weekend", "in a statement", "at a crowded hearing",
)  # fmt: skip
NUMBERS_OF = ("dozens of", "hundreds of", "several", "about 40", "more than 200", "a handful of")
CONNECTORS = (
    "However,", "Meanwhile,", "In addition,", "Still,", "By contrast,", "As a result,",
    "At the same time,", "Earlier,", "According to the figures,",
)  # fmt: skip
SAYINGS = (
    "we have waited long enough for this", "nobody asked the people who live here",
    "the numbers simply do not add up", "this is a good day for the whole city",
    "we will keep listening to every concern", "the cost will fall on ordinary families",
    "it is too early to say what happens next", "we expect the first results by spring",
    "the plan needs a lot more work", "this decision protects jobs in the region",
)  # fmt: skip
COMMENTS = (
    "Finally some good news.", "Who is going to pay for all this?", "Great reporting, thanks.",
    "I live in {place} and nobody told us anything.", "This has been promised for years.",
    "The council never learns.", "Please follow up on this story.", "Sounds sensible to me.",
    "The figures in the third paragraph look wrong.", "About time!",
)  # fmt: skip
TAGS = (
    "elections", "transport", "housing", "climate", "health", "education", "budget",
    "culture", "crime", "weather", "football", "economy", "energy", "courts",
)  # fmt: skip


def person(rng: random.Random) -> str:
    """A full name."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def people(rng: random.Random, low: int, high: int) -> list[str]:
    """Between low and high distinct full names."""
    names: list[str] = []
    wanted = rng.randint(low, high)
    while len(names) < wanted:
        name = person(rng)
        if name not in names:
            names.append(name)
    return names


def headline(rng: random.Random) -> str:
    """A news headline such as 'City council approves revised bus network for Northgate'."""
    org = rng.choice(ORGS)
    subject = f"{rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)}"
    place = rng.choice(PLACES)
    shape = rng.randrange(4)
    if shape == 0:
        text = f"{org} {rng.choice(HEAD_VERBS)} {subject} for {place}"
    elif shape == 1:
        text = f"{rng.choice(NOUNS)} in {place} fear {subject} will cost more than planned"
    elif shape == 2:
        text = f"What the {subject} means for {rng.choice(NOUNS)} in {place}"
    else:
        text = f"{org} {rng.choice(HEAD_VERBS)} {subject} after protests in {place}"
    return text[0].upper() + text[1:]


def slugify(text: str, max_words: int = 8) -> str:
    """A URL slug: lower-case words joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:max_words])


def sentence(rng: random.Random) -> str:
    """One plain reporting sentence."""
    shape = rng.randrange(5)
    org, subject = rng.choice(ORGS), rng.choice(SUBJECTS)
    if shape == 0:
        text = (
            f"The {org} {rng.choice(ADVERBS)} {rng.choice(VERBS)} the {rng.choice(ADJECTIVES)}"
            f" {subject} {rng.choice(TIME_PHRASES)}."
        )
    elif shape == 1:
        text = (
            f"{rng.choice(NUMBERS_OF).capitalize()} {rng.choice(NOUNS)} from {rng.choice(PLACES)}"
            f" {rng.choice(VERBS)} the {subject}, saying it would change daily life in the area."
        )
    elif shape == 2:
        text = (
            f"{rng.choice(CONNECTORS)} the {subject} is expected to cost"
            f" {rng.randint(2, 95)} million, up from an estimate of {rng.randint(1, 60)} million."
        )
    elif shape == 3:
        text = (
            f"Figures released {rng.choice(TIME_PHRASES)} show that {rng.randint(3, 71)} percent"
            f" of {rng.choice(NOUNS)} support the {rng.choice(ADJECTIVES)} {subject}."
        )
    else:
        text = (
            f"{rng.choice(CONNECTORS)} {rng.choice(NOUNS)} in {rng.choice(PLACES)} said the"
            f" {org} had not explained how the {subject} would be {rng.choice(VERBS)}."
        )
    return text


def quote(rng: random.Random) -> str:
    """A sentence quoting a named person."""
    saying = rng.choice(SAYINGS)
    return (
        f'"{saying[0].upper() + saying[1:]}," said {person(rng)}, {rng.choice(ROLES)}'
        f" {rng.choice(ORGS)}."
    )


def paragraph(rng: random.Random) -> str:
    """Three to five sentences, often with a quote."""
    parts = [sentence(rng) for _ in range(rng.randint(2, 4))]
    if rng.random() < 0.5:
        parts.insert(rng.randint(1, len(parts)), quote(rng))
    return " ".join(parts)


def body(rng: random.Random, low: int = 300, high: int = 900) -> list[str]:
    """Paragraphs adding up to a word count between low and high."""
    target = rng.randint(low, high)
    paragraphs: list[str] = []
    words = 0
    while True:
        para = paragraph(rng)
        n = len(para.split())
        if words + n > high:
            if words >= low:
                break
            continue
        paragraphs.append(para)
        words += n
        if words >= target:
            break
    return paragraphs


def comment(rng: random.Random) -> str:
    """A reader comment."""
    return rng.choice(COMMENTS).format(place=rng.choice(PLACES))
