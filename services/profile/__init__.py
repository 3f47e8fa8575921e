"""Profile: dealers, owners, vehicles, orders and service visits — the owner 360 view."""
