"""The platform's services; each owns its data and knows the others only through events."""
