"""The results app's answers to news from the apps below it (none yet)."""
