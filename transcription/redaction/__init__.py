"""Personal data in transcripts: detection (:mod:`.detect`) over word-timed utterances, with
spoken numbers read as digits (:mod:`.numbers`)."""
