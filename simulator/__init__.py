"""The fleet simulator: a realistic, seeded fleet loaded through the gateway's public API, as a
dealer's DMS, the owners' app, a community connector and a vehicle gateway would send it."""
