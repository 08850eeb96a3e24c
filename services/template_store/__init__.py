"""Templates as data: shipped ones (package data) and the ones an organisation uploads.

`documents` reads YAML safely and turns every problem into an issue naming its path;
`service` stores uploads (versioned, per organisation or platform-shared) and resolves a key to
the template a process or survey starts from.
"""
