"""The council resolution: draft, versions, participation report, documents, the clerk's steps."""
