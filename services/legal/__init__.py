"""An organisation's public pages: Impressum, privacy notice (DSGVO Art. 13) and contact."""
