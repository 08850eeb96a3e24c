"""Package data: process templates (YAML) shipped with the product."""
