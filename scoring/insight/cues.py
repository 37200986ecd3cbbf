"""Prototype sentences the insight modules compare utterances with, per kind, in the supported
languages (en, sv, da, no, fi, de, fr, es, pl).

They are cues written for this purpose, not labelled data: an utterance is placed by its cosine
similarity (multilingual e5) to the nearest prototype of each kind, so a line need not repeat a
prototype's words, nor be in one of the languages written here. ``closing`` holds the everyday
lines that end any call ("have a nice day"): an utterance nearer to them than to a kind says
nothing about the outcome. Extending a list changes results; the module's version
(:data:`CUES_VERSION`) is part of every result built on it.
"""

from __future__ import annotations

CUES_VERSION = "cues-1"

#: A customer stating why they call: a fault, a charge, a wish.
PROBLEM = (
    "I have a problem with my account", "I'm calling because my internet doesn't work",
    "I was charged twice this month", "I want to cancel my subscription", "my order hasn't arrived",
    "I can't log in", "I'd like to know why my bill is so high", "it stopped working yesterday",
    "jag har problem med min faktura", "mitt bredband fungerar inte", "jag vill säga upp mitt abonnemang",
    "jeg har et problem med min regning", "min pakke er ikke kommet", "jeg kan ikke logge ind",
    "jeg har et problem med kontoen min", "ruteren min virker ikke", "jeg vil si opp avtalen",
    "minulla on ongelma laskun kanssa", "tilaukseni ei ole tullut", "en pääse kirjautumaan sisään",
    "ich habe ein Problem mit meiner Rechnung", "mein Internet funktioniert nicht",
    "j'ai un problème avec ma facture", "tengo un problema con mi factura", "mam problem z rachunkiem",
)

#: The agent doing something about it.
ACTION = (
    "I've refunded the charge to your card", "I'll reset your password now", "I've changed the settings for you",
    "I'm sending a new card to you", "I have cancelled the subscription", "I've updated your details in our system",
    "jag har återbetalat beloppet", "jag skickar en ny faktura", "jeg har nulstillet din adgangskode",
    "jeg har sendt en ny pakke", "jeg har endret innstillingene", "olen palauttanut rahat tilillesi",
    "ich habe Ihnen das Geld erstattet", "j'ai modifié les paramètres", "he cancelado la suscripción",
    "wysłałem nową kartę",
)

#: How a call ends, by outcome.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "resolved": (
        "that fixed it, thank you", "great, it works now", "perfect, that's all I needed", "thanks for sorting it out",
        "det fungerar nu, tack", "perfekt, tack för hjälpen", "det virker nu, tak", "super, det var det jeg trengte",
        "nyt se toimii, kiitos", "das hat geholfen, danke", "ça marche maintenant, merci", "ya funciona, gracias",
        "teraz działa, dziękuję",
    ),
    "not_resolved": (
        "that doesn't help me at all", "it still doesn't work", "so you can't do anything about it",
        "this is not solved", "I'm not happy with this answer", "det hjälper mig inte", "det fungerar fortfarande inte",
        "det hjælper ikke", "det virker stadig ikke", "dette løser ingenting", "se ei edelleenkään toimi",
        "das hilft mir nicht", "ça ne marche toujours pas", "sigue sin funcionar", "nadal nie działa",
    ),
    "follow_up": (
        "I'll call you back tomorrow", "we will get back to you within two days", "you will receive an email when it's done",
        "a technician will contact you", "I'll send it to the team and they'll call you",
        "jag ringer upp dig i morgon", "vi återkommer inom två dagar", "jeg ringer dig tilbage i morgen",
        "vi kontakter deg innen to dager", "soitan sinulle huomenna takaisin", "wir melden uns morgen bei Ihnen",
        "nous vous rappellerons demain", "le llamaremos mañana", "oddzwonimy jutro",
    ),
    "transferred": (
        "I'll transfer you to the billing department", "let me put you through to a colleague",
        "I'm connecting you to technical support now", "please hold while I transfer you",
        "jag kopplar dig till tekniska supporten", "jeg stiller dig om til en kollega", "jeg setter deg over til regnskap",
        "yhdistän sinut laskutukseen", "ich verbinde Sie mit der Buchhaltung", "je vous transfère au service technique",
        "le paso con el departamento de facturación", "przełączę pana do działu technicznego",
    ),
}

#: Lines that end any call and say nothing of its outcome.
CLOSING = (
    "have a nice day", "goodbye", "thank you for calling", "thank you", "thanks, bye", "okay, thank you", "is there anything else I can help you with",
    "you're welcome", "ha en bra dag", "hej då", "tack för att du ringde", "tack så mycket", "tak", "kiitos", "hav en god dag", "ha en fin dag",
    "hyvää päivänjatkoa", "schönen Tag noch", "bonne journée", "que tenga un buen día", "miłego dnia",
)

#: Everyday talk that is about no contact reason (small talk, names, the line, the weather):
#: a taxonomy's threshold for ``other`` is where this talk ends (:func:`..reasons.null_threshold`).
OFF_TOPIC = (
    "what's the weather like where you are", "I'm originally from Chicago", "my daughter started school this week",
    "we went to the lake on Sunday", "hello, how are you today", "can you hear me now", "sorry, I was on the other line",
    "I watched the game last night", "my name is Anna", "just a moment, I'll find a pen", "the dog is barking, sorry",
    "it has been raining all week", "I work as a teacher", "we had pizza for dinner", "yes, that's right", "okay, mm-hmm",
    "hur mår du idag", "vi var i stugan i helgen", "jag heter Erik", "det regnar hela tiden här",
    "vänta lite, jag hämtar en penna", "hvordan går det", "vi var i sommerhuset", "jeg hedder Mette",
    "det har regnet hele ugen", "jeg bor i Bergen", "vi så på fotball i går", "mitä kuuluu", "olimme mökillä viikonloppuna",
    "nimeni on Liisa", "sataa koko ajan", "wie geht es Ihnen", "ich komme aus München", "wir waren am Wochenende am See",
    "comment allez-vous", "il fait beau aujourd'hui", "¿cómo está usted?", "hace calor hoy", "jak się pan ma", "pada deszcz",
)
