"""The rota over HTTP: the rota lead's pages, inputs, background jobs, charts, the
clinician's calendar, the cover banner, and routing on the console.
"""
