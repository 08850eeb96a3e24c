"""Package data: survey templates (YAML) shipped with the product."""
