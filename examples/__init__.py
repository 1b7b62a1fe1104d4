"""Example applications beside Klaspoort (not part of the klaspoort package)."""
