"""The hub's use of the rota solver (``rota/``): contracts, leave, requests and demand,
rota plans (generate, edit, publish), background rota jobs, who is on shift and the
cover gaps, and routing calls to whoever is on shift.
"""
