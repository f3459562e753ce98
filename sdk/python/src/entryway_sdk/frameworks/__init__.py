"""Login, callback and logout routes for web frameworks, built on `flow.LoginFlow`."""
