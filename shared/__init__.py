"""Infrastructure and event contracts shared by every service and the gateway.

Nothing here imports a service or the gateway, and nothing here holds a business rule.
"""
