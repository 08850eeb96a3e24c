"""Built-in survey templates (data, validated as `SurveyDefinition` on use).

Sources (see /work/shared/sources): Weiterstadt's kick-off asks for "Bedarfe und Wünsche";
the Weltoffene Kommune self-check covers seven fields of action (the statements below are our
own short wording per field, not PHINEO's original questionnaires); Bergkamen's interviews all
began with "Was verstehen Sie unter Integration?"; the Vielfaltsmanager*innen training asked
for feedback after each training day.
"""

from __future__ import annotations

from typing import Any

from services.errors import NotFound
from services.surveys.schemas import SurveyDefinition


def _o(value: str, de: str, en: str) -> dict[str, Any]:
    return {"value": value, "label": {"de": de, "en": en}}


WEITERSTADT_GROUPS = [
    _o("buerger", "Engagierte Bürger*innen", "Engaged citizens"),
    _o("verwaltung", "Verwaltung", "Administration"),
    _o("politik", "Politik", "Politics"),
    _o("mandat", "Zivilgesellschaftliche Gruppe mit politischem Mandat (z. B. Seniorenbeirat, "
       "Ausländerbeirat)", "Civil society body with a political mandate"),
    _o("zivil", "Zivilgesellschaftliche Gruppe", "Civil society group"),
    _o("lokal", "Lokale Kooperationspartner (Schule, Kirche, Verein ...)", "Local partner"),
    _o("regional", "Regionale Kooperationspartner", "Regional partner"),
]

BEDARFE: dict[str, Any] = {
    "title": {"de": "Bedarfe und Wünsche", "en": "Needs and wishes"},
    "introduction": {
        "de": "Weiterstadt erarbeitet gemeinsam eine Vielfalts- und Integrationsstrategie. "
              "Was brauchen Sie, was wünschen Sie sich? Ihre Antworten sind anonym.",
        "en": "Weiterstadt is developing a diversity and integration strategy together. "
              "What do you need, what do you wish for? Your answers are anonymous.",
    },
    "anonymity": "anonymous",
    "questions": [
        {"id": "gruppe", "kind": "single", "required": True,
         "text": {"de": "In welcher Rolle nehmen Sie teil?",
                  "en": "In which role are you taking part?"},
         "options": WEITERSTADT_GROUPS},
        {"id": "themen", "kind": "multiple", "required": True, "min_choices": 1,
         "max_choices": 3,
         "text": {"de": "Welche Themen sind Ihnen am wichtigsten? (höchstens drei)",
                  "en": "Which topics matter most to you? (at most three)"},
         "options": [
             _o("bildung", "Bildung und Betreuung", "Education and care"),
             _o("arbeit", "Arbeit und Ausbildung", "Work and training"),
             _o("wohnen", "Wohnen und Nachbarschaft", "Housing and neighbourhood"),
             _o("begegnung", "Begegnung und Freizeit", "Encounters and leisure"),
             _o("sprache", "Sprache und Information", "Language and information"),
             _o("beteiligung", "Mitreden und Beteiligung", "Having a say"),
             _o("antidiskriminierung", "Schutz vor Diskriminierung", "Protection from "
                "discrimination"),
         ]},
        {"id": "zusammenleben", "kind": "likert", "required": True,
         "text": {"de": "Das Zusammenleben in Weiterstadt empfinde ich als gut.",
                  "en": "I find living together in Weiterstadt good."}},
        {"id": "bedarfe", "kind": "text", "max_length": 2000,
         "text": {"de": "Was fehlt Ihnen in Weiterstadt? Was brauchen Sie?",
                  "en": "What is missing in Weiterstadt? What do you need?"}},
        {"id": "wuensche", "kind": "text", "max_length": 2000,
         "text": {"de": "Was wünschen Sie sich von der Vielfalts- und Integrationsstrategie?",
                  "en": "What do you wish for from the diversity and integration strategy?"}},
        {"id": "formate", "kind": "ranking",
         "text": {"de": "Wie möchten Sie sich beteiligen? Bringen Sie die Formate in Ihre "
                        "Reihenfolge (1 = am liebsten).",
                  "en": "How would you like to take part? Rank the formats (1 = favourite)."},
         "options": [
             _o("workshop", "Workshop", "Workshop"),
             _o("online", "Online-Umfrage", "Online survey"),
             _o("stadtgespraech", "Stadtgespräch", "Town talk"),
             _o("interview", "Persönliches Gespräch", "Personal interview"),
         ]},
        {"id": "mitmachen", "kind": "single",
         "text": {"de": "Möchten Sie in einer Arbeitsgruppe mitwirken?",
                  "en": "Would you like to join a working group?"},
         "options": [_o("ja", "Ja", "Yes"), _o("nein", "Nein", "No"),
                     _o("vielleicht", "Vielleicht", "Maybe")]},
        {"id": "mitmachen_thema", "kind": "text", "max_length": 500,
         "show_if": {"question": "mitmachen", "in": ["ja", "vielleicht"]},
         "text": {"de": "Zu welchem Thema möchten Sie mitarbeiten?",
                  "en": "On which topic would you like to work?"}},
    ],
}

SELF_CHECK_FIELDS: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    ("management", "Management und Steuerung", "Management and steering", [
        ("Weltoffenheit und Vielfalt sind als Ziele in unserem Leitbild verankert.",
         "Openness and diversity are goals in our mission statement."),
        ("Es gibt eine klare Zuständigkeit und Ressourcen für Integration und Vielfalt.",
         "There is clear responsibility and resources for integration and diversity."),
        ("Wir überprüfen regelmäßig, ob unsere Maßnahmen wirken.",
         "We regularly check whether our measures work."),
    ]),
    ("oeffnung", "Interkulturelle Öffnung und Antirassismus",
     "Intercultural opening and anti-racism", [
        ("Unsere Beschäftigten werden zu interkultureller Kompetenz fortgebildet.",
         "Our staff are trained in intercultural competence."),
        ("Die Vielfalt der Bevölkerung spiegelt sich in unserem Personal wider.",
         "The diversity of the population is reflected in our staff."),
        ("Es gibt eine Anlaufstelle bei Diskriminierung und Rassismus.",
         "There is a contact point for discrimination and racism."),
    ]),
    ("zugang", "Fairer Zugang und Teilhabe", "Fair access and participation", [
        ("Unsere Angebote sind für alle verständlich, auch in einfacher Sprache.",
         "Our services are understandable for everyone, also in plain language."),
        ("Informationen gibt es in den wichtigsten Sprachen vor Ort.",
         "Information is available in the most important local languages."),
        ("Wir bauen Hürden beim Zugang zu Leistungen gezielt ab.",
         "We deliberately remove barriers to accessing services."),
    ]),
    ("arbeit", "Arbeit und wirtschaftliche Entwicklung", "Work and economic development", [
        ("Wir unterstützen Zugewanderte beim Einstieg in Ausbildung und Arbeit.",
         "We support immigrants in entering training and work."),
        ("Wir arbeiten mit Betrieben und Kammern für Vielfalt zusammen.",
         "We work with businesses and chambers for diversity."),
        ("Ausländische Abschlüsse werden zügig anerkannt und begleitet.",
         "Foreign qualifications are recognised quickly and with support."),
    ]),
    ("engagement", "Engagement und Beteiligung", "Engagement and participation", [
        ("Menschen mit Einwanderungsgeschichte sind an Entscheidungen beteiligt.",
         "People with an immigration history take part in decisions."),
        ("Migrantenorganisationen werden gefördert und einbezogen.",
         "Migrant organisations are funded and involved."),
        ("Ehrenamtliches Engagement für Vielfalt wird anerkannt.",
         "Volunteering for diversity is recognised."),
    ]),
    ("zusammenhalt", "Zusammenhalt und Begegnung", "Cohesion and encounter", [
        ("Es gibt Orte und Anlässe, an denen sich alle begegnen.",
         "There are places and occasions where everyone meets."),
        ("Nachbarschaften werden im Miteinander unterstützt.",
         "Neighbourhoods are supported in living together."),
        ("Vielfalt wird im Stadtleben sichtbar gefeiert.",
         "Diversity is visibly celebrated in town life."),
    ]),
    ("kommunikation", "Kommunikation und Konfliktmanagement",
     "Communication and conflict management", [
        ("Wir kommunizieren offen und regelmäßig über Vielfalt und Integration.",
         "We communicate openly and regularly about diversity and integration."),
        ("Für Konflikte im Zusammenleben gibt es geklärte Abläufe.",
         "There are clear procedures for conflicts in living together."),
        ("Wir reagieren schnell auf Hass und Hetze.",
         "We respond quickly to hate speech."),
    ]),
]

SELF_CHECK: dict[str, Any] = {
    "title": {"de": "Selbstcheck Weltoffene Kommune", "en": "Open-minded municipality "
              "self-check"},
    "introduction": {
        "de": "Wie weltoffen ist unsere Verwaltung? Schätzen Sie je Aussage ein, wie sehr sie "
              "zutrifft. Ausgewertet wird je Handlungsfeld (0–100 %).",
        "en": "How open-minded is our administration? Rate how far each statement applies. "
              "Results are scored per field of action (0–100 %).",
    },
    "anonymity": "anonymous",
    "blocks": [{"key": key, "title": {"de": de, "en": en}}
               for key, de, en, _ in SELF_CHECK_FIELDS],
    "questions": [
        {"id": f"{key}_{i + 1}", "kind": "likert", "required": True, "block": key,
         "text": {"de": st_de, "en": st_en}}
        for key, _, _, statements in SELF_CHECK_FIELDS
        for i, (st_de, st_en) in enumerate(statements)
    ] + [
        {"id": "anmerkungen", "kind": "text", "max_length": 3000,
         "text": {"de": "Was sollte im Dialog mit den Bürger*innen besprochen werden?",
                  "en": "What should be discussed in the dialogue with citizens?"}},
    ],
}

BERGKAMEN: dict[str, Any] = {
    "title": {"de": "Interviewleitfaden: Was verstehen Sie unter Integration?",
              "en": "Interview guide: what do you understand by integration?"},
    "introduction": {
        "de": "Jedes Gespräch beginnt mit derselben Frage. Die Antworten helfen der "
              "Steuerungsgruppe zu verstehen, wer „alle“ sind und wen wir noch nicht erreichen.",
        "en": "Every interview starts with the same question. The answers help the steering "
              "group understand who \"everyone\" is and whom we do not reach yet.",
    },
    "anonymity": "anonymous",
    "questions": [
        {"id": "integration", "kind": "text", "required": True, "max_length": 5000,
         "text": {"de": "Was verstehen Sie unter Integration?",
                  "en": "What do you understand by integration?"}},
        {"id": "gelingen", "kind": "text", "max_length": 5000,
         "text": {"de": "Was braucht es, damit Integration in Bergkamen gelingt?",
                  "en": "What does it take for integration to succeed in Bergkamen?"}},
        {"id": "rahmen", "kind": "text", "max_length": 5000,
         "text": {"de": "Welche Rahmenbedingungen fehlen heute?",
                  "en": "Which conditions are missing today?"}},
        {"id": "erreichbarkeit", "kind": "single", "required": True,
         "text": {"de": "Wie gut fühlen Sie sich von Angeboten in der Stadt erreicht?",
                  "en": "How well do the town's offers reach you?"},
         "options": [_o("gut", "Gut erreicht", "Well reached"),
                     _o("teilweise", "Teilweise erreicht", "Partly reached"),
                     _o("kaum", "Kaum erreicht", "Hardly reached")]},
        {"id": "wer_fehlt", "kind": "text", "max_length": 3000,
         "text": {"de": "Wenn es das Ziel ist, alle zu erreichen: Wer fehlt bisher?",
                  "en": "If the aim is to reach everyone: who is missing so far?"}},
        {"id": "mehr_als", "kind": "likert",
         "text": {"de": "Eigentlich geht es um mehr als Integration: um das Miteinander aller.",
                  "en": "It is really about more than integration: about everyone together."}},
    ],
}

TRAINING: dict[str, Any] = {
    "title": {"de": "Feedback zum Ausbildungstag", "en": "Training day feedback"},
    "introduction": {
        "de": "Ihr Feedback hilft uns, die Ausbildung zu Vielfaltsmanager*innen "
              "weiterzuentwickeln. Die Antworten sind anonym.",
        "en": "Your feedback helps us improve the diversity manager training. "
              "The answers are anonymous.",
    },
    "anonymity": "anonymous",
    "questions": [
        {"id": "tag", "kind": "single", "required": True,
         "text": {"de": "Zu welchem Ausbildungstag geben Sie Feedback?",
                  "en": "Which training day is your feedback about?"},
         "options": [_o("tag1", "Erster Ausbildungstag", "First training day"),
                     _o("tag2", "Zweiter Ausbildungstag", "Second training day"),
                     _o("followup", "Digitales Follow-up", "Digital follow-up")]},
        {"id": "gesamt", "kind": "likert", "required": True,
         "text": {"de": "Der Tag hat mir insgesamt viel gebracht.",
                  "en": "Overall, the day was valuable to me."}},
        {"id": "inputs", "kind": "likert",
         "text": {"de": "Die Themeninputs (z. B. Vielfaltsdimensionen, Unconscious Bias) waren "
                        "hilfreich.",
                  "en": "The topic inputs (e.g. dimensions of diversity, unconscious bias) were "
                        "helpful."}},
        {"id": "austausch", "kind": "likert",
         "text": {"de": "Es gab genug Raum für Austausch und gegenseitige Beratung.",
                  "en": "There was enough room for exchange and peer advice."}},
        {"id": "multiplikator", "kind": "likert",
         "text": {"de": "Ich fühle mich gestärkt, als Multiplikator*in Impulse weiterzutragen.",
                  "en": "I feel able to pass on ideas as a multiplier."}},
        {"id": "einflussbereich", "kind": "number", "integer": True, "min": 0, "max": 10,
         "text": {"de": "Wie gut kennen Sie jetzt Ihren eigenen Einflussbereich? (0–10)",
                  "en": "How well do you now know your own sphere of influence? (0–10)"}},
        {"id": "mitnehmen", "kind": "text", "max_length": 2000,
         "text": {"de": "Was nehmen Sie in Ihren eigenen Kontext mit?",
                  "en": "What will you take into your own context?"}},
        {"id": "verbessern", "kind": "text", "max_length": 2000,
         "text": {"de": "Was sollten wir beim nächsten Durchgang anders machen?",
                  "en": "What should we do differently next time?"}},
    ],
}

# Weiterstadt's structure plan: phase I carries out the participation measures (surveys,
# workshops), the Bergfest evaluates them and defines first contents, phase II tests those.
BETEILIGUNG_1: dict[str, Any] = {
    "title": {"de": "Umfrage Beteiligungsphase I", "en": "Participation phase I survey"},
    "introduction": {
        "de": "In der ersten Beteiligungsphase sammeln wir Erfahrungen und Ideen für die "
              "Vielfalts- und Integrationsstrategie Weiterstadts. Ihre Antworten sind anonym.",
        "en": "In the first participation phase we collect experiences and ideas for "
              "Weiterstadt's diversity and integration strategy. Your answers are anonymous.",
    },
    "anonymity": "anonymous",
    "questions": [
        {"id": "gruppe", "kind": "single", "required": True,
         "text": {"de": "In welcher Rolle nehmen Sie teil?",
                  "en": "In which role are you taking part?"},
         "options": WEITERSTADT_GROUPS},
        {"id": "zugehoerigkeit", "kind": "likert", "required": True,
         "text": {"de": "Ich fühle mich in Weiterstadt zugehörig.",
                  "en": "I feel that I belong in Weiterstadt."}},
        {"id": "teilhabe", "kind": "likert", "required": True,
         "text": {"de": "Ich habe ausreichend Möglichkeiten, bei Fragen, die mich betreffen, "
                        "mitzureden.",
                  "en": "I have enough opportunities to have a say on matters that affect me."}},
        {"id": "erfahrungen", "kind": "text", "max_length": 3000,
         "text": {"de": "Wo haben Sie in Weiterstadt gutes Miteinander erlebt, wo Hürden oder "
                        "Ausgrenzung?",
                  "en": "Where in Weiterstadt have you experienced good togetherness, where "
                        "barriers or exclusion?"}},
        {"id": "ideen", "kind": "text", "max_length": 3000,
         "text": {"de": "Welche Maßnahme würde das Zusammenleben in Weiterstadt am meisten "
                        "verbessern?",
                  "en": "Which measure would improve living together in Weiterstadt most?"}},
        {"id": "format_bewertung", "kind": "likert",
         "text": {"de": "Die bisherigen Beteiligungsformate passen zu mir.",
                  "en": "The participation formats so far suit me."}},
    ],
}

BETEILIGUNG_2: dict[str, Any] = {
    "title": {"de": "Umfrage Beteiligungsphase II", "en": "Participation phase II survey"},
    "introduction": {
        "de": "Beim Bergfest wurden erste Inhalte der Vielfalts- und Integrationsstrategie "
              "definiert. Wie wichtig sind sie Ihnen, und was fehlt noch? Ihre Antworten sind "
              "anonym.",
        "en": "At the mid-point event first contents of the diversity and integration "
              "strategy were defined. How important are they to you, and what is missing? Your "
              "answers are anonymous.",
    },
    "anonymity": "anonymous",
    "questions": [
        {"id": "gruppe", "kind": "single", "required": True,
         "text": {"de": "In welcher Rolle nehmen Sie teil?",
                  "en": "In which role are you taking part?"},
         "options": WEITERSTADT_GROUPS},
        {"id": "prioritaeten", "kind": "ranking", "required": True,
         "text": {"de": "Bringen Sie die Handlungsfelder in Ihre Reihenfolge (1 = am "
                        "wichtigsten).",
                  "en": "Rank the fields of action (1 = most important)."},
         "options": [
             _o("bildung", "Bildung und Betreuung", "Education and care"),
             _o("arbeit", "Arbeit und Ausbildung", "Work and training"),
             _o("wohnen", "Wohnen und Nachbarschaft", "Housing and neighbourhood"),
             _o("begegnung", "Begegnung und Freizeit", "Encounters and leisure"),
             _o("beteiligung", "Mitreden und Beteiligung", "Having a say"),
         ]},
        {"id": "wiedererkennen", "kind": "likert", "required": True,
         "text": {"de": "In den ersten Inhalten der Strategie finde ich meine Anliegen wieder.",
                  "en": "I find my concerns in the first contents of the strategy."}},
        {"id": "fehlt", "kind": "text", "max_length": 3000,
         "text": {"de": "Was fehlt der Strategie noch?",
                  "en": "What is the strategy still missing?"}},
        {"id": "umsetzung", "kind": "text", "max_length": 3000,
         "text": {"de": "Wer sollte an der Umsetzung beteiligt sein, und wie?",
                  "en": "Who should take part in carrying it out, and how?"}},
    ],
}

# Dessau-Roßlau's alliance: 80+ partners, short direct lines between contacts, formats and
# trainings for multipliers; the annual review asks the partners how that worked.
PARTNERBEFRAGUNG: dict[str, Any] = {
    "title": {"de": "Befragung der Partner*innen", "en": "Partner survey"},
    "introduction": {
        "de": "Zur Jahresbilanz des Vielfaltsbündnisses fragen wir alle Partner*innen: Was hat "
              "das Bündnis Ihnen gebracht, was soll im nächsten Jahr Schwerpunkt sein?",
        "en": "For the alliance's annual review we ask all partners: what did the alliance "
              "bring you, what should next year focus on?",
    },
    "anonymity": "anonymous",
    "questions": [
        {"id": "beteiligt", "kind": "multiple", "required": True, "min_choices": 1,
         "text": {"de": "An welchen Angeboten des Bündnisses haben Sie sich beteiligt?",
                  "en": "Which of the alliance's offers did you take part in?"},
         "options": [
             _o("begegnung", "Begegnungsformate", "Encounter formats"),
             _o("schulung", "Schulungen für Multiplikator*innen", "Trainings for multipliers"),
             _o("steuerung", "Steuerungsgruppe", "Steering group"),
             _o("oeffentlichkeit", "Öffentlichkeitsarbeit und Medien", "Publicity and media"),
             _o("keine", "Noch an keinem", "None yet"),
         ]},
        {"id": "draht", "kind": "likert", "required": True,
         "text": {"de": "Über das Bündnis finde ich schnell die richtigen Ansprechpartner*innen.",
                  "en": "Through the alliance I quickly find the right contacts."}},
        {"id": "gestaerkt", "kind": "likert",
         "text": {"de": "Die Angebote haben uns als Multiplikator*innen gestärkt.",
                  "en": "The offers have strengthened us as multipliers."}},
        {"id": "zielgruppen", "kind": "likert",
         "text": {"de": "Wir erreichen über das Bündnis Zielgruppen, die wir allein nicht "
                        "erreichen.",
                  "en": "Through the alliance we reach groups we would not reach alone."}},
        {"id": "gelungen", "kind": "text", "max_length": 2000,
         "text": {"de": "Was ist im vergangenen Jahr besonders gelungen?",
                  "en": "What went especially well last year?"}},
        {"id": "schwerpunkte", "kind": "text", "max_length": 2000,
         "text": {"de": "Welche Schwerpunkte wünschen Sie sich für das nächste Jahr?",
                  "en": "Which priorities would you like for next year?"}},
    ],
}

TEMPLATES: dict[str, dict[str, Any]] = {
    "weiterstadt-bedarfe-und-wuensche": BEDARFE,
    "weiterstadt-beteiligung-1": BETEILIGUNG_1,
    "weiterstadt-beteiligung-2": BETEILIGUNG_2,
    "weltoffene-kommune-selbstcheck": SELF_CHECK,
    "bergkamen-interviewleitfaden": BERGKAMEN,
    "vielfaltsmanager-feedback": TRAINING,
    "vielfaltsbuendnis-partnerbefragung": PARTNERBEFRAGUNG,
}


# The survey keys the process templates name (services/templates/processes/*.yaml, `surveys:`)
# and the built-in survey each one starts from.
ALIASES: dict[str, str] = {
    "bedarfe-und-wuensche": "weiterstadt-bedarfe-und-wuensche",
    "beteiligung-1-umfrage": "weiterstadt-beteiligung-1",
    "beteiligung-2-umfrage": "weiterstadt-beteiligung-2",
    "partnerbefragung": "vielfaltsbuendnis-partnerbefragung",
    "selbstcheck": "weltoffene-kommune-selbstcheck",
    "integrationsbegriff": "bergkamen-interviewleitfaden",
    "feedback-tag-1": "vielfaltsmanager-feedback",
    "feedback-tag-2": "vielfaltsmanager-feedback",
}


def resolve_template_key(key: str) -> str:
    return ALIASES.get(key, key)


def has_template(key: str) -> bool:
    """Whether `key` (a built-in key or a process template's alias) names a survey template."""
    return resolve_template_key(key) in TEMPLATES


def survey_template(key: str) -> SurveyDefinition:
    data = TEMPLATES.get(resolve_template_key(key))
    if data is None:
        raise NotFound(f"Die Umfragevorlage {key!r} gibt es nicht.", code="template_not_found",
                       details={"available": sorted(TEMPLATES)})
    return SurveyDefinition.model_validate(data)
