"""What agents say and what customers say, in every language callscope supports.

Each :class:`Cue` is one kind of evidence about a speaker's role (greeting callers with the
company's name, offering help, asking for identification, reading a disclaimer, working the
system on the caller's behalf, introducing an outbound call; or describing a problem, asking
for something, giving one's own details). Phrases are written per language (en, sv, da, no,
fi, de, fr, es, pl) and all of them are matched on every call: the call's language need not
be known, and a phrase of one language hardly ever occurs by chance in another.

Phrases that both parties say ("my name is …", "thank you", "have a nice day") are left out
on purpose: they carry no role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Languages whose phrases are written below.
CUE_LANGUAGES = ("en", "sv", "da", "no", "fi", "de", "fr", "es", "pl")


@dataclass(frozen=True)
class Cue:
    """One kind of evidence. ``role``: whom it points to; ``phrases``: regexes per language."""

    name: str
    role: str
    phrases: dict[str, list[str]]
    pattern: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        joined = "|".join(f"(?:{p})" for ps in self.phrases.values() for p in ps)
        object.__setattr__(self, "pattern", re.compile(rf"(?<!\w)(?:{joined})", re.IGNORECASE))

    def matches(self, text: str) -> bool:
        return bool(self.pattern.search(text))


AGENT_CUES = (
    Cue("greets with the company", "agent", {
        "en": [r"welcome to", r"thank(s| you) for (calling|contacting|choosing|holding|waiting|your patience)",
               r"you('ve| have) reached", r"(this is|my name is) \w+,? (from|at|with) ", r"^\W*\w+ speaking\b"],
        "sv": [r"välkommen till", r"tack för att du (ringer|ringde|väntade|väntar|kontaktar)", r"du har kommit till",
               r"du pratar med \w+"],
        "da": [r"velkommen til", r"tak fordi du (ringer|ringede|ventede|venter)", r"du har ringet til", r"du taler med \w+"],
        "no": [r"velkommen til", r"takk for at du (ringer|ringte|ventet|venter)", r"du har kommet til", r"du snakker med \w+"],
        "fi": [r"tervetuloa", r"kiitos (soitostanne|soitostasi|soitosta|kun soitit|odottamisesta|odotuksesta)",
               r"olet soittanut"],
        "de": [r"willkommen (bei|zu|im|in)", r"dank(e)? für (ihren|deinen) anruf", r"dank(e)? für ihre geduld",
               r"sie sprechen mit", r"mein name ist \w+ (von|vom|bei)"],
        "fr": [r"bienvenue (chez|à|au|sur)", r"merci (de|d'avoir|pour) (votre appel|appelé|patienté|votre patience)",
               r"vous êtes (bien )?(chez|au|à)"],
        "es": [r"bienvenid[oa]s? a", r"gracias por (llamar|su llamada|comunicarse|esperar|su paciencia)",
               r"(le|te) atiende \w+"],
        "pl": [r"witam(y)? w", r"dziękuj(ę|emy) za (telefon|połączenie|cierpliwość|oczekiwanie)",
               r"(z tej strony|nazywam się) \w+ z"],
    }),
    Cue("offers help", "agent", {
        "en": [r"how (can|may|could|might) (i|we) (help|assist)", r"(can|may|could) i help you",
               r"what can i (do|help) (for )?you", r"is there anything else", r"anything else i can"],
        "sv": [r"hur kan jag hjälpa", r"vad kan jag hjälpa (dig|er|till) med", r"kan jag hjälpa (dig|er|till) med något",
               r"något (mer|annat) jag kan hjälpa"],
        "da": [r"hvordan kan jeg hjælpe", r"hvad kan jeg hjælpe (dig|jer) med", r"(noget|andet) (mere|andet)? ?jeg kan hjælpe"],
        "no": [r"hvordan kan jeg hjelpe", r"hva kan jeg hjelpe (deg|dere) med", r"noe (mer|annet) jeg kan hjelpe"],
        "fi": [r"(miten|kuinka) (voin|voisin|voimme) auttaa", r"voinko auttaa (vielä|jotenkin|jossain|muussa)"],
        "de": [r"wie kann ich (ihnen|dir|euch) helfen", r"was kann ich für (sie|dich|euch) tun",
               r"kann ich (ihnen|dir) (sonst )?(noch )?(irgendwie )?(weiter)?helfen"],
        "fr": [r"comment (puis-je|puis je|est-ce que je peux|pourrais-je) vous aider", r"que puis-je (faire )?pour vous",
               r"puis-je vous aider", r"autre chose pour votre service"],
        "es": [r"en qué (le|te|les) (puedo|podemos) ayudar", r"cómo (le|te) (puedo|podemos) ayudar",
               r"(puedo|podemos) ayudar(le|te)? en algo más"],
        "pl": [r"w czym (mogę|możemy) pomóc", r"jak (mogę|możemy) pomóc", r"czy (mogę|możemy) (jeszcze )?(w czymś )?pomóc"],
    }),
    Cue("asks for identification or details", "agent", {
        "en": [r"(can|could|may) i (have|get|take|ask for|confirm) (your|the)",
               r"(can|could|would) you (please )?(give|tell|confirm|spell|provide|repeat)( me| us)? (your|the)",
               r"what('s| is) (your|the) (full |first |last )?(name|account|number|phone|email|e-mail|address|date of birth|postcode|zip|order|booking|reference|customer)",
               r"(verify|confirm) your (identity|account|details|address|date of birth)", r"for security (purposes|reasons)"],
        "sv": [r"(kan|får) jag (få|be om|ta) (ditt|din|dina)", r"vad är (ditt|din) (namn|kundnummer|personnummer|telefonnummer|ordernummer|adress)",
               r"(bekräfta|verifiera) (ditt|din|dina)"],
        "da": [r"(kan|må) jeg (få|bede om) (dit|din|dine)", r"hvad er (dit|din) (navn|kundenummer|cpr|telefonnummer|ordrenummer|adresse)",
               r"bekræfte (dit|din|dine)"],
        "no": [r"(kan|får) jeg (få|be om) (ditt|din|dine)", r"hva er (ditt|din) (navn|kundenummer|fødselsnummer|telefonnummer|ordrenummer|adresse)",
               r"bekrefte (ditt|din|dine)"],
        "fi": [r"(voisitko|voitteko|voisitteko|saisinko) (kertoa|antaa|vahvistaa|sanoa)",
               r"mikä on (nimesi|nimenne|asiakasnumero|puhelinnumero|henkilötunnu|osoitteesi|sähköposti)"],
        "de": [r"(kann|könnte|darf) ich (bitte )?(ihre|ihren|ihr|deine|deinen) \w+ (haben|bekommen|erfahren)",
               r"(können|könnten) sie mir (bitte )?(ihre|ihren|ihr) ",
               r"wie (ist|lautet) (ihre|ihr|ihren) (name|kundennummer|telefonnummer|geburtsdatum|bestellnummer|adresse)"],
        "fr": [r"(puis-je|pourriez-vous|pouvez-vous) (avoir|me donner|me communiquer|me confirmer|confirmer|m'indiquer|me rappeler) votre",
               r"quel est votre (nom|numéro|adresse|identifiant)", r"(vérifier|confirmer) votre identité"],
        "es": [r"(me puede|me podría|podría|puede) (dar|decir|facilitar|confirmar)(me)? su",
               r"cuál es su (nombre|número|dirección|correo|fecha)", r"(verificar|confirmar) su identidad"],
        "pl": [r"(może|mogłaby|mógłby) pan(i)? (podać|potwierdzić)", r"proszę (podać|potwierdzić)",
               r"jaki jest (pana|pani) (numer|adres)"],
    }),
    Cue("gives a disclaimer", "agent", {
        "en": [r"(this|the|your) call (may|will|is|might) (be )?(being )?recorded", r"for (quality|training|monitoring) purposes",
               r"(give|read)( you)? (a|the|our) disclaimer", r"have to (give|read) you"],
        "sv": [r"samtalet (kan )?(komma att )?spelas in", r"i (utbildnings|kvalitets)syfte"],
        "da": [r"samtalen (kan )?(blive |bliver )?optaget"],
        "no": [r"samtalen (kan )?(bli |blir )?tatt opp"],
        "fi": [r"puhelu (voidaan )?(nauhoitetaan|nauhoittaa|tallennetaan|tallentaa)"],
        "de": [r"(gespräch|anruf) (wird|kann) .{0,30}aufgezeichnet", r"zu (qualitäts|schulungs)zwecken"],
        "fr": [r"(appel|conversation) (est|peut être|pourra être|sera) enregistrée?", r"à des fins de (qualité|formation)"],
        "es": [r"(llamada|conversación) (puede ser|será|está siendo|podrá ser) grabada", r"con fines de (calidad|formación)"],
        "pl": [r"rozmowa (jest|może być|będzie) nagrywana"],
    }),
    Cue("works the case", "agent", {
        "en": [r"let me (check|look|see|pull|find|transfer|verify|confirm|take a look)", r"(one|just a) (moment|second)",
               r"bear with me", r"please hold", r"i('ll| will) (check|transfer|put you|send you|escalate|book|reserve|raise|arrange|refund)",
               r"(i|we)('ve| have) (booked|reserved|updated|cancelled|processed|refunded|registered|noted|written down)",
               r"(is|has been) (booked|confirmed|reserved|cancelled|refunded)",
               r"my (team|supervisor|manager|colleague|department|finance team)", r"our (records|system|policy|technicians?)"],
        "sv": [r"(ett|en) (ögonblick|liten stund)", r"låt mig (kolla|se|titta)", r"jag ska (kolla|se|titta|koppla|skicka)",
               r"vänta (lite|ett tag)"],
        "da": [r"(et|ét) øjeblik", r"lad mig (tjekke|se|kigge)", r"jeg (vil|skal) (tjekke|se|kigge|stille dig)"],
        "no": [r"(et|ett) øyeblikk", r"la meg (sjekke|se|kikke)", r"jeg skal (sjekke|se|sette deg)"],
        "fi": [r"(hetkinen|hetki vain|odota hetki|pieni hetki)", r"(tarkistan|katson|siirrän|yhdistän)"],
        "de": [r"(einen|ein) (moment|augenblick)", r"lassen sie mich (nachsehen|prüfen|schauen)",
               r"ich (schaue|prüfe|verbinde|leite) "],
        "fr": [r"(un instant|un moment|ne quittez pas)", r"je (vais )?(vérifie|vérifier|regarde|regarder|transfère|transférer)"],
        "es": [r"(un momento|un segundo|no cuelgue)", r"(voy a|déjeme|permítame) (verificar|revisar|comprobar|transferir)"],
        "pl": [r"(chwileczkę|proszę czekać|proszę chwilę poczekać)", r"(sprawdzę|przełączę|zaraz sprawdzę)"],
    }),
)

#: Said by the agent who places an outbound call: evidence for the role and for the direction.
OUTBOUND_CUE = Cue("introduces an outbound call", "agent", {
    "en": [r"(i'm|i am|we're|we are|i'm just) calling (from|on behalf|about|regarding|to)", r"calling from",
           r"am i speaking (to|with)", r"is this (mr|mrs|ms|miss)\b"],
    "sv": [r"jag ringer (från|angående)", r"pratar jag med"],
    "da": [r"jeg ringer (fra|angående|vedrørende)", r"taler jeg med"],
    "no": [r"jeg ringer (fra|angående)", r"snakker jeg med"],
    "fi": [r"soitan (\w+(sta|stä)|koskien|liittyen)", r"puhunko"],
    "de": [r"ich rufe (sie )?(von|vom|im auftrag|wegen|an wegen)", r"spreche ich mit"],
    "fr": [r"je vous appelle (de|du|au sujet|concernant|pour)", r"suis-je bien (avec|chez)"],
    "es": [r"(le|te) llamo (de|desde|por|para)", r"hablo con (el|la) (señor|señora)"],
    "pl": [r"dzwonię z", r"dzwonię w sprawie", r"czy rozmawiam z"],
})

#: Said by an agent selling on the phone: an offer, a price or plan put to the other party.
PITCH_CUE = Cue("makes an offer", "agent", {
    "en": [r"(special|new|better|exclusive) (offer|deal|plan|rate|price)", r"(we('re| are)|i('m| am)) offering",
           r"(would|might|could) you be interested", r"(we can|i can|we could|i could) offer you",
           r"(save|saving) (you )?(up to |around |about )?\d+", r"(a|our) (discount|promotion)"],
    "sv": [r"(ett|vårt) (erbjudande|specialerbjudande)", r"vi (kan )?erbjuda", r"(skulle|kunde) (du|ni) vara intresserad",
           r"(en )?(rabatt|kampanj)"],
    "da": [r"(et|vores) (tilbud|særtilbud)", r"(vi|jeg) kan tilbyde", r"(lyder det|er du|er det) interessant",
           r"(rabat|kampagne)"],
    "no": [r"(et|vårt) (tilbud|godt tilbud)", r"(vi|jeg) kan tilby", r"(kunne det være|er du) (aktuelt|interessert)",
           r"(rabatt|kampanje)"],
    "fi": [r"tarjou(s|ksen|ksemme|amme)", r"(kiinnostaisiko|kiinnostaako|olisitteko kiinnostunut)", r"(alennus|kampanja)"],
    "de": [r"(ein|unser|das) (angebot|sonderangebot)", r"(können|möchten) (wir )?ihnen .{0,30}anbieten",
           r"(hätten sie|haben sie) interesse", r"(rabatt|aktion)"],
    "fr": [r"(une|notre) (offre|promotion)", r"(nous )?(vous )?propos(ons|e) (en ce moment|actuellement)",
           r"(cela|ça) (pourrait|peut) vous intéresser", r"(seriez|êtes)-vous intéressée?", r"(remise|réduction)"],
    "es": [r"(una|nuestra) (oferta|promoción)", r"(le|te) (podemos|puedo) ofrecer", r"(le|te) interesar(ía|a)",
           r"(descuento|rebaja)"],
    "pl": [r"(ofert[aęy]|promocj[aęi])", r"(możemy|mogę) (panu|pani|państwu) zaproponować",
           r"(byłby pan|byłaby pani|czy jest pan|czy jest pani) zainteresowan", r"(rabat|zniżk)"],
})

CUSTOMER_CUES = (
    Cue("describes a problem", "customer", {
        "en": [r"(i('ve| have)|i'm|i am) (been )?having (trouble|problems|issues|difficulty)",
               r"i (have|got|had|'ve got) (a|an|some) (problem|issue|question|complaint)",
               r"(doesn't|does not|isn't|is not|won't|can't|cannot|didn't|don't) (work|arrive|load|open|connect)",
               r"(not|stopped) (working|arriving)", r"i (can't|cannot|couldn't|could not) (log|access|get|find|see|pay|use)",
               r"(was|been|got) (charged|billed) (twice|again|for)"],
        "sv": [r"jag har (ett )?(problem|en fråga|fått problem)", r"(fungerar|funkar) inte", r"jag kan inte (logga|komma)"],
        "da": [r"jeg har (et )?(problem|spørgsmål)", r"(virker|fungerer) ikke", r"jeg kan ikke (logge|komme)"],
        "no": [r"jeg har (et )?(problem|spørsmål)", r"(virker|fungerer) ikke", r"jeg får ikke (til|logget)"],
        "fi": [r"minulla on (ongelma|kysymys)", r"ei toimi", r"en pääse"],
        "de": [r"ich habe (ein |eine )?(problem|frage)", r"(funktioniert|geht) nicht", r"ich kann (mich )?nicht"],
        "fr": [r"j'ai (un )?(problème|souci|une question)", r"(ne )?(marche|fonctionne) (pas|plus)", r"je n'arrive pas"],
        "es": [r"tengo (un )?(problema|una pregunta|una duda)", r"no (funciona|me llega|puedo)"],
        "pl": [r"mam (problem|pytanie)", r"nie działa", r"nie mogę"],
    }),
    Cue("asks for something", "customer", {
        "en": [r"i('d| would) like (?!to (ask|verify|confirm|check|inform|remind|offer|let))(to|a|some)",
               r"i (want|wanna) (to|a)", r"i need (?!to (ask|verify|confirm|check|take|get|have|inform))(to|a|help|some)",
               r"i('m| am) looking for",
               r"i('m| am) (calling|ringing) (because|about|regarding|to)", r"(can|could) you help me"],
        "sv": [r"jag (skulle vilja|vill|behöver)", r"jag letar efter", r"jag ringer (för att|angående|om)"],
        "da": [r"jeg (vil gerne|ville gerne|har brug for|skal bruge)", r"jeg leder efter", r"jeg ringer (fordi|angående|om)"],
        "no": [r"jeg (vil gjerne|ville gjerne|trenger|skulle gjerne)", r"jeg ser etter", r"jeg ringer (fordi|angående|om)"],
        "fi": [r"haluaisin", r"haluan", r"tarvitsen", r"etsin", r"soitan koska"],
        "de": [r"ich (möchte|würde gerne|brauche|suche)", r"ich rufe an,? (weil|wegen)"],
        "fr": [r"je (voudrais|souhaiterais|veux|cherche)", r"j'aimerais", r"j'ai besoin", r"j'appelle (parce|pour|au sujet)"],
        "es": [r"quisiera", r"quiero", r"necesito", r"me gustaría", r"busco", r"llamo (porque|por)"],
        "pl": [r"chciał(a)?bym", r"chcę", r"potrzebuję", r"szukam", r"dzwonię, (bo|ponieważ)"],
    }),
    Cue("gives own details", "customer", {
        "en": [r"my (account|order|booking|username|user name|password|card|phone|mobile|number|email|e-mail|address|postcode|zip|date of birth|id|customer|reference|bill|invoice|subscription|parcel|package|internet)( number| name| code| id)? (is|was|has|hasn't|doesn't|isn't|number)",
               r"it'?s (spelled|spelt)"],
        "sv": [r"mitt (kundnummer|personnummer|telefonnummer|ordernummer) är", r"min (e-post|mejl|adress) är"],
        "da": [r"mit (kundenummer|cpr-nummer|cpr|telefonnummer|ordrenummer) er", r"min (e-mail|adresse|mail) er"],
        "no": [r"mitt (kundenummer|fødselsnummer|telefonnummer|ordrenummer) er", r"min (e-post|adresse) er"],
        "fi": [r"(asiakasnumeroni|puhelinnumeroni|henkilötunnukseni|sähköpostini|osoitteeni) on"],
        "de": [r"meine (kundennummer|telefonnummer|bestellnummer|adresse|e-mail)( adresse)? (ist|lautet)",
               r"mein (geburtsdatum|passwort|konto|benutzername) (ist|lautet)"],
        "fr": [r"mon (numéro|adresse|identifiant|compte|mail|email)( de \w+)? (est|c'est)", r"mon numéro de (client|téléphone|commande)"],
        "es": [r"mi (número|correo|dirección|cuenta|usuario)( de \w+)? es", r"mi número de (cliente|teléfono|pedido)"],
        "pl": [r"mój (numer|adres|login|pesel)( \w+)? (to|jest)"],
    }),
    Cue("answers a call made to them", "customer", {
        "en": [r"what('s| is) (this|it) (about|regarding|concerning)", r"who('s| is) (this|calling|speaking)",
               r"(i'm|i am) not interested", r"(i'm|i am) (quite |a bit |really )?busy", r"(don't|do not) have (the )?time",
               r"where did you get my", r"how did you get my", r"(take|remove) me (off|from) (your|the)"],
        "sv": [r"vad gäller (det|saken)", r"vem (är det|pratar jag med)", r"(jag är )?inte intresserad",
               r"(jag har inte tid|har inte tid)", r"var har ni fått (mitt|tag)"],
        "da": [r"hvad drejer det sig om", r"hvem (er det|taler jeg med)", r"(jeg er )?ikke interesseret",
               r"(jeg har ikke tid|har ikke tid)", r"hvor har (i|du) (fået|mit)"],
        "no": [r"hva gjelder det", r"hvem (er det|snakker jeg med)", r"(jeg er )?ikke interessert",
               r"(jeg har ikke tid|har ikke tid)", r"hvor har dere fått"],
        "fi": [r"mistä on kyse", r"kuka (siellä|soittaa|puhuu)", r"en ole kiinnostunut", r"ei (ole )?(nyt )?aikaa",
               r"mistä (olette|sait) saaneet"],
        "de": [r"worum geht es", r"wer (ist da|spricht da)", r"kein interesse", r"(ich )?(habe|hab) (jetzt |gerade )?keine zeit",
               r"woher haben sie (meine|diese)"],
        "fr": [r"c'est (à quel|pour quel|à propos de quoi|de la part de qui)", r"qui (est à l'appareil|êtes-vous)",
               r"(ça|cela) ne m'intéresse pas", r"pas (vraiment )?le temps", r"où avez-vous eu mon"],
        "es": [r"de qué se trata", r"(quién|con quién) (es|habla|hablo)", r"no me interesa", r"no tengo tiempo",
               r"(de dónde|cómo) (ha|han) (sacado|conseguido) mi"],
        "pl": [r"o co chodzi", r"kto (mówi|dzwoni)", r"nie jestem zainteresowan", r"nie mam (teraz )?czasu",
               r"skąd (ma pan|ma pani|macie) mój"],
    }),
)

ALL_CUES = AGENT_CUES + (OUTBOUND_CUE, PITCH_CUE) + CUSTOMER_CUES
#: Personal data the customer gives about themself (redaction placeholders, ``[PHONE]`` …): who
#: says them is evidence for the customer (an agent reading a number back is rarer).
CUSTOMER_DATA_KINDS = ("PHONE", "EMAIL", "ADDRESS", "NATIONAL_ID", "CARD", "CVV", "EXPIRY", "IBAN", "DATE_OF_BIRTH",
                       "POSTCODE", "USERNAME")
