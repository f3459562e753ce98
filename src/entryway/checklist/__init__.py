"""The production checklist: rules that say whether an environment is ready for production, each with a fix."""
