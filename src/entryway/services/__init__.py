"""Services: the operations of Entryway, over the store. HTTP handlers and the CLI are thin layers on these."""
