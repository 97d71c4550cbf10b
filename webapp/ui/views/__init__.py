"""Server-rendered pages of the browser UI, one module per area."""
