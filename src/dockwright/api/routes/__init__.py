"""Route tables, one module per resource; each exports `<resource>_routes(backend) -> list[Route]`."""
