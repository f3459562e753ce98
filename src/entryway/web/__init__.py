"""HTTP plumbing shared by every surface: environment routing, page rendering, security headers."""
