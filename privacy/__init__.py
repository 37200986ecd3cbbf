"""Service core, privacy: pseudonyms, per-call encryption keys (crypto-shredding), sealed files
and secrets, erasure and the access log."""
