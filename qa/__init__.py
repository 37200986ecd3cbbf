"""Service core, quality assurance: rule sets on stored calls (categories, bands, re-scoring and
the process that evaluates them), QA corrections, spot checks and calibration."""
