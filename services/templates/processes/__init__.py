"""The five process templates of DESIGN.md section 2."""
