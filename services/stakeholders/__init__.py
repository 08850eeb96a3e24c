"""The stakeholder registry of an organisation (persons and organisations)."""
