"""Personal data in transcripts: detection (:mod:`.detect`) over word-timed utterances, with
spoken numbers read as digits (:mod:`.numbers`), and redaction (:mod:`.apply`)."""

#: The kinds of personal data found and redacted (the placeholders are ``[KIND]``).
KINDS = ("CARD", "CVV", "EXPIRY", "IBAN", "NATIONAL_ID", "PHONE", "EMAIL", "USERNAME", "NAME", "ADDRESS", "POSTCODE",
         "DATE_OF_BIRTH")
