"""What a call is about, from its stored analysis (no audio, no ASR): the customer's problem
statement (:mod:`.problem`), the contact reason from the deployment's taxonomy (:mod:`.reasons`),
the outcome (:mod:`.outcome`) and an extractive summary (:mod:`.summary`), all by similarity in
the multilingual e5 space (:mod:`.vectors`) to the taxonomy's examples and to prototype
sentences (:mod:`.cues`), each with its evidence utterances and a confidence. :func:`.insight.insight_of`
puts them together."""
