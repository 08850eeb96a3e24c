"""The composition root: the command line, the worker, the embedded dev stack and the demo seed
wire every layer together. Only this package may import them all (import-linter keeps it so);
`infra/` stays a leaf the others use."""
