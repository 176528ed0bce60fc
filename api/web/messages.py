"""Dutch wording for what the engine reports in English: errors, form field messages, diagram problems.

The engine speaks English to developers and API clients; people using the pages read Dutch.
Unknown messages fall through unchanged rather than being hidden.
"""

from __future__ import annotations

import re

from engine import errors

_BY_CLASS: dict[type[errors.EngineError], str] = {
    errors.NotFoundError: "Dit bestaat niet (meer), of je mag het niet zien.",
    errors.PermissionDeniedError: "Je hebt geen toegang tot deze pagina of handeling.",
    errors.ConflictError: "Dit is intussen gewijzigd; je handeling is niet uitgevoerd. Vernieuw de pagina.",
    errors.InvalidInputError: "Niet alle gegevens zijn goed ingevuld.",
    errors.DiagramError: "Het diagram kan niet in gebruik worden genomen.",
    errors.FormError: "Het formulier is niet geldig.",
    errors.RoutingError: "Een taak kan niet bij een organisatie worden bezorgd.",
    errors.ScriptError: "Een berekening in het proces mislukte.",
    errors.SandboxViolationError: "Het proces gebruikt iets wat niet is toegestaan.",
    errors.EngineError: "Dit kon niet worden uitgevoerd.",
}

_EXACT = {
    "Someone else has claimed this work item.": "Iemand anders heeft deze taak al opgepakt.",
    "This work item is already completed.": "Deze taak is al afgerond.",
    "This work item is no longer open.": "Deze taak staat niet meer open.",
    "This work item belongs to another organisation.": "Deze taak hoort bij een andere organisatie.",
    "There is no such work item.": "Deze taak bestaat niet.",
    "Only the person who claimed it, or a coordinator, can release it.":
        "Alleen wie de taak heeft opgepakt, of de regisseur, kan haar vrijgeven.",
    "There is no such case, or you may not see it.": "Deze casus bestaat niet, of je mag haar niet zien.",
    "Only the coordinator can retry a case.": "Alleen de regisseur kan een casus opnieuw starten.",
    "The organisation needs a name.": "Geef de organisatie een naam.",
    "The user needs a username.": "Geef een gebruikersnaam.",
    "The user needs at least one role.": "Kies minstens één rol.",
    # marshmallow's and our schema's field messages
    "Missing data for required field.": "Dit veld is verplicht.",
    "Field may not be null.": "Dit veld is verplicht.",
    "This field is required.": "Dit veld is verplicht.",
    "This box must be checked.": "Vink dit vakje aan.",
    "Unknown field.": "Dit veld hoort niet bij het formulier.",
    "Not a valid number.": "Vul een getal in.",
    "Not a valid integer.": "Vul een geheel getal in.",
    "Not a valid date.": "Vul een geldige datum in.",
    "Not a valid datetime.": "Vul een geldige datum en tijd in.",
    "Not a valid time.": "Vul een geldige tijd in.",
    "Not a valid string.": "Vul tekst in.",
    "Not a valid boolean.": "Kies ja of nee.",
    "Not a valid list.": "Kies uit de lijst.",
    "Not a valid email address.": "Vul een geldig e-mailadres in.",
    "Not a valid phone number.": "Vul een geldig telefoonnummer in.",
    "Choose one of the options.": "Kies een van de mogelijkheden.",
    "Choose at least one option.": "Kies minstens één mogelijkheid.",
    "Does not match the expected format.": "Dit heeft niet de verwachte vorm.",
    "Expected an object.": "De gegevens hebben niet de verwachte vorm.",
}

_PATTERNS = [
    (re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\."),
     "Moet tussen {0} en {1} liggen."),
    (re.compile(r"Must be greater than or equal to (\S+)\."), "Moet minstens {0} zijn."),
    (re.compile(r"Must be less than or equal to (\S+)\."), "Mag hoogstens {0} zijn."),
    (re.compile(r"Length must be between (\d+) and (\d+)\."), "Moet {0} tot {1} tekens lang zijn."),
    (re.compile(r"Shorter than minimum length (\d+)\."), "Moet minstens {0} tekens lang zijn."),
    (re.compile(r"Longer than maximum length (\d+)\."), "Mag hoogstens {0} tekens lang zijn."),
    (re.compile(r"Must be one of: .*"), "Kies een van de mogelijkheden."),
    (re.compile(r"The password needs at least (\d+) characters\."), "Het wachtwoord moet minstens {0} tekens hebben."),
    (re.compile(r"An organisation named '(.*)' already exists\."), "Er bestaat al een organisatie ‘{0}’."),
    (re.compile(r"A user named '(.*)' already exists\."), "Er bestaat al een gebruiker ‘{0}’."),
    (re.compile(r"There is no organisation named '(.*)'\."), "Er is geen organisatie ‘{0}’."),
    # engine.coherence: a partner the covenant does not let do the work it would receive.
    (re.compile(r"(.+) \((\w+)\) cannot complete task '(.*)' as (\S+): required field '(\w+)' has category "
                r"'(\w+)', which the covenant does not let a \w+ write\."),
     "{0} ({1}) kan taak ‘{2}’ als {3} niet afronden: het verplichte veld ‘{4}’ is {5}, en het convenant laat "
     "een {1} dat niet vastleggen."),
]

# Diagram problem codes (engine/bpmn/validation.py) with a Dutch heading; the detail stays English.
DIAGRAM_CODES = {
    "xml": "Geen geldige XML",
    "doctype": "Bevat een DOCTYPE (niet toegestaan)",
    "xsd": "Volgt de BPMN-standaard niet",
    "parse": "Kan niet worden gelezen",
    "not_executable": "Geen uitvoerbaar proces",
    "unknown_role": "Onbekende rol of lane",
    "unroutable": "Niemand ontvangt deze taak",
    "unknown_form": "Onbekend formulier",
    "script": "Script niet bruikbaar",
    "condition": "Voorwaarde niet bruikbaar",
    "timer": "Timer niet bruikbaar",
    "due_date": "Termijn niet bruikbaar",
    "too_large": "Diagram te groot",
}


def dutch(message: str) -> str:
    """The Dutch version of a known engine or validation message; unknown ones unchanged."""
    if message in _EXACT:
        return _EXACT[message]
    for pattern, template in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return template.format(*match.groups())
    return message


def for_error(error: errors.EngineError) -> str:
    """What to tell a person about an engine error: its own message in Dutch, else the class's."""
    translated = dutch(error.message)
    if translated != error.message:
        return translated
    for cls in type(error).__mro__:
        if cls in _BY_CLASS:
            return _BY_CLASS[cls]  # type: ignore[index]
    return _BY_CLASS[errors.EngineError]


def diagram_heading(code: str) -> str:
    return DIAGRAM_CODES.get(code, "Probleem in het diagram")
